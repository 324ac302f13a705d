package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// pressKey presses a key without text (an arrow, Escape) in the focused
// element, as a keyboard does.
func pressKey(key string, code int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			ev := input.DispatchKeyEventParams{Type: typ, Key: key, Code: key, WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code}
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// replyOptions reads the titles the composer's saved-reply list shows, the
// chosen one marked with "*"; nil when the list is closed.
func (p *tab) replyOptions() []string {
	p.t.Helper()
	return runAction(p, "read the saved-reply list", chromedp.Evaluate[[]string](`(() => {
		const picker = document.querySelector('[data-testid="reply-picker"]');
		if (!picker || picker.hidden) { return null; }
		return Array.from(picker.querySelectorAll('[data-testid="reply-option"]')).map(o =>
			(o.getAttribute('aria-selected') === 'true' ? '*' : '') + o.querySelector('.reply-option-title').textContent);
	})()`))
}

// composerValue is what the reply box holds.
func (p *tab) composerValue() string {
	p.t.Helper()
	return runAction(p, "read the reply box", chromedp.Value(tid("agent-composer-body")))
}

// TestBrowserSavedReplies: an admin saves a team reply and an agent's own
// one on the saved replies page (a wrong placeholder is refused with the
// text kept); in a conversation, "/" opens the list, the words after it
// narrow it, ↓ chooses, Enter inserts the reply filled in for the
// conversation in place of "/words" (sending nothing), Escape closes the
// list, and the reply sent reaches the customer as inserted.
func TestBrowserSavedReplies(t *testing.T) {
	srv := startServer(t)
	admin := newBrowser(t)
	admin.signIn(srv, testAdminEmail, testAdminPassword)

	admin.open(srv, "/agent/replies", http.StatusOK)
	admin.do("write a reply with a wrong placeholder",
		chromedp.SendKeys(tid("reply-field-title"), "Refund policy"),
		chromedp.SendKeys(tid("reply-field-body"), "Hi {{customer.first}}"),
		chromedp.Click(tid("reply-field-shared")))
	if res := admin.navigate("save it", chromedp.Click(tid("reply-save"))); res.Status != http.StatusUnprocessableEntity {
		admin.fatalf("a wrong placeholder: status %d, want 422", res.Status)
	}
	if got := admin.text(tid("reply-error-body")); !strings.Contains(got, "{{customer.first}}") {
		admin.fatalf("the body's error = %q", got)
	}
	if got := runAction(admin, "read the title", chromedp.Value(tid("reply-field-title"))); got != "Refund policy" {
		admin.fatalf("title after the error = %q, want it kept", got)
	}
	admin.do("mend the body",
		chromedp.SetValue(tid("reply-field-body"), "Hi {{customer.firstName|there}}, the refund for {{attributes.orderNumberStr|your order}} is on its way. — {{agent.firstName}}"))
	if res := admin.navigate("save it", chromedp.Click(tid("reply-save"))); res.Status != http.StatusOK || admin.path() != "/agent/replies" {
		admin.fatalf("save: %d on %s", res.Status, admin.path())
	}
	admin.do("add a reply of one's own",
		chromedp.SendKeys(tid("reply-field-title"), "Refund delays"),
		chromedp.SendKeys(tid("reply-field-body"), "Banks can take up to 5 days."))
	admin.navigate("save it", chromedp.Click(tid("reply-save")))
	admin.do("add another",
		chromedp.SendKeys(tid("reply-field-title"), "Goodbye"),
		chromedp.SendKeys(tid("reply-field-body"), "Have a lovely day, {{customer.firstName}}!"))
	admin.navigate("save it", chromedp.Click(tid("reply-save")))
	if got := admin.text(tid("replies-shared")); !strings.Contains(got, "Refund policy") {
		admin.fatalf("team replies = %q", got)
	}

	customer := admin.isolatedTab()
	id := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my refund?"})
	customer.waitLive()

	admin.open(srv, "/agent/conversations/"+id, http.StatusOK)
	admin.waitLive()
	admin.do("type a slash", chromedp.SendKeys(tid("agent-composer-body"), "Thanks! /"))
	admin.waitFor("the list opens with every reply", `(() => { const p = document.querySelector('[data-testid="reply-picker"]');
		return p && !p.hidden && p.querySelectorAll('[data-testid="reply-option"]').length === 3; })()`)
	admin.do("narrow it", chromedp.SendKeys(tid("agent-composer-body"), "refund"))
	if got := admin.replyOptions(); strings.Join(got, "|") != "*Refund delays|Refund policy" {
		admin.fatalf("list for /refund = %q, want the two refund replies, the first chosen", got)
	}
	admin.do("choose the second", pressKey("ArrowDown", 40))
	if got := admin.replyOptions(); strings.Join(got, "|") != "Refund delays|*Refund policy" {
		admin.fatalf("list after ↓ = %q", got)
	}
	admin.do("insert it", pressEnter())
	const filled = "Thanks! Hi Priya, the refund for A-10042 is on its way. — Ada"
	if got := admin.composerValue(); got != filled {
		admin.fatalf("reply box after Enter = %q, want %q", got, filled)
	}
	if got := admin.replyOptions(); got != nil {
		admin.fatalf("the list is still open after inserting: %q", got)
	}

	// Nothing matches: said; Escape closes the list and it stays closed
	// for that slash.
	admin.do("type another slash", chromedp.SendKeys(tid("agent-composer-body"), " /zzz"))
	admin.waitFor("no match is said", `(() => { const s = document.querySelector('[data-testid="reply-picker-status"]');
		return s && !s.hidden && s.textContent.includes("No saved reply matches “zzz”"); })()`)
	admin.do("close it", pressKey("Escape", 27))
	if got := admin.replyOptions(); got != nil {
		admin.fatalf("the list is open after Escape: %q", got)
	}
	admin.do("type on", chromedp.SendKeys(tid("agent-composer-body"), "z"))
	if got := admin.replyOptions(); got != nil {
		admin.fatalf("the list reopened after Escape: %q", got)
	}
	admin.do("take the slash back out", chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('[data-testid="agent-composer-body"]');
		b.value = ""; b.dispatchEvent(new Event("input", { bubbles: true })); })()`), chromedp.SendKeys(tid("agent-composer-body"), filled))

	// Enter with the list closed sends what was inserted.
	admin.do("send", pressEnter())
	admin.waitFor("the reply is acknowledged", messageIsShownJS(filled, "out"))
	customer.waitWithin(liveWithin, "the customer reads the reply", messageIsShownJS(filled, "out"))
}
