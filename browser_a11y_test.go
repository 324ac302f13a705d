package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axePath is axe-core as testdata/axe/package-lock.json pins it; `make
// test` and .ci/run install it with npm ci.
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeTags are the rules axe runs: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const axeTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]`

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []string `json:"target"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

// requireAxe returns axe-core's source, skipping the test without it
// (failing it under CI or HANDOFF_REQUIRE_BROWSER=1).
func requireAxe(t testing.TB) string {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if browserRequired() {
			t.Fatalf("axe-core not installed (%v): run make test, or npm ci --prefix testdata/axe", err)
		}
		axeSkips.Add(1)
		t.Skipf("axe-core not installed at %s (npm ci --prefix testdata/axe)", axePath)
	}
	return src
}

// checkA11y runs axe-core over the page as it stands and fails the test
// with every violation, naming the page state.
func (p *tab) checkA11y(state string) {
	p.t.Helper()
	src := requireAxe(p.t)
	runAction(p, "load axe-core", chromedp.Evaluate[bool](`typeof axe !== "undefined" || (() => { `+src+`; return true; })()`))
	vs := runAction(p, "run axe-core on "+state, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
		runOnly: {type: "tag", values: `+axeTags+`},
		resultTypes: ["violations"],
	}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.map(String), summary: n.failureSummary || ""})),
	})))`, chromedp.EvalAwaitPromise))
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    %s: %s", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	p.t.Errorf("%s: %d accessibility violations:%s", state, len(vs), b.String())
}

// display is one way of looking at the pages: a viewport and a colour
// scheme.
type display struct {
	name          string
	width, height int64
	mobile        bool
	dark          bool
}

var displays = []display{
	{"desktop light", 1280, 800, false, false},
	{"desktop dark", 1280, 800, false, true},
	{"phone light", 390, 844, true, false},
	{"phone dark", 390, 844, true, true},
}

// sizes are the two screens every customer flow is tried on.
var sizes = []display{{"desktop", 1280, 800, false, false}, {"phone", 390, 844, true, false}}

// atBothSizes runs flow as a subtest on a desktop and on a 390 px phone.
func atBothSizes(t *testing.T, flow func(t *testing.T, d display)) {
	for _, d := range sizes {
		t.Run(d.name, func(t *testing.T) { flow(t, d) })
	}
}

// tabAt opens a tab of its own (a separate customer) reporting to t and
// shown as d. It closes, with every page its context opened, when t ends.
func (p *tab) tabAt(t *testing.T, d display) *tab {
	t.Helper()
	base := *p
	base.t = t
	q := base.isolatedTab()
	q.emulate(d)
	return q
}

// show sets the tab's viewport and colour scheme, and waits until the page
// has settled in them.
func (p *tab) show(d display) {
	p.t.Helper()
	p.emulate(d)
	// Colours are judged at rest: a transition caught half way (the
	// scheme just switched) is not what a reader sees.
	p.waitFor("the page's transitions to end", `document.getAnimations().every(a => a.playState !== "running")`)
}

// emulate sets the tab's viewport and colour scheme (also before it shows
// any page).
func (p *tab) emulate(d display) {
	p.t.Helper()
	scheme := "light"
	if d.dark {
		scheme = "dark"
	}
	opts := []chromedp.EmulateViewportOption{}
	if d.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	p.do("show as "+d.name, chromedp.EmulateViewport(d.width, d.height, opts...), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// TestBrowserAccessibility runs axe-core over every state of the
// customer's pages, in every language, on a desktop and a phone, light and
// dark: the form blank and with problems, the chat live with a reply, the
// chat ended with its rating form, rated, the list, the start page, and
// the form and chat in an embedded frame's mode.
func TestBrowserAccessibility(t *testing.T) {
	requireAxe(t)
	srv := startServer(t)
	browser := newBrowser(t)
	for _, lang := range []string{"en", "es", "de", "fr", "ar"} {
		t.Run(lang, func(t *testing.T) {
			p := browser.isolatedTab()
			p.t = t
			q := "?lang=" + lang
			// Every state is reached once, then looked at in every display.
			look := func(state string) {
				for _, d := range displays {
					p.show(d)
					p.checkA11y(lang + ", " + state + ", " + d.name)
				}
			}
			p.open(srv, "/"+q, http.StatusOK)
			look("start page")
			p.open(srv, "/forms/contact"+q, http.StatusOK)
			look("blank form")
			p.open(srv, "/forms/contact"+q+"&embed=1", http.StatusOK)
			look("blank form, embedded")
			p.open(srv, "/forms/contact"+q, http.StatusOK)
			if res := p.submitForm(); res.Status != http.StatusUnprocessableEntity {
				p.fatalf("empty form: status %d", res.Status)
			}
			look("form with problems")
			p.open(srv, "/conversations"+q, http.StatusOK)
			look("empty list")

			id := p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Where is my parcel?"})
			p.waitLive()
			srv.postAgentMessage(t, id, "It is on its way.")
			p.waitFor("the agent's reply", messageIsShownJS("It is on its way.", "out"))
			look("live chat with a reply")
			p.open(srv, "/conversations/"+id+q+"&embed=1", http.StatusOK)
			look("chat, embedded")
			p.open(srv, "/conversations"+q, http.StatusOK)
			look("list")

			srv.orgPost(t, "/api/v1/org/conversations/"+id+"/end", map[string]any{}, nil)
			p.open(srv, "/conversations/"+id+q, http.StatusOK)
			p.do("see the rating form", chromedp.WaitVisible(tid("rating-form")))
			look("ended chat with its rating form")
			p.do("rate", chromedp.Click(`label[for="rating-5"]`))
			p.navigate("send the rating", chromedp.Click(tid("rating-submit")))
			p.do("see the thanks", chromedp.WaitVisible(tid("rating-thanks")))
			look("rated chat")
		})
	}
}

// activeTestID is the data-testid of the focused element ("body" when
// focus is nowhere in particular).
func (p *tab) activeTestID() string {
	p.t.Helper()
	return runAction(p, "read the focused element", chromedp.Evaluate[string](
		`document.activeElement === document.body ? "body" : (document.activeElement.dataset.testid || document.activeElement.tagName)`))
}

// TestBrowserFocus: focus lands where the customer's next step is, never on
// <body>: the error summary after an invalid submit, the composer on
// arriving in the chat, the thanks after rating.
func TestBrowserFocus(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) { focusFlow(t, srv, browser.tabAt(t, d)) })
}

func focusFlow(t *testing.T, srv *testServer, p *tab) {
	p.open(srv, "/forms/contact", http.StatusOK)
	if res := p.submitForm(); res.Status != http.StatusUnprocessableEntity {
		p.fatalf("empty form: status %d", res.Status)
	}
	p.waitFor("focus on the error summary", `document.activeElement && document.activeElement.dataset.testid === "error-summary"`)

	p.open(srv, "/forms/contact", http.StatusOK)
	id := p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hello"})
	p.waitFor("focus on the composer", `document.activeElement && document.activeElement.dataset.testid === "composer-body"`)

	srv.orgPost(t, "/api/v1/org/conversations/"+id+"/end", nil, nil)
	// Ended, live: the pill stops saying Live at once, and the rating
	// comes before starting anew.
	p.waitFor("the pill saying Ended", `(() => { const s = document.querySelector('[data-testid="connection-status"]'); return s.dataset.state === "ended" && s.textContent.trim() === "Ended"; })()`)
	p.open(srv, "/conversations/"+id, http.StatusOK)
	if !runAction(p, "compare the rating's place", chromedp.Evaluate[bool](`!!(document.querySelector('[data-testid="rating-form"]').compareDocumentPosition(document.querySelector('[data-testid="new-conversation"]')) & Node.DOCUMENT_POSITION_FOLLOWING)`)) {
		p.fatalf("the rating form comes after Start a new conversation")
	}
	if got := runAction(p, "read the pill", chromedp.Evaluate[string](`document.querySelector('[data-testid="connection-status"]').textContent.trim()`)); got != "Ended" {
		p.fatalf("reloaded ended chat: the pill says %q", got)
	}
	p.do("rate", chromedp.WaitVisible(tid("rating-form")), chromedp.Click(`label[for="rating-4"]`))
	p.navigate("send the rating", chromedp.Click(tid("rating-submit")))
	p.waitFor("focus on the thanks", `document.activeElement && document.activeElement.dataset.testid === "rating-thanks"`)
	if got := p.activeTestID(); got != "rating-thanks" {
		p.fatalf("after rating, focus on %s", got)
	}
}

// phoneLayout is where the chat's parts are on a phone's screen.
type phoneLayout struct {
	Viewport       float64 `json:"viewport"`
	ThreadTop      float64 `json:"threadTop"`
	ThreadHeight   float64 `json:"threadHeight"`
	ComposerBottom float64 `json:"composerBottom"`
	PageScrolls    bool    `json:"pageScrolls"`
}

// TestBrowserPhoneChat: on a 390 px phone the live chat fills the screen:
// little header above the thread, the composer at the bottom, no page
// scrolling.
func TestBrowserPhoneChat(t *testing.T) {
	srv := startServer(t)
	p := newBrowser(t)
	p.startConversation(srv, contactForm{Name: "Dana", Email: "dana@example.com", Topic: "order", Message: "Hello from my phone"})
	p.show(display{"phone", 390, 844, true, false})
	p.waitLive()
	got := runAction(p, "measure the chat", chromedp.Evaluate[phoneLayout](`(() => {
		const log = document.querySelector('[data-testid="thread-log"]').getBoundingClientRect();
		const composer = document.querySelector('[data-testid="composer"]').getBoundingClientRect();
		return {viewport: window.innerHeight, threadTop: log.top, threadHeight: log.height, composerBottom: composer.bottom,
			pageScrolls: document.scrollingElement.scrollHeight > window.innerHeight + 1};
	})()`))
	if got.ThreadTop > 170 {
		t.Errorf("%.0f px above the thread, want at most 170", got.ThreadTop)
	}
	if got.ComposerBottom > got.Viewport || got.ComposerBottom < got.Viewport-60 {
		t.Errorf("composer ends at %.0f px of %.0f: want it at the bottom", got.ComposerBottom, got.Viewport)
	}
	if got.ThreadHeight < got.Viewport/2 || got.PageScrolls {
		t.Errorf("thread %.0f px of %.0f, page scrolls %v: want the thread to fill the screen", got.ThreadHeight, got.Viewport, got.PageScrolls)
	}
	p.screenshot("chat-phone.png")
}
