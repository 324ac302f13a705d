package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoff/handoff/kustomer/cloud/cloudtest"
)

const (
	kustomerKey    = "kustomer-api-key-0123456789"
	kustomerSecret = "kustomer-webhook-secret-9876543210"
)

// kustomerEnv runs the server relaying to the fake Kustomer (every request
// it gets is checked against Kustomer's OpenAPI export), the key read from
// a file.
func kustomerEnv(t *testing.T, fake *cloudtest.Fake) map[string]string {
	keyFile := filepath.Join(t.TempDir(), "kustomer-key")
	if err := os.WriteFile(keyFile, []byte(kustomerKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": fake.URL, "KUSTOMER_API_KEY_FILE": keyFile,
		"KUSTOMER_WEBHOOK_SECRET": kustomerSecret, "KUSTOMER_AGENT_NAME": "Grace",
	}
}

// remoteConversation waits until the fake Kustomer has the conversation
// handoff knows as localID, with n messages, and returns it.
func remoteConversation(t *testing.T, fake *cloudtest.Fake, localID string, n int) (cloudtest.Conversation, []cloudtest.Message) {
	t.Helper()
	for end := time.Now().Add(stepTimeout); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, c := range fake.Conversations() {
			if c.ExternalID == localID {
				if msgs := fake.Messages(c.ID); len(msgs) >= n {
					return c, msgs
				}
			}
		}
	}
	t.Fatalf("Kustomer never got conversation %s with %d messages", localID, n)
	return cloudtest.Conversation{}, nil
}

// TestBrowserKustomer hands a form off in Kustomer mode in Chromium: the
// hand-off reaches the (fake) Kustomer organization, an agent's reply
// posted as Kustomer's signed webhook shows in the open chat live, and the
// customer's answer reaches Kustomer. /readyz tells the relay's state, and
// neither the key nor the secret reaches the log.
func TestBrowserKustomer(t *testing.T) {
	fake := cloudtest.Start(t, kustomerKey)
	srv := startServerEnv(t, kustomerEnv(t, fake))
	p := newBrowser(t)

	const question = "My parcel A-10042 never arrived."
	id := p.startConversation(srv, contactForm{Name: "Dana Smith", Email: "dana@example.com", Topic: "order", OrderNumber: "A-10042", Message: question})
	p.waitLive()
	p.waitFor("the customer's message is shown", messageIsShownJS(question, "in"))
	remote, msgs := remoteConversation(t, fake, id, 1)
	if msgs[0].Preview != question || msgs[0].Direction != "in" || msgs[0].Channel != "chat" {
		t.Fatalf("Kustomer's first message: %+v", msgs[0])
	}
	custs := fake.Customers()
	if len(custs) != 1 || custs[0].ID != remote.CustomerID || len(custs[0].Emails) != 1 || custs[0].Emails[0] != "dana@example.com" {
		t.Fatalf("Kustomer's customers: %+v", custs)
	}

	// An agent answers in Kustomer.
	const answer = "It left the depot this morning."
	delivery := fake.MessageCreated(remote.ID, answer, "out")
	res := fake.Send(t, srv.URL+"/webhooks/kustomer", kustomerSecret, delivery)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", res.StatusCode)
	}
	p.waitFor("the agent's reply is shown live", messageIsShownJS(answer, "out"))
	// Signed with another secret: refused. Delivered again: shown once.
	if res := fake.Send(t, srv.URL+"/webhooks/kustomer", "not-the-secret", delivery); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrongly signed webhook: %d, want 401", res.StatusCode)
	}
	if res := fake.Send(t, srv.URL+"/webhooks/kustomer", kustomerSecret, delivery); res.StatusCode != http.StatusOK {
		t.Fatalf("replayed webhook: %d, want 200", res.StatusCode)
	}

	// The customer answers while Kustomer does not: the reply is stored
	// and shown at once, saying it is being passed on, also after a
	// reload; once Kustomer is back it arrives there and the line goes.
	fake.SetDown(true)
	const reply = "Thank you, I will wait."
	p.do("send a reply", chromedp.SendKeys(tid("composer-body"), reply), chromedp.Click(tid("send")))
	p.waitFor("the reply is acknowledged", messageIsShownJS(reply, "in"))
	relayingJS := func(body string) string {
		return `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]')).some(li =>
			li.querySelector('[data-testid="message-body"]').textContent.trim() === ` + jsString(body) + ` &&
			!!li.querySelector('[data-testid="message-relaying"]'))`
	}
	p.waitFor("the reply says it is being passed on", relayingJS(reply))
	if got := p.text(tid("message-relaying")); got != "Passing it on to the team…" {
		t.Errorf("relaying line %q", got)
	}
	if runAction(p, "check the first message", chromedp.Evaluate[bool](relayingJS(question))) {
		t.Error("the first message, which Kustomer has, says it is being passed on")
	}
	p.navigate("reload the chat", chromedp.Reload())
	p.waitLive()
	p.waitFor("after a reload, the reply still says it is being passed on", relayingJS(reply))
	fake.SetDown(false)
	p.waitFor("the line goes once Kustomer has the reply", "!("+relayingJS(reply)+")")
	_, msgs = remoteConversation(t, fake, id, 3)
	var previews []string
	for _, m := range msgs {
		previews = append(previews, m.Preview)
	}
	if strings.Join(previews, "|") != strings.Join([]string{question, answer, reply}, "|") {
		t.Fatalf("Kustomer's thread: %q", previews)
	}
	if got := runAction(p, "count the agent's reply", chromedp.Evaluate[int](countBodyJS(answer))); got != 1 {
		t.Fatalf("the agent's reply is shown %d times, want once", got)
	}

	r, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	var ready struct {
		Status string `json:"status"`
		Detail struct {
			Backend string `json:"backend"`
			State   string `json:"state"`
			Waiting int    `json:"waiting"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(body, &ready); err != nil || ready.Status != "ok" || ready.Detail.Backend != "kustomer" || ready.Detail.State != "ok" || ready.Detail.Waiting != 0 {
		t.Errorf("/readyz: %s", body)
	}
	for _, s := range []string{kustomerKey, kustomerSecret} {
		if strings.Contains(srv.logs.String(), s) {
			t.Errorf("the log holds a secret")
		}
	}
}
