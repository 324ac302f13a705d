package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/handlers"
	"github.com/handoff/handoff/handlers/apitest"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

func TestRunRejectsBadConfiguration(t *testing.T) {
	ghost := filepath.Join(t.TempDir(), "ghost.yaml")
	if err := os.WriteFile(ghost, []byte("forms:\n  - id: x\n    assistantId: ghost\n    fields:\n      - {name: m, type: textarea, role: message}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badStep := filepath.Join(t.TempDir(), "badstep.yaml")
	if err := os.WriteFile(badStep, []byte("assistants:\n  - id: a\n    start: s1\n    steps:\n      - {id: s1, type: attribute, attribute: nopeStr, text: x, next: s2}\n      - {id: s2, type: end}\nforms:\n  - id: x\n    assistantId: a\n    fields:\n      - {name: m, type: textarea, role: message}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("forms:\n  - id: x\n    fields:\n      - {name: a, role: name}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HANDOFF_ADDR": "nope"}, "HANDOFF_ADDR"},
		{map[string]string{"HANDOFF_BASE_URL": "ftp://chat.example.com"}, "HANDOFF_BASE_URL"},
		{map[string]string{"HANDOFF_BASE_URL": "https://chat.example.com/path"}, "HANDOFF_BASE_URL"},
		{map[string]string{"HANDOFF_SESSION_KEYS": "zz:yy"}, "HANDOFF_SESSION_KEYS"},
		{map[string]string{"HANDOFF_SESSION_KEYS": strings.Repeat("a", 64) + ":" + strings.Repeat("b", 10)}, "HANDOFF_SESSION_KEYS"},
		{map[string]string{"HANDOFF_API_TOKEN": "short"}, "HANDOFF_API_TOKEN"},
		{map[string]string{"HANDOFF_LOG_FORMAT": "xml"}, "HANDOFF_LOG_FORMAT"},
		{map[string]string{"HANDOFF_TRUSTED_PROXIES": "10.0.0.0/33"}, "HANDOFF_TRUSTED_PROXIES"},
		{map[string]string{"HANDOFF_HANDOFF_RATE": "lots"}, "HANDOFF_HANDOFF_RATE"},
		{map[string]string{"HANDOFF_SEND_RATE": "5"}, "HANDOFF_SEND_RATE"},
		{map[string]string{"HANDOFF_HANDOFF_BURST": "0"}, "HANDOFF_HANDOFF_BURST"},
		{map[string]string{"HANDOFF_SEND_BURST": "x"}, "HANDOFF_SEND_BURST"},
		{map[string]string{"HANDOFF_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")}, "HANDOFF_CONFIG"},
		{map[string]string{"HANDOFF_CONFIG": badYAML}, "exactly one field must have role message"},
		{map[string]string{"HANDOFF_CONFIG": ghost}, `assistantId "ghost" is not a defined assistant`},
		{map[string]string{"HANDOFF_CONFIG": badStep}, "nopeStr"},
		{map[string]string{"HANDOFF_ADMIN_EMAIL": "root@example.com", "HANDOFF_ADMIN_PASSWORD": "a long enough password"}, "missing HANDOFF_ADMIN_NAME"},
		{map[string]string{"HANDOFF_ADMIN_EMAIL": "root@example.com", "HANDOFF_ADMIN_PASSWORD": "a long enough password", "HANDOFF_ADMIN_NAME": "  "}, "missing HANDOFF_ADMIN_NAME"},
		{map[string]string{"HANDOFF_ADMIN_NAME": "Dana Reyes"}, "missing HANDOFF_ADMIN_EMAIL, HANDOFF_ADMIN_PASSWORD"},
		{map[string]string{"HANDOFF_DATABASE_URL": "mysql://handoff:sekret@db.example.com/handoff", "HANDOFF_SESSION_KEYS": testSessionKeys}, "HANDOFF_DATABASE_URL: want a URL like postgres://"},
		{map[string]string{"HANDOFF_DATABASE_URL": "postgres://handoff:sekret@db.example.com/handoff"}, "HANDOFF_DATABASE_URL needs HANDOFF_SESSION_KEYS: instances sharing a database must share session keys"},
		{map[string]string{"HANDOFF_ADMIN_EMAIL": "root@example.com", "HANDOFF_ADMIN_PASSWORD": "a long enough password", "HANDOFF_ADMIN_NAME": strings.Repeat("n", 81)}, "HANDOFF_ADMIN_NAME must be 1 to 80 characters"},
		{map[string]string{"HANDOFF_SMTP_URL": "http://mailer:sekret@mail.example.com", "HANDOFF_MAIL_FROM": "a@example.com"}, "HANDOFF_SMTP_URL: mail: the SMTP URL must start with smtp://"},
		{map[string]string{"HANDOFF_SMTP_URL": "smtp://mailer:sekret@mail.example.com:0x1"}, "HANDOFF_SMTP_URL: mail: the SMTP URL is not a valid URL"},
		{map[string]string{"HANDOFF_SMTP_URL": "smtp://mailer:sekret@mail.example.com"}, "HANDOFF_SMTP_URL needs HANDOFF_MAIL_FROM"},
		{map[string]string{"HANDOFF_MAIL_FROM": "support at example"}, "HANDOFF_MAIL_FROM"},
		{map[string]string{"HANDOFF_FOLLOWUP_DELAY": "soon"}, "HANDOFF_FOLLOWUP_DELAY"},
		{map[string]string{"HANDOFF_FOLLOWUP_DELAY": "0s"}, "HANDOFF_FOLLOWUP_DELAY"},
		{map[string]string{"HANDOFF_MAIL_RETRY_MIN": "2h"}, "HANDOFF_MAIL_RETRY_MIN"},
		{map[string]string{"HANDOFF_AWAY_AFTER": "forever"}, "HANDOFF_AWAY_AFTER \"forever\""},
		{map[string]string{"HANDOFF_AWAY_AFTER": "0s"}, "HANDOFF_AWAY_AFTER \"0s\""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			env := map[string]string{"HANDOFF_ADDR": "127.0.0.1:0", "HANDOFF_DATA_DIR": t.TempDir(), "HANDOFF_CONFIG": "handoff.yaml"}
			for k, v := range tt.env {
				env[k] = v
			}
			var out bytes.Buffer
			// A configuration wrongly accepted serves until the deadline,
			// then fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, nil, func(k string) string { return env[k] }, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run: %v, want an error naming %s", err, tt.want)
			}
			if strings.Contains(err.Error()+out.String(), "sekret") {
				t.Errorf("a password reached the error or the log")
			}
		})
	}
	// Flags override the environment.
	err := run(context.Background(), []string{"--log-format", "yaml"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HANDOFF_LOG_FORMAT") {
		t.Errorf("flag: %v", err)
	}
}

// TestRunGracefulShutdown starts the real server, opens a chat socket, and
// cancels run's context (what SIGTERM does): the socket gets a going-away
// close and run returns nil.
func TestRunGracefulShutdown(t *testing.T) {
	dataDir := t.TempDir()
	srv := startRun(t, dataDir, nil)
	base := srv.base
	if _, err := os.Stat(filepath.Join(dataDir, "session-keys")); err != nil {
		t.Errorf("development session keys not saved: %v", err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	res, err := hc.PostForm(base+"/forms/contact", url.Values{
		"name": {"Dana"}, "email": {"dana@example.com"}, "topic": {"billing"}, "message": {"Hello"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.Path, "/conversations/") {
		t.Fatalf("hand-off ended at %d %s", res.StatusCode, res.Request.URL)
	}
	u, _ := url.Parse(base + res.Request.URL.Path + "/ws")
	h := http.Header{}
	for _, c := range jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	u.Scheme = "ws"
	conn, _, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	var first map[string]any
	if err := conn.ReadJSON(&first); err != nil || first["type"] != "message" {
		t.Fatalf("first frame %v %v", first, err)
	}

	// The operator's metrics count what just happened.
	metrics := scrape(t, base+"/metrics")
	for _, want := range []string{
		`handoff_handoffs_total{form="contact"} 1`,
		`handoff_messages_stored_total{author="customer",direction="in"} 1`,
		`handoff_open_sockets{kind="customer"} 1`,
		`handoff_http_request_duration_seconds_count{method="POST",route="/forms/:form",status="303"} 1`,
		`handoff_store_transaction_seconds_count{op="create_conversation"} 1`,
		`handoff_events_published_total 2`,
		`handoff_subscribers_dropped_total 0`,
		`handoff_sqlite_wal_bytes `,
		`handoff_sqlite_checkpoint_seconds_count{mode="truncate"} `,
		`handoff_sqlite_checkpoint_errors_total{mode="truncate"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	srv.cancel()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for err == nil {
		_, _, err = conn.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("socket closed with %v, want going away (1001)", err)
	}
	if err := srv.wait(); err != nil {
		t.Errorf("run returned %v after shutdown, want nil", err)
	}
	if !strings.Contains(srv.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped log line")
	}
	if strings.Contains(srv.logs.String(), "Hello") {
		t.Errorf("a message body reached the log")
	}
}

// TestRunFirstAdminName creates the first admin from HANDOFF_ADMIN_EMAIL,
// _PASSWORD and _NAME: customers read that name, never the email's local
// part.
func TestRunFirstAdminName(t *testing.T) {
	srv := startRun(t, t.TempDir(), map[string]string{
		"HANDOFF_ADMIN_EMAIL": "admin@example.com", "HANDOFF_ADMIN_PASSWORD": "a long enough password", "HANDOFF_ADMIN_NAME": "  Dana Reyes ",
	})
	defer func() {
		srv.cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: 5 * time.Second}
	}
	customer, admin := newClient(), newClient()
	res, err := customer.PostForm(srv.base+"/forms/contact", url.Values{
		"name": {"Priya"}, "email": {"priya@example.com"}, "topic": {"billing"}, "message": {"Hello"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	chatPath := res.Request.URL.Path
	id, ok := strings.CutPrefix(chatPath, "/conversations/")
	if !ok {
		t.Fatalf("hand-off ended on %s", chatPath)
	}
	res, err = admin.PostForm(srv.base+"/agent/sign-in", url.Values{"email": {"admin@example.com"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/agent" {
		t.Fatalf("sign in: %d on %s", res.StatusCode, res.Request.URL.Path)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/agent/conversations/"+id+"/join", nil)
	req.Header.Set("Origin", srv.base)
	if res, err = admin.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	page := get(t, customer, srv.base+chatPath)
	if !strings.Contains(page, "Dana Reyes</span> is answering") || !strings.Contains(page, "Dana Reyes joined the conversation.") {
		t.Errorf("the customer's chat does not name Dana Reyes as answering")
	}
	if strings.Contains(page, "admin is answering") || strings.Contains(page, "admin joined") {
		t.Errorf("the customer's chat names the admin by the email's local part")
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	return string(b)
}

func scrape(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	return string(b)
}

// TestRunMetricsAddr serves /metrics only on HANDOFF_METRICS_ADDR.
func TestRunMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	srv := startRun(t, t.TempDir(), map[string]string{"HANDOFF_METRICS_ADDR": metricsAddr})
	defer func() {
		srv.cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	base := srv.base
	if m := scrape(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(m, "handoff_subscribers_dropped_total") || !strings.Contains(m, "go_goroutines") {
		t.Errorf("metrics listener does not serve the metrics")
	}
	if !strings.Contains(scrape(t, "http://"+metricsAddr+"/debug/pprof/"), "goroutine") {
		t.Errorf("no profiles on the metrics listener")
	}
	if res, err := http.Get(base + "/debug/pprof/"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("profiles on the public listener")
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics with HANDOFF_METRICS_ADDR set: %d, want 404", res.StatusCode)
	}
}

// runningServer is run() serving on a free loopback port.
type runningServer struct {
	base   string
	logs   *logSink
	cancel context.CancelFunc
	done   chan error
}

// startRun starts run() with JSON logs and env, and waits until it listens.
func startRun(t *testing.T, dataDir string, env map[string]string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := &runningServer{logs: &logSink{listening: make(chan string, 1)}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		getenv := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			if k == "HANDOFF_METRICS_ADDR" {
				return "public" // the tests scrape the site's own /metrics
			}
			return ""
		}
		srv.done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}, getenv, srv.logs, srv.logs)
	}()
	select {
	case addr := <-srv.logs.listening:
		srv.base = "http://" + addr
	case err := <-srv.done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return srv
}

// wait returns run's result once it has returned (after cancel).
func (r *runningServer) wait() error {
	select {
	case err := <-r.done:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("run did not return within 20 s")
	}
}

// testSessionKeys is a valid HANDOFF_SESSION_KEYS value.
var testSessionKeys = strings.Repeat("a1", 32) + ":" + strings.Repeat("b2", 32)

// TestRunPostgres starts the real server on a fresh PostgreSQL schema, hands
// a form off to a chat and stops: the store is PostgreSQL, /readyz asks it,
// and the database URL's password never reaches the log.
func TestRunPostgres(t *testing.T) {
	u, err := url.Parse(sqlstoretest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test database trusts local connections: the password is never
	// asked for, so it can be a marker the log must not contain.
	u.User = url.UserPassword(u.User.Username(), "sekret-password")
	dataDir := t.TempDir()
	srv := startRun(t, dataDir, map[string]string{"HANDOFF_DATABASE_URL": u.String(), "HANDOFF_SESSION_KEYS": testSessionKeys})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	res, err := hc.PostForm(srv.base+"/forms/contact", url.Values{
		"name": {"Dana"}, "email": {"dana@example.com"}, "topic": {"billing"}, "message": {"Hello from PostgreSQL"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.Path, "/conversations/") {
		t.Fatalf("hand-off ended at %d %s", res.StatusCode, res.Request.URL)
	}
	if page := get(t, hc, srv.base+res.Request.URL.Path); !strings.Contains(page, "Hello from PostgreSQL") {
		t.Errorf("the chat page does not show the hand-off's message")
	}
	if res, err := http.Get(srv.base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %v %v", res, err)
	}
	if m := scrape(t, srv.base+"/metrics"); strings.Contains(m, "handoff_sqlite_wal_bytes") {
		t.Errorf("SQLite metrics with the PostgreSQL store")
	}
	srv.cancel()
	if err := srv.wait(); err != nil {
		t.Errorf("run returned %v after shutdown, want nil", err)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, `"store":"postgres"`) || !strings.Contains(logs, `"db":"`+u.Host+u.Path+`"`) {
		t.Errorf("the listening line does not name the PostgreSQL store and database:\n%s", logs)
	}
	if strings.Contains(logs, "sekret") || strings.Contains(logs, "search_path") {
		t.Errorf("the database URL reached the log:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "handoff.db")); err == nil {
		t.Errorf("a SQLite database was created beside PostgreSQL")
	}
}

// apiClient is the client of the tests' calls to the server's API: every
// request to /api/v1 and its answer are checked against the API's OpenAPI
// document (handlers/openapi.json).
func apiClient(t testing.TB) *http.Client {
	return &http.Client{Transport: apitest.NewTransport(t, http.DefaultTransport, handlers.OpenAPIDocument()), Timeout: 15 * time.Second}
}
