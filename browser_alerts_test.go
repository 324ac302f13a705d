package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// recordNotifications makes every page the tab loads record the desktop
// notifications it shows (after the browser took them) in
// window.__notified, and accept "confirm" dialogs.
func (p *tab) recordNotifications(srv *testServer) {
	p.t.Helper()
	p.do("grant notifications and record them", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: srv.URL}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
			const Real = window.Notification;
			if (!Real) { return; }
			window.__notified = [];
			window.Notification = class extends Real {
				constructor(title, options) {
					super(title, options);
					window.__notified.push({ title: title, body: (options || {}).body || "" });
				}
			};
		})()`})
		return err
	}))
	if err := chromedp.Listen(p.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				// A dialog not answered leaves the page waiting: the test's
				// next step fails on its deadline.
				_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}); err != nil {
		p.t.Fatal(err)
	}
}

// notifiedJS is an expression: the titles of the notifications shown,
// joined by "|".
const notifiedJS = `(window.__notified || []).map(n => n.title).join("|")`

// pressKeys types keys as a keyboard does, outside any field.
func (p *tab) pressKeys(what, keys string) {
	p.t.Helper()
	p.do(what, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent(keys))
}

// TestBrowserAlerts: an agent who turned on desktop notifications (the
// test browser grants the permission) and the sound is told of a new
// conversation in their queues and of a customer's message in theirs,
// with a notification, a sound, the count in the title, a badge on the
// favicon and on the inbox's tabs; the keyboard shortcuts listed under "?"
// open, join, write a note or a reply, and end a conversation.
func TestBrowserAlerts(t *testing.T) {
	srv := startServer(t)
	agent := newBrowser(t)
	agent.recordNotifications(srv)
	agent.signIn(srv, testAdminEmail, testAdminPassword)
	agent.open(srv, "/agent", http.StatusOK)
	agent.waitLive()
	agent.do("turn on notifications and the sound", chromedp.Click(`[data-testid="alerts-menu"] summary`),
		chromedp.Click(tid("alerts-desktop")), chromedp.Click(tid("alerts-sound")))
	agent.waitFor("notifications are on", `document.querySelector('[data-testid="alerts-desktop"]').checked && Notification.permission === "granted"`)
	beeps := func() string {
		return runAction(agent, "count the sounds", chromedp.Evaluate[string](`document.documentElement.dataset.alertsBeeps || "0"`))
	}
	if got := beeps(); got != "1" {
		agent.fatalf("sounds after turning the sound on = %s, want the one sample", got)
	}

	// A new conversation in the agent's queue.
	customer := agent.isolatedTab()
	id := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my parcel?"})
	customer.waitLive()
	agent.waitWithin(liveWithin, "a notification of the new conversation", notifiedJS+` === "New conversation from Priya Patel"`)
	agent.waitWithin(liveWithin, "the counts show it", `document.title.startsWith("(1) ") && document.querySelector('[data-testid="queue-unassigned-count"]') !== null &&
		document.querySelector('[data-testid="queue-unassigned-count"]').textContent === "1" && document.querySelector('link[rel="icon"]').href.startsWith("data:image/png")`)
	if got := beeps(); got != "2" {
		agent.fatalf("sounds after the new conversation = %s, want 2", got)
	}

	// Shortcuts: ? lists them; j highlights the row, o opens it; a joins.
	agent.pressKeys("press ?", "?")
	agent.waitFor("the shortcuts dialog opens", `document.querySelector('[data-testid="shortcuts"]').open`)
	if got := agent.text(tid("shortcuts")); !strings.Contains(got, "j / k Next / previous conversation") || !strings.Contains(got, "a Assign to me") {
		agent.fatalf("shortcuts dialog = %q", got)
	}
	agent.do("close it", chromedp.Click(tid("shortcuts-close")))
	agent.waitWithin(liveWithin, "the new conversation is in the list", `document.querySelector(`+jsString(inboxRowCSS(id))+`) !== null`)
	agent.pressKeys("press j", "j")
	agent.waitFor("the row is highlighted", `(document.querySelector(`+jsString(inboxRowCSS(id))+`) || { getAttribute: () => "" }).getAttribute("aria-current") === "true"`)
	agent.navigate("press o", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("o"))
	if agent.path() != "/agent/conversations/"+id {
		agent.fatalf("o opened %s", agent.path())
	}
	agent.waitLive()
	agent.navigate("press a", chromedp.KeyEvent("a"))
	if got := agent.text(tid("panel-assignee")); got != testAdminName+" (you)" {
		agent.fatalf("assignee after a = %q", got)
	}
	agent.waitLive()
	agent.pressKeys("press n", "n")
	agent.waitFor("n: the reply box, as a note", `document.activeElement === document.querySelector('[data-testid="agent-composer-body"]') && document.querySelector('[data-testid="composer-private"]').checked`)
	agent.do("leave the box", chromedp.KeyEvent("\u001b"))
	agent.pressKeys("press r", "r")
	agent.waitFor("r: the reply box, as a reply", `document.activeElement === document.querySelector('[data-testid="agent-composer-body"]') && !document.querySelector('[data-testid="composer-private"]').checked`)

	// Back in the inbox, a message from the customer in the agent's
	// conversation.
	agent.open(srv, "/agent?queue=mine", http.StatusOK)
	agent.waitLive()
	customer.do("write", chromedp.SendKeys(tid("composer-body"), "It was due on Monday."), chromedp.Click(tid("send")))
	agent.waitWithin(liveWithin, "a notification of the message", notifiedJS+` === "New message from Priya Patel"`)
	agent.waitWithin(liveWithin, "the Mine tab counts it", `(document.querySelector('[data-testid="queue-mine-count"]') || {}).textContent === "1" && document.title.startsWith("(1) ")`)

	// Reading it clears the counts; e ends the conversation.
	agent.open(srv, "/agent/conversations/"+id, http.StatusOK)
	agent.waitLive()
	agent.waitWithin(liveWithin, "read: nothing to count", `!document.title.startsWith("(")`)
	agent.navigate("press e and confirm", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent("e"))
	agent.waitFor("the conversation ended", `document.querySelector('[data-testid="panel-body"]').dataset.ended === "true"`)
}
