package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// BackupSQLite writes a consistent copy of the SQLite database at dbPath to
// to, while the server may be writing to it (VACUUM INTO reads one
// snapshot, as any reader in WAL mode does). to must not exist. The copy
// is a database of its own, ready to start on.
func BackupSQLite(ctx context.Context, dbPath, to string) error {
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("sqlstore: backup: %s exists; name a new file", to)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(10000)"}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		os.Remove(to) // a partial copy is no copy
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	return nil
}
