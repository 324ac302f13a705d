package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/kustomertest"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

// openSQLite opens a fresh SQLite store in the test's temporary directory
// and closes it when the test ends.
func openSQLite(t *testing.T) kustomer.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "handoff.db"))
}

// openAt opens the SQLite store at path and closes it when the test ends.
func openAt(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) { kustomertest.RunStore(t, openSQLite) }

func TestEngine(t *testing.T) { kustomertest.RunEngine(t, openSQLite) }

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

// seed stores a conversation with a reply, a read position and an end, and
// returns it as stored.
func seed(t testing.TB, s kustomer.Store) kustomer.Conversation {
	t.Helper()
	ctx := t.Context()
	custID, convID := kustomer.NewID(), kustomer.NewID()
	_, _, _, err := s.CreateConversation(ctx, kustomer.NewConversation{
		Customer: kustomer.Customer{ID: custID, Name: "Ada", Emails: []string{"ada@example.com"}, CreatedAt: t0, UpdatedAt: t0},
		Conversation: kustomer.Conversation{
			ID: convID, CustomerID: custID, FormID: "contact", AssistantID: "greeter", IsInAssistantMode: true,
			CreatedAt: t0, UpdatedAt: t0, LastMessageAt: t0, Preview: "hello",
			CustomAttributes: kustomer.Attributes{"topicStr": "sales", "teamSizeNum": 4.0},
			Context:          kustomer.PageContext{Referrer: "https://example.com/", Locale: "de"},
		},
		First:     kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: "hello", Direction: kustomer.DirectionIn, CreatedAt: t0, SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: custID}, ClientMessageID: "first"},
		ClientRef: "first",
	})
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	for i, dir := range []kustomer.Direction{kustomer.DirectionOut, kustomer.DirectionOut} {
		when := t0.Add(time.Duration(i+1) * time.Minute)
		_, _, err := s.AppendMessage(ctx, kustomer.NewMessage{Message: kustomer.Message{
			ID: kustomer.NewID(), ConversationID: convID, Body: "reply", Direction: dir, CreatedAt: when,
			SentBy: kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1"},
		}, Preview: "reply"})
		if err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
	}
	if err := s.MarkRead(ctx, convID, kustomer.ReaderCustomer, 2); err != nil {
		t.Fatalf("MarkRead: %v", err)
	}
	end := kustomer.NewMessage{Message: kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: "ended",
		Direction: kustomer.DirectionOut, CreatedAt: t0.Add(time.Hour), SentBy: kustomer.Author{Type: kustomer.AuthorSystem}}}
	if _, _, _, err := s.EndConversation(ctx, convID, kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1"}, t0.Add(time.Hour), end); err != nil {
		t.Fatalf("EndConversation: %v", err)
	}
	c, err := s.Conversation(ctx, convID)
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	return c
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "handoff.db") // the directory is created
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	want := seed(t, s)
	wantMsgs, err := s.Messages(ctx, want.ID, kustomer.MessageQuery{Max: 10})
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, path)
	got, err := s.Conversation(ctx, want.ID)
	if err != nil {
		t.Fatalf("Conversation after reopening: %v", err)
	}
	if got.LastSeq != 4 || !got.Ended || got.EndedAt == nil || !got.EndedAt.Equal(t0.Add(time.Hour)) || got.CustomerUnread != 1 ||
		got.Preview != "reply" || got.CustomAttributes["topicStr"] != "sales" || got.Context != want.Context || got.IsInAssistantMode {
		t.Errorf("conversation after reopening = %+v, want %+v", got, want)
	}
	gotMsgs, err := s.Messages(ctx, want.ID, kustomer.MessageQuery{Max: 10})
	if err != nil {
		t.Fatalf("Messages after reopening: %v", err)
	}
	if len(gotMsgs) != len(wantMsgs) {
		t.Fatalf("%d messages after reopening, want %d", len(gotMsgs), len(wantMsgs))
	}
	for i := range gotMsgs {
		if g, w := gotMsgs[i], wantMsgs[i]; g.ID != w.ID || g.Seq != w.Seq || g.Body != w.Body || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("message %d after reopening = %+v, want %+v", i, g, w)
		}
	}
	cu, err := s.Customer(ctx, want.CustomerID)
	if err != nil || cu.Name != "Ada" || !slices.Equal(cu.Emails, []string{"ada@example.com"}) {
		t.Errorf("customer after reopening = %+v, %v", cu, err)
	}
	// The unique indexes survive too: the first submission's retry is found.
	c, _, created, err := s.CreateConversation(ctx, kustomer.NewConversation{
		Customer:     kustomer.Customer{ID: kustomer.NewID(), CreatedAt: t0, UpdatedAt: t0},
		Conversation: kustomer.Conversation{ID: kustomer.NewID(), CreatedAt: t0, UpdatedAt: t0, LastMessageAt: t0},
		First:        kustomer.Message{ID: kustomer.NewID(), Body: "retry", Direction: kustomer.DirectionIn, CreatedAt: t0},
		ClientRef:    "first",
	})
	if err != nil || created || c.ID != want.ID {
		t.Errorf("retry after reopening: id %s created %v err %v, want %s, false, nil", c.ID, created, err, want.ID)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "handoff.db")
	first := openAt(t, path)
	want := seed(t, first)

	// A second store on the same file while the first is open (two
	// processes during a rolling restart), then a third after both close.
	second := openAt(t, path)
	if _, err := second.Conversation(ctx, want.ID); err != nil {
		t.Errorf("second open: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	third := openAt(t, path)
	if _, err := third.Conversation(ctx, want.ID); err != nil {
		t.Errorf("third open: %v", err)
	}
	if err := third.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if err := third.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) == 0 || len(slices.Compact(slices.Clone(versions))) != len(versions) {
		t.Errorf("schema_migrations = %v, want each migration recorded once", versions)
	}
	migrations, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) {
		t.Errorf("%d migrations recorded, want %d (one per file in migrations/)", len(versions), len(migrations))
	}
}

func TestOpenFails(t *testing.T) {
	// A directory where the database file should be cannot be opened.
	if s, err := sqlstore.OpenSQLite(t.Context(), t.TempDir()); err == nil {
		s.Close()
		t.Errorf("OpenSQLite of a directory: nil error")
	}
}

// TestFormSettingsAfterUpgrade: audit rows written before the setting column
// existed read as assistant changes, and operators' origins survive a
// restart.
func TestFormSettingsAfterUpgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "handoff.db")
	s := openAt(t, path)
	origins := []string{"https://shop.example.com", "http://localhost:8080"}
	e := kustomer.FormAuditEntry{ID: kustomer.NewID(), FormID: "contact", AgentID: "a1", AgentName: "Ada", To: strings.Join(origins, " "), At: t0}
	if err := s.SetFormOrigins(ctx, e, origins); err != nil {
		t.Fatalf("SetFormOrigins: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	// The insert a release before 0006_form_origins made.
	_, err = db.ExecContext(ctx, `INSERT INTO form_audit (id, form_id, agent_id, agent_name, from_assistant, to_assistant, at)
		VALUES ('old', 'sales', 'a1', 'Ada', '', 'greeter', ?)`, t0.Add(-time.Hour).UnixMilli())
	db.Close()
	if err != nil {
		t.Fatalf("insert an old audit row: %v", err)
	}

	s = openAt(t, path)
	got, ok, err := s.FormOrigins(ctx, "contact")
	if err != nil || !ok || !slices.Equal(got, origins) {
		t.Errorf("origins after reopening = %q, %v, %v; want %q", got, ok, err, origins)
	}
	audit, err := s.FormAudit(ctx, 10)
	if err != nil {
		t.Fatalf("FormAudit: %v", err)
	}
	if len(audit) != 2 || audit[0].Setting != kustomer.FormSettingAllowedOrigins || audit[1].ID != "old" || audit[1].Setting != kustomer.FormSettingAssistant {
		t.Errorf("audit after reopening = %+v, want the origins change, then the old row as an assistant change", audit)
	}
}

// openPostgres opens a store on a fresh PostgreSQL schema (see
// sqlstoretest.PostgresURL) and closes it when the test ends.
func openPostgres(t *testing.T) kustomer.Store {
	t.Helper()
	return openPostgresAt(t, sqlstoretest.PostgresURL(t))
}

// openPostgresAt opens a store on the PostgreSQL database at url and closes
// it when the test ends.
func openPostgresAt(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), url, sqlstore.PostgresOptions{})
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresStore(t *testing.T) {
	sqlstoretest.Require(t)
	kustomertest.RunStore(t, openPostgres)
}

func TestPostgresEngine(t *testing.T) {
	sqlstoretest.Require(t)
	kustomertest.RunEngine(t, openPostgres)
}
