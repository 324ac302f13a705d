package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunVersion prints the version, commit and Go version, as
// "handoff version" and "handoff --version".
func TestRunVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{arg}, func(string) string { return "" }, &out, &out); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if !regexp.MustCompile(`^handoff \S+ \(commit \S+, go1\.\d+`).MatchString(out.String()) {
			t.Errorf("%s printed %q", arg, out.String())
		}
	}
	if err := run(context.Background(), []string{"version", "extra"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("version with an argument: no error")
	}
}

// TestRunEmbeddedConfig starts a binary with no handoff.yaml beside it: it
// serves the embedded demo forms and says so; a HANDOFF_CONFIG that names a
// missing file is an error. /metrics carries the build information.
func TestRunEmbeddedConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	srv := startRun(t, t.TempDir(), map[string]string{})
	if !strings.Contains(srv.logs.String(), "using the embedded demo configuration") {
		t.Errorf("the log does not say the embedded configuration is used")
	}
	get(t, http.DefaultClient, srv.base+"/forms/contact")
	if m := scrape(t, srv.base+"/metrics"); !regexp.MustCompile(`handoff_build_info\{commit="[^"]+",goversion="go1[^"]*",version="[^"]+"\} 1`).MatchString(m) {
		t.Errorf("no handoff_build_info in /metrics")
	}
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir()},
		func(k string) string { return map[string]string{"HANDOFF_CONFIG": "missing.yaml"}[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "HANDOFF_CONFIG") {
		t.Errorf("a named, missing configuration: %v", err)
	}
}

// TestRunSecretFiles reads secrets from the files *_FILE names, refuses a
// secret given both ways, and warns, without the value, about a secret on
// the command line.
func TestRunSecretFiles(t *testing.T) {
	token := "file-token-0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startRun(t, t.TempDir(), map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_API_TOKEN_FILE": tokenFile})
	req, _ := http.NewRequest(http.MethodGet, srv.base+"/api/v1/org/agents", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the token from the file: %d", res.StatusCode)
	}

	both := map[string]string{"HANDOFF_API_TOKEN": token, "HANDOFF_API_TOKEN_FILE": tokenFile}
	if _, err := parseConfig(nil, func(k string) string { return both[k] }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not both") || strings.Contains(err.Error(), token) {
		t.Errorf("a secret both ways: %v", err)
	}
	cfg, err := parseConfig([]string{"--api-token", token}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.warnings) != 1 || !strings.Contains(cfg.warnings[0], "--api-token") || strings.Contains(cfg.warnings[0], token) {
		t.Errorf("warnings %q", cfg.warnings)
	}
}

// TestRunBackup copies the database while the server runs, and a server
// started on the copy has the conversation.
func TestRunBackup(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_API_TOKEN": followUpToken}
	srv := startRun(t, dataDir, env)
	c := handOff(t, srv.base, "dana@example.com")
	reply(t, srv.base, c.id, "Saved before the backup.")

	copyPath := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	backup := func(args ...string) error {
		out.Reset()
		return run(context.Background(), append([]string{"backup"}, args...), func(k string) string { return env[k] }, &out, &out)
	}
	if err := backup("--data-dir", dataDir, "--to", copyPath); err != nil {
		t.Fatalf("backup while serving: %v\n%s", err, out.String())
	}
	if err := backup("--data-dir", dataDir, "--to", copyPath); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a backup over an existing file: %v", err)
	}
	if err := backup("--data-dir", dataDir); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("backup without --to: %v", err)
	}
	env["HANDOFF_DATABASE_URL"] = "postgres://x@127.0.0.1/db"
	if err := backup("--data-dir", dataDir, "--to", copyPath+"2"); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup of a PostgreSQL server: %v", err)
	}
	delete(env, "HANDOFF_DATABASE_URL")
	srv.cancel()
	if err := srv.wait(); err != nil {
		t.Fatal(err)
	}

	restored := t.TempDir()
	b, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "handoff.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	srv2 := startRun(t, restored, env)
	var msgs struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if st := orgJSON(t, srv2.base, http.MethodGet, "/conversations/"+c.id+"/messages", "", &msgs); st != http.StatusOK {
		t.Fatalf("the conversation on the restored copy: %d", st)
	}
	if n := len(msgs.Messages); n != 2 || msgs.Messages[1].Body != "Saved before the backup." {
		t.Fatalf("restored messages %+v", msgs.Messages)
	}
}

// TestRunRequestIDs checks that a line logged while serving a request (the
// refused Kustomer webhook's) carries the request's id, the one its
// response and its request line carry; and that HANDOFF_LOG_LEVEL=warn
// leaves out the info lines.
func TestRunRequestIDs(t *testing.T) {
	env := map[string]string{
		"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": "http://127.0.0.1:9",
		"KUSTOMER_API_KEY": "key-0123456789", "KUSTOMER_WEBHOOK_SECRET": "secret-0123456789",
	}
	srv := startRun(t, t.TempDir(), env)
	res, err := http.Post(srv.base+"/webhooks/kustomer", "application/json", strings.NewReader(`{"id":"x","name":"kustomer.message.create"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	id := res.Header.Get("X-Request-Id")
	if res.StatusCode != http.StatusUnauthorized || id == "" {
		t.Fatalf("unsigned webhook: %d, request id %q", res.StatusCode, id)
	}
	var refused bool
	for _, line := range strings.Split(srv.logs.String(), "\n") {
		if strings.Contains(line, "kustomer webhook refused") {
			refused = true
			if !strings.Contains(line, `"request_id":"`+id+`"`) {
				t.Errorf("the refusal's line lacks the request id %s: %s", id, line)
			}
		}
	}
	if !refused {
		t.Fatalf("no refusal logged:\n%s", srv.logs)
	}

	// At HANDOFF_LOG_LEVEL=warn, the server logs no info line (it is up
	// all the same: /healthz answers on the port it was given).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", addr, "--data-dir", t.TempDir(), "--log-format", "json"},
			func(k string) string {
				return map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_LOG_LEVEL": "warn"}[k]
			},
			lockedWriter{&mu, &logs}, lockedWriter{&mu, &logs})
	}()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatal("the server at warn level did not answer /healthz")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), `"level":"INFO"`) || !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("at HANDOFF_LOG_LEVEL=warn the log was:\n%s", logs.String())
	}
	if _, err := parseConfig(nil, func(k string) string { return map[string]string{"HANDOFF_LOG_LEVEL": "loud"}[k] }, &bytes.Buffer{}); err == nil {
		t.Error("HANDOFF_LOG_LEVEL=loud: no error")
	}
}

// lockedWriter serializes writes to a buffer a test reads.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRunMetricsDefault checks that by default /metrics and the profiles are
// served on loopback only, not on the site's listener.
func TestRunMetricsDefault(t *testing.T) {
	srv := startRun(t, t.TempDir(), map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_METRICS_ADDR": ""})
	res, err := http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics by default: %d, want 404", res.StatusCode)
	}
	if addr := srv.logs.field("metrics listening", "addr"); addr != defaultMetricsAddr {
		t.Fatalf("metrics listening on %q, want %s", addr, defaultMetricsAddr)
	}
	if m := scrape(t, "http://"+defaultMetricsAddr+"/metrics"); !strings.Contains(m, "handoff_signin_failures_total") {
		t.Errorf("the loopback listener lacks the sign-in counter")
	}
}
