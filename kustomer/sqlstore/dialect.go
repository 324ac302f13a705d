package sqlstore

import (
	"errors"
	"regexp"
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
	// skipLocked ends a locking subquery that passes over rows another
	// transaction has locked (PostgreSQL), so concurrent claims of the
	// outbox take different rows; empty on SQLite's single writer.
	skipLocked string
	// uniqueViolation reports whether err is a unique-constraint failure.
	uniqueViolation func(error) bool
	// retryable reports whether err is the database aborting a transaction
	// that can succeed when run again (a deadlock broken, a serialization
	// failure); nil where one writer cannot deadlock (SQLite).
	retryable func(error) bool
	// pipelines sends a batch of planned writes (see step) in one round
	// trip, where statements travel to a server (PostgreSQL).
	pipelines bool
	// orderBatches sorts each batch by the rows its writes lock (lockKey),
	// where several writers commit side by side (PostgreSQL instances).
	orderBatches bool
	// lockMigrations and unlockMigrations take and release a lock, held by
	// the connection, that lets one store at a time migrate the schema;
	// empty where the database's writer lock is enough (SQLite).
	lockMigrations, unlockMigrations string
	// blobType is the column type of binary data; migrations write BLOB
	// and it is replaced where the database spells it otherwise.
	blobType string
}

var sqliteDialect = dialect{
	name:     "sqlite",
	blobType: "BLOB",
	uniqueViolation: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			code := se.Code()
			return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

// isRetryable reports whether err aborted a transaction that can succeed
// when run again.
func (d dialect) isRetryable(err error) bool {
	return d.retryable != nil && d.retryable(err)
}

var blobWord = regexp.MustCompile(`\bBLOB\b`)

// ddl adapts a migration statement's column types to the dialect.
func (d dialect) ddl(stmt string) string {
	if d.blobType == "BLOB" {
		return stmt
	}
	return blobWord.ReplaceAllLiteralString(stmt, d.blobType)
}

// bind adapts a query written with ? placeholders to the dialect; a ? in
// a string literal (a JSON path's filter) stays.
func (d dialect) bind(q string) string {
	if !d.dollarParams {
		return q
	}
	var b strings.Builder
	n := 0
	quoted := false // inside a string literal, where ? is itself ('' toggles twice)
	for i := 0; i < len(q); i++ {
		if q[i] == '\'' {
			quoted = !quoted
		}
		if q[i] == '?' && !quoted {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
