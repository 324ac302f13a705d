package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// emailLink is the continue link a follow-up email carries for the
// conversation id of customer custID.
func (e *env) emailLink(t testing.TB, id, custID string, now time.Time) (path, token string) {
	t.Helper()
	tok, _ := e.srv.sessions.IssueEmailLink(id, custID, now)
	return "/conversations/" + id + "/continue?token=" + url.QueryEscape(tok), tok
}

func (e *env) customerOf(t testing.TB, id string) string {
	t.Helper()
	c, err := e.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.CustomerID
}

// TestEmailLinkOpensOnce follows an email's link in a fresh browser: GET
// only shows a button (a mail scanner fetching it uses nothing up), the
// button gives this browser the customer's session and the chat, and the
// link then refuses a second browser with a page offering a fresh link.
func TestEmailLinkOpensOnce(t *testing.T) {
	e := newEnv(t)
	id := e.client().handoff(t)
	path, tok := e.emailLink(t, id, e.customerOf(t, id), time.Now())

	scanner := e.client()
	for range 2 {
		if res := scanner.get(path); res.StatusCode != http.StatusOK || res.doc(t).Find(`[data-testid="continue-submit"]`).Length() != 1 {
			t.Fatalf("GET the link: %d\n%s", res.StatusCode, res.Body)
		}
	}
	if res := scanner.get("/conversations/" + id); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the scanner's GET gave access: %d", res.StatusCode)
	}
	// The token alone is no frame token: it grants nothing on the chat page.
	if res := e.client().get("/conversations/" + id + "?token=" + url.QueryEscape(tok)); res.StatusCode != http.StatusForbidden {
		t.Errorf("email token used as a frame token: %d, want 403", res.StatusCode)
	}

	phone := e.client()
	res := phone.postForm("/conversations/"+id+"/continue", url.Values{"token": {tok}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/conversations/"+id {
		t.Fatalf("open: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := phone.get("/conversations/" + id); res.StatusCode != http.StatusOK {
		t.Fatalf("chat after the exchange: %d", res.StatusCode)
	}
	if res := phone.postForm("/conversations/"+id+"/messages", url.Values{"body": {"Back from my phone"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send after the exchange: %d\n%s", res.StatusCode, res.Body)
	}

	other := e.client()
	res = other.postForm("/conversations/"+id+"/continue", url.Values{"token": {tok}})
	d := res.doc(t)
	if res.StatusCode != http.StatusConflict || d.Find(`[data-testid="link-problem-heading"]`).Text() != "This link was already used" ||
		d.Find(`[data-testid="link-resend"]`).Length() != 1 {
		t.Fatalf("second use: %d\n%s", res.StatusCode, res.Body)
	}
	if res := other.get("/conversations/" + id); res.StatusCode != http.StatusForbidden {
		t.Errorf("second browser got the chat: %d", res.StatusCode)
	}
	// A link to another conversation, or a forged one, is forbidden.
	other2 := e.client().handoff(t)
	if res := e.client().postForm("/conversations/"+other2+"/continue", url.Values{"token": {tok}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("link for another conversation: %d, want 403", res.StatusCode)
	}
	if res := e.client().get("/conversations/" + id + "/continue?token=forged.x"); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged link: %d, want 403", res.StatusCode)
	}
}

// TestEmailLinkExpiredOffersFreshLink opens an expired link: the page
// explains, and its button queues one email with a fresh link, once per
// interval however often it is pressed.
func TestEmailLinkExpiredOffersFreshLink(t *testing.T) {
	e := newEnv(t)
	id := e.client().handoff(t)
	path, tok := e.emailLink(t, id, e.customerOf(t, id), time.Now().Add(-8*24*time.Hour))
	c := e.client()
	res := c.get(path)
	d := res.doc(t)
	if res.StatusCode != http.StatusGone || d.Find(`[data-testid="link-problem-heading"]`).Text() != "This link has expired" {
		t.Fatalf("expired link: %d\n%s", res.StatusCode, res.Body)
	}
	if res := c.postForm("/conversations/"+id+"/continue", url.Values{"token": {tok}}); res.StatusCode != http.StatusGone {
		t.Errorf("POST an expired link: %d, want 410", res.StatusCode)
	}
	for i, want := range []string{"We emailed you a new link", "We emailed you a new link a short while ago"} {
		res := c.postForm("/conversations/"+id+"/continue/resend", url.Values{"token": {tok}})
		notice := res.doc(t).Find(`[data-testid="link-notice"]`).Text()
		if res.StatusCode != http.StatusOK || len(notice) < len(want) || notice[:len(want)] != want {
			t.Errorf("resend %d: %d %q, want %q…", i+1, res.StatusCode, notice, want)
		}
	}
	items, err := e.store.ClaimOutbox(context.Background(), kustomer.OutboxEmailLink, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ConversationID != id {
		t.Errorf("queued %+v, want one link email for %s", items, id)
	}
	if res := c.postForm("/conversations/"+id+"/continue/resend", url.Values{"token": {"forged.x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("resend with a forged token: %d, want 403", res.StatusCode)
	}
}

// TestUnsubscribe checks the unsubscribe page and the one-click POST.
func TestUnsubscribe(t *testing.T) {
	e := newEnv(t)
	id := e.client().handoff(t)
	cust := e.customerOf(t, id)
	tok := e.srv.sessions.IssueUnsubscribe(cust, time.Now())
	path := "/unsubscribe?token=" + url.QueryEscape(tok)
	if res := e.client().get(path); res.StatusCode != http.StatusOK || res.doc(t).Find(`[data-testid="unsubscribe-submit"]`).Length() != 1 {
		t.Fatalf("GET: %d\n%s", res.StatusCode, res.Body)
	}
	if stopped, _ := e.store.FollowUpsStopped(context.Background(), cust); stopped {
		t.Fatal("GET stopped the follow-ups")
	}
	// The email's link carries its language: the page speaks it.
	if got := strings.TrimSpace(e.client().get(path + "&lang=fr").doc(t).Find("h1").Text()); got != "Ne plus recevoir les e-mails de relance ?" {
		t.Errorf("in French: heading %q", got)
	}
	// RFC 8058: the mail client posts List-Unsubscribe=One-Click, from no
	// browser (no Origin, no Sec-Fetch-Site).
	res := e.client().postForm(path, url.Values{"List-Unsubscribe": {"One-Click"}})
	if res.StatusCode != http.StatusOK || res.doc(t).Find(`[data-testid="unsubscribe-done"]`).Length() != 1 {
		t.Fatalf("one-click: %d\n%s", res.StatusCode, res.Body)
	}
	if stopped, err := e.store.FollowUpsStopped(context.Background(), cust); err != nil || !stopped {
		t.Errorf("FollowUpsStopped = %v, %v after unsubscribing", stopped, err)
	}
	if res := e.client().postForm("/unsubscribe?token=forged.x", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged unsubscribe: %d, want 403", res.StatusCode)
	}
}
