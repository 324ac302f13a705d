// Package sqlstoretest gives tests a PostgreSQL schema of their own, so that
// tests on one database run in parallel without seeing each other's rows.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the URL of the PostgreSQL database tests
// use (postgres://…); CI sets it.
const EnvURL = "HANDOFF_TEST_POSTGRES_URL"

// PostgresURL creates a fresh, empty schema in the database EnvURL names,
// drops it (and everything in it) when t ends, and returns a URL that
// connects with the schema as its search_path. Without EnvURL the test is
// skipped, except when CI is set: there the test fails, as it does whenever
// the database cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := Require(t)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvURL)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+schema+" CASCADE") })

	q := u.Query()
	opt := strings.TrimSpace(q.Get("options") + " -c search_path=" + schema)
	q.Set("options", opt)
	// pgx reads a + in the query as itself, not as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// Require returns EnvURL's value. Without it, it skips t, or fails it when
// CI is set.
func Require(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI runs the PostgreSQL tests and needs a database", EnvURL)
		}
		t.Skipf("%s is not set: no PostgreSQL to test on", EnvURL)
	}
	return base
}

// exec runs one statement on a connection of its own to the database at
// rawURL.
func exec(t testing.TB, rawURL, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("PostgreSQL: %s: %v", stmt, err)
	}
}
