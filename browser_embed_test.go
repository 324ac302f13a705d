package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// The embedding tests put the demo host page (served by run on its own
// listener, http://127.0.0.1:PORT_A) in front of handoff reached as
// http://localhost:PORT_B: two sites, as a marketing site and handoff are on
// the web. Chromium runs with third-party cookies blocked.

// blockThirdPartyCookies is Chromium's switch that blocks third-party
// cookies (partitioned ones stay allowed, as in Chrome).
var blockThirdPartyCookies = map[string]any{"test-third-party-cookie-phaseout": true}

// noCookiesInFrames additionally blocks every cookie of localhost (handoff)
// under 127.0.0.1 (the host page), partitioned or not: a browser that keeps
// no cookie at all in the frame. The top-level tab keeps its cookies.
const noCookiesInFrames = `{"profile":{"content_settings":{"exceptions":{"cookies":{"localhost,127.0.0.1":{"setting":2}}}}}}`

// field returns the value of key in the first JSON log line with message
// msg.
func (l *logSink) field(msg, key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			v, _ := rec[key].(string)
			return v
		}
	}
	return ""
}

// awaitField is field once the server has logged msg, which it may do a
// moment after it started listening; "" when it has not within
// stepTimeout.
func (l *logSink) awaitField(msg, key string) string {
	deadline := time.Now().Add(stepTimeout)
	for {
		if v := l.field(msg, key); v != "" || time.Now().After(deadline) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// embedSites starts handoff with its demo host page and a browser set up
// so, and lets the host page's origin embed forms (an admin saves it on
// /admin/forms). It returns the host page's origin and handoff's address as
// the host page embeds it.
func embedSites(t *testing.T, setup browserSetup, forms ...string) (srv *testServer, browser *tab, hostOrigin, handoffURL string) {
	t.Helper()
	srv = startServer(t, "--demo-addr", "127.0.0.1:0")
	hostOrigin = srv.logs.field("demo host page listening", "url")
	handoffURL = srv.logs.field("demo host page listening", "embeds_from")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if !strings.HasPrefix(hostOrigin, "http://127.0.0.1:") || handoffURL != "http://localhost:"+port {
		t.Fatalf("demo host page %q embedding %q, want http://127.0.0.1:PORT embedding http://localhost:%s", hostOrigin, handoffURL, port)
	}
	browser = newBrowserWith(t, setup)
	admin := browser.isolatedTab()
	admin.signIn(srv, testAdminEmail, testAdminPassword)
	for _, form := range forms {
		admin.setAllowedOrigins(srv, form, hostOrigin)
	}
	return srv, browser, hostOrigin, handoffURL
}

// setAllowedOrigins saves a form's allowed origins on /admin/forms as the
// signed-in admin the tab shows.
func (p *tab) setAllowedOrigins(srv *testServer, form string, origins ...string) {
	p.t.Helper()
	p.open(srv, "/admin/forms", http.StatusOK)
	p.do("type the allowed origins of "+form, chromedp.WaitVisible(tid("origins-"+form)),
		chromedp.Clear(tid("origins-"+form)), chromedp.SendKeys(tid("origins-"+form), strings.Join(origins, "\n")))
	if res := p.navigate("save the allowed origins of "+form, chromedp.Click(tid("origins-save-"+form))); res.Status != http.StatusOK {
		p.fatalf("save allowed origins: status %d", res.Status)
	}
	shown := p.text(chromedp.CSS(`[data-testid="origins-list-` + form + `"]`))
	for _, o := range origins {
		if !strings.Contains(shown, o) {
			p.fatalf("allowed origins of %s show %q, want %s", form, shown, o)
		}
	}
}

// frameJS finds the loader's frame of form on the host page.
func frameJS(form string) string {
	return `document.querySelector('[data-handoff-form="` + form + `"] iframe[data-handoff-frame]')`
}

// target waits for a target of the given type whose URL matches: an
// out-of-process iframe, or a tab the page opened.
func (p *tab) target(kind, what string, match func(url string) bool) *target.Info {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		infos, err := chromedp.Targets(p.ctx)
		if err != nil {
			p.fatalf("list targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == kind && match(info.URL) {
				return info
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, info := range infos {
				seen = append(seen, info.Type+" "+info.URL)
			}
			p.fatalf("no %s target showing %s within %v; targets: %v", kind, what, stepTimeout, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// embeddedFrame waits until the loader's frame of form has loaded (it has
// sized itself) and returns a tab driving it. Attaching to a page while its
// DOM changes races inside chromedp (its node map is written on attach
// while DOM events read it), so the frame is attached once it is still.
func (p *tab) embeddedFrame(form, handoffURL string) *tab {
	p.t.Helper()
	p.waitFor("the loader's "+form+" frame loads and sizes itself",
		frameJS(form)+` !== null && `+frameJS(form)+`.style.height !== "480px"`)
	prefix := handoffURL + "/forms/" + form + "?embed=1"
	info := p.target("iframe", prefix, func(url string) bool { return strings.HasPrefix(url, prefix) })
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(info.TargetID))
	p.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		p.fatalf("attach to the %s frame: %v", form, err)
	}
	return &tab{t: p.t, ctx: ctx}
}

// openedTab waits for the tab the page opened to show a chat of handoff's
// and shows that address again in a tab of the same browser context (same
// cookies): a live chat tab is not attached to, for the race above.
// A conversation id, when given, picks that chat's tab among others.
func (p *tab) openedTab(handoffURL string, id ...string) (*tab, string) {
	p.t.Helper()
	url := p.target("page", "a chat at "+handoffURL, func(url string) bool {
		path, ok := strings.CutPrefix(url, handoffURL)
		return ok && conversationPath.MatchString(path) && (len(id) == 0 || strings.HasPrefix(path, "/conversations/"+id[0]))
	}).URL
	view := p.newTab()
	view.navigate("show "+url+" again", chromedp.Navigate(url))
	return view, url
}

// cookies lists every cookie of the tab's browser context, partitioned
// ones included.
func (p *tab) cookies() []*network.Cookie {
	p.t.Helper()
	id := chromedp.FromContext(p.ctx).BrowserContextID
	var out []*network.Cookie
	p.do("read the cookies", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: id})
		out = res.Cookies
		return err
	}))
	return out
}

func cookieNames(cs []*network.Cookie) []string {
	var names []string
	for _, c := range cs {
		key := ""
		if c.PartitionKey != nil {
			key = " partitioned under " + c.PartitionKey.TopLevelSite
		}
		names = append(names, c.Name+"@"+c.Domain+key)
	}
	return names
}

// consoleLog collects a tab's console messages and browser log entries
// (where CSP violations are reported).
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

func (p *tab) recordConsole() *consoleLog {
	p.t.Helper()
	l := &consoleLog{}
	ctx, cancel := context.WithCancel(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Listen(ctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					var s string
					if json.Unmarshal(a.Value, &s) == nil {
						parts = append(parts, s)
						continue
					}
				}
				parts = append(parts, a.Description)
			}
			line = string(ev.Type) + ": " + strings.Join(parts, " ")
		case *cdplog.EventEntryAdded:
			line = string(ev.Entry.Level) + ": " + ev.Entry.Text
		default:
			return
		}
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
	}); err != nil {
		p.t.Fatalf("listen to the console: %v", err)
	}
	p.do("enable the log domain", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})
		return err
	}))
	return l
}

func (l *consoleLog) containing(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *consoleLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// socketOpensJS tries to open a websocket from the page and resolves to
// "open" or "closed <code>".
func socketOpensJS(url string) string {
	return `new Promise(resolve => {
		const ws = new WebSocket(` + jsString(url) + `);
		ws.onopen = () => { resolve("open"); ws.close(); };
		ws.onclose = e => resolve("closed " + e.code);
		setTimeout(() => resolve("no answer"), 5000);
	})`
}

// waitAfterNavigation is waitFor for a page that is navigating: polls cut
// short by the navigation are started again.
func (p *tab) waitAfterNavigation(what, predicate string) {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithDeadline(p.ctx, deadline)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !(strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context")) {
			p.fatalf("waiting until %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// embeddedHandoff fills and sends the contact form inside the host page's
// frame and returns the frame's tab (now the chat) and the conversation id.
func embeddedHandoff(host *tab, handoffURL string, f contactForm) (*tab, string) {
	host.t.Helper()
	frame := host.embeddedFrame("contact", handoffURL)
	frame.fill(f)
	frame.do("send the form in the frame", chromedp.Click(tid("submit")))
	frame.waitAfterNavigation("the frame continues into the chat", `document.querySelector('[data-testid="chat"]') !== null`)
	frame.waitLive()
	id := runAction(frame, "read the conversation id", chromedp.Evaluate[string](`document.getElementById("chat").dataset.conversationId`))
	if !conversationPath.MatchString("/conversations/" + id) {
		frame.fatalf("conversation id %q", id)
	}
	return frame, id
}

// frameHeightMatches checks that the loader sized the frame to the page it
// shows (within a few pixels of rounding and borders).
func frameHeightMatches(host, frame *tab, form string) {
	host.t.Helper()
	content := runAction(frame, "measure the frame's content", chromedp.Evaluate[float64](
		`Math.ceil(document.getElementById("main").getBoundingClientRect().bottom)`))
	pred := fmt.Sprintf(`Math.abs(%s.getBoundingClientRect().height - %f) <= 4`, frameJS(form), content)
	host.waitFor(fmt.Sprintf("the frame is as tall as its content (%.0f px)", content), pred)
}

func TestBrowserEmbed(t *testing.T) {
	srv, browser, hostOrigin, handoffURL := embedSites(t, browserSetup{Flags: blockThirdPartyCookies}, "contact", "sales")
	atBothSizes(t, func(t *testing.T, d display) { embedFlow(t, srv, browser, hostOrigin, handoffURL, d) })
}

func embedFlow(t *testing.T, srv *testServer, browser *tab, hostOrigin, handoffURL string, d display) {
	host := browser.tabAt(t, d)
	desktop := d.name == "desktop"
	hostConsole := host.recordConsole()
	host.navigate("open the demo host page", chromedp.Navigate(hostOrigin+"/"))
	frame := host.embeddedFrame("contact", handoffURL)
	frame.do("the form renders in the frame", chromedp.WaitVisible(tid("handoff-form")))
	frameHeightMatches(host, frame, "contact")
	if cs := host.cookies(); len(cs) != 0 {
		t.Fatalf("cookies before the visitor did anything: %v", cookieNames(cs))
	}
	// The launcher loads nothing until it is opened.
	host.waitFor("the launcher button shows", `document.querySelector('[data-handoff-launcher]') !== null`)
	if runAction(host, "look for the sales frame", chromedp.Evaluate[bool](frameJS("sales")+` !== null`)) {
		t.Fatal("the launcher loaded its frame before it was opened")
	}
	if desktop {
		host.screenshot("embed-host.png")
	}
	host.do("listen for hand-offs", chromedp.Evaluate[chromedp.Void](`window.handoffs = [];
		document.addEventListener("handoff:conversation", e => window.handoffs.push(e.detail.conversationId))`))

	// Submit inside the frame: the chat continues there.
	frame.fill(contactForm{Name: "Eve Embed", Email: "eve@example.com", Topic: "order", OrderNumber: "A-777", Message: "Sent from the marketing site."})
	frame.do("send the form in the frame", chromedp.Click(tid("submit")))
	frame.waitAfterNavigation("the frame continues into the chat", `document.querySelector('[data-testid="chat"]') !== null`)
	frame.waitLive()
	id := runAction(frame, "read the conversation id", chromedp.Evaluate[string](`document.getElementById("chat").dataset.conversationId`))
	host.waitFor("the loader reports the hand-off", `window.handoffs.includes(`+jsString(id)+`)`)
	frameHeightMatches(host, frame, "contact")
	if auth := runAction(frame, "read how the chat authenticated", chromedp.Evaluate[string](`document.getElementById("chat").dataset.auth`)); auth != "cookie" {
		t.Errorf("data-auth = %q, want cookie: the partitioned cookie should survive the third-party block", auth)
	}
	var partitioned bool
	for _, c := range host.cookies() {
		if c.PartitionKey == nil {
			t.Errorf("unpartitioned cookie %s@%s in the frame's context", c.Name, c.Domain)
		} else if c.Name == "handoff_embed" && c.PartitionKey.TopLevelSite == "http://127.0.0.1" {
			partitioned = true
		}
	}
	if !partitioned {
		t.Errorf("no handoff_embed cookie partitioned under the host page's site: %v", cookieNames(host.cookies()))
	}

	// The agent's reply arrives live in the frame, and the customer answers.
	const reply = "Hi Eve, Dana here. Let me check order A-777."
	srv.postAgentMessage(t, id, reply)
	frame.waitFor("the agent's reply arrives in the frame", messageIsShownJS(reply, "out"))
	frame.do("answer in the frame", chromedp.SendKeys(tid("composer-body"), "Thank you!"), chromedp.Click(tid("send")))
	frame.waitFor("the answer is stored", messageIsShownJS("Thank you!", "in")+` && !document.querySelector("#thread li.pending")`)
	var thread struct {
		Messages []orgMessage `json:"messages"`
	}
	srv.orgGet(t, "/api/v1/org/conversations/"+id+"/messages", &thread)
	if len(thread.Messages) != 3 {
		t.Errorf("stored %d messages, want 3 (form, reply, answer)", len(thread.Messages))
	}
	if desktop {
		host.screenshot("embed-chat.png")
	}
	token := runAction(frame, "read the frame's hand-off token", chromedp.Evaluate[string](
		`document.querySelector('[data-testid="open-in-tab"] input[name="token"]').value`))

	// A page on an origin the form does not allow: the loader refuses, a
	// plain iframe is blocked by CSP, and the socket is refused even with a
	// valid token.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>Not allowed</title><h1>Another site</h1>
<script src="%[1]s/static/embed.js" data-form="contact" async></script>
<iframe id="plain" src="%[1]s/forms/contact?embed=1" width="400" height="300"></iframe>`, handoffURL)
	}))
	t.Cleanup(other.Close)
	stranger := browser.tabAt(t, d)
	strangerConsole := stranger.recordConsole()
	stranger.navigate("open a page on an origin that is not allowed", chromedp.Navigate(other.URL))
	stranger.waitFor("the loader has run", `document.querySelector('script[data-handoff-loaded]') !== null`)
	deadline := time.Now().Add(stepTimeout)
	// Chromium reports the blocked frame: "Framing '<handoff>/' violates
	// ... frame-ancestors ... The request has been blocked."
	frameBlocked := func() bool {
		return slices.ContainsFunc(strangerConsole.containing("frame-ancestors"), func(line string) bool {
			return strings.Contains(line, handoffURL) && strings.Contains(line, "blocked")
		})
	}
	for len(strangerConsole.containing("is not allowed to embed form")) == 0 || !frameBlocked() {
		if time.Now().After(deadline) {
			t.Fatalf("want the loader's refusal and the plain frame blocked by frame-ancestors in the console; console:\n%s", strangerConsole)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if runAction(stranger, "look for a loader frame", chromedp.Evaluate[bool](frameJS("contact")+` !== null`)) {
		t.Error("the loader framed the form on an origin that is not allowed")
	}
	socketURL := "ws" + strings.TrimPrefix(handoffURL, "http") + "/conversations/" + id + "/ws?token=" + token
	if got := runAction(stranger, "open the socket from the other origin", chromedp.Evaluate[string](socketOpensJS(socketURL), chromedp.EvalAwaitPromise)); got == "open" {
		t.Error("a page on an origin that is not allowed opened the chat's socket")
	}
	// The same token from the allowed page opens it: the origin made the
	// difference.
	if got := runAction(host, "open the socket from the allowed origin", chromedp.Evaluate[string](socketOpensJS(socketURL), chromedp.EvalAwaitPromise)); got != "open" {
		t.Errorf("socket from the allowed page: %s, want open", got)
	}
	if errs := hostConsole.containing("handoff:"); len(errs) != 0 {
		t.Errorf("the loader complained on the allowed page: %v", errs)
	}
	if !slices.ContainsFunc(strings.Split(strangerConsole.String(), "\n"), func(s string) bool {
		return strings.Contains(s, hostOrigin) || strings.Contains(s, "/admin/forms")
	}) {
		t.Errorf("the refusal should say how to fix it; console:\n%s", strangerConsole)
	}

	// The launcher opens the sales form on demand.
	host.do("open the launcher", chromedp.Click(chromedp.CSS(`[data-handoff-launcher]`)))
	sales := host.embeddedFrame("sales", handoffURL)
	sales.do("the sales form renders", chromedp.WaitVisible(tid("handoff-form")))
	sales.waitFor("the launcher focuses the form", `document.activeElement && document.activeElement.matches("input, textarea, select")`)
	if desktop {
		host.screenshot("embed-launcher.png")
	}
	// Escape inside the frame closes the panel and gives focus back.
	sales.do("press Escape in the frame", chromedp.KeyEvent("\u001b"))
	host.waitFor("the panel closes", `getComputedStyle(document.querySelector('[data-handoff-panel]')).display === "none" &&
		document.activeElement === document.querySelector('[data-handoff-launcher]')`)
}

func TestBrowserEmbedWithoutCookies(t *testing.T) {
	srv, browser, hostOrigin, handoffURL := embedSites(t, browserSetup{Flags: blockThirdPartyCookies, Preferences: noCookiesInFrames}, "contact")
	atBothSizes(t, func(t *testing.T, d display) { embedWithoutCookiesFlow(t, srv, browser, hostOrigin, handoffURL, d) })
}

func embedWithoutCookiesFlow(t *testing.T, srv *testServer, browser *tab, hostOrigin, handoffURL string, d display) {
	// A tab of the browser's own context, where the profile's cookie
	// settings apply, closed when this size is done.
	base := *browser
	base.t = t
	host := base.newTab()
	host.emulate(d)
	// Nothing left from another size's run (its tab's first-party session).
	bc := chromedp.FromContext(host.ctx).BrowserContextID
	host.do("clear the cookies", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: bc})
		return err
	}))
	host.navigate("open the demo host page", chromedp.Navigate(hostOrigin+"/"))
	frame, id := embeddedHandoff(host, handoffURL, contactForm{Name: "Noor", Email: "noor@example.com", Topic: "billing", Message: "No cookies here."})
	if auth := runAction(frame, "read how the chat authenticated", chromedp.Evaluate[string](`document.getElementById("chat").dataset.auth`)); auth != "token" {
		t.Fatalf("data-auth = %q, want token: no cookie should reach the server from the frame", auth)
	}
	for _, c := range host.cookies() {
		if c.Domain == "localhost" {
			t.Errorf("cookie %s kept for localhost in the frame although all are blocked", c.Name)
		}
	}
	if got := runAction(frame, "read the frame's address", chromedp.Evaluate[string](`location.search`)); strings.Contains(got, "token=") {
		t.Errorf("the token stays in the frame's address: %s", got)
	}
	frameHeightMatches(host, frame, "contact")

	const reply = "Hello Noor, Dana here."
	srv.postAgentMessage(t, id, reply)
	frame.waitFor("the agent's reply arrives in the frame", messageIsShownJS(reply, "out"))
	frame.do("answer in the frame", chromedp.SendKeys(tid("composer-body"), "Great, thanks"), chromedp.Click(tid("send")))
	frame.waitFor("the answer is stored", messageIsShownJS("Great, thanks", "in")+` && !document.querySelector("#thread li.pending")`)

	// Open in a new tab: the token becomes a first-party session there.
	frame.do("open the chat in a new tab", chromedp.Click(tid("open-in-tab-button")))
	tab, url := host.openedTab(handoffURL, id)
	if url != handoffURL+"/conversations/"+id {
		t.Fatalf("the new tab landed on %s, want the chat", url)
	}
	tab.do("the chat shows in the tab", chromedp.WaitVisible(tid("chat")))
	tab.waitLive()
	if auth := runAction(tab, "read how the tab authenticated", chromedp.Evaluate[string](`document.getElementById("chat").dataset.auth`)); auth != "cookie" {
		t.Errorf("tab data-auth = %q, want cookie (a first-party session)", auth)
	}
	tab.waitFor("the tab shows the whole thread", messageIsShownJS(reply, "out")+` && `+messageIsShownJS("Great, thanks", "in"))
	const later = "Your refund is on its way."
	srv.postAgentMessage(t, id, later)
	tab.waitFor("the next reply arrives in the tab", messageIsShownJS(later, "out"))
	frame.waitFor("and in the frame", messageIsShownJS(later, "out"))
	tab.do("the list shows the conversation", chromedp.Navigate(handoffURL+"/conversations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-conversation-id="`+id+`"]`)))
}

func TestBrowserEmbedChatInNewTab(t *testing.T) {
	srv, browser, hostOrigin, handoffURL := embedSites(t, browserSetup{Flags: blockThirdPartyCookies}, "contact")
	atBothSizes(t, func(t *testing.T, d display) { embedChatInNewTabFlow(t, srv, browser, hostOrigin, handoffURL, d) })
}

func embedChatInNewTabFlow(t *testing.T, srv *testServer, browser *tab, hostOrigin, handoffURL string, d display) {
	host := browser.tabAt(t, d)
	host.navigate("open the demo host page in tab mode", chromedp.Navigate(hostOrigin+"/?chat=tab"))
	frame := host.embeddedFrame("contact", handoffURL)
	frame.fill(contactForm{Name: "Tab", Email: "tab@example.com", Topic: "other", Message: "Continue in a tab, please."})
	frame.do("send the form", chromedp.Click(tid("submit")))
	frame.waitFor("the frame says where the chat went", `document.querySelector('[data-testid="tab-notice"]') !== null`)
	tab, url := host.openedTab(handoffURL)
	if !conversationPath.MatchString(strings.TrimPrefix(url, handoffURL)) {
		t.Fatalf("the new tab landed on %s, want a chat", url)
	}
	tab.do("the chat shows in the new tab", chromedp.WaitVisible(tid("chat")))
	tab.waitLive()
	id := runAction(tab, "read the conversation id", chromedp.Evaluate[string](`document.getElementById("chat").dataset.conversationId`))
	if auth := runAction(tab, "read how the tab authenticated", chromedp.Evaluate[string](`document.getElementById("chat").dataset.auth`)); auth != "cookie" {
		t.Errorf("tab data-auth = %q, want cookie (a first-party session)", auth)
	}
	const reply = "Hello in your new tab."
	srv.postAgentMessage(t, id, reply)
	tab.waitFor("the agent's reply arrives in the tab", messageIsShownJS(reply, "out"))
}

// TestBrowserDemoPageOnAnyPort: `make run` on other ports (here whatever
// port the system gives the demo host page) still shows the demo's forms:
// the demo page's own origin may frame them without anyone adding it, and
// start-up says which addresses to open.
func TestBrowserDemoPageOnAnyPort(t *testing.T) {
	srv := startServer(t, "--demo-addr", "127.0.0.1:0")
	hostOrigin := srv.logs.field("demo host page listening", "url")
	handoffURL := srv.logs.field("demo host page listening", "embeds_from")
	if hostOrigin == "" || hostOrigin == "http://127.0.0.1:8081" {
		t.Fatalf("demo host page at %q, want a port of the system's choosing", hostOrigin)
	}
	if got := srv.logs.awaitField("open in a browser", "demo_page"); got != hostOrigin {
		t.Errorf("start-up names the demo page %q, want %q", got, hostOrigin)
	}
	if got := srv.logs.field("open in a browser", "form"); !strings.HasSuffix(got, "/forms/contact") {
		t.Errorf("start-up names the form %q", got)
	}
	host := newBrowser(t)
	host.navigate("open the demo host page", chromedp.Navigate(hostOrigin+"/"))
	frame := host.embeddedFrame("contact", handoffURL)
	frame.do("the form renders in the frame", chromedp.WaitVisible(tid("handoff-form")))
}

// TestBrowserLauncherOnPhone: on a phone the launcher's panel takes the
// whole screen, and the title shows once (in the panel's bar; the page's
// heading is left to screen readers).
func TestBrowserLauncherOnPhone(t *testing.T) {
	srv := startServer(t, "--demo-addr", "127.0.0.1:0")
	hostOrigin := srv.logs.field("demo host page listening", "url")
	handoffURL := srv.logs.field("demo host page listening", "embeds_from")
	host := newBrowser(t)
	host.navigate("open the demo host page", chromedp.Navigate(hostOrigin+"/"))
	host.show(display{"phone", 390, 844, true, false})
	host.waitFor("the launcher", `document.querySelector('[data-handoff-launcher]') !== null`)
	host.do("open the launcher", chromedp.Click(`[data-handoff-launcher]`))
	frame := host.embeddedFrame("sales", handoffURL)
	frame.do("the form renders in the panel", chromedp.WaitVisible(tid("handoff-form")))
	rect := runAction(host, "measure the panel", chromedp.Evaluate[[]float64](`(() => {
		const r = document.querySelector('[data-handoff-panel]').getBoundingClientRect();
		return [r.left, r.top, r.width, r.height, window.innerWidth, window.innerHeight];
	})()`))
	if rect[0] != 0 || rect[1] != 0 || rect[2] != rect[4] || rect[3] != rect[5] {
		t.Errorf("panel at %v, want the whole %vx%v screen", rect[:4], rect[4], rect[5])
	}
	if w := runAction(frame, "measure the page's heading", chromedp.Evaluate[float64](`document.querySelector("main h1").getBoundingClientRect().width`)); w > 1 {
		t.Errorf("the page's heading is %v px wide in the panel: the title shows twice", w)
	}
}
