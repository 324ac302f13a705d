package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// hookReceiver is a real HTTP endpoint that accepts every delivery and
// keeps it.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookDelivery
}

// hookDelivery is one request the receiver got.
type hookDelivery struct {
	Header http.Header
	Body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, hookDelivery{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the first delivery of event type typ about conversation
// convID, waiting up to d for it.
func (r *hookReceiver) wait(t *testing.T, typ, convID string, d time.Duration) hookDelivery {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		for _, g := range got {
			var b struct {
				Type string `json:"type"`
				Data struct {
					ConversationID string `json:"conversationId"`
					Conversation   struct {
						ID string `json:"conversationId"`
					} `json:"conversation"`
				} `json:"data"`
			}
			if json.Unmarshal(g.Body, &b) == nil && b.Type == typ && b.Data.ConversationID == convID && b.Data.Conversation.ID == convID {
				return g
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s delivery about %s within %v; got %d deliveries", typ, convID, d, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserAdminWebhooks: an admin registers an endpoint (a real
// receiver on this machine, allowed because the server runs on plain http)
// and copies the secret shown once; a customer hands off the contact form;
// the receiver gets conversation.created signed with that secret, and the
// endpoint's delivery log shows the attempt answered 200.
func TestBrowserAdminWebhooks(t *testing.T) {
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { adminWebhooksFlow(t, browser, d) })
}

func adminWebhooksFlow(t *testing.T, browser *tab, d display) {
	receiver := newHookReceiver(t)
	srv := startServer(t)
	admin := browser.tabAt(t, d)
	admin.signIn(srv, testAdminEmail, testAdminPassword)
	admin.clickTo("open the webhooks page", tid("nav-webhooks"), "/admin/webhooks")

	// Register: every event is ticked already.
	endpoint := receiver.URL + "/hooks/handoff"
	admin.do("fill the endpoint form", chromedp.WaitVisible(tid("webhook-form")),
		chromedp.SendKeys(tid("webhook-field-url"), endpoint),
		chromedp.SendKeys(tid("webhook-field-description"), "CRM sync"))
	if !runAction(admin, "read the conversation.created checkbox", chromedp.Evaluate[bool](`document.querySelector('[data-testid="webhook-event-conversation.created"]').checked`)) {
		admin.fatalf("conversation.created is not ticked by default")
	}
	// The secret is shown on a page of its own, after a redirect, so that
	// a reload cannot register the endpoint again.
	if res := admin.navigate("register the endpoint", chromedp.Click(tid("webhook-create"))); res.Status != http.StatusOK ||
		!strings.HasPrefix(admin.path(), "/admin/webhooks/") || !strings.HasSuffix(admin.path(), "/secret") {
		admin.fatalf("register the endpoint: on %s with status %d, want /admin/webhooks/{id}/secret with 200", admin.path(), res.Status)
	}
	once := admin.text(tid("webhook-secret-once"))
	if !strings.Contains(once, "will not be shown again") {
		admin.fatalf("the secret page does not say it is shown once: %q", once)
	}
	// Copy it: the button copies the read-only field.
	admin.do("copy the secret", chromedp.WaitVisible(tid("webhook-secret-copy")), chromedp.Click(tid("webhook-secret-copy")))
	admin.waitFor("the page says it copied", `document.querySelector('[data-copy-status="webhook-secret"]').textContent === "Copied."`)
	secret := runAction(admin, "read the secret", chromedp.Value(tid("webhook-secret")))
	if !strings.HasPrefix(secret, "whsec_") {
		admin.fatalf("secret %q", secret)
	}
	selected := runAction(admin, "read the selection", chromedp.Evaluate[string](`(() => { const f = document.querySelector('[data-testid="webhook-secret"]'); return f.value.substring(f.selectionStart, f.selectionEnd); })()`))
	if selected != secret {
		admin.fatalf("the Copy button left %q selected, want the whole secret", selected)
	}
	admin.clickTo("go to the endpoint", tid("webhook-secret-done"), endpointPath(admin))
	page := admin.path()
	if shown := runAction(admin, "look for the secret", chromedp.Evaluate[bool](`document.documentElement.outerHTML.includes(`+jsString(secret)+`)`)); shown {
		admin.fatalf("the endpoint page shows the secret")
	}

	// A customer hands off the contact form.
	customer := browser.tabAt(t, d)
	id := customer.startConversation(srv, contactForm{Name: "Dana Smith", Email: "dana@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my parcel?"})

	got := receiver.wait(t, "conversation.created", id, 15*time.Second)
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("the delivery does not verify with the secret shown: %v\nheaders %v", err, got.Header)
	}
	eventID := got.Header.Get("webhook-id")

	// The delivery log shows it, answered 200: reload until it does.
	row := `[data-testid="attempt-row"][data-event-id=` + jsString(eventID) + `]`
	deadline := time.Now().Add(15 * time.Second)
	for {
		admin.open(srv, page, http.StatusOK)
		if runAction(admin, "look for the attempt", chromedp.Evaluate[bool](`document.querySelector(`+jsString(row)+`) !== null`)) {
			break
		}
		if time.Now().After(deadline) {
			admin.fatalf("the delivery log has no attempt of %s within 15 s", eventID)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if status := admin.text(chromedp.CSS(row + ` [data-testid="attempt-result"]`)); status != "HTTP 200" {
		admin.fatalf("the attempt's result is %q, want HTTP 200", status)
	}
	if ev := admin.text(chromedp.CSS(row + ` [data-testid="attempt-event"]`)); ev != "conversation.created" {
		admin.fatalf("the attempt's event is %q", ev)
	}
	if shown := runAction(admin, "look for the attempt's row", chromedp.Evaluate[bool](`document.querySelector(`+jsString(row)+`).getClientRects().length > 0`)); !shown {
		admin.fatalf("the attempt's row is not visible at %s", d.name)
	}
	if last := admin.text(tid("webhook-last-success")); last == "Never" {
		admin.fatalf("last success still Never after a delivery")
	}
}

// endpointPath is where the secret page's "done" link leads.
func endpointPath(p *tab) string {
	p.t.Helper()
	return runAction(p, "read the done link", chromedp.Evaluate[string](`document.querySelector('[data-testid="webhook-secret-done"]').getAttribute("href")`))
}
