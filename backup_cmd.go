package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/handoff/handoff/kustomer/sqlstore"
)

// runBackup is "handoff backup --to FILE": a consistent copy of the SQLite
// database of the data directory (HANDOFF_DATA_DIR or --data-dir), taken
// while the server runs. With PostgreSQL, pg_dump is the tool.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("handoff backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := getenv("HANDOFF_DATA_DIR")
	if dataDir == "" {
		dataDir = "./data"
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (HANDOFF_DATA_DIR)")
	to := fs.String("to", "", "the file to write the copy to; it must not exist")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() > 0 {
		return errors.New("usage: handoff backup --to FILE [--data-dir DIR]")
	}
	if getenv("HANDOFF_DATABASE_URL") != "" || getenv("HANDOFF_DATABASE_URL_FILE") != "" {
		return errors.New("this server keeps its data in PostgreSQL: back it up with pg_dump (see the README's Operate section)")
	}
	db := filepath.Join(dataDir, "handoff.db")
	if err := sqlstore.BackupSQLite(ctx, db, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", db, *to)
	return nil
}
