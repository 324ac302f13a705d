package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between the SQL databases; the queries and the
// migrations themselves are shared.
type dialect struct {
	name string
	// dollarParams rewrites ? placeholders as $1, $2, … (PostgreSQL).
	dollarParams bool
	// forUpdate locks the selected rows until the transaction ends, where
	// the database has row locks (SQLite's writer lock already covers it).
	forUpdate string
	// uniqueViolation reports whether err is a unique-constraint failure.
	uniqueViolation func(error) bool
}

var sqliteDialect = dialect{
	name: "sqlite",
	uniqueViolation: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			code := se.Code()
			return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

// bind adapts a query written with ? placeholders to the dialect.
func (d dialect) bind(q string) string {
	if !d.dollarParams {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
