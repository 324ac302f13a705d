package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoff/handoff/handlers/apitest"
	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/session"
	"github.com/handoff/handoff/views/locale"
)

const testToken = "test-token-0123456789"

// env is a real server over a real SQLite file, reached over real HTTP.
type env struct {
	t      testing.TB
	URL    string
	srv    *Server
	engine *kustomer.Engine
	store  *sqlstore.Store
	hub    *kustomer.Hub
	reg    *prometheus.Registry
	// shutdown begins the server's shutdown (Options.Shutdown), as the
	// test's cleanup does; once.
	shutdown func()
}

// newEnv is a server over the shipped handoff.yaml.
func newEnv(t testing.TB) *env {
	t.Helper()
	doc, err := os.ReadFile("../handoff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return newEnvConfig(t, doc)
}

// newEnvConfig is a server over the configuration doc (a handoff.yaml).
func newEnvConfig(t testing.TB, doc []byte) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.OpenSQLite(ctx, t.TempDir()+"/handoff.db")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kustomer.ParseConfig(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	assistants, err := assistant.Load(doc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	assistants.Words = locale.AssistantWords // as main wires it
	hub := kustomer.NewHub()
	engine := kustomer.NewEngine(store, hub, cfg, nil)
	engine.Assistants = assistants
	k := session.KeyPair{Auth: make([]byte, 64), Encrypt: make([]byte, 32)}
	rand.Read(k.Auth)
	rand.Read(k.Encrypt)
	sm, err := session.New(session.Options{Keys: []session.KeyPair{k}})
	if err != nil {
		t.Fatal(err)
	}
	shutdown := make(chan struct{})
	beginShutdown := sync.OnceFunc(func() { close(shutdown) })
	reg := prometheus.NewRegistry()
	srv := New(engine, sm, Options{APIToken: testToken, Shutdown: shutdown, Metrics: NewMetrics(reg)})
	ts := httptest.NewServer(srv)
	srv.opts.BaseURL, _ = url.Parse(ts.URL)
	t.Cleanup(func() {
		beginShutdown()
		ts.Close()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := srv.Wait(wctx); err != nil {
			t.Errorf("sockets still open after shutdown: %v", err)
		}
		hub.Close()
		store.Close()
	})
	return &env{t: t, URL: ts.URL, srv: srv, engine: engine, store: store, hub: hub, reg: reg, shutdown: beginShutdown}
}

// client is one browser: its own cookie jar, redirects not followed. Its
// requests to /api/v1 and their answers are checked against openapi.json
// (see apitest).
type client struct {
	*http.Client
	e *env
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{Client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		Transport:     apitest.NewTransport(e.t, http.DefaultTransport, openAPIDocument),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, e: e}
}

// response is a read response.
type response struct {
	*http.Response
	Body []byte
}

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (c *client) do(req *http.Request) response {
	c.e.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return response{Response: res, Body: b}
}

func (c *client) get(path string) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.URL+path, nil)
	return c.do(req)
}

func (c *client) postForm(path string, v url.Values) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// sendJSON sends body (a string is sent as is) with the given headers.
func (c *client) sendJSON(method, path string, body any, header ...string) response {
	c.e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.e.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// org calls the organization API with the token.
func (e *env) org(method, path string, body any) response {
	e.t.Helper()
	return e.client().sendJSON(method, "/api/v1/org"+path, body, "Authorization", "Bearer "+testToken)
}

// orgInvalid is org for a request malformed on purpose: its answer is
// checked against openapi.json, not the request.
func (e *env) orgInvalid(method, path string, body any) response {
	e.t.Helper()
	return e.client().sendJSON(method, "/api/v1/org"+path, body, "Authorization", "Bearer "+testToken, invalidHeader, "1")
}

// contactForm is a valid submission of the demo contact form.
func contactForm() url.Values {
	return url.Values{
		"name":        {"Dana Smith"},
		"email":       {"dana@example.com"},
		"topic":       {"order"},
		"orderNumber": {"A-10042"},
		"message":     {"My parcel never arrived."},
	}
}

// handoff submits the contact form as c and returns the conversation id.
func (c *client) handoff(t testing.TB) string {
	t.Helper()
	res := c.postForm("/forms/contact", contactForm())
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: status %d, want 303\n%s", res.StatusCode, res.Body)
	}
	loc := res.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/conversations/")
	if !ok || !kustomer.ValidID(id) {
		t.Fatalf("submit: Location %q", loc)
	}
	return id
}

// conversationCount is how many conversations the store holds.
func (e *env) conversationCount() int {
	e.t.Helper()
	_, n, err := e.store.Conversations(context.Background(), kustomer.ConversationFilter{}, 0, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}
