package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// pageTimes is what the page shows of its times.
type pageTimes struct {
	MessageDatetime string `json:"messageDatetime"`
	MessageText     string `json:"messageText"`
	MessageTitle    string `json:"messageTitle"`
	StartedText     string `json:"startedText"`
	StartedTitle    string `json:"startedTitle"`
}

// TestBrowserTimes: a reader in Tokyo with a German page sees message times
// in Tokyo's time (not UTC), the chat's start as a relative time in German,
// and the full date in German as a tooltip.
func TestBrowserTimes(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { timesFlow(t, srv, browser.tabAt(t, d)) })
}

func timesFlow(t *testing.T, srv *testServer, p *tab) {
	p.do("live in Tokyo", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	}))
	p.open(srv, "/forms/contact?lang=de", http.StatusOK)
	p.fill(contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hallo"})
	if res := p.submitForm(); res.Status != http.StatusOK {
		p.fatalf("submit: status %d", res.Status)
	}
	p.waitLive()
	p.waitFor("the times shown", `document.querySelector(".chat-sub time").title !== ""`)
	got := runAction(p, "read the times", chromedp.Evaluate[pageTimes](`(() => {
		const m = document.querySelector('[data-testid="message-time"]');
		const s = document.querySelector(".chat-sub time");
		return {messageDatetime: m.getAttribute("datetime"), messageText: m.textContent.trim(), messageTitle: m.title,
			startedText: s.textContent.trim(), startedTitle: s.title};
	})()`))
	when, err := time.Parse(time.RFC3339, got.MessageDatetime)
	if err != nil {
		t.Fatalf("message datetime %q: %v", got.MessageDatetime, err)
	}
	tokyo := when.In(time.FixedZone("JST", 9*3600))
	hour := regexp.MustCompile(`^\d+`).FindString(got.MessageText)
	if h, _ := strconv.Atoi(hour); hour == "" || h != tokyo.Hour() {
		t.Errorf("message time %q for %s: want Tokyo's hour %d (UTC's is %d)", got.MessageText, got.MessageDatetime, tokyo.Hour(), when.Hour())
	}
	// German words, relative for a chat started seconds ago.
	if got.StartedText != "jetzt" && !regexp.MustCompile(`^vor `).MatchString(got.StartedText) {
		t.Errorf("chat start shown as %q, want a relative time in German", got.StartedText)
	}
	wantDay := []string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}[tokyo.Weekday()]
	if !regexp.MustCompile(wantDay).MatchString(got.StartedTitle) || !regexp.MustCompile(wantDay).MatchString(got.MessageTitle) {
		t.Errorf("tooltips %q and %q: want the full date in German (%s)", got.StartedTitle, got.MessageTitle, wantDay)
	}
}
