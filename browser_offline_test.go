package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The offline browser tests: what a customer (or an agent) writes while the
// server is unreachable waits in the page's outbox and goes out once it is
// back; the page never leaves the chat, and a reload keeps what was not
// sent yet.

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

// refuseStorage makes sessionStorage and localStorage throw on access in
// every page the tab loads from now on, as they do in a frame whose
// storage the browser blocks.
func (p *tab) refuseStorage() {
	p.t.Helper()
	p.do("refuse web storage", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			for (const name of ["sessionStorage", "localStorage"]) {
				Object.defineProperty(window, name, {
					configurable: true,
					get() { throw new DOMException("The document is sandboxed.", "SecurityError"); },
				});
			}`})
		return err
	}))
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
// queued with and are stored exactly once each, in order. The outbox works
// as well where the page may not use web storage.
func TestBrowserSendWhileServerDown(t *testing.T) {
	tests := []struct {
		name string
		// refuseStorage makes web storage throw, as an embedded frame's
		// may.
		refuseStorage bool
	}{
		{"storage", false},
		{"storage refused", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sendWhileServerDown(t, tt.refuseStorage)
		})
	}
}

func sendWhileServerDown(t *testing.T, refuseStorage bool) {
	srv := startServer(t)
	p := newBrowser(t)
	if refuseStorage {
		p.refuseStorage()
	}
	const first = "The invoice for March is missing."
	id := p.startConversation(srv, contactForm{Name: "Kim", Email: "kim@example.com", Topic: "billing", Message: first})
	chatURL := srv.URL + "/conversations/" + id
	p.waitLive()
	if refused := runAction(p, "try web storage", chromedp.Evaluate[bool](
		`(() => { try { sessionStorage.length; return false; } catch (err) { return true; } })()`)); refused != refuseStorage {
		p.fatalf("web storage refused: %v, want %v", refused, refuseStorage)
	}
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

// TestBrowserUnsentSurvivesReload reloads the chat with a half-written
// message in the composer, and again while a message waits for the
// stopped server: the draft comes back each time, and the waiting message
// is sent, once, when the chat is opened again after the server is back.
func TestBrowserUnsentSurvivesReload(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)
	id := p.startConversation(srv, contactForm{Name: "Lou", Email: "lou@example.com", Topic: "order", Message: "Where is my parcel?"})
	chatPath := "/conversations/" + id
	p.waitLive()

	const draft = "The tracking number is"
	p.do("type half a message", chromedp.SendKeys(tid("composer-body"), draft))
	p.navigate("reload the chat", chromedp.Reload())
	p.waitLive()
	if got := runAction(p, "read the composer", chromedp.Value(tid("composer-body"))); got != draft {
		p.fatalf("composer after a reload = %q, want the draft %q", got, draft)
	}

	// The server stops; the customer finishes and sends the message, starts
	// another and reloads, which shows the browser's error page.
	srv.stop()
	p.waitFor("the chat notices the server is gone",
		`document.querySelector('[data-testid="connection-status"]').dataset.state !== "live"`)
	const queued = draft + " 1Z999AA10123456784."
	p.do("finish the message and press Enter", chromedp.SendKeys(tid("composer-body"), queued[len(draft):]), pressEnter())
	p.waitFor("the message waits to be sent", waitingJS(queued))
	sent := p.localBubbles()
	if len(sent) != 1 {
		p.fatalf("unsent messages = %+v, want the one just sent", sent)
	}
	const second = "Also, can it go to my office"
	p.do("start another message", chromedp.SendKeys(tid("composer-body"), second))
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	_, err := chromedp.RunResponse(ctx, chromedp.Reload())
	cancel()
	var loadErr *chromedp.LoadError
	if !errors.As(err, &loadErr) {
		p.fatalf("reload with the server down: %v, want a load error", err)
	}

	srv = srv.startAgain(t)
	p.open(srv, chatPath, http.StatusOK)
	p.waitLive()
	p.waitFor("the waiting message is acknowledged", messageIsShownJS(queued, "in"))
	if got := runAction(p, "read the composer", chromedp.Value(tid("composer-body"))); got != second {
		p.fatalf("composer after coming back = %q, want the draft %q", got, second)
	}
	stored := srv.storedCustomerMessages(t, id)
	var n int
	for _, m := range stored {
		if m.Body == queued {
			n++
			if m.ClientMessageID != sent[0].ClientMessageID {
				t.Errorf("stored with id %q, want the id it was queued with, %q", m.ClientMessageID, sent[0].ClientMessageID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("stored customer messages = %+v, want %q once", stored, queued)
	}
	// Nothing waits any more, and a later reload sends nothing again.
	p.navigate("reload the chat", chromedp.Reload())
	p.waitLive()
	if left := p.localBubbles(); len(left) != 0 {
		p.fatalf("after a reload, unsent messages reappear: %+v", left)
	}
	if got := p.thread(); len(got) != 2 || got[1].Body != queued {
		p.fatalf("thread after a reload = %+v, want the form's message and %q", got, queued)
	}
}

// TestBrowserConsoleSendWhileServerDown is the same for the agent console,
// which shares the chat's outbox: a reply and a private note written while
// the server is down wait, then are stored once each, in order, the note
// still private, and the console never leaves the conversation.
func TestBrowserConsoleSendWhileServerDown(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	customer := browser.isolatedTab()
	id := customer.startConversation(srv, contactForm{Name: "Ola", Email: "ola@example.com", Topic: "technical", Message: "The app crashes on start."})
	agent := browser.isolatedTab()
	agent.signIn(srv, testAdminEmail, testAdminPassword)
	agent.open(srv, "/agent/conversations/"+id, http.StatusOK)
	agent.waitLive()
	agent.clickTo("join", tid("action-join"), "/agent/conversations/"+id)
	agent.waitLive()
	chatURL := srv.URL + "/agent/conversations/" + id
	agent.markPage()

	srv.stop()
	agent.waitFor("the console notices the server is gone",
		`document.querySelector('[data-testid="connection-status"]').dataset.state !== "live"`)
	const reply, note = "Which version do you use?", "Probably the 2.4.0 crash."
	agent.do("write a reply and press Enter", chromedp.SendKeys(tid("agent-composer-body"), reply), pressEnter())
	agent.waitFor("the reply waits to be sent, on the same page", onChatJS(chatURL)+" && "+waitingJS(reply))
	agent.do("write a note and press Enter", chromedp.Click(tid("composer-private")),
		chromedp.SendKeys(tid("agent-composer-body"), note), pressEnter())
	agent.waitFor("the note waits to be sent, on the same page", onChatJS(chatURL)+" && "+waitingJS(note))

	srv = srv.startAgain(t)
	agent.waitLive()
	agent.waitFor("the reply is acknowledged", messageIsShownJS(reply, "out"))
	agent.waitFor("the note is acknowledged, as a note", noteIsShownJS(note))
	agent.waitFor("the console never left the conversation", onChatJS(chatURL))

	var res struct {
		Messages []storedMessage `json:"messages"`
	}
	srv.orgGet(t, "/api/v1/org/conversations/"+id+"/messages", &res)
	var stored []storedMessage
	for _, m := range res.Messages {
		if m.Body == reply || m.Body == note {
			stored = append(stored, m)
		}
	}
	slices.SortFunc(stored, func(a, b storedMessage) int { return int(a.Seq - b.Seq) })
	if len(stored) != 2 || stored[0].Body != reply || stored[1].Body != note {
		t.Fatalf("stored = %+v, want %q then %q, once each", stored, reply, note)
	}
}
