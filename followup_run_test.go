package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/kustomer/mail"
	"github.com/handoff/handoff/kustomer/mail/mailtest"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

const (
	followUpToken = "followup-api-token-0123"
	smtpPassword  = "smtp-sekret-pw"
)

// mailEnv is what TestRunFollowUp* start run() with: a real SMTP server
// that requires a password, a short follow-up delay and quick retries.
func mailEnv(smtp *mailtest.Server, delay string) map[string]string {
	return map[string]string{
		"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_API_TOKEN": followUpToken,
		"HANDOFF_SMTP_URL": smtp.URL(), "HANDOFF_MAIL_FROM": "Support <support@example.com>",
		"HANDOFF_FOLLOWUP_DELAY": delay, "HANDOFF_MAIL_RETRY_MIN": "50ms",
	}
}

// customer is a browser that handed off the contact form.
type customer struct {
	hc    *http.Client
	jar   http.CookieJar
	base  string
	id    string
	email string
}

func handOff(t *testing.T, base, email string) *customer {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &customer{hc: &http.Client{Jar: jar, Timeout: 5 * time.Second}, jar: jar, base: base, email: email}
	res, err := c.hc.PostForm(base+"/forms/contact", url.Values{
		"name": {"Dana"}, "email": {email}, "topic": {"billing"}, "message": {"Where is my parcel?"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	id, ok := strings.CutPrefix(res.Request.URL.Path, "/conversations/")
	if res.StatusCode != http.StatusOK || !ok {
		t.Fatalf("hand-off ended at %d %s", res.StatusCode, res.Request.URL)
	}
	c.id = id
	return c
}

// openChat opens the customer's chat socket, as chat.js does, and says
// hello from afterSeq; the socket closes when the test ends.
func (c *customer) openChat(t *testing.T, afterSeq int64) *websocket.Conn {
	t.Helper()
	u, _ := url.Parse(c.base + "/conversations/" + c.id + "/ws")
	h := http.Header{"Origin": {c.base}}
	for _, ck := range c.jar.Cookies(u) {
		h.Add("Cookie", ck.String())
	}
	u.Scheme = "ws"
	conn, _, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.WriteJSON(map[string]any{"type": "hello", "afterSeq": afterSeq}); err != nil {
		t.Fatal(err)
	}
	return conn
}

// reply sends an agent's reply through the organization API.
func reply(t *testing.T, base, convID, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/org/conversations/"+convID+"/messages",
		strings.NewReader(fmt.Sprintf(`{"body":%q,"authorName":"Grace"}`, body)))
	req.Header.Set("Authorization", "Bearer "+followUpToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %s", res.StatusCode, b)
	}
}

// to returns the messages sent to addr.
func to(got []mailtest.Received, addr string) []mailtest.Received {
	var out []mailtest.Received
	for _, r := range got {
		if len(r.To) == 1 && r.To[0] == addr {
			out = append(out, r)
		}
	}
	return out
}

// decoded is the message with its quoted-printable soft breaks undone, so
// that text can be searched.
func decoded(r mailtest.Received) string {
	s := strings.ReplaceAll(string(r.Data), "=\n", "")
	return strings.ReplaceAll(s, "=3D", "=")
}

// TestRunFollowUp runs the server with a real SMTP server: two replies the
// customer does not see arrive as one email after the delay, with the
// agent's name and a link; a customer who reads the reply live on the
// socket gets no email; a refusal by the SMTP server is retried; nothing
// is sent twice, and no password, address or body reaches the log.
func TestRunFollowUp(t *testing.T) {
	smtp := mailtest.Start(t, "mailer", smtpPassword)
	srv := startRun(t, t.TempDir(), mailEnv(smtp, "300ms"))

	away := handOff(t, srv.base, "away@example.com")
	reply(t, srv.base, away.id, "Your parcel left the depot.")
	reply(t, srv.base, away.id, "It arrives tomorrow.")

	// The second customer keeps the chat open and reads the reply live, as
	// chat.js does: a read frame for the reply's seq.
	live := handOff(t, srv.base, "live@example.com")
	conn := live.openChat(t, 1)
	reply(t, srv.base, live.id, "I see you are here.")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var f struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f.Type == "message" && f.Seq >= 2 {
			if err := conn.WriteJSON(map[string]any{"type": "read", "seq": f.Seq}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}

	got := smtp.Wait(t, 1, 10*time.Second)
	mails := to(got, "away@example.com")
	if len(mails) != 1 {
		t.Fatalf("emails to the away customer: %d of %d", len(mails), len(got))
	}
	body := decoded(mails[0])
	for _, want := range []string{"Your parcel left the depot.", "It arrives tomorrow.", "Grace", "/conversations/" + away.id + "/continue?token=",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Content-Type: multipart/alternative"} {
		if !strings.Contains(body, want) {
			t.Errorf("the email lacks %q:\n%s", want, body)
		}
	}

	// The SMTP server refuses the next email once: it comes on the retry.
	// Its row was due after the live customer's, so by the time it arrives
	// that one was settled, and sent nothing.
	smtp.RefuseNext(451)
	sentinel := handOff(t, srv.base, "later@example.com")
	reply(t, srv.base, sentinel.id, "One more thing.")
	got = smtp.Wait(t, 2, 10*time.Second)
	if n := len(to(got, "later@example.com")); n != 1 {
		t.Errorf("emails after a refusal: %d, want 1", n)
	}
	if n := len(to(got, "live@example.com")); n != 0 {
		t.Errorf("the customer who read the reply live got %d emails", n)
	}
	if n := len(to(got, "away@example.com")); n != 1 {
		t.Errorf("the away customer got %d emails, want 1", n)
	}
	waitMetrics(t, srv.base,
		`handoff_emails_total{kind="email.followup",outcome="sent"} 2`,
		`handoff_emails_total{kind="email.followup",outcome="skipped"} 1`,
		`handoff_emails_total{kind="email.followup",outcome="retried"} 1`)
	srv.cancel()
	if err := srv.wait(); err != nil {
		t.Fatal(err)
	}
	logs := srv.logs.String()
	for _, secret := range []string{smtpPassword, "away@example.com", "later@example.com", "It arrives tomorrow"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

// TestRunFollowUpSurvivesRestart stops the server between the reply and the
// follow-up's due time: the restarted server sends it, once.
func TestRunFollowUpSurvivesRestart(t *testing.T) {
	smtp := mailtest.Start(t, "", "")
	dataDir := t.TempDir()
	env := mailEnv(smtp, "1s")
	srv := startRun(t, dataDir, env)
	c := handOff(t, srv.base, "dana@example.com")
	reply(t, srv.base, c.id, "Sorry for the wait.")
	waitMetrics(t, srv.base, `handoff_outbox_rows{kind="email.followup",state="pending"} 1`)
	srv.cancel()
	if err := srv.wait(); err != nil {
		t.Fatal(err)
	}
	if n := len(smtp.Received()); n != 0 {
		t.Fatalf("%d emails before the restart", n)
	}
	srv = startRun(t, dataDir, env)
	got := smtp.Wait(t, 1, 10*time.Second)
	if len(got) != 1 || !bytes.Contains(got[0].Data, []byte("Sorry for the wait.")) {
		t.Fatalf("after the restart: %d emails", len(got))
	}
	// A second reply, read by nobody: one more email, not a resend of the
	// first (a new Message-ID).
	reply(t, srv.base, c.id, "Are you there?")
	got = smtp.Wait(t, 2, 10*time.Second)
	if id0, id1 := got[0].Header().Get("Message-Id"), got[1].Header().Get("Message-Id"); id0 == id1 || id0 == "" {
		t.Errorf("Message-IDs %q and %q", id0, id1)
	}
}

// waitMetrics waits until /metrics shows every line of want (outcomes are
// counted just after the SMTP server has the email), or fails after 5 s.
func waitMetrics(t *testing.T, base string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		metrics, missing := scrape(t, base+"/metrics"), ""
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s", missing)
		}
		time.Sleep(20 * time.Millisecond) // polling /metrics, which has no event to wait on
	}
}

// TestRunFollowUpWithoutSMTP runs the server as `make run` does, with no
// SMTP server: the follow-up is written as an .eml file in the data
// directory.
func TestRunFollowUpWithoutSMTP(t *testing.T) {
	dataDir := t.TempDir()
	srv := startRun(t, dataDir, map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_API_TOKEN": followUpToken, "HANDOFF_FOLLOWUP_DELAY": "200ms"})
	c := handOff(t, srv.base, "dana@example.com")
	reply(t, srv.base, c.id, "Written, not sent.")
	dir := mail.Dir{Path: filepath.Join(dataDir, "mail")}
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 1 {
			f, err := dir.Open(files[0].Name)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(f)
			f.Close()
			if !strings.Contains(string(b), "Written, not sent.") || !strings.Contains(string(b), "To: <dana@example.com>") {
				t.Errorf("the .eml file:\n%s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d .eml files after 10 s, want 1", len(files))
		}
		time.Sleep(20 * time.Millisecond) // polling a directory, which has no event to wait on
	}
	waitMetrics(t, srv.base, `handoff_emails_total{kind="email.followup",outcome="sent"} 1`)
}

// TestRunTranscript: after the end, the customer's "Email me a transcript"
// sends the whole conversation over SMTP.
func TestRunTranscript(t *testing.T) {
	smtp := mailtest.Start(t, "", "")
	srv := startRun(t, t.TempDir(), mailEnv(smtp, "off"))
	c := handOff(t, srv.base, "dana@example.com")
	reply(t, srv.base, c.id, "It is on its way.")
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/org/conversations/"+c.id+"/end", nil)
	req.Header.Set("Authorization", "Bearer "+followUpToken)
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = c.hc.PostForm(srv.base+"/conversations/"+c.id+"/transcript", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("transcript request: %d", res.StatusCode)
	}
	got := smtp.Wait(t, 1, 10*time.Second)
	body := decoded(got[0])
	for _, want := range []string{"Subject: Transcript of your conversation: Contact support", "Where is my parcel?", "It is on its way.", "The conversation has ended."} {
		if !strings.Contains(body, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, body)
		}
	}
	waitMetrics(t, srv.base, `handoff_emails_total{kind="email.transcript",outcome="sent"} 1`)
}

// TestRunFollowUpPostgres: with the PostgreSQL store, the follow-up is
// claimed (SKIP LOCKED) and sent once, across a restart.
func TestRunFollowUpPostgres(t *testing.T) {
	smtp := mailtest.Start(t, "", "")
	env := mailEnv(smtp, "1s")
	env["HANDOFF_DATABASE_URL"] = sqlstoretest.PostgresURL(t)
	env["HANDOFF_SESSION_KEYS"] = testSessionKeys
	dataDir := t.TempDir()
	srv := startRun(t, dataDir, env)
	c := handOff(t, srv.base, "dana@example.com")
	reply(t, srv.base, c.id, "From PostgreSQL.")
	srv.cancel()
	if err := srv.wait(); err != nil {
		t.Fatal(err)
	}
	srv = startRun(t, dataDir, env)
	got := smtp.Wait(t, 1, 10*time.Second)
	if len(got) != 1 || !strings.Contains(decoded(got[0]), "From PostgreSQL.") {
		t.Fatalf("emails: %d", len(got))
	}
	waitMetrics(t, srv.base, `handoff_emails_total{kind="email.followup",outcome="sent"} 1`)
}
