package main

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// The offline browser tests: what the customer writes while the server is
// unreachable waits in the page's outbox and goes out once it is back; the
// page never leaves the chat.

// localBubble is a message of one's own the server has not acknowledged
// yet, as the page shows it.
type localBubble struct {
	Body            string `json:"body"`
	State           string `json:"state"`
	Note            string `json:"note"`
	NoteShown       bool   `json:"noteShown"`
	ClientMessageID string `json:"clientMessageId"`
}

const localBubblesJS = `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"][data-local="true"]')).map(li => {
	const body = li.querySelector('[data-testid="message-body"]');
	const note = li.querySelector('[data-testid="message-note"]');
	return {
		body: body ? body.textContent.trim() : "",
		state: li.dataset.sendState || "",
		note: note ? note.textContent.trim() : "",
		noteShown: !!note && note.getClientRects().length > 0,
		clientMessageId: li.dataset.clientMessageId || "",
	};
})`

// localBubbles reads the page's unacknowledged messages, in page order.
func (p *tab) localBubbles() []localBubble {
	p.t.Helper()
	return runAction(p, "read the unsent messages", chromedp.Evaluate[[]localBubble](localBubblesJS))
}

// pressEnter presses Enter in the focused element the way a keyboard does:
// one keyDown carrying the key's text, then keyUp. (chromedp's "\r" sends
// the text as a separate char event, which Chromium types even when the
// page cancelled the keydown; a real key press's is dropped.)
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
			ev := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
			if typ == input.DispatchKeyEventTypeKeyDown {
				ev.Text, ev.UnmodifiedText = "\r", "\r"
			}
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// onChatJS is a predicate: the tab still shows the chat at chatURL, the
// same document that markPage marked.
func onChatJS(chatURL string) string {
	return `location.origin + location.pathname === ` + jsString(chatURL) + ` && window.__noReload === true`
}

// waitingJS is a predicate: exactly one message has body, and the page
// says, in words, that it waits to be sent.
func waitingJS(body string) string {
	return `(() => {
		const items = Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]'))
			.filter(li => { const b = li.querySelector('[data-testid="message-body"]'); return b && b.textContent.trim() === ` + jsString(body) + `; });
		if (items.length !== 1) return false;
		const li = items[0], note = li.querySelector('[data-testid="message-note"]');
		return li.dataset.sendState === "waiting" && !li.dataset.seq && !!note &&
			note.getClientRects().length > 0 && note.textContent.trim() === "Waiting to send";
	})()`
}

// storedCustomerMessages reads the conversation's inbound messages from the
// organization API, in seq order.
func (s *testServer) storedCustomerMessages(t testing.TB, id string) []storedMessage {
	t.Helper()
	var res struct {
		Messages []storedMessage `json:"messages"`
	}
	s.orgGet(t, "/api/v1/org/conversations/"+id+"/messages", &res)
	var in []storedMessage
	for _, m := range res.Messages {
		if m.Direction == "in" {
			in = append(in, m)
		}
	}
	slices.SortFunc(in, func(a, b storedMessage) int { return int(a.Seq - b.Seq) })
	return in
}

// storedMessage is a message as the organization API returns it, with what
// the offline tests compare.
type storedMessage struct {
	Body            string `json:"body"`
	Direction       string `json:"direction"`
	Seq             int64  `json:"seq"`
	ClientMessageID string `json:"clientMessageId"`
}

// TestBrowserSendWhileServerDown is issue 10's "no customer message lost":
// with the chat open the server stops; the customer sends twice with
// Enter; the server starts again. The page never leaves the chat, both
// messages say they wait to be sent, then go out with the ids they were
// queued with and are stored exactly once each, in order.
func TestBrowserSendWhileServerDown(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)
	const first = "The invoice for March is missing."
	id := p.startConversation(srv, contactForm{Name: "Kim", Email: "kim@example.com", Topic: "billing", Message: first})
	chatURL := srv.URL + "/conversations/" + id
	p.waitLive()
	p.markPage()

	srv.stop()
	p.waitFor("the chat notices the server is gone",
		`document.querySelector('[data-testid="connection-status"]').dataset.state !== "live"`)

	sends := []string{"Are you still there?", "It is invoice INV-2031."}
	for _, body := range sends {
		p.do("type "+strconv.Quote(body)+" and press Enter", chromedp.SendKeys(tid("composer-body"), body), pressEnter())
		p.waitFor(strconv.Quote(body)+" waits to be sent, on the same page", onChatJS(chatURL)+" && "+waitingJS(body))
		if got := runAction(p, "read the composer", chromedp.Value(tid("composer-body"))); got != "" {
			p.fatalf("composer after queueing %q = %q, want it cleared", body, got)
		}
	}
	queued := p.localBubbles()
	var ids []string
	for i, b := range queued {
		if i >= len(sends) || b.Body != sends[i] || b.State != "waiting" || !b.NoteShown || b.ClientMessageID == "" {
			p.fatalf("while the server is down the unsent messages are %+v, want %q, in order, each waiting with its id", queued, sends)
		}
		ids = append(ids, b.ClientMessageID)
	}
	if len(ids) != len(sends) {
		p.fatalf("while the server is down the unsent messages are %+v, want %q", queued, sends)
	}

	// The server comes back on the same address and data: the chat
	// reconnects by itself and sends what waited.
	srv = srv.startAgain(t)
	p.waitLive()
	for _, body := range sends {
		p.waitFor(strconv.Quote(body)+" is acknowledged", messageIsShownJS(body, "in"))
	}
	p.waitFor("the page never left the chat", onChatJS(chatURL))
	if left := p.localBubbles(); len(left) != 0 {
		p.fatalf("after reconnecting, unsent messages remain: %+v", left)
	}
	items := p.thread()
	checkThreadOrder(t, items)
	var bodies []string
	for _, it := range items {
		bodies = append(bodies, it.Body)
	}
	if want := append([]string{first}, sends...); !slices.Equal(bodies, want) {
		p.fatalf("the thread is %q, want %q", bodies, want)
	}

	stored := srv.storedCustomerMessages(t, id)
	if len(stored) != 3 || stored[0].Body != first {
		t.Fatalf("stored customer messages = %+v, want the form's message then %q once each", stored, sends)
	}
	for i, body := range sends {
		if m := stored[i+1]; m.Body != body || m.ClientMessageID != ids[i] {
			t.Fatalf("stored message %d = %+v, want %q with the id it was queued with, %s", i+1, m, body, ids[i])
		}
	}
}
