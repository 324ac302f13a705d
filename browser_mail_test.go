package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/handoff/handoff/kustomer/mail/mailtest"
)

var continueLink = regexp.MustCompile(`https?://[^\s"<>]+/conversations/[0-9a-f]{24}/continue\?token=[A-Za-z0-9_.\-]+`)

// TestBrowserEmailLink: the customer leaves the chat, the agent replies,
// and the follow-up email's link, opened in a fresh browser context (another
// device), continues the chat live there. The link works once: a third
// context gets the page that explains and emails a fresh link.
func TestBrowserEmailLink(t *testing.T) {
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { emailLinkFlow(t, browser, d) })
}

func emailLinkFlow(t *testing.T, browser *tab, d display) {
	smtp := mailtest.Start(t, "", "")
	srv := startServer(t, "--smtp-url", smtp.URL(), "--mail-from", "Support <support@example.com>", "--followup-delay", "300ms")
	p := browser.tabAt(t, d)
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

	phone := browser.tabAt(t, d)
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
	other := browser.tabAt(t, d)
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

// TestBrowserTranscript: after the conversation ends, the customer ticks
// "Email me a transcript" on the rating card; one email arrives with the
// whole public thread (the agents' note left out), and the page says so.
//
// The browser runs in Tokyo's time zone: the transcript gives its times
// there (the form told the server the visitor's zone), not in UTC.
func TestBrowserTranscript(t *testing.T) {
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { transcriptFlow(t, browser, d) })
}

func transcriptFlow(t *testing.T, browser *tab, d display) {
	smtp := mailtest.Start(t, "", "")
	srv := startServer(t, "--smtp-url", smtp.URL(), "--mail-from", "Support <support@example.com>", "--followup-delay", "off")
	p := browser.tabAt(t, d)
	p.do("live in Tokyo", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	}))
	id := p.startConversation(srv, contactForm{Name: "Lou Park", Email: "lou@example.com", Topic: "billing", Message: "My invoice is wrong."})
	p.waitLive()
	srv.postAgentMessage(t, id, "Corrected invoice attached to your account.")
	srv.orgPost(t, "/api/v1/org/conversations/"+id+"/messages", map[string]any{"body": "Refund approved by finance", "authorName": "Dana", "private": true}, nil)
	srv.orgPost(t, "/api/v1/org/conversations/"+id+"/end", nil, nil)
	p.do("the ended chat shows the rating form", chromedp.WaitVisible(tid("rating-form")))
	p.do("rate 5 and ask for a transcript",
		chromedp.Click(chromedp.CSS(`label[for="rating-5"]`)),
		chromedp.Click(tid("rating-transcript")))
	p.clickTo("send the rating", tid("rating-submit"), "/conversations/"+id)
	p.do("the page says the transcript is on its way", chromedp.WaitVisible(tid("transcript-notice")))

	got := smtp.Wait(t, 1, 10*time.Second)
	body := decoded(got[0])
	for _, want := range []string{"My invoice is wrong.", "Corrected invoice attached to your account."} {
		if !strings.Contains(body, want) {
			t.Errorf("the transcript lacks %q", want)
		}
	}
	if strings.Contains(body, "Refund approved by finance") {
		t.Error("the transcript carries the agents' private note")
	}
	if !strings.Contains(body, " JST") || strings.Contains(body, "UTC") {
		t.Errorf("the transcript's times are not in the visitor's zone (JST):\n%s", body)
	}
	if strings.Join(got[0].To, ",") != "lou@example.com" {
		t.Errorf("the transcript went to %q", got[0].To)
	}
}
