package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSendsFasterThanAllowed: a customer who sends faster than the
// server's send limit loses nothing. The messages the server refuses wait
// in the page ("Waiting to send") and go again by themselves after the
// Retry-After the server gave, each stored once, in order; none is left
// failed.
func TestBrowserSendsFasterThanAllowed(t *testing.T) {
	srv := startServer(t, "--send-rate", "2/s", "--send-burst", "2")
	p := newBrowser(t)
	id := p.startConversation(srv, contactForm{Name: "Ari", Email: "ari@example.com", Topic: "order", Message: "Hello"})
	p.waitLive()
	var sends []string
	for i := range 6 {
		body := fmt.Sprintf("Quick line %d", i+1)
		sends = append(sends, body)
		p.do("type "+strconv.Quote(body)+" and press Enter", chromedp.SendKeys(tid("composer-body"), body), pressEnter())
	}
	for _, body := range sends {
		p.waitFor(strconv.Quote(body)+" is acknowledged", messageIsShownJS(body, "in"))
	}
	if left := p.localBubbles(); len(left) != 0 {
		p.fatalf("unsent or failed messages remain: %+v", left)
	}
	stored := srv.storedCustomerMessages(t, id)
	if len(stored) != 1+len(sends) {
		t.Fatalf("stored %d customer messages, want %d: %+v", len(stored), 1+len(sends), stored)
	}
	for i, body := range sends {
		if stored[i+1].Body != body {
			t.Errorf("stored message %d = %q, want %q (in order)", i+1, stored[i+1].Body, body)
		}
	}
	// The limit really was met on the way.
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`handoff_rate_limited_total\{route="/conversations/:id/ws"\} (\d+)`).FindSubmatch(b)
	if m == nil || string(m[1]) == "0" {
		t.Errorf("the socket's send limit was never met: the test proves nothing")
	}
}
