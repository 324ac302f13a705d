package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Chromium against the real server started by run,
// as a customer would: the form, the live chat, resuming after a dropped
// socket, isolation between sessions and the no-JavaScript path.

const (
	// stepTimeout bounds every browser step and every wait on the page.
	stepTimeout  = 20 * time.Second
	testAPIToken = "browser-test-api-token-0123456789"
	// The first admin, created by run from HANDOFF_ADMIN_EMAIL,
	// HANDOFF_ADMIN_PASSWORD and HANDOFF_ADMIN_NAME.
	testAdminEmail    = "admin@example.com"
	testAdminPassword = "admin password 123"
	testAdminName     = "Ada Admin"
)

var conversationPath = regexp.MustCompile(`^/conversations/([0-9a-f]{24})$`)

// ---- the server -------------------------------------------------------------

// testServer is the real server, started by run on a loopback port.
type testServer struct {
	URL  string
	logs *logSink
	// args are run's arguments but the address: startAgain starts the
	// server with the same data directory.
	args []string
	halt func()
}

// logSink collects the server's JSON log lines and reports the address of
// the "listening" line.
type logSink struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	scanned   int
	listening chan string
	found     bool
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for !l.found {
		rest := l.buf.Bytes()[l.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i]
		l.scanned += i + 1
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
			l.found = true
			l.listening <- rec.Addr
		}
	}
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServer runs the server until the test ends, then checks that it
// shut down cleanly. The server has the organization API on, with
// testAPIToken, and a first admin, testAdminEmail.
func startServer(t testing.TB, extraArgs ...string) *testServer {
	t.Helper()
	return startServerEnv(t, nil, extraArgs...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t testing.TB, env map[string]string, extraArgs ...string) *testServer {
	t.Helper()
	args := []string{"--data-dir", t.TempDir(), "--config", "handoff.yaml", "--log-format", "json"}
	return launchServerEnv(t, "127.0.0.1:0", append(args, extraArgs...), env)
}

// launchServer runs the server on addr with args until stop is called or
// the test ends, and checks that it shut down cleanly.
func launchServer(t testing.TB, addr string, args []string) *testServer {
	t.Helper()
	return launchServerEnv(t, addr, args, nil)
}

// launchServerEnv is launchServer with more environment variables.
func launchServerEnv(t testing.TB, addr string, args []string, env map[string]string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logSink{listening: make(chan string, 1)}
	getenv := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		switch name {
		case "HANDOFF_METRICS_ADDR":
			return "public" // the tests scrape the site's own /metrics
		case "HANDOFF_API_TOKEN":
			return testAPIToken
		case "HANDOFF_ADMIN_EMAIL":
			return testAdminEmail
		case "HANDOFF_ADMIN_PASSWORD":
			return testAdminPassword
		case "HANDOFF_ADMIN_NAME":
			return testAdminName
		}
		return ""
	}
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(ctx, append([]string{"--addr", addr}, args...), getenv, logs, logs)
	}()
	var once sync.Once
	halt := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
				if runErr != nil {
					t.Errorf("run returned %v after cancel, want nil", runErr)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("run did not return within 30 s of cancel")
			}
		})
	}
	t.Cleanup(func() {
		halt()
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	select {
	case addr := <-logs.listening:
		return &testServer{URL: "http://" + addr, logs: logs, args: args, halt: halt}
	case <-done:
		t.Fatalf("run returned before listening: %v", runErr)
	case <-time.After(stepTimeout):
		t.Fatalf("no \"listening\" log line within %v", stepTimeout)
	}
	return nil
}

// stop shuts the server down gracefully, as its operator would, and waits
// until run has returned.
func (s *testServer) stop() {
	s.halt()
}

// startAgain starts a stopped server again on the same address with the
// same data directory, so with the same database and session keys: the
// browser's cookies and conversations still hold.
func (s *testServer) startAgain(t testing.TB) *testServer {
	t.Helper()
	return launchServer(t, strings.TrimPrefix(s.URL, "http://"), s.args)
}

// orgMessage is a message as the organization API returns it.
type orgMessage struct {
	MessageID string `json:"messageId"`
	Seq       int64  `json:"seq"`
	Direction string `json:"direction"`
}

// postAgentMessage answers conversation id as the agent Dana through the
// organization API.
func (s *testServer) postAgentMessage(t testing.TB, id, body string) orgMessage {
	t.Helper()
	var m orgMessage
	s.orgPost(t, "/api/v1/org/conversations/"+id+"/messages",
		map[string]string{"body": body, "authorType": "agent", "authorName": "Dana"}, &m)
	if m.Seq == 0 || m.Direction != "out" {
		t.Fatalf("agent message %q: got seq %d direction %q, want a seq and direction out", body, m.Seq, m.Direction)
	}
	return m
}

func (s *testServer) orgPost(t testing.TB, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: status %d: %s", path, res.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("POST %s: decode %s: %v", path, data, err)
		}
	}
}

// ---- the browser ------------------------------------------------------------

// newBrowser starts a headless Chromium with a fresh profile for the test
// and returns the context of its first tab. Without Chromium the test is
// skipped, or fails under CI or HANDOFF_REQUIRE_BROWSER=1.
func newBrowser(t testing.TB) *tab {
	t.Helper()
	return newBrowserWith(t, browserSetup{})
}

// browserSetup changes how Chromium starts: extra command-line switches,
// and a profile's Preferences file written before it starts.
type browserSetup struct {
	Flags       map[string]any
	Preferences string
}

// chromiumNames are the names Chromium goes by on PATH (Debian's, older
// Ubuntu's, Google's builds), tried in this order when HANDOFF_CHROMIUM
// does not name the browser.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// findChromium returns the browser the tests drive: HANDOFF_CHROMIUM (a
// path, or a name looked up on PATH) when it is set, else the first of
// chromiumNames on PATH. explicit tells that HANDOFF_CHROMIUM named it; the
// error says what was tried.
func findChromium(getenv func(string) string) (path string, explicit bool, err error) {
	if name := getenv("HANDOFF_CHROMIUM"); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			return "", true, fmt.Errorf("HANDOFF_CHROMIUM=%s is not an executable: %w", name, err)
		}
		return path, true, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, false, nil
		}
	}
	return "", false, fmt.Errorf("HANDOFF_CHROMIUM is not set and none of %s is on PATH", strings.Join(chromiumNames, ", "))
}

// chromiumLookup is findChromium's answer for this run of the tests.
type chromiumLookup struct {
	path     string
	explicit bool
	err      error
}

var chromium = sync.OnceValue(func() chromiumLookup {
	path, explicit, err := findChromium(os.Getenv)
	if err != nil && !explicit {
		err = fmt.Errorf("%w (apt-get install chromium, or set HANDOFF_CHROMIUM to the browser's path)", err)
	}
	return chromiumLookup{path: path, explicit: explicit, err: err}
})

// browserRequired tells whether a missing browser or axe-core fails the
// browser tests instead of skipping them: under CI, and with
// HANDOFF_REQUIRE_BROWSER=1.
func browserRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv("HANDOFF_REQUIRE_BROWSER") == "1"
}

// Browser tests (and subtests) skipped for want of Chromium, and
// accessibility checks skipped for want of axe-core: TestMain says so at
// the end of the run, so a local run without them does not look complete.
var browserSkips, axeSkips atomic.Int64

// TestMain runs the tests, then warns on stderr when browser tests or
// accessibility checks were skipped. go test shows a passing package's
// output only with -v or when run in its directory, so the warning also
// goes to the file HANDOFF_TEST_SKIP_REPORT names: make test prints it
// after the whole run.
func TestMain(m *testing.M) {
	code := m.Run()
	var b bytes.Buffer
	reportBrowserSkips(&b, browserSkips.Load(), axeSkips.Load(), chromium().err)
	if b.Len() > 0 {
		_, _ = os.Stderr.Write(b.Bytes()) // the banner is best effort; the report file below is checked
		if name := os.Getenv("HANDOFF_TEST_SKIP_REPORT"); name != "" {
			if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "HANDOFF_TEST_SKIP_REPORT: %v\n", err)
			}
		}
	}
	os.Exit(code)
}

// reportBrowserSkips writes the banner for n browser tests skipped because
// of why, and a accessibility checks skipped; nothing when none were.
func reportBrowserSkips(w io.Writer, n, a int64, why error) {
	if n == 0 && a == 0 {
		return
	}
	rule := strings.Repeat("=", 78)
	fmt.Fprintln(w, rule)
	if n > 0 {
		fmt.Fprintf(w, "WARNING: %d browser tests were SKIPPED: %v.\n", n, why)
	}
	if a > 0 {
		fmt.Fprintf(w, "WARNING: %d accessibility checks were SKIPPED: axe-core is not installed at %s (npm ci --prefix testdata/axe).\n", a, axePath)
	}
	fmt.Fprintln(w, "This run did not test what customers and agents see in a browser.")
	fmt.Fprintln(w, "CI (CI set) and HANDOFF_REQUIRE_BROWSER=1 make these failures.")
	fmt.Fprintln(w, rule)
}

// newBrowserWith is newBrowser with the setup's switches and profile.
func newBrowserWith(t testing.TB, setup browserSetup) *tab {
	t.Helper()
	browser := chromium()
	if browser.err != nil {
		// A HANDOFF_CHROMIUM that names no browser is a mistake to fix,
		// not a machine without Chromium.
		if browserRequired() || browser.explicit {
			t.Fatalf("browser tests need Chromium: %v", browser.err)
		}
		browserSkips.Add(1)
		t.Skipf("Chromium not found: %v; set HANDOFF_REQUIRE_BROWSER=1 to make this a failure", browser.err)
	}
	profile := t.TempDir()
	if setup.Preferences != "" {
		if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(setup.Preferences), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser.path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 800),
	)
	for name, value := range setup.Flags {
		opts = append(opts, chromedp.Flag(name, value))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser closes, and its process is
	// waited for, before the server stops and the profile directory goes.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first call starts the browser; it must have no deadline, which
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx}
}

// tab is one browser tab bound to a test.
type tab struct {
	t   testing.TB
	ctx context.Context
}

// isolatedTab opens a tab in a new browser context of the same browser: a
// separate customer with its own cookies.
func (p *tab) isolatedTab() *tab {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithNewBrowserContext())
	p.t.Cleanup(cancel)
	// The first call opens the tab and binds its event loop to the context
	// it gets: that context must live as long as the tab.
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("open a tab in a new browser context: %v", err)
	}
	return &tab{t: p.t, ctx: ctx}
}

// do runs the steps with a deadline and fails the test on error.
func (p *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fatalf("%s: %v", what, err)
	}
}

// runAction runs one action with a deadline and returns its value.
func runAction[T any](p *tab, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.fatalf("%s: %v", what, err)
	}
	return v
}

// navigate runs the steps, which must cause a navigation, and returns the
// response of the document that loads.
func (p *tab) navigate(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.fatalf("%s: %v", what, err)
	}
	if res == nil {
		p.fatalf("%s: no document response", what)
	}
	return res
}

// open loads path and checks the status of the answer.
func (p *tab) open(srv *testServer, path string, wantStatus int64) *network.Response {
	p.t.Helper()
	res := p.navigate("open "+path, chromedp.Navigate(srv.URL+path))
	if res.Status != wantStatus {
		p.fatalf("GET %s: status %d, want %d", path, res.Status, wantStatus)
	}
	return res
}

// waitFor polls the JavaScript predicate until it is true.
func (p *tab) waitFor(what, predicate string) {
	p.t.Helper()
	p.waitWithin(stepTimeout, what, predicate)
}

// waitWithin polls the JavaScript predicate until it is true, for at most
// d.
func (p *tab) waitWithin(d time.Duration, what, predicate string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d-time.Second)))
	if err != nil {
		p.fatalf("waiting up to %v until %s: %v", d, what, err)
	}
}

// path is the path of the page the tab shows, without the fragment.
func (p *tab) path() string {
	p.t.Helper()
	return runAction(p, "read location.pathname", chromedp.Evaluate[string](`location.pathname`))
}

// fatalf fails the test, adding what the page shows.
func (p *tab) fatalf(format string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.href + "\n" + (document.body ? document.body.innerText.slice(0, 1500) : "(no body)")`))
	if err != nil {
		state = "(page state unavailable: " + err.Error() + ")"
	}
	p.t.Fatalf(format+"\n--- page ---\n%s", append(args, state)...)
}

// tid selects elements by data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsArray writes ss as a JavaScript array literal.
func jsArray(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// ---- pages --------------------------------------------------------------------

// contactForm is what a customer types into the contact form.
type contactForm struct {
	Name, Email, Topic, OrderNumber, Message string
}

// fill types the form's values into the empty fields.
func (p *tab) fill(f contactForm) {
	p.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(tid("handoff-form"))}
	for _, kv := range [][2]string{{"name", f.Name}, {"email", f.Email}, {"orderNumber", f.OrderNumber}, {"message", f.Message}} {
		if kv[1] != "" {
			steps = append(steps, chromedp.SendKeys(tid("field-"+kv[0]), kv[1]))
		}
	}
	if f.Topic != "" {
		steps = append(steps, chromedp.SetValue(tid("field-topic"), f.Topic))
	}
	p.do("fill the contact form", steps...)
}

// fieldValues reads the value of every field of the contact form.
func (p *tab) fieldValues() map[string]string {
	p.t.Helper()
	got := map[string]string{}
	for _, name := range formFields {
		got[name] = runAction(p, "read field "+name, chromedp.Value(tid("field-"+name)))
	}
	return got
}

// formFields are the contact form's fields, in page order.
var formFields = []string{"name", "email", "topic", "orderNumber", "message"}

// visibleErrors lists the fields whose error message is shown, failing the
// test when a shown error is not beside its field or not tied to it by
// aria-describedby.
func (p *tab) visibleErrors() []string {
	p.t.Helper()
	type fieldErrors struct {
		Shown    []string `json:"shown"`
		Detached []string `json:"detached"`
	}
	res := runAction(p, "list field errors", chromedp.Evaluate[fieldErrors](`(() => {
		const shown = [], detached = [];
		for (const name of `+jsArray(formFields)+`) {
			const el = document.querySelector('[data-testid="error-' + name + '"]');
			if (el === null || el.getClientRects().length === 0 || el.textContent.trim() === "") {
				continue;
			}
			shown.push(name);
			const field = document.querySelector('[data-testid="field-' + name + '"]');
			const described = field ? (field.getAttribute("aria-describedby") || "").split(/\s+/) : [];
			if (!field || !el.parentElement.contains(field) || !el.id || !described.includes(el.id) ||
				field.getAttribute("aria-invalid") !== "true") {
				detached.push(name);
			}
		}
		return {shown: shown.sort(), detached: detached};
	})()`))
	if len(res.Detached) > 0 {
		p.fatalf("errors of %v are not beside their field, or the field lacks aria-invalid and aria-describedby naming them", res.Detached)
	}
	return res.Shown
}

// submitForm submits the contact form and returns the response of the page
// that loads.
func (p *tab) submitForm() *network.Response {
	p.t.Helper()
	return p.navigate("submit the contact form", chromedp.Click(tid("submit")))
}

// startConversation fills and submits the contact form and returns the id
// of the conversation the customer lands in.
func (p *tab) startConversation(srv *testServer, f contactForm) string {
	p.t.Helper()
	p.open(srv, "/forms/contact", http.StatusOK)
	p.fill(f)
	res := p.submitForm()
	if res.Status != http.StatusOK {
		p.fatalf("submit a valid form: landed with status %d, want 200", res.Status)
	}
	m := conversationPath.FindStringSubmatch(p.path())
	if m == nil {
		p.fatalf("submit a valid form: landed on %s, want /conversations/{24 hex}", p.path())
	}
	p.do("show the chat", chromedp.WaitVisible(tid("chat")))
	if got := runAction(p, "read the chat's conversation id",
		chromedp.Evaluate[string](`document.querySelector('[data-testid="chat"]').dataset.conversationId`)); got != m[1] {
		p.fatalf("chat data-conversation-id = %q, want %q from the URL", got, m[1])
	}
	return m[1]
}

// waitLive waits until the chat's socket is up.
func (p *tab) waitLive() {
	p.t.Helper()
	p.do("wait for the chat to go live", chromedp.WaitVisible(chromedp.CSS(`[data-testid="connection-status"][data-state="live"]`)))
}

// threadItem is one message of the thread as the page shows it.
type threadItem struct {
	Seq        string `json:"seq"`
	Direction  string `json:"direction"`
	AuthorType string `json:"authorType"`
	Body       string `json:"body"`
	Pending    bool   `json:"pending"`
}

const threadJS = `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]')).map(li => {
	const body = li.querySelector('[data-testid="message-body"]');
	return {
		seq: li.dataset.seq || "",
		direction: li.dataset.direction || "",
		authorType: li.dataset.authorType || "",
		body: body ? body.textContent.trim() : "",
		pending: li.classList.contains("pending"),
	};
})`

// thread reads the messages the page shows, in page order.
func (p *tab) thread() []threadItem {
	p.t.Helper()
	return runAction(p, "read the thread", chromedp.Evaluate[[]threadItem](threadJS))
}

// countBodyJS is an expression: how many messages of the thread have body.
func countBodyJS(body string) string {
	return `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"] [data-testid="message-body"]'))
		.filter(el => el.textContent.trim() === ` + jsString(body) + `).length`
}

// messageIsShownJS is a predicate: exactly one message has body, it is
// acknowledged (not pending, with a seq) and optionally in a direction.
func messageIsShownJS(body, direction string) string {
	return `(() => {
		const items = Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]'))
			.filter(li => { const b = li.querySelector('[data-testid="message-body"]'); return b && b.textContent.trim() === ` + jsString(body) + `; });
		return items.length === 1 && items[0].getClientRects().length > 0 &&
			!items[0].classList.contains("pending") && !!items[0].dataset.seq &&
			(` + jsString(direction) + ` === "" || items[0].dataset.direction === ` + jsString(direction) + `);
	})()`
}

// checkThreadOrder checks that every message has a seq, that seqs strictly
// increase down the page, and that no body appears twice.
func checkThreadOrder(t testing.TB, items []threadItem) {
	t.Helper()
	var last int64
	seen := map[string]bool{}
	for i, m := range items {
		seq, err := strconv.ParseInt(m.Seq, 10, 64)
		if err != nil || seq <= last {
			t.Fatalf("message %d (%q) has seq %q after seq %d: want strictly increasing seqs\nthread: %+v", i, m.Body, m.Seq, last, items)
		}
		last = seq
		if seen[m.Body] {
			t.Fatalf("message %q is shown twice\nthread: %+v", m.Body, items)
		}
		seen[m.Body] = true
	}
}

// ---- tests -------------------------------------------------------------------

// TestBrowserHandoff walks the whole hand-off: a rejected form with its
// errors, a corrected one that lands in a live chat, a reply from the
// customer, an answer from an agent, a reload and the conversation list.
func TestBrowserHandoff(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)

	// An empty form: 422, an error beside every required field.
	p.open(srv, "/forms/contact", http.StatusOK)
	p.do("show the form", chromedp.WaitVisible(tid("handoff-form")))
	res := p.submitForm()
	if res.Status != http.StatusUnprocessableEntity {
		p.fatalf("empty form: status %d, want 422", res.Status)
	}
	if got := p.path(); got != "/forms/contact" {
		p.fatalf("empty form: on %s, want /forms/contact", got)
	}
	if got, want := p.visibleErrors(), []string{"email", "message", "name", "topic"}; !slices.Equal(got, want) {
		p.fatalf("empty form: errors shown for %v, want %v", got, want)
	}

	// A bad email: only that error, every value kept.
	const message = "My parcel A-10042 never arrived."
	entered := contactForm{Name: "Dana Smith", Email: "dana-at-example", Topic: "order", OrderNumber: "A-10042", Message: message}
	p.fill(entered)
	res = p.submitForm()
	if res.Status != http.StatusUnprocessableEntity {
		p.fatalf("bad email: status %d, want 422", res.Status)
	}
	if got, want := p.visibleErrors(), []string{"email"}; !slices.Equal(got, want) {
		p.fatalf("bad email: errors shown for %v, want %v", got, want)
	}
	wantValues := map[string]string{"name": entered.Name, "email": entered.Email, "topic": entered.Topic, "orderNumber": entered.OrderNumber, "message": entered.Message}
	if got := p.fieldValues(); !maps.Equal(got, wantValues) {
		p.fatalf("bad email: values after 422 = %v, want %v", got, wantValues)
	}

	// The corrected form lands in the chat, which goes live.
	p.do("correct the email", chromedp.Clear(tid("field-email")), chromedp.SendKeys(tid("field-email"), "dana@example.com"))
	res = p.submitForm()
	if res.Status != http.StatusOK {
		p.fatalf("valid form: landed with status %d, want 200", res.Status)
	}
	m := conversationPath.FindStringSubmatch(p.path())
	if m == nil {
		p.fatalf("valid form: landed on %s, want /conversations/{24 hex}", p.path())
	}
	id := m[1]
	p.waitLive()
	p.waitFor("the first message is shown", messageIsShownJS(message, "in"))
	if got := p.thread(); len(got) == 0 || got[0].Body != message || got[0].AuthorType != "customer" {
		p.fatalf("first message = %+v, want the form's message from the customer", got)
	}
	// A marker that a reload would lose.
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))

	// The customer sends a reply: shown once, then acknowledged.
	const reply = "The order number is A-10042, ordered on Monday."
	p.do("send a reply", chromedp.SendKeys(tid("composer-body"), reply), chromedp.Click(tid("send")))
	p.waitFor("the reply is acknowledged", messageIsShownJS(reply, "in"))
	if got := runAction(p, "read the composer", chromedp.Value(tid("composer-body"))); got != "" {
		p.fatalf("composer after send = %q, want it cleared", got)
	}

	// An agent answers through the organization API: shown live.
	const answer = "Sorry about that, Dana. A replacement ships today."
	agentMsg := srv.postAgentMessage(t, id, answer)
	p.waitFor("the agent's answer is shown", messageIsShownJS(answer, "out"))
	if !runAction(p, "check the page was not reloaded", chromedp.Evaluate[bool](`window.__noReload === true`)) {
		p.fatalf("the page reloaded to show the agent's answer")
	}
	before := p.thread()
	checkThreadOrder(t, before)
	if n := runAction(p, "count the reply", chromedp.Evaluate[int](countBodyJS(reply))); n != 1 {
		p.fatalf("the customer's reply is shown %d times, want once", n)
	}
	lastItem := before[len(before)-1]
	if lastItem.Body != answer || lastItem.Seq != strconv.FormatInt(agentMsg.Seq, 10) || lastItem.AuthorType != "agent" {
		p.fatalf("last message = %+v, want the agent's answer with seq %d", lastItem, agentMsg.Seq)
	}

	// A reload shows the same messages in the same order.
	p.navigate("reload the chat", chromedp.Reload())
	p.waitLive()
	if after := p.thread(); !slices.Equal(after, before) {
		p.fatalf("after reload the thread is\n%+v\nwant\n%+v", after, before)
	}

	// The list shows the conversation with the last message as preview, and
	// links back to the chat.
	p.open(srv, "/conversations", http.StatusOK)
	row := `[data-testid="conversation-row"][data-conversation-id="` + id + `"]`
	p.do("show the conversation in the list", chromedp.WaitVisible(chromedp.CSS(row)))
	preview := runAction(p, "read the preview", chromedp.Text(chromedp.CSS(row+` [data-testid="conversation-preview"]`)))
	if !strings.Contains(preview, answer) {
		p.fatalf("preview = %q, want the last message %q", preview, answer)
	}
	res = p.navigate("open the conversation from the list", chromedp.Click(chromedp.CSS(row+` [data-testid="conversation-link"]`)))
	if res.Status != http.StatusOK || p.path() != "/conversations/"+id {
		p.fatalf("the list's link led to %s with status %d, want /conversations/%s", p.path(), res.Status, id)
	}
	p.waitLive()
	if after := p.thread(); !slices.Equal(after, before) {
		p.fatalf("reopened from the list the thread is\n%+v\nwant\n%+v", after, before)
	}

	// The agent ends the conversation: the banner replaces the composer
	// live, and stays after a reload.
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	srv.orgPost(t, "/api/v1/org/conversations/"+id+"/end", struct{}{}, nil)
	p.do("show the ended banner", chromedp.WaitVisible(tid("ended-banner")), chromedp.WaitNotVisible(tid("composer")))
	if !runAction(p, "check the page was not reloaded", chromedp.Evaluate[bool](`window.__noReload === true`)) {
		p.fatalf("the page reloaded to show the end")
	}
	p.navigate("reload the ended chat", chromedp.Reload())
	p.do("show the ended banner after reload", chromedp.WaitVisible(tid("ended-banner")), chromedp.WaitNotVisible(tid("composer")))
	p.open(srv, "/conversations", http.StatusOK)
	p.do("show the conversation as ended", chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="badge-ended"]`)))
}

// TestBrowserResume cuts the network under an open chat, lets an agent
// answer twice meanwhile, and checks that the answers arrive once each, in
// order, when the chat reconnects.
//
// The browser reaches the server through a TCP proxy that the test can cut:
// DevTools' offline emulation does not close a websocket that is already
// open, so it cannot drop one.
func TestBrowserResume(t *testing.T) {
	proxy := newDropProxy(t)
	srv := startServer(t, "--base-url", proxy.URL)
	proxy.forwardTo(srv.URL)
	p := newBrowser(t)
	const first = "The app crashes on start."
	id := p.startConversation(proxyServer(srv, proxy), contactForm{Name: "Ola", Email: "ola@example.com", Topic: "technical", Message: first})
	p.waitLive()
	const early = "Which version of the app do you use?"
	srv.postAgentMessage(t, id, early)
	p.waitFor("the first answer is shown", messageIsShownJS(early, "out"))
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))

	// The network goes: the socket drops and cannot come back.
	proxy.cut()
	p.waitFor("the chat notices the drop",
		`document.querySelector('[data-testid="connection-status"]').dataset.state !== "live"`)
	answers := []string{"Please try version 2.4.1.", "It fixes the crash on start."}
	for _, a := range answers {
		srv.postAgentMessage(t, id, a)
	}
	for _, a := range answers {
		if n := runAction(p, "count an answer", chromedp.Evaluate[int](countBodyJS(a))); n != 0 {
			p.fatalf("answer %q is shown while the network is down", a)
		}
	}

	// The network comes back: the chat resumes after the last seq it has.
	proxy.restore()
	p.waitLive()
	for _, a := range answers {
		p.waitFor("answer "+strconv.Quote(a)+" is shown", messageIsShownJS(a, "out"))
	}
	if !runAction(p, "check the page was not reloaded", chromedp.Evaluate[bool](`window.__noReload === true`)) {
		p.fatalf("the page reloaded to catch up")
	}
	items := p.thread()
	checkThreadOrder(t, items)
	var bodies []string
	for _, it := range items {
		bodies = append(bodies, it.Body)
	}
	if want := []string{first, early, answers[0], answers[1]}; !slices.Equal(bodies, want) {
		p.fatalf("after resuming the thread is %q, want %q", bodies, want)
	}
}

// proxyServer is srv as the browser reaches it, through the proxy.
func proxyServer(srv *testServer, proxy *dropProxy) *testServer {
	return &testServer{URL: proxy.URL, logs: srv.logs}
}

// dropProxy forwards TCP connections on loopback to the server. cut closes
// every connection at once, as a lost network does, and refuses new ones
// until restore.
type dropProxy struct {
	URL string
	ln  net.Listener
	wg  sync.WaitGroup

	mu     sync.Mutex
	target string
	down   bool
	conns  map[net.Conn]struct{}
}

func newDropProxy(t testing.TB) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{URL: "http://" + ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// forwardTo sets the server, given by its URL.
func (p *dropProxy) forwardTo(serverURL string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = strings.TrimPrefix(serverURL, "http://")
}

func (p *dropProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, target := p.down, p.target
		p.mu.Unlock()
		if down || target == "" {
			c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", target, stepTimeout)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, s) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// track registers a connection pair, or closes it when the network went
// down meanwhile.
func (p *dropProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *dropProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	// Either side ending ends both.
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
	dst.Close()
	src.Close()
}

// cut drops every connection and refuses new ones.
func (p *dropProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore accepts connections again.
func (p *dropProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestBrowserIsolation checks that one customer cannot see another's
// conversation, with no session and with a session of their own.
func TestBrowserIsolation(t *testing.T) {
	srv := startServer(t)
	alice := newBrowser(t)
	aliceID := alice.startConversation(srv, contactForm{Name: "Alice", Email: "alice@example.com", Topic: "billing", Message: "Why was I charged twice?"})

	bob := alice.isolatedTab()
	bob.open(srv, "/conversations/"+aliceID, http.StatusForbidden)
	if got := runAction(bob, "read the error status", chromedp.Text(tid("error-status"))); strings.TrimSpace(got) != "403" {
		bob.fatalf("error page shows status %q, want 403", got)
	}
	if n := runAction(bob, "count Alice's messages", chromedp.Evaluate[int](countBodyJS("Why was I charged twice?"))); n != 0 {
		bob.fatalf("another session sees Alice's message")
	}
	bob.open(srv, "/conversations", http.StatusOK)
	bob.do("show the empty list", chromedp.WaitVisible(tid("empty-state")))
	if n := runAction(bob, "count rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="conversation-row"]').length`)); n != 0 {
		bob.fatalf("another session's list has %d conversations, want none", n)
	}

	// With a conversation of his own, Bob still sees only his.
	bobID := bob.startConversation(srv, contactForm{Name: "Bob", Email: "bob@example.com", Topic: "other", Message: "Hello from Bob."})
	bob.open(srv, "/conversations/"+aliceID, http.StatusForbidden)
	bob.open(srv, "/conversations", http.StatusOK)
	if got := runAction(bob, "list conversation ids", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="conversation-row"]')).map(r => r.dataset.conversationId)`)); !slices.Equal(got, []string{bobID}) {
		bob.fatalf("Bob's list = %v, want only %s", got, bobID)
	}
	alice.open(srv, "/conversations/"+bobID, http.StatusForbidden)
	alice.open(srv, "/conversations", http.StatusOK)
	if got := runAction(alice, "list conversation ids", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="conversation-row"]')).map(r => r.dataset.conversationId)`)); !slices.Equal(got, []string{aliceID}) {
		alice.fatalf("Alice's list = %v, want only %s", got, aliceID)
	}
}

// TestBrowserNoJavaScript completes the hand-off and sends a message with
// JavaScript disabled: the plain forms post and redirect.
func TestBrowserNoJavaScript(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)
	if _, err := chromedp.Run(p.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}

	const first = "I need an invoice for order A-7."
	id := p.startConversation(srv, contactForm{Name: "Noor", Email: "noor@example.com", Topic: "billing", OrderNumber: "A-7", Message: first})
	// chat.js did not run: the status is still the server's.
	if got := runAction(p, "read the connection status", chromedp.AttributeValue(tid("connection-status"), "data-state")); got.Value != "offline" {
		p.fatalf("connection status %q with JavaScript disabled, want offline (chat.js must not have run)", got.Value)
	}
	if n := runAction(p, "count the first message", chromedp.Evaluate[int](countBodyJS(first))); n != 1 {
		p.fatalf("the form's message is shown %d times, want once", n)
	}

	var mu sync.Mutex
	var redirects []int64
	lctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	if err := chromedp.Listen(lctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok && ev.RedirectResponse != nil &&
			strings.HasSuffix(ev.RedirectResponse.URL, "/conversations/"+id+"/messages") {
			mu.Lock()
			redirects = append(redirects, ev.RedirectResponse.Status)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}

	const reply = "Company name: Example GmbH."
	p.do("type a message", chromedp.SendKeys(tid("composer-body"), reply))
	res := p.navigate("send with the plain form", chromedp.Click(tid("send")))
	if res.Status != http.StatusOK || p.path() != "/conversations/"+id {
		p.fatalf("after sending: on %s with status %d, want /conversations/%s", p.path(), res.Status, id)
	}
	mu.Lock()
	got := slices.Clone(redirects)
	mu.Unlock()
	if !slices.Equal(got, []int64{http.StatusSeeOther}) {
		p.fatalf("POST /conversations/%s/messages redirected with %v, want one 303", id, got)
	}
	items := p.thread()
	checkThreadOrder(t, items)
	if len(items) != 2 || items[0].Body != first || items[1].Body != reply || items[1].Direction != "in" {
		p.fatalf("thread after the plain send = %+v, want the form's message then %q", items, reply)
	}
	// The redirect points at the new message.
	if hash := runAction(p, "read the fragment", chromedp.Evaluate[string](`location.hash`)); hash != "" {
		if !runAction(p, "find the fragment's target", chromedp.Evaluate[bool](`document.getElementById(location.hash.slice(1)) !== null`)) {
			p.fatalf("redirected to fragment %s, but no element has that id", hash)
		}
	}
}

// TestBrowserScreenshots renders each customer page at 1100×800 and, with
// HANDOFF_SCREENSHOTS=1, saves them to docs/screenshots for the README.
func TestBrowserScreenshots(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)
	p.do("set the viewport", chromedp.EmulateViewport(1100, 800))

	// A first conversation, answered and ended, for the list.
	first := p.startConversation(srv, contactForm{Name: "Dana Smith", Email: "dana@example.com", Topic: "billing", Message: "Can I get my invoices as PDF?"})
	srv.postAgentMessage(t, first, "Yes: every invoice has a PDF link under Billing → Invoices.")
	srv.orgPost(t, "/api/v1/org/conversations/"+first+"/end", struct{}{}, nil)

	p.open(srv, "/forms/contact", http.StatusOK)
	p.do("show the form", chromedp.WaitVisible(tid("handoff-form")))
	p.screenshot("form.png")

	p.fill(contactForm{Name: "Dana Smith", Email: "dana@example", Topic: "order"})
	if res := p.submitForm(); res.Status != http.StatusUnprocessableEntity {
		p.fatalf("invalid form: status %d, want 422", res.Status)
	}
	p.do("show the errors", chromedp.WaitVisible(tid("error-email")), chromedp.WaitVisible(tid("error-message")))
	p.screenshot("form-errors.png")

	p.do("fix the form", chromedp.Clear(tid("field-email")), chromedp.SendKeys(tid("field-email"), "dana@example.com"),
		chromedp.SendKeys(tid("field-orderNumber"), "A-10042"),
		chromedp.SendKeys(tid("field-message"), "My parcel A-10042 was due on Monday and has not arrived."))
	if res := p.submitForm(); res.Status != http.StatusOK {
		p.fatalf("valid form: status %d, want 200", res.Status)
	}
	m := conversationPath.FindStringSubmatch(p.path())
	if m == nil {
		p.fatalf("valid form: landed on %s", p.path())
	}
	second := m[1]
	p.waitLive()
	const answer = "Sorry, Dana! The carrier lost it; a replacement ships today by express."
	srv.postAgentMessage(t, second, answer)
	p.waitFor("the agent's answer is shown", messageIsShownJS(answer, "out"))
	p.screenshot("chat.png")

	p.open(srv, "/conversations", http.StatusOK)
	p.do("show the list", chromedp.WaitVisible(tid("conversation-row")))
	ids := runAction(p, "list conversation ids", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="conversation-row"]')).map(r => r.dataset.conversationId)`))
	if !slices.Equal(ids, []string{second, first}) {
		p.fatalf("list = %v, want newest activity first: [%s %s]", ids, second, first)
	}
	p.do("show the first conversation as ended",
		chromedp.WaitVisible(chromedp.CSS(`[data-conversation-id="`+first+`"] [data-testid="badge-ended"]`)))
	p.screenshot("conversations.png")
}

// screenshot takes a picture of the whole page and, with
// HANDOFF_SCREENSHOTS=1, saves it as docs/screenshots/name.
func (p *tab) screenshot(name string) {
	p.t.Helper()
	// Let the fonts finish loading so the picture is the final one.
	p.waitFor("fonts are loaded", `document.fonts.status === "loaded"`)
	png := runAction(p, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(png) == 0 {
		p.t.Fatalf("screenshot %s is empty", name)
	}
	if os.Getenv("HANDOFF_SCREENSHOTS") != "1" {
		return
	}
	if err := os.MkdirAll(filepath.Join("docs", "screenshots"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("docs", "screenshots", name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
