package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// autoAssignConfig writes handoff.yaml with auto-assignment on for the
// contact form, and returns its path.
func autoAssignConfig(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("handoff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	on := strings.Replace(string(raw), "    autoAssign: false\n", "    autoAssign: true\n", 1)
	if on == string(raw) {
		t.Fatal("handoff.yaml has no autoAssign: false to turn on")
	}
	path := filepath.Join(t.TempDir(), "handoff.yaml")
	if err := os.WriteFile(path, []byte(on), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// setStatus picks a status in the console header's menu and waits for the
// server to have taken it.
func (p *tab) setStatus(status string) {
	p.t.Helper()
	p.do("set the status "+status, chromedp.SetValue(tid("agent-status"), status),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="agent-status"]').dispatchEvent(new Event("change", { bubbles: true }))`))
	p.waitFor("the status "+status+" is taken", `document.querySelector('[data-testid="status-form"]').dataset.status === `+jsString(status)+
		` && document.querySelector('.status-dot').classList.contains("status-`+status+`")`)
}

// TestBrowserAutoAssign: with auto-assignment on, two agents online in the
// console share new conversations in turn, each told in their Mine queue
// live; the customer reads who will answer; the form says the team is
// online. One agent going offline (the header's menu) hands their
// conversation to the other, and the customer reads that. With everyone
// offline the form says so.
func TestBrowserAutoAssign(t *testing.T) {
	srv := startServer(t, "--config", autoAssignConfig(t))
	browser := newBrowser(t)
	team := newConsoleTeam(srv, browser)
	admin := team.admin
	admin.open(srv, "/agent", http.StatusOK)
	if got := runAction(admin, "read the admin's status", chromedp.Evaluate[string](`document.querySelector('[data-testid="status-form"]').dataset.status`)); got != "online" {
		admin.fatalf("the admin's status after signing in = %q, want online", got)
	}
	admin.setStatus("offline") // the admin takes no conversations here

	dana, lee := admin.isolatedTab(), admin.isolatedTab()
	for _, a := range []struct {
		tab  *tab
		acct agentAccount
	}{{dana, team.dana}, {lee, team.lee}} {
		a.tab.signIn(srv, a.acct.Email, a.acct.Password)
		a.tab.open(srv, "/agent?queue=mine", http.StatusOK)
		a.tab.waitLive()
	}

	customer := admin.isolatedTab()
	customer.open(srv, "/forms/contact", http.StatusOK)
	if got := customer.text(tid("expectation")); got != "We usually reply within 5 minutes." {
		customer.fatalf("expectation with Dana and Lee online = %q", got)
	}
	first := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my parcel?"})
	customer.waitLive()
	second := admin.isolatedTab().startConversation(srv, contactForm{Name: "Charles Babbage", Email: "charles@example.com", Topic: "billing", Message: "Invoice question."})

	// In turn: Dana (first by name), then Lee, each in their Mine queue.
	dana.waitWithin(liveWithin, "the first conversation is Dana's", `document.querySelector(`+jsString(inboxRowCSS(first))+`) !== null`)
	lee.waitWithin(liveWithin, "the second conversation is Lee's", `document.querySelector(`+jsString(inboxRowCSS(second))+`) !== null`)
	if rows := dana.inboxRows(); len(rows) != 1 || rows[0].Assignee != "Dana" {
		dana.fatalf("Dana's Mine queue = %+v, want the first conversation, hers", rows)
	}
	customer.waitWithin(liveWithin, "the customer reads that Dana will answer", countEventJS("Dana will answer you.")+` === 1`)

	// Lee goes offline: the second conversation is Dana's now.
	lee.setStatus("offline")
	dana.waitWithin(liveWithin, "Lee's conversation moves to Dana", `document.querySelector(`+jsString(inboxRowCSS(second))+`) !== null`)
	lee.waitWithin(liveWithin, "and leaves Lee's Mine queue", `document.querySelector(`+jsString(inboxRowCSS(second))+`) === null`)
	if rows := dana.inboxRows(); len(rows) != 2 {
		dana.fatalf("Dana's Mine queue after Lee went offline = %+v, want both", rows)
	}

	// The agents page says who is online.
	admin.open(srv, "/admin/agents", http.StatusOK)
	presence := runAction(admin, "read who is online", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="agent-row"]')).map(r =>
		r.querySelector('.agent-row-name').textContent + ":" + r.querySelector('[data-testid="agent-presence"]').textContent.trim()).join(",")`))
	if presence != testAdminName+":Offline,Dana:Online,Lee:Offline" {
		admin.fatalf("presence on the agents page = %q", presence)
	}

	// Everyone offline: the form says the answer comes by email.
	dana.setStatus("offline")
	customer.open(srv, "/forms/contact", http.StatusOK)
	if got := customer.text(tid("expectation")); got != "Our team is offline right now. Leave your message: we'll answer by email." {
		customer.fatalf("expectation with everyone offline = %q", got)
	}
}

// TestBrowserAwayWhenIdle: with no keyboard, mouse or touch in the console
// for HANDOFF_AWAY_AFTER, the agent is set away; their next key press sets
// them online again. A status the agent chose (away) shows at once in their
// other tabs, and stays when they move.
func TestBrowserAwayWhenIdle(t *testing.T) {
	srv := startServerEnv(t, map[string]string{"HANDOFF_AWAY_AFTER": "2s"})
	agent := newBrowser(t)
	agent.signIn(srv, testAdminEmail, testAdminPassword)
	status := `document.querySelector('[data-testid="status-form"]').dataset.status`
	agent.waitWithin(liveWithin, "the idle agent is set away", status+` === "away"`)
	if got := runAction(agent, "read the reason", chromedp.Evaluate[string](`document.querySelector('[data-testid="status-form"]').dataset.statusReason`)); got != "idle" {
		agent.fatalf("away for the reason %q, want idle", got)
	}
	agent.do("press a key", chromedp.KeyEvent("a"))
	agent.waitWithin(liveWithin, "a key press sets the agent online", status+` === "online"`)

	other := agent.newTab()
	other.open(srv, "/agent/profile", http.StatusOK)
	agent.setStatus("away")
	// Chosen, not idle: only the console socket tells the other tab so.
	other.waitWithin(liveWithin, "the agent's other tab shows the status live", status+` === "away" && document.querySelector('[data-testid="status-form"]').dataset.statusReason === ""`)
	agent.do("press a key", chromedp.KeyEvent("a"))
	agent.open(srv, "/agent", http.StatusOK)
	if got := runAction(agent, "read the status after reloading", chromedp.Evaluate[string](status)); got != "away" {
		agent.fatalf("a chosen away after a key press = %q, want away", got)
	}
}
