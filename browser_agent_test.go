package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	_ "modernc.org/sqlite"
)

// The console's browser tests: an admin, agents and customers, each in a
// browser context of their own, against the real server.

// liveWithin is how soon a change must show on another person's page.
const liveWithin = 5 * time.Second

// ---- accounts ---------------------------------------------------------------

// agentAccount is a console account the test created.
type agentAccount struct {
	ID, Name, Email, Password string
}

// signIn signs in on the sign-in page and checks that the console opens.
func (p *tab) signIn(srv *testServer, email, password string) {
	p.t.Helper()
	p.open(srv, "/agent/sign-in", http.StatusOK)
	p.submitSignIn(email, password, http.StatusOK)
	if got := p.path(); got != "/agent" {
		p.fatalf("signed in as %s: on %s, want /agent", email, got)
	}
}

// submitSignIn fills the sign-in form the tab shows, submits it and checks
// the status of the page that loads.
func (p *tab) submitSignIn(email, password string, wantStatus int64) {
	p.t.Helper()
	p.do("fill the sign-in form", chromedp.WaitVisible(tid("signin-form")),
		chromedp.Clear(tid("signin-email")), chromedp.SendKeys(tid("signin-email"), email),
		chromedp.SendKeys(tid("signin-password"), password))
	res := p.navigate("sign in as "+email, chromedp.Click(tid("signin-submit")))
	if res.Status != wantStatus {
		p.fatalf("sign in as %s: status %d, want %d", email, res.Status, wantStatus)
	}
}

// createAgent adds an account on /admin/agents, as the signed-in admin the
// tab shows, and returns it with its id.
func (p *tab) createAgent(srv *testServer, name, email, password, role string, skills ...string) agentAccount {
	p.t.Helper()
	p.open(srv, "/admin/agents", http.StatusOK)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(tid("agent-form")),
		chromedp.SendKeys(tid("agent-name"), name),
		chromedp.SendKeys(tid("agent-email"), email),
		chromedp.SendKeys(tid("agent-password"), password),
		chromedp.SetValue(tid("agent-role"), role),
	}
	for _, s := range skills {
		steps = append(steps, chromedp.Click(tid("agent-skill-"+s)))
	}
	p.do("fill the new agent's form", steps...)
	res := p.navigate("add agent "+name, chromedp.Click(tid("agent-create")))
	if res.Status != http.StatusOK || p.path() != "/admin/agents" {
		p.fatalf("add agent %s: on %s with status %d, want /admin/agents with 200", name, p.path(), res.Status)
	}
	type row struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	rows := runAction(p, "find the new agent's row", chromedp.Evaluate[[]row](`Array.from(document.querySelectorAll('[data-testid="agent-row"]'))
		.filter(r => r.querySelector('[data-testid="agent-row-email"]').textContent.trim() === `+jsString(email)+`)
		.map(r => ({id: r.dataset.agentId || "", status: r.querySelector('[data-testid="agent-status"]').textContent.trim()}))`))
	if len(rows) != 1 || rows[0].ID == "" || rows[0].Status != "Active" {
		p.fatalf("after adding %s the list has rows %+v for %s, want one active row with an id", name, rows, email)
	}
	return agentAccount{ID: rows[0].ID, Name: name, Email: email, Password: password}
}

// consoleTeam is the console's people of a test: a signed-in admin who
// added Dana (agent, billing) and Lee (agent, sales).
type consoleTeam struct {
	admin     *tab
	dana, lee agentAccount
}

// newConsoleTeam signs the admin in on browser's tab and adds the agents.
func newConsoleTeam(srv *testServer, browser *tab) consoleTeam {
	browser.t.Helper()
	browser.signIn(srv, testAdminEmail, testAdminPassword)
	return consoleTeam{
		admin: browser,
		dana:  browser.createAgent(srv, "Dana", "dana@support.example.com", "dana password 123", "agent", "billing"),
		lee:   browser.createAgent(srv, "Lee", "lee@support.example.com", "lee password 1234", "agent", "sales"),
	}
}

// newTab opens another tab in the tab's browser context: the same person,
// with the same cookies, in a second window.
func (p *tab) newTab() *tab {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		p.t.Fatalf("open a second tab: %v", err)
	}
	return &tab{t: p.t, ctx: ctx}
}

// ---- console pages ----------------------------------------------------------

// inboxRowCSS selects the inbox row of conversation id.
func inboxRowCSS(id string) string {
	return `[data-testid="inbox-row"][data-conversation-id="` + id + `"]`
}

// inboxRow is one row of the inbox as the page shows it.
type inboxRow struct {
	ID       string `json:"id"`
	Unread   string `json:"unread"`
	Assignee string `json:"assignee"`
	Skill    string `json:"skill"`
	Rating   string `json:"rating"`
	Ended    bool   `json:"ended"`
	Overdue  bool   `json:"overdue"`
}

// inboxRows reads the rows of the inbox list, in page order.
func (p *tab) inboxRows() []inboxRow {
	p.t.Helper()
	return runAction(p, "read the inbox", chromedp.Evaluate[[]inboxRow](`Array.from(document.querySelectorAll('#inbox-list [data-testid="inbox-row"]')).map(r => {
		const text = id => { const el = r.querySelector('[data-testid="' + id + '"]'); return el ? el.textContent.trim().replace(/\s+/g, " ") : ""; };
		const ended = r.querySelector('[data-testid="inbox-ended"]');
		return {
			id: r.dataset.conversationId || "",
			unread: text("inbox-unread").split(" ")[0],
			assignee: text("inbox-assignee"),
			skill: text("inbox-skill"),
			rating: text("inbox-rating"),
			ended: !!ended && ended.getClientRects().length > 0,
			overdue: r.dataset.overdue === "true",
		};
	})`))
}

// findRow returns the row of conversation id.
func findRow(rows []inboxRow, id string) (inboxRow, bool) {
	i := slices.IndexFunc(rows, func(r inboxRow) bool { return r.ID == id })
	if i < 0 {
		return inboxRow{}, false
	}
	return rows[i], true
}

// clickTo clicks a link or a form's button and checks that the page it
// leads to loads with 200 at path.
func (p *tab) clickTo(what string, sel chromedp.CSS, path string) {
	p.t.Helper()
	res := p.navigate(what, chromedp.Click(sel))
	if res.Status != http.StatusOK || p.path() != path {
		p.fatalf("%s: on %s with status %d, want %s with 200", what, p.path(), res.Status, path)
	}
}

// text reads the trimmed text of the element, with runs of white space as
// one space.
func (p *tab) text(sel chromedp.CSS) string {
	p.t.Helper()
	s := runAction(p, "read "+string(sel), chromedp.Text(sel))
	return strings.Join(strings.Fields(s), " ")
}

// markPage sets a marker on the page that a reload would lose.
func (p *tab) markPage() {
	p.t.Helper()
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
}

// checkNotReloaded fails when the page was reloaded since markPage.
func (p *tab) checkNotReloaded(what string) {
	p.t.Helper()
	if !runAction(p, "check the page was not reloaded", chromedp.Evaluate[bool](`window.__noReload === true`)) {
		p.fatalf("the page reloaded to show %s", what)
	}
}

// countEventJS is an expression: how many system events of the thread have
// body.
func countEventJS(body string) string {
	return `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"][data-author-type="system"] [data-testid="message-body"]'))
		.filter(el => el.getClientRects().length > 0 && el.textContent.trim() === ` + jsString(body) + `).length`
}

// noteIsShownJS is a predicate: exactly one message has body, and it is an
// acknowledged private note, labelled as one.
func noteIsShownJS(body string) string {
	return `(() => {
		const items = Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]'))
			.filter(li => { const b = li.querySelector('[data-testid="message-body"]'); return b && b.textContent.trim() === ` + jsString(body) + `; });
		if (items.length !== 1) return false;
		const li = items[0], label = li.querySelector('[data-testid="private-label"]');
		return li.dataset.private === "true" && !li.classList.contains("pending") && !!li.dataset.seq &&
			!!label && label.getClientRects().length > 0;
	})()`
}

// bubbleBackgroundJS is an expression: the background colour of the bubble
// of the message with body.
func bubbleBackgroundJS(body string) string {
	return `(() => {
		const li = Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]'))
			.find(li => { const b = li.querySelector('[data-testid="message-body"]'); return b && b.textContent.trim() === ` + jsString(body) + `; });
		const bubble = li && li.querySelector(".msg-bubble");
		return bubble ? getComputedStyle(bubble).backgroundColor : "";
	})()`
}

// containsJS is an expression: whether the whole document's markup holds s.
func containsJS(s string) string {
	return `document.documentElement.outerHTML.includes(` + jsString(s) + `)`
}

// frameLog records the text of the websocket frames a tab receives.
type frameLog struct {
	mu     sync.Mutex
	frames []string
}

// recordSocketFrames starts recording the frames the tab's websockets
// receive, from now until the test ends.
func (p *tab) recordSocketFrames() *frameLog {
	p.t.Helper()
	log := &frameLog{}
	ctx, cancel := context.WithCancel(p.ctx)
	p.t.Cleanup(cancel)
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*network.EventWebSocketFrameReceived); ok && ev.Response != nil {
			log.mu.Lock()
			log.frames = append(log.frames, string(ev.Response.PayloadData))
			log.mu.Unlock()
		}
	}); err != nil {
		p.t.Fatalf("listen to the tab's events: %v", err)
	}
	p.do("enable the network domain", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		return err
	}))
	return log
}

// len is how many frames arrived so far.
func (l *frameLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// since returns the frames from index i on.
func (l *frameLog) since(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.frames[i:])
}

// containing returns the frames that hold s.
func (l *frameLog) containing(s string) []string {
	var out []string
	for _, f := range l.since(0) {
		if strings.Contains(f, s) {
			out = append(out, f)
		}
	}
	return out
}

var (
	hexID       = regexp.MustCompile(`[0-9a-f]{24}`)
	typingFrame = regexp.MustCompile(`"type"\s*:\s*"typing"`)
	typingOn    = regexp.MustCompile(`"typing"\s*:\s*true`)
)

// ---- tests --------------------------------------------------------------------

// TestBrowserConsoleFlow is the console's "done means": an admin adds two
// agents; a customer's form submission arrives live in Dana's inbox; Dana
// joins, answers and writes a private note the customer never receives;
// she sends the conversation to the Billing queue, joins again and ends
// it; the customer rates it and Dana sees the rating.
func TestBrowserConsoleFlow(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	team := newConsoleTeam(srv, browser)

	// Dana watches the unassigned queue.
	dana := browser.isolatedTab()
	dana.signIn(srv, team.dana.Email, team.dana.Password)
	if got := dana.text(tid("signed-in-agent")); got != "Dana" {
		dana.fatalf("signed in as %q, want Dana", got)
	}
	dana.open(srv, "/agent?queue=unassigned", http.StatusOK)
	dana.waitLive()
	dana.markPage()

	// A customer submits the contact form: the row appears in Dana's inbox
	// without a reload, with one unread message.
	customer := browser.isolatedTab()
	frames := customer.recordSocketFrames()
	const first = "My parcel A-10042 never arrived."
	id := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: first})
	customer.waitLive()
	dana.waitWithin(liveWithin, "the new conversation appears in the inbox", `document.querySelector(`+jsString(inboxRowCSS(id))+`) !== null`)
	dana.checkNotReloaded("the new conversation")
	row, _ := findRow(dana.inboxRows(), id)
	if row.Unread != "1" || row.Assignee != "Unassigned" {
		dana.fatalf("inbox row = %+v, want 1 unread and Unassigned", row)
	}

	// Dana opens it and joins: the panel names her, the customer is told.
	dana.clickTo("open the conversation from the inbox", chromedp.CSS(inboxRowCSS(id)+` [data-testid="inbox-link"]`), "/agent/conversations/"+id)
	dana.waitLive()
	dana.waitFor("the customer's message is shown", messageIsShownJS(first, "in"))
	customer.markPage()
	dana.clickTo("join", tid("action-join"), "/agent/conversations/"+id)
	if got := dana.text(tid("panel-assignee")); got != "Dana (you)" {
		dana.fatalf("panel assignee after joining = %q, want \"Dana (you)\"", got)
	}
	const joined = "Dana joined the conversation."
	customer.waitWithin(liveWithin, "the customer is told Dana joined", countEventJS(joined)+` === 1`)
	customer.waitWithin(liveWithin, "the chat names who answers", `(() => { const el = document.querySelector('[data-testid="chat-assignee"]');
		return !!el && el.getClientRects().length > 0 && el.textContent.trim().replace(/\s+/g, " ") === "Dana is answering"; })()`)

	// Dana answers; the customer answers back. Both arrive live.
	dana.waitLive()
	const reply = "Sorry about that, Priya. I am checking with the carrier now."
	dana.do("send a reply", chromedp.SendKeys(tid("agent-composer-body"), reply), chromedp.Click(tid("agent-send")))
	dana.waitFor("the reply is acknowledged", messageIsShownJS(reply, "out"))
	customer.waitWithin(liveWithin, "the customer sees the reply", messageIsShownJS(reply, "out"))
	const answer = "Thank you! It was due on Monday."
	customer.do("answer", chromedp.SendKeys(tid("composer-body"), answer), chromedp.Click(tid("send")))
	customer.waitFor("the answer is acknowledged", messageIsShownJS(answer, "in"))
	dana.waitWithin(liveWithin, "Dana sees the answer", messageIsShownJS(answer, "in"))

	// A private note: shown to Dana as one, never sent to the customer.
	const note = "Internal: carrier ticket CT-5521 opened, refund pre-approved by Kim."
	framesBeforeNote := frames.len()
	dana.do("write a private note", chromedp.Click(tid("composer-private")),
		chromedp.SendKeys(tid("agent-composer-body"), note), chromedp.Click(tid("agent-send")))
	dana.waitFor("the note is shown as a private note", noteIsShownJS(note))
	if noteBg, replyBg := runAction(dana, "read the note's background", chromedp.Evaluate[string](bubbleBackgroundJS(note))),
		runAction(dana, "read the reply's background", chromedp.Evaluate[string](bubbleBackgroundJS(reply))); noteBg == "" || noteBg == replyBg {
		dana.fatalf("the note's bubble has background %q, the reply's %q: want a note to look different", noteBg, replyBg)
	}
	dana.do("turn the private toggle off", chromedp.Click(tid("composer-private")))

	// Dana sends the conversation to the Billing queue. The customer is told
	// in plain words; once they see that, the note would have arrived before
	// it had it been sent to them.
	transferAgents := runAction(dana, "list the agents to transfer to", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid="transfer-agent"] option')).map(o => o.textContent.trim()).filter(s => !s.endsWith("…"))`))
	if !slices.Contains(transferAgents, "Lee") || slices.Contains(transferAgents, "Dana") {
		dana.fatalf("transfer-to-agent choices = %v, want Lee and not Dana, the assignee", transferAgents)
	}
	dana.do("choose the Billing queue", chromedp.SetValue(tid("transfer-skill"), "billing"))
	dana.clickTo("transfer to Billing", tid("action-transfer-skill"), "/agent/conversations/"+id)
	if got, skill := dana.text(tid("panel-assignee")), dana.text(tid("panel-skill")); got != "Unassigned" || skill != "Billing" {
		dana.fatalf("panel after the transfer: assignee %q, queue %q; want Unassigned, Billing", got, skill)
	}
	customer.waitWithin(liveWithin, "the customer is told about the transfer", `Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-author-type="system"] [data-testid="message-body"]'))
		.some(el => el.textContent.includes("Billing team"))`)
	var transfer string
	for _, m := range customer.thread() {
		if m.AuthorType == "system" && strings.Contains(m.Body, "Billing team") {
			transfer = m.Body
		}
	}
	if strings.Contains(strings.ToLower(transfer), "skill") || strings.Contains(transfer, "billing") || hexID.MatchString(transfer) || strings.ContainsAny(transfer, "{}_") {
		customer.fatalf("transfer message %q: want plain words, no ids or jargon", transfer)
	}
	customer.checkNotReloaded("the transfer")

	// The note is nowhere on the customer's side: not on the page, not in a
	// frame, not after a reload. The reply's frame shows the log works.
	if len(frames.containing(reply)) == 0 {
		t.Fatalf("no websocket frame of the customer's tab holds the reply %q; frames:\n%s", reply, strings.Join(frames.since(0), "\n"))
	}
	if leaked := frames.containing(note); len(leaked) > 0 {
		t.Fatalf("the customer's websocket received the private note:\n%s", strings.Join(leaked, "\n"))
	}
	for _, f := range frames.since(framesBeforeNote) {
		if typingFrame.MatchString(f) && typingOn.MatchString(f) {
			t.Fatalf("the customer was told someone is typing while Dana wrote the note: %s", f)
		}
	}
	if runAction(customer, "search the page for the note", chromedp.Evaluate[bool](containsJS(note))) {
		customer.fatalf("the customer's page holds the private note")
	}
	for _, m := range customer.thread() {
		if strings.Contains(m.Body, "CT-5521") {
			customer.fatalf("the customer's thread shows the note: %+v", m)
		}
	}
	customer.navigate("reload the chat", chromedp.Reload())
	customer.waitLive()
	if runAction(customer, "search the reloaded page for the note", chromedp.Evaluate[bool](containsJS(note))) {
		customer.fatalf("the reloaded customer page holds the private note")
	}
	if n := runAction(customer, "count the reply", chromedp.Evaluate[int](countBodyJS(reply))); n != 1 {
		customer.fatalf("after reload the reply is shown %d times, want once", n)
	}
	customer.markPage()

	// The Billing queue lists it, unassigned; the Sales queue does not.
	dana.open(srv, "/agent?queue=unassigned", http.StatusOK)
	dana.do("filter by the Billing skill", chromedp.SetValue(tid("filter-skill"), "billing"))
	dana.navigate("apply the filter", chromedp.Click(tid("filter-submit")))
	if u := runAction(dana, "read the address", chromedp.Evaluate[string](`location.search`)); !strings.Contains(u, "queue=unassigned") || !strings.Contains(u, "skill=billing") {
		dana.fatalf("the filter led to %s, want queue=unassigned and skill=billing", u)
	}
	if row, ok := findRow(dana.inboxRows(), id); !ok || row.Skill != "Billing" || row.Assignee != "Unassigned" {
		dana.fatalf("the unassigned Billing queue has row %+v (found %v), want the conversation, Billing, Unassigned", row, ok)
	}
	dana.open(srv, "/agent?queue=unassigned&skill=sales", http.StatusOK)
	if _, ok := findRow(dana.inboxRows(), id); ok {
		dana.fatalf("the Sales queue lists a conversation sent to Billing")
	}

	// Dana joins again from the Billing queue and ends the conversation:
	// the customer's page shows the end and the rating form live.
	dana.open(srv, "/agent?queue=unassigned&skill=billing", http.StatusOK)
	dana.clickTo("open the conversation from the Billing queue", chromedp.CSS(inboxRowCSS(id)+` [data-testid="inbox-link"]`), "/agent/conversations/"+id)
	dana.clickTo("join again", tid("action-join"), "/agent/conversations/"+id)
	customer.waitWithin(liveWithin, "the customer is told Dana joined again", countEventJS(joined)+` === 2`)
	dana.clickTo("end the conversation", tid("action-end"), "/agent/conversations/"+id)
	dana.do("show the ended conversation", chromedp.WaitVisible(tid("action-reopen")))
	customer.waitWithin(liveWithin, "the customer sees the end", countEventJS("The conversation has ended.")+` === 1`)
	customer.do("show the ended banner and the rating form",
		chromedp.WaitVisible(tid("ended-banner")), chromedp.WaitVisible(tid("rating-form")), chromedp.WaitNotVisible(tid("composer")))
	customer.checkNotReloaded("the end")

	// The customer rates 4 with a comment.
	const comment = "Quick and kind, thank you."
	dana.markPage()
	customer.do("rate 4 with a comment", chromedp.Click(chromedp.CSS(`label[for="rating-4"]`)),
		chromedp.SendKeys(tid("rating-comment"), comment))
	if !runAction(customer, "read the chosen rating", chromedp.Evaluate[bool](`document.querySelector('[data-testid="rating-4"]').checked`)) {
		customer.fatalf("clicking the fourth choice did not choose it")
	}
	customer.clickTo("send the rating", tid("rating-submit"), "/conversations/"+id)
	customer.do("show the thanks", chromedp.WaitVisible(tid("rating-thanks")))
	if n := runAction(customer, "count rating forms", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="rating-form"]').length`)); n != 0 {
		customer.fatalf("the rating form is still on the page after rating")
	}

	// Dana's panel shows the rating live; the ended queue lists it.
	dana.waitWithin(liveWithin, "the panel shows the rating", `(() => {
		const stars = document.querySelector('[data-testid="panel-rating-stars"]');
		const comment = document.querySelector('[data-testid="panel-rating-comment"]');
		return !!stars && stars.textContent.includes("4/5") && !!comment && comment.textContent.trim() === `+jsString(comment)+`;
	})()`)
	dana.checkNotReloaded("the rating")
	dana.open(srv, "/agent?queue=ended", http.StatusOK)
	if row, ok := findRow(dana.inboxRows(), id); !ok || !row.Ended || row.Rating != "★ 4" {
		dana.fatalf("the ended queue has row %+v (found %v), want the conversation, ended, rated ★ 4", row, ok)
	}
}

// TestBrowserConsoleAccess checks who may open the console and the admin
// pages, the sign-in errors, and that disabling an agent signs her out of
// every tab.
func TestBrowserConsoleAccess(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)

	// Without a session the console and the admin pages lead to sign-in,
	// which then leads back.
	visitor := browser.isolatedTab()
	for _, path := range []string{"/agent", "/admin/agents"} {
		visitor.open(srv, path, http.StatusOK)
		if got := visitor.path(); got != "/agent/sign-in" {
			visitor.fatalf("GET %s without a session: on %s, want /agent/sign-in", path, got)
		}
		next := runAction(visitor, "read the next field", chromedp.Value(chromedp.CSS(`[data-testid="signin-form"] input[name="next"]`)))
		if next != path {
			visitor.fatalf("GET %s without a session: sign-in leads next to %q, want %q", path, next, path)
		}
		if n := runAction(visitor, "look for the console header", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="signed-in-agent"], [data-testid="nav-inbox"]').length`)); n != 0 {
			visitor.fatalf("the sign-in page shows the console's navigation to a visitor")
		}
	}

	// A wrong password: 401, the error, the email kept, the password not.
	visitor.submitSignIn(testAdminEmail, "not the password", http.StatusUnauthorized)
	visitor.do("show the error", chromedp.WaitVisible(tid("signin-error")))
	if email, pw := runAction(visitor, "read the email", chromedp.Value(tid("signin-email"))),
		runAction(visitor, "read the password", chromedp.Value(tid("signin-password"))); email != testAdminEmail || pw != "" {
		visitor.fatalf("after a wrong password: email %q, password %q; want %q and empty", email, pw, testAdminEmail)
	}

	// The admin, sent to sign-in from /admin/agents, comes back there.
	admin := browser
	admin.open(srv, "/admin/agents", http.StatusOK)
	admin.submitSignIn(testAdminEmail, testAdminPassword, http.StatusOK)
	if got := admin.path(); got != "/admin/agents" {
		admin.fatalf("signed in from /admin/agents: on %s, want /admin/agents", got)
	}
	dana := admin.createAgent(srv, "Dana", "dana@support.example.com", "dana password 123", "agent", "billing")

	// Dana is an agent, not an admin.
	danaInbox := admin.isolatedTab()
	danaInbox.signIn(srv, dana.Email, dana.Password)
	if n := runAction(danaInbox, "look for the admin link", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="nav-agents"]').length`)); n != 0 {
		danaInbox.fatalf("an agent's console links to the admin pages")
	}
	danaInbox.open(srv, "/admin/agents", http.StatusForbidden)
	if got := danaInbox.text(tid("error-status")); got != "403" {
		danaInbox.fatalf("an agent on /admin/agents: error page shows %q, want 403", got)
	}

	// The admin disables Dana while her inbox is open in one tab.
	inboxFrames := danaInbox.recordSocketFrames()
	danaInbox.open(srv, "/agent", http.StatusOK)
	danaInbox.waitLive()
	danaOther := danaInbox.newTab()
	admin.open(srv, "/admin/agents", http.StatusOK)
	danaRow := `[data-testid="agent-row"][data-agent-id="` + dana.ID + `"]`
	admin.clickTo("disable Dana", chromedp.CSS(danaRow+` [data-testid="agent-toggle"]`), "/admin/agents")
	if got := admin.text(chromedp.CSS(danaRow + ` [data-testid="agent-status"]`)); got != "Disabled" {
		admin.fatalf("Dana's status after disabling = %q, want Disabled", got)
	}
	if got := admin.text(tid("notice")); !strings.Contains(got, "disabled") {
		admin.fatalf("notice after disabling = %q, want it to say Dana is disabled", got)
	}

	// The open inbox is told over its socket and goes to sign-in. The server
	// publishes the change at once; the ping-interval re-check (30 s) is the
	// fallback, hence the deadline.
	start := time.Now()
	danaInbox.waitWithin(45*time.Second, "the open inbox goes to sign-in", `location.pathname === "/agent/sign-in"`)
	t.Logf("the open inbox went to sign-in %v after the admin's click returned", time.Since(start).Round(time.Millisecond))
	if len(inboxFrames.containing(`"signed_out"`)) != 1 {
		t.Fatalf("the inbox socket's frames hold no single signed_out frame:\n%s", strings.Join(inboxFrames.since(0), "\n"))
	}

	// The tab sent to sign-in says why.
	if got := danaInbox.text(tid("notice")); !strings.Contains(got, "disabled") {
		danaInbox.fatalf("notice on the signed-out tab = %q, want it to say the account was disabled", got)
	}
	// Her next navigation in another tab lands on sign-in too.
	danaOther.open(srv, "/agent", http.StatusOK)
	if got := danaOther.path(); got != "/agent/sign-in" {
		danaOther.fatalf("a disabled agent opening /agent: on %s, want /agent/sign-in", got)
	}
	// And she cannot sign in again.
	danaOther.submitSignIn(dana.Email, dana.Password, http.StatusForbidden)
	if got := danaOther.text(tid("signin-error")); !strings.Contains(got, "disabled") {
		danaOther.fatalf("sign-in error for a disabled account = %q, want it to say so", got)
	}
}

// TestBrowserTyping checks typing both ways between a customer and Dana,
// and that writing a private note is never announced to the customer.
func TestBrowserTyping(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	team := newConsoleTeam(srv, browser)
	customer := browser.isolatedTab()
	frames := customer.recordSocketFrames()
	id := customer.startConversation(srv, contactForm{Name: "Ola", Email: "ola@example.com", Topic: "technical", Message: "The app crashes on start."})
	customer.waitLive()
	dana := browser.isolatedTab()
	dana.signIn(srv, team.dana.Email, team.dana.Password)
	dana.open(srv, "/agent/conversations/"+id, http.StatusOK)
	dana.waitLive()
	dana.clickTo("join", tid("action-join"), "/agent/conversations/"+id)
	dana.waitLive()
	customer.waitWithin(liveWithin, "the customer is told Dana joined", countEventJS("Dana joined the conversation.")+` === 1`)

	typingShownJS := func(label string) string {
		return `(() => { const el = document.querySelector('[data-testid="typing"]');
			return !!el && !el.hidden && el.getClientRects().length > 0 && el.textContent.trim() === ` + jsString(label) + `; })()`
	}
	const typingHiddenJS = `(() => { const el = document.querySelector('[data-testid="typing"]'); return !!el && (el.hidden || el.getClientRects().length === 0); })()`

	// The customer types: Dana sees it; the message, once sent, replaces it.
	const question = "It started after the update."
	customer.do("type", chromedp.SendKeys(tid("composer-body"), question))
	dana.waitWithin(liveWithin, "Dana sees the customer typing", typingShownJS("Customer is typing…"))
	customer.do("send", chromedp.Click(tid("send")))
	dana.waitWithin(liveWithin, "Dana sees the message", messageIsShownJS(question, "in"))
	dana.waitFor("the typing indicator goes", typingHiddenJS)

	// Dana types a reply: the customer sees her name.
	const reply = "Which version do you have?"
	dana.do("type", chromedp.SendKeys(tid("agent-composer-body"), reply))
	customer.waitWithin(liveWithin, "the customer sees Dana typing", typingShownJS("Dana is typing…"))
	dana.do("send", chromedp.Click(tid("agent-send")))
	customer.waitWithin(liveWithin, "the customer sees the reply", messageIsShownJS(reply, "out"))
	customer.waitFor("the typing indicator goes", typingHiddenJS)
	// Dana's own typing is not shown to her.
	if !runAction(dana, "check Dana's typing indicator", chromedp.Evaluate[bool](typingHiddenJS)) {
		dana.fatalf("Dana's page shows her own typing")
	}

	// Dana writes a note: no typing frame reaches the customer. The end of
	// the conversation, which arrives after, bounds the wait.
	before := frames.len()
	if !slices.ContainsFunc(frames.since(0), func(f string) bool { return typingFrame.MatchString(f) && typingOn.MatchString(f) }) {
		t.Fatalf("the customer saw Dana typing, but no typing frame was recorded: the frame check below could not fail")
	}
	const note = "Known crash in 2.4.0; fixed in 2.4.1."
	dana.do("write a private note", chromedp.Click(tid("composer-private")), chromedp.SendKeys(tid("agent-composer-body"), note))
	dana.do("send the note", chromedp.Click(tid("agent-send")))
	dana.waitFor("the note is shown", noteIsShownJS(note))
	dana.clickTo("end the conversation", tid("action-end"), "/agent/conversations/"+id)
	customer.waitWithin(liveWithin, "the customer sees the end", countEventJS("The conversation has ended.")+` === 1`)
	for _, f := range frames.since(before) {
		if typingFrame.MatchString(f) && typingOn.MatchString(f) {
			t.Fatalf("the customer was told Dana is typing while she wrote a private note: %s", f)
		}
		if strings.Contains(f, note) {
			t.Fatalf("the customer's websocket received the private note: %s", f)
		}
	}
	if !runAction(customer, "check the customer's typing indicator", chromedp.Evaluate[bool](typingHiddenJS)) {
		customer.fatalf("the customer's page shows someone typing after a private note and the end")
	}
}

// TestBrowserConsoleScreenshots renders the console's pages and the
// customer's rating at 1100×800 and, with HANDOFF_SCREENSHOTS=1, saves them
// to docs/screenshots for the README.
func TestBrowserConsoleScreenshots(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, "--data-dir", dataDir)
	browser := newBrowser(t)
	viewport := func(p *tab) { p.do("set the viewport", chromedp.EmulateViewport(1100, 800)) }
	viewport(browser)

	browser.open(srv, "/agent/sign-in", http.StatusOK)
	browser.do("show the sign-in form", chromedp.WaitVisible(tid("signin-form")))
	browser.screenshot("signin.png")

	team := newConsoleTeam(srv, browser)
	browser.createAgent(srv, "Sam Okafor", "sam@support.example.com", "sam password 1234", "admin", "technical", "billing")
	browser.open(srv, "/admin/agents", http.StatusOK)
	browser.screenshot("console-admin.png")

	// Three customers write in.
	type visit struct {
		form contactForm
		id   string
		tab  *tab
	}
	visits := []*visit{
		{form: contactForm{Name: "Marco Rossi", Email: "marco@example.com", Topic: "billing", Message: "I was charged twice for my March invoice."}},
		{form: contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "My parcel A-10042 was due on Monday and has not arrived."}},
		{form: contactForm{Name: "Ola Nordmann", Email: "ola@example.com", Topic: "technical", Message: "The app crashes when I open the settings."}},
	}
	for _, v := range visits {
		v.tab = browser.isolatedTab()
		viewport(v.tab)
		v.id = v.tab.startConversation(srv, v.form)
	}
	// Nobody waits five minutes for a picture: Marco's wait is backdated in
	// the database, past the contact form's 5-minute target.
	backdateWait(t, dataDir, visits[0].id, 12*time.Minute)

	// Priya's conversation is labelled.
	browser.addLabel(srv, "Delivery", "orange")
	browser.addLabel(srv, "VIP", "purple")
	browser.open(srv, "/agent/conversations/"+visits[1].id, http.StatusOK)
	browser.do("tick the labels", chromedp.Click(`[data-testid="label-choice"][data-label-name="Delivery"]`), chromedp.Click(`[data-testid="label-choice"][data-label-name="VIP"]`))
	browser.clickTo("save the labels", tid("labels-save"), "/agent/conversations/"+visits[1].id)

	dana := browser.isolatedTab()
	viewport(dana)
	dana.signIn(srv, team.dana.Email, team.dana.Password)
	dana.open(srv, "/agent?queue=unassigned", http.StatusOK)
	dana.waitLive()
	dana.waitFor("the queue tab counts the waiting conversations", `(document.querySelector('[data-testid="queue-unassigned-count"]') || {}).textContent === "3"`)
	rows := dana.inboxRows()
	if len(rows) != 3 || rows[0].ID != visits[0].id || !rows[0].Overdue || rows[1].Overdue {
		dana.fatalf("inbox rows = %+v, want Marco's overdue conversation first of three", rows)
	}
	dana.do("show the overdue badge", chromedp.WaitVisible(chromedp.CSS(inboxRowCSS(visits[0].id)+` [data-testid="inbox-overdue"]`)))
	dana.screenshot("console-inbox.png")

	// A search: the words marked where they matched.
	dana.search("parcel monday")
	dana.do("show the match", chromedp.WaitVisible(chromedp.CSS(inboxRowCSS(visits[1].id)+` [data-testid="inbox-match"] mark`)))
	dana.screenshot("console-search.png")

	// Marco's conversation goes to the Billing queue; Dana joins it,
	// answers, gets an answer, writes a note and notes his company.
	marco := visits[0]
	srv.orgPost(t, "/api/v1/org/conversations/"+marco.id+"/transfer", map[string]string{"skill": "billing"}, nil)
	dana.open(srv, "/agent/conversations/"+marco.id, http.StatusOK)
	dana.clickTo("join", tid("action-join"), "/agent/conversations/"+marco.id)
	dana.waitLive()
	const reply = "Sorry, Marco! The second charge is a duplicate; I have refunded it. It shows on your card in 3–5 days."
	dana.do("send a reply", chromedp.SendKeys(tid("agent-composer-body"), reply), chromedp.Click(tid("agent-send")))
	dana.waitFor("the reply is shown", messageIsShownJS(reply, "out"))
	marco.tab.waitWithin(liveWithin, "Marco sees the reply", messageIsShownJS(reply, "out"))
	const answer = "Great, thank you!"
	marco.tab.do("answer", chromedp.SendKeys(tid("composer-body"), answer), chromedp.Click(tid("send")))
	dana.waitWithin(liveWithin, "Dana sees the answer", messageIsShownJS(answer, "in"))
	const note = "Refund R-2291 issued. Duplicate charge caused by the retry bug, see INC-88."
	dana.do("write a note", chromedp.Click(tid("composer-private")), chromedp.SendKeys(tid("agent-composer-body"), note), chromedp.Click(tid("agent-send")))
	dana.waitFor("the note is shown", noteIsShownJS(note))
	dana.do("set the company", chromedp.SendKeys(tid("attr-companyStr"), "Rossi & Figli"))
	dana.clickTo("save the attributes", tid("attributes-save"), "/agent/conversations/"+marco.id)
	// A reload drops the "saved" notice from the picture.
	dana.navigate("reload the conversation", chromedp.Reload())
	dana.waitLive()
	// A taller window shows the whole side panel.
	dana.do("set a taller viewport", chromedp.EmulateViewport(1100, 1400))
	dana.screenshot("console-conversation.png")

	// Dana ends it: Marco's chat asks for a rating.
	dana.clickTo("end the conversation", tid("action-end"), "/agent/conversations/"+marco.id)
	marco.tab.do("show the rating form", chromedp.WaitVisible(tid("rating-form")))
	marco.tab.do("choose 4 stars", chromedp.Click(chromedp.CSS(`label[for="rating-4"]`)),
		chromedp.SendKeys(tid("rating-comment"), "Quick and kind, thank you."))
	marco.tab.screenshot("chat-rating.png")
	marco.tab.navigate("send the rating", chromedp.Click(tid("rating-submit")))

	// The admin's reports of the day.
	browser.do("set a taller viewport", chromedp.EmulateViewport(1100, 1500))
	browser.open(srv, "/admin/reports", http.StatusOK)
	if got := browser.text(tid("card-conversations-value")); got != "3" {
		browser.fatalf("the report counts %q conversations, want 3", got)
	}
	browser.screenshot("console-reports.png")
}

// backdateWait moves the start of a conversation's wait for an agent back
// by d, in the server's SQLite database.
func backdateWait(t testing.TB, dataDir, id string, d time.Duration) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(dataDir, "handoff.db"))+"?"+url.Values{"_pragma": {"busy_timeout(5000)"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	res, err := db.ExecContext(ctx, `UPDATE conversations SET awaiting_since = awaiting_since - ? WHERE id = ? AND awaiting_since IS NOT NULL`, d.Milliseconds(), id)
	if err != nil {
		t.Fatalf("backdate the wait of %s: %v", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("backdate the wait of %s: %d rows changed, want 1", id, n)
	}
}
