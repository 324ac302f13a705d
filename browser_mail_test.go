package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoff/handoff/kustomer/mail/mailtest"
)

var continueLink = regexp.MustCompile(`https?://[^\s"<>]+/conversations/[0-9a-f]{24}/continue\?token=[A-Za-z0-9_.\-]+`)

// TestBrowserEmailLink: the customer leaves the chat, the agent replies,
// and the follow-up email's link, opened in a fresh browser context (another
// device), continues the chat live there. The link works once: a third
// context gets the page that explains and emails a fresh link.
func TestBrowserEmailLink(t *testing.T) {
	smtp := mailtest.Start(t, "", "")
	srv := startServer(t, "--smtp-url", smtp.URL(), "--mail-from", "Support <support@example.com>", "--followup-delay", "300ms")
	p := newBrowser(t)
	id := p.startConversation(srv, contactForm{Name: "Dana Smith", Email: "dana@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my parcel?"})
	p.waitLive()
	p.do("leave the chat", chromedp.Navigate("about:blank"))
	srv.postAgentMessage(t, id, "We found your parcel.")

	got := smtp.Wait(t, 1, 10*time.Second)
	link := continueLink.FindString(decoded(got[0]))
	if link == "" {
		t.Fatalf("no continue link in the email:\n%s", decoded(got[0]))
	}
	u, _ := url.Parse(link)
	path := u.RequestURI()

	phone := p.isolatedTab()
	phone.open(srv, path, http.StatusOK)
	res := phone.navigate("continue the chat", chromedp.Click(tid("continue-submit")))
	if res.Status != http.StatusOK || phone.path() != "/conversations/"+id {
		phone.fatalf("continue: status %d on %s, want the chat", res.Status, phone.path())
	}
	phone.waitLive()
	phone.waitFor("the agent's reply is shown", messageIsShownJS("We found your parcel.", "out"))
	const answer = "Great, thanks! I am on my phone now."
	phone.do("answer", chromedp.SendKeys(tid("composer-body"), answer), chromedp.Click(tid("send")))
	phone.waitFor("the answer is acknowledged", messageIsShownJS(answer, "in"))

	// The same link in a third browser: already used, and a fresh link can
	// be asked for.
	other := p.isolatedTab()
	other.open(srv, path, http.StatusOK)
	res = other.navigate("use the link again", chromedp.Click(tid("continue-submit")))
	if res.Status != http.StatusConflict {
		other.fatalf("second use: status %d, want 409", res.Status)
	}
	heading := runAction(other, "read the heading", chromedp.Text(tid("link-problem-heading")))
	if heading != "This link was already used" {
		other.fatalf("heading %q", heading)
	}
	other.navigate("ask for a fresh link", chromedp.Click(tid("link-resend")))
	notice := runAction(other, "read the notice", chromedp.Text(tid("link-notice")))
	if !strings.HasPrefix(notice, "We emailed you a new link") {
		other.fatalf("notice %q", notice)
	}
	got = smtp.Wait(t, 2, 10*time.Second)
	if !strings.Contains(decoded(got[1]), "Your link to continue the conversation") || continueLink.FindString(decoded(got[1])) == "" {
		t.Errorf("the fresh-link email:\n%s", decoded(got[1]))
	}
}
