package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoff/handoff/static"
)

// TestBrowserComposerLimit: a paste over the 8,000-character limit is kept
// whole, counted and refused before sending; shortened, it goes. A message
// the server refuses as invalid offers Edit, which puts it back in the
// composer, not Retry.
func TestBrowserComposerLimit(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { composerLimitFlow(t, srv, browser.tabAt(t, d)) })
}

func composerLimitFlow(t *testing.T, srv *testServer, p *tab) {
	id := p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hello"})
	p.waitLive()

	paste := strings.Repeat("x", 10000)
	runAction(p, "paste 10,000 characters", chromedp.Evaluate[bool](`(() => {
		const b = document.querySelector('[data-testid="composer-body"]');
		b.value = `+jsString(paste)+`;
		b.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`))
	p.waitFor("the counter says it is too long", `(() => {
		const c = document.querySelector('[data-testid="composer-count"]');
		return !c.hidden && c.textContent.includes("10000") && c.textContent.includes("8000") &&
			document.querySelector('[data-testid="composer-body"]').getAttribute("aria-invalid") === "true";
	})()`)
	p.do("send it", chromedp.Click(tid("send")))
	p.waitFor("a notice that it is too long", `document.querySelector('[data-testid="notice"]').textContent.includes("shorten")`)
	if n := runAction(p, "read the composer", chromedp.Evaluate[int](`document.querySelector('[data-testid="composer-body"]').value.length`)); n != 10000 {
		p.fatalf("the composer holds %d characters after the refusal, want all 10000", n)
	}
	if got := len(p.thread()); got != 1 {
		p.fatalf("%d messages in the thread, want only the first: the long one must not be sent", got)
	}

	runAction(p, "shorten it", chromedp.Evaluate[bool](`(() => {
		const b = document.querySelector('[data-testid="composer-body"]');
		b.value = b.value.slice(0, 7900);
		b.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`))
	p.waitFor("the counter near the limit", `document.querySelector('[data-testid="composer-count"]').textContent === "7900 / 8000"`)
	p.do("send it", chromedp.Click(tid("send")))
	p.waitFor("the message stored", `document.querySelector('[data-testid="thread"] li[data-seq="2"]') !== null`)

	// A message the server refuses (here one restored from before a reload,
	// over the limit): Edit, not Retry.
	long := strings.Repeat("y", 8001)
	runAction(p, "leave an unsent message over the limit", chromedp.Evaluate[bool](`(() => {
		sessionStorage.setItem("handoff:unsent:`+id+`", JSON.stringify([{id: "restored-1", entry: {body: `+jsString(long)+`}}]));
		return true;
	})()`))
	p.navigate("reload", chromedp.Reload())
	p.waitFor("the refused message with Edit", `document.querySelector('[data-client-message-id="restored-1"] [data-testid="edit"]') !== null`)
	if runAction(p, "look for Retry", chromedp.Evaluate[bool](`document.querySelector('[data-client-message-id="restored-1"] [data-testid="retry"]') !== null`)) {
		p.fatalf("a message refused as invalid offers Retry")
	}
	p.do("edit it", chromedp.Click(`[data-client-message-id="restored-1"] [data-testid="edit"]`))
	p.waitFor("the text back in the composer, the bubble gone", `document.querySelector('[data-testid="composer-body"]').value.length === 8001 &&
		document.querySelector('[data-client-message-id="restored-1"]') === null`)
	p.open(srv, "/conversations/"+id, http.StatusOK)
}

// TestBrowserBackAfterHandoff: Back from the chat shows the form with the
// open conversation offered above it, so a second submit is a choice, not
// an accident.
func TestBrowserBackAfterHandoff(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { backFlow(srv, browser.tabAt(t, d)) })
}

func backFlow(srv *testServer, p *tab) {
	id := p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hello"})
	p.navigate("go back", chromedp.NavigateBack())
	p.waitFor("the offer to continue", `(() => { const a = document.querySelector('[data-testid="continue-link"]'); return a !== null && a.getAttribute("href") === "/conversations/`+id+`"; })()`)
	p.navigate("continue", chromedp.Click(tid("continue-link")))
	if got := p.path(); got != "/conversations/"+id {
		p.fatalf("continue led to %s", got)
	}
}

// TestBrowserSeen: once an agent has read the customer's message, it says
// "Seen" on the customer's page, live and after a reload.
func TestBrowserSeen(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { seenFlow(t, srv, browser, browser.tabAt(t, d)) })
}

func seenFlow(t *testing.T, srv *testServer, browser, cust *tab) {
	id := cust.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Is anyone there?"})
	cust.waitLive()
	if runAction(cust, "look for Seen", chromedp.Evaluate[bool](`document.querySelector('[data-testid="seen"]') !== null`)) {
		cust.fatalf("Seen before any agent read the conversation")
	}
	agent := browser.isolatedTab()
	agent.t = t
	agent.signIn(srv, testAdminEmail, testAdminPassword)
	agent.open(srv, "/agent/conversations/"+id, http.StatusOK)
	cust.waitFor("Seen under the customer's message", `(() => {
		const seen = document.querySelector('[data-testid="seen"]');
		return seen !== null && seen.closest('li[data-seq="1"]') !== null && seen.textContent.trim() === "Seen";
	})()`)
	cust.navigate("reload", chromedp.Reload())
	cust.waitFor("Seen after the reload", `document.querySelector('li[data-seq="1"] [data-testid="seen"]') !== null`)
}

// TestBrowserHiddenTabAttention: a reply while the page is hidden shows in
// the title's count and the icon's badge, both gone when the page is seen
// again; the sound switch remembers being muted.
func TestBrowserHiddenTabAttention(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { attentionFlow(t, srv, browser.tabAt(t, d)) })
}

func attentionFlow(t *testing.T, srv *testServer, p *tab) {
	id := p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hello"})
	p.waitLive()
	title := runAction(p, "read the title", chromedp.Evaluate[string](`document.title`))
	// The headless tab is never hidden by itself: the page is told it is.
	runAction(p, "hide the page", chromedp.Evaluate[bool](`(() => {
		Object.defineProperty(document, "hidden", {configurable: true, get: () => window.pretendHidden === true});
		window.pretendHidden = true;
		document.dispatchEvent(new Event("visibilitychange"));
		return true;
	})()`))
	srv.postAgentMessage(t, id, "Here I am.")
	srv.postAgentMessage(t, id, "How can I help?")
	p.waitFor("the count in the title and the badge", `document.title === "(2) " + `+jsString(title)+` &&
		document.querySelector('link[rel="icon"]').getAttribute("href") === "/static/img/logo-unread.svg"`)
	// The agent's two replies in a row: the second under the first, the
	// agent's initials on the first.
	if !runAction(p, "read the grouping", chromedp.Evaluate[bool](`(() => {
		const a = document.querySelector('li[data-seq="2"]'), b = document.querySelector('li[data-seq="3"]');
		return !a.classList.contains("msg-grouped") && b.classList.contains("msg-grouped") &&
			a.querySelector('[data-testid="agent-avatar"]') !== null;
	})()`)) {
		p.fatalf("the agent's second reply is not grouped under the first, or the first has no avatar")
	}
	runAction(p, "show the page", chromedp.Evaluate[bool](`(() => {
		window.pretendHidden = false;
		document.dispatchEvent(new Event("visibilitychange"));
		return true;
	})()`))
	p.waitFor("the title and icon back", `document.title === `+jsString(title)+` &&
		document.querySelector('link[rel="icon"]').getAttribute("href") === `+jsString(static.Path("img/logo.svg")))

	p.do("mute", chromedp.Click(tid("sound-toggle")))
	p.navigate("reload", chromedp.Reload())
	p.waitFor("still muted", `document.querySelector('[data-testid="sound-toggle"]').getAttribute("aria-pressed") === "false"`)
}
