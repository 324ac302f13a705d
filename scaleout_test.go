package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/kustomer/kustomertest"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

const (
	siteOrigin    = "http://chat.test"
	scaleAdmin    = "admin@example.com"
	scalePassword = "correct horse battery"
	scaleToken    = "scale-out-api-token-0123456789"
)

// sharedEnv is what every instance of one site shares: the database, the
// session keys, the API token and the first admin.
func sharedEnv(dbURL string) map[string]string {
	auth, enc := make([]byte, 64), make([]byte, 32)
	rand.Read(auth)
	rand.Read(enc)
	return map[string]string{
		"HANDOFF_DATABASE_URL":   dbURL,
		"HANDOFF_SESSION_KEYS":   hex.EncodeToString(auth) + ":" + hex.EncodeToString(enc),
		"HANDOFF_API_TOKEN":      scaleToken,
		"HANDOFF_ADMIN_EMAIL":    scaleAdmin,
		"HANDOFF_ADMIN_PASSWORD": scalePassword,
		"HANDOFF_ADMIN_NAME":     "Ada Admin",
		"HANDOFF_HANDOFF_RATE":   "off",
		// One site: pages come from its origin whichever instance
		// serves them.
		"HANDOFF_BASE_URL": siteOrigin,
	}
}

// browser is a client with its own cookies, redirects not followed.
type browser struct {
	t *testing.T
	*http.Client
}

func newBrowserClient(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, Client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) post(u string, v url.Values) *http.Response {
	b.t.Helper()
	res, err := b.PostForm(u, v)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// dial opens a websocket at base+path with b's cookies for base, as a page
// of site (its Origin) would.
func (b *browser) dial(base, path, site string) *websocket.Conn {
	b.t.Helper()
	u, _ := url.Parse(base + path)
	h := http.Header{"Origin": {site}}
	for _, c := range b.Jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	u.Scheme = "ws"
	conn, res, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		b.t.Fatalf("dial %s: %v (%d)", u, err, status)
	}
	b.t.Cleanup(func() { conn.Close() })
	return conn
}

type wsFrame struct {
	Type            string          `json:"type"`
	Seq             int64           `json:"seq"`
	ClientMessageID string          `json:"clientMessageId"`
	Typing          bool            `json:"typing"`
	Message         json.RawMessage `json:"message"`
}

// await reads frames until one satisfies ok.
func await(t *testing.T, conn *websocket.Conn, what string, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f wsFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(f) {
			return f
		}
	}
}

func messageWith(body string) func(wsFrame) bool {
	return func(f wsFrame) bool {
		var m struct{ Body string }
		return f.Type == "message" && json.Unmarshal(f.Message, &m) == nil && m.Body == body
	}
}

// TestScaleOutConverse: two instances on one PostgreSQL database; the
// customer is on A and the agent on B, and they talk live both ways,
// typing included.
func TestScaleOutConverse(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	a := startRun(t, t.TempDir(), env)
	b := startRun(t, t.TempDir(), env)
	// One site: both instances answer for the same origin, as behind a
	// balancer; the test reaches each directly with the site's Origin.
	site := siteOrigin

	customer := newBrowserClient(t)
	res := customer.post(a.base+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"billing"}, "message": {"Hello from A"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("hand-off on A: %d", res.StatusCode)
	}
	chat := res.Header.Get("Location")
	id := strings.TrimPrefix(chat, "/conversations/")

	agent := newBrowserClient(t)
	if res := agent.post(b.base+"/agent/sign-in", url.Values{"email": {scaleAdmin}, "password": {scalePassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in on B: %d", res.StatusCode)
	}

	cws := customer.dial(a.base, chat+"/ws", site)
	if err := cws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	await(t, cws, "the form's message on A", messageWith("Hello from A"))
	aws := agent.dial(b.base, "/agent/conversations/"+id+"/ws", site)
	if err := aws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	await(t, aws, "the form's message on B", messageWith("Hello from A"))

	// Agent (B) → customer (A), typing first.
	if err := aws.WriteJSON(map[string]any{"type": "typing", "typing": true}); err != nil {
		t.Fatal(err)
	}
	await(t, cws, "the agent's typing on A", func(f wsFrame) bool { return f.Type == "typing" && f.Typing })
	if err := aws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "agent-1", "body": "Hi Kim, Ada here"}); err != nil {
		t.Fatal(err)
	}
	await(t, cws, "the agent's reply on A", messageWith("Hi Kim, Ada here"))

	// Customer (A) → agent (B).
	if err := cws.WriteJSON(map[string]any{"type": "typing", "typing": true}); err != nil {
		t.Fatal(err)
	}
	await(t, aws, "the customer's typing on B", func(f wsFrame) bool { return f.Type == "typing" && f.Typing })
	if err := cws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "cust-1", "body": "Thanks!"}); err != nil {
		t.Fatal(err)
	}
	await(t, aws, "the customer's message on B", messageWith("Thanks!"))

	// A private note from B never reaches the customer on A: the marker
	// sent after it arrives first.
	if err := aws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "note-1", "body": "VIP customer", "private": true}); err != nil {
		t.Fatal(err)
	}
	if err := aws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "agent-2", "body": "One moment"}); err != nil {
		t.Fatal(err)
	}
	f := await(t, cws, "the marker after the note", func(f wsFrame) bool {
		var m struct{ Direction string }
		return f.Type == "message" && json.Unmarshal(f.Message, &m) == nil && m.Direction == "out"
	})
	if !messageWith("One moment")(f) {
		t.Errorf("the customer on A got %s before the marker", f.Message)
	}
}

// orgSend posts a message through instance base's organization API and
// returns its seq (201: stored now; 200: the same clientMessageId was
// stored before).
func orgSend(t *testing.T, base, id, body string) (int64, error) {
	seq, _, err := orgSendStatus(base, id, body)
	return seq, err
}

func orgSendStatus(base, id, body string) (int64, int, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/org/conversations/"+id+"/messages",
		strings.NewReader(fmt.Sprintf(`{"body":%q,"authorName":"Dana","clientMessageId":%q}`, body, strings.ReplaceAll(body, " ", "-"))))
	req.Header.Set("Authorization", "Bearer "+scaleToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	var m struct{ Seq int64 }
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || (res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK) {
		return 0, res.StatusCode, fmt.Errorf("org send %q: %d %v", body, res.StatusCode, err)
	}
	return m.Seq, res.StatusCode, nil
}

// TestScaleOutGapFreeSeqs: 20 concurrent writers spread over two instances
// give every message of a conversation its own seq, with no gap.
func TestScaleOutGapFreeSeqs(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	insts := []*runningServer{startRun(t, t.TempDir(), env), startRun(t, t.TempDir(), env)}
	customer := newBrowserClient(t)
	res := customer.post(insts[0].base+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"billing"}, "message": {"Start"}})
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	const writers, each = 20, 15
	var mu sync.Mutex
	var seqs []int64
	first := map[string]int64{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				seq, err := orgSend(t, insts[w%2].base, id, fmt.Sprintf("w%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				first[fmt.Sprintf("w%d-%d", w, i)] = seq
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if len(seqs) != writers*each {
		t.Fatalf("%d messages stored, want %d", len(seqs), writers*each)
	}
	for i, s := range seqs {
		if s != int64(i+2) { // seq 1 is the form's message
			t.Fatalf("seqs are not gap-free and unique: position %d holds %d (want %d)", i, s, i+2)
		}
	}
	// A retry through the other instance (same clientMessageId) is the
	// message stored the first time.
	seq, status, err := orgSendStatus(insts[1].base, id, "w0-0")
	if err != nil || status != http.StatusOK || seq != first["w0-0"] {
		t.Errorf("retry of w0-0 on B: seq %d status %d (%v); want 200 and seq %d", seq, status, err, first["w0-0"])
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// serverBinary builds handoff once per test run, for tests that must kill
// a server process.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "handoff-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "handoff")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// startProcess runs the built server as its own process with env; it is
// killed when the test ends.
func startProcess(t *testing.T, env map[string]string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	cmd.Env = append(os.Environ(), "HANDOFF_CONFIG=handoff.yaml")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &logSink{listening: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	select {
	case addr := <-logs.listening:
		return cmd, "http://" + addr
	case <-time.After(20 * time.Second):
		t.Fatalf("the server process did not start:\n%s", logs)
	}
	return nil, ""
}

// chatMessage is a message frame's SDK fields the resume tests compare.
type chatMessage struct {
	MessageID       string `json:"messageId"`
	Body            string `json:"body"`
	Seq             int64  `json:"seq"`
	ClientMessageID string `json:"clientMessageId"`
}

// collect reads frames, recording message frames in seen (by seq, failing
// on a seq delivered twice), until done accepts one.
func collect(t *testing.T, conn *websocket.Conn, seen map[int64]chatMessage, what string, done func(wsFrame) bool) wsFrame {
	t.Helper()
	return await(t, conn, what, func(f wsFrame) bool {
		if f.Type == "message" {
			var m chatMessage
			if err := json.Unmarshal(f.Message, &m); err != nil {
				t.Fatal(err)
			}
			if prev, dup := seen[m.Seq]; dup {
				t.Fatalf("seq %d delivered twice (%q, then %q)", m.Seq, prev.Body, m.Body)
			}
			seen[m.Seq] = m
		}
		return done(f)
	})
}

// readUntil collects until the message with body want, unless it was
// collected already.
func readUntil(t *testing.T, conn *websocket.Conn, seen map[int64]chatMessage, want string) {
	t.Helper()
	for _, m := range seen {
		if m.Body == want {
			return
		}
	}
	collect(t, conn, seen, want, func(f wsFrame) bool {
		var m chatMessage
		return f.Type == "message" && json.Unmarshal(f.Message, &m) == nil && m.Body == want
	})
}

// TestScaleOutInstanceKilled: the customer's instance is SIGKILLed mid
// conversation; the customer's socket resumes on the other instance from
// its last seq with nothing lost and nothing doubled.
func TestScaleOutInstanceKilled(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	procA, aBase := startProcess(t, env)
	b := startRun(t, t.TempDir(), env)

	customer := newBrowserClient(t)
	res := customer.post(aBase+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"order"}, "message": {"My parcel is late"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("hand-off on A: %d", res.StatusCode)
	}
	chat := res.Header.Get("Location")
	id := strings.TrimPrefix(chat, "/conversations/")
	seen := map[int64]chatMessage{}
	cws := customer.dial(aBase, chat+"/ws", siteOrigin)
	if err := cws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, cws, seen, "My parcel is late")
	for i := range 3 {
		body := fmt.Sprintf("detail %d", i)
		if err := cws.WriteJSON(map[string]any{"type": "send", "clientMessageId": fmt.Sprintf("detail-%d", i), "body": body}); err != nil {
			t.Fatal(err)
		}
		collect(t, cws, seen, "the ack of "+body, func(f wsFrame) bool { return f.Type == "ack" && f.ClientMessageID == fmt.Sprintf("detail-%d", i) })
	}
	readUntil(t, cws, seen, "detail 2")
	// An agent answers through B while A is still up, then A dies.
	if _, err := orgSend(t, b.base, id, "Checking with the courier"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, cws, seen, "Checking with the courier")
	if err := procA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procA.Wait()
	// The agent goes on through B meanwhile.
	if _, err := orgSend(t, b.base, id, "It left the depot today"); err != nil {
		t.Fatal(err)
	}
	// The socket is gone; the client resumes on B from its last seq.
	cws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := cws.ReadMessage(); err != nil {
			break
		}
	}
	var last int64
	for s := range seen {
		last = max(last, s)
	}
	bws := customer.dial(b.base, chat+"/ws", siteOrigin)
	if err := bws.WriteJSON(map[string]any{"type": "hello", "afterSeq": last}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, bws, seen, "It left the depot today")
	// The customer's resend of an acknowledged message (its page did not
	// see the ack in time) is the same message, not a second one.
	if err := bws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "detail-2", "body": "detail 2"}); err != nil {
		t.Fatal(err)
	}
	ack := collect(t, bws, seen, "the ack of the resend", func(f wsFrame) bool { return f.Type == "ack" && f.ClientMessageID == "detail-2" })
	if err := bws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "after", "body": "Thank you"}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, bws, seen, "Thank you")

	var want []string
	for s := int64(1); s <= int64(len(seen)); s++ {
		m, ok := seen[s]
		if !ok {
			t.Fatalf("seq %d never delivered (seen %v)", s, seen)
		}
		want = append(want, m.Body)
	}
	if got := strings.Join(want, " | "); got != "My parcel is late | detail 0 | detail 1 | detail 2 | Checking with the courier | It left the depot today | Thank you" {
		t.Errorf("the customer's thread: %s", got)
	}
	if ack.Seq != 4 {
		t.Errorf("the resend of detail 2 was acknowledged as seq %d, want the stored 4", ack.Seq)
	}
}

// TestScaleOutPostgresRestart: PostgreSQL restarts mid-conversation (a
// throwaway cluster); both instances recover by themselves and the
// conversation goes on, nothing lost or doubled.
func TestScaleOutPostgresRestart(t *testing.T) {
	pg := kustomertest.StartPGCluster(t)
	env := sharedEnv(pg.URL())
	a := startRun(t, t.TempDir(), env)
	b := startRun(t, t.TempDir(), env)
	customer := newBrowserClient(t)
	res := customer.post(a.base+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"order"}, "message": {"Before the restart"}})
	chat := res.Header.Get("Location")
	id := strings.TrimPrefix(chat, "/conversations/")
	seen := map[int64]chatMessage{}
	cws := customer.dial(a.base, chat+"/ws", siteOrigin)
	if err := cws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, cws, seen, "Before the restart")

	pg.Restart()
	// Both instances are ready again by themselves.
	for _, inst := range []*runningServer{a, b} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			r, err := http.Get(inst.base + "/readyz")
			if err == nil {
				r.Body.Close()
				if r.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready 20 s after PostgreSQL restarted", inst.base)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// An agent's reply through B: the customer's socket on A gets it, on
	// the socket it has or, if the broker dropped it to resync, after
	// resuming from its last seq.
	var seq int64
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := orgSend(t, b.base, id, "After the restart")
		if err == nil {
			seq = s
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B could not store a message after PostgreSQL restarted: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := func() bool {
		cws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var f wsFrame
			if err := cws.ReadJSON(&f); err != nil {
				return false // closed: resume
			}
			if f.Type == "message" {
				var m chatMessage
				if err := json.Unmarshal(f.Message, &m); err != nil {
					t.Fatal(err)
				}
				seen[m.Seq] = m
				if m.Seq == seq {
					return true
				}
			}
		}
	}()
	if !got {
		var last int64
		for s := range seen {
			last = max(last, s)
		}
		cws = customer.dial(a.base, chat+"/ws", siteOrigin)
		if err := cws.WriteJSON(map[string]any{"type": "hello", "afterSeq": last}); err != nil {
			t.Fatal(err)
		}
		readUntil(t, cws, seen, "After the restart")
	}
	if len(seen) != 2 || seen[1].Body != "Before the restart" || seen[2].Body != "After the restart" {
		t.Errorf("the customer's thread after the restart: %v", seen)
	}
}

// TestScaleOutSignOutEverywhere: an agent's sockets on one instance close at
// once when the agent signs out everywhere through the other instance.
func TestScaleOutSignOutEverywhere(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	a := startRun(t, t.TempDir(), env)
	b := startRun(t, t.TempDir(), env)
	onB, onA := newBrowserClient(t), newBrowserClient(t)
	for _, s := range []struct {
		c    *browser
		base string
	}{{onB, b.base}, {onA, a.base}} {
		if res := s.c.post(s.base+"/agent/sign-in", url.Values{"email": {scaleAdmin}, "password": {scalePassword}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", res.StatusCode)
		}
	}
	inbox := onB.dial(b.base, "/agent/ws", siteOrigin)
	// The inbox socket is live: a hand-off on A is announced on B.
	customer := newBrowserClient(t)
	customer.post(a.base+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"order"}, "message": {"Hello"}})
	await(t, inbox, "the new conversation on B's inbox", func(f wsFrame) bool { return f.Type != "" && f.Type != "signed_out" })

	if res := onA.post(a.base+"/agent/profile/sign-out-everywhere", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere on A: %d", res.StatusCode)
	}
	inbox.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = inbox.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("B's inbox socket ended with %v, want a 1008 close at once", err)
	}
}
