package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// addLabel adds a label on /admin/labels as the signed-in admin the tab
// shows.
func (p *tab) addLabel(srv *testServer, name, color string) {
	p.t.Helper()
	p.open(srv, "/admin/labels", http.StatusOK)
	p.do("fill the new label's form", chromedp.SendKeys(tid("label-field-name"), name), chromedp.Click(tid("label-color-"+color)))
	if res := p.navigate("add label "+name, chromedp.Click(tid("label-save"))); res.Status != http.StatusOK || p.path() != "/admin/labels" {
		p.fatalf("add label %s: on %s with status %d", name, p.path(), res.Status)
	}
}

// rowLabelsJS is an expression: the label names on conversation id's inbox
// row, joined by commas.
func rowLabelsJS(id string) string {
	return `Array.from(document.querySelectorAll(` + jsString(inboxRowCSS(id)+` [data-testid="inbox-label"]`) + `)).map(el => el.textContent.trim()).join(",")`
}

// TestBrowserLabels: an admin defines labels; an agent ticks two of them on
// a conversation in its side panel; another agent's open inbox shows them
// on the row without a reload; the inbox filter by label keeps only the
// labelled conversation, and keeps the label through the queue tabs.
func TestBrowserLabels(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	team := newConsoleTeam(srv, browser)
	admin := team.admin
	admin.addLabel(srv, "Refund", "red")
	admin.addLabel(srv, "VIP", "purple")
	if got := admin.text(chromedp.CSS(`.label-list`)); got != "Refund Edit Refund VIP Edit VIP" {
		admin.fatalf("labels page = %q", got)
	}

	labelled := admin.isolatedTab().startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "I want a refund."})
	other := admin.isolatedTab().startConversation(srv, contactForm{Name: "Charles Babbage", Email: "charles@example.com", Topic: "billing", Message: "Invoice question."})

	dana := admin.isolatedTab()
	dana.signIn(srv, team.dana.Email, team.dana.Password)
	dana.open(srv, "/agent?queue=open", http.StatusOK)
	dana.waitLive()
	dana.markPage()

	admin.open(srv, "/agent/conversations/"+labelled, http.StatusOK)
	admin.do("tick Refund and VIP",
		chromedp.Click(`[data-testid="label-choice"][data-label-name="Refund"]`),
		chromedp.Click(`[data-testid="label-choice"][data-label-name="VIP"]`))
	admin.clickTo("save the labels", tid("labels-save"), "/agent/conversations/"+labelled)
	ticked := runAction(admin, "read the ticked labels", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="label-choice"]:checked')).map(el => el.dataset.labelName)`))
	if strings.Join(ticked, ",") != "Refund,VIP" {
		admin.fatalf("ticked labels after saving = %q", ticked)
	}

	dana.waitWithin(liveWithin, "the labels appear on the row in Dana's open inbox", rowLabelsJS(labelled)+` === "Refund,VIP"`)
	dana.checkNotReloaded("the labels")
	if got := runAction(dana, "read the other row's labels", chromedp.Evaluate[string](rowLabelsJS(other))); got != "" {
		dana.fatalf("the other conversation shows labels %q", got)
	}

	dana.do("filter by VIP", chromedp.SetValue(tid("filter-label"), runAction(dana, "find VIP's id",
		chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="filter-label"] option')).find(o => o.textContent.trim() === "VIP").value`))))
	dana.clickTo("apply the filter", tid("filter-submit"), "/agent")
	rows := dana.inboxRows()
	if len(rows) != 1 || rows[0].ID != labelled {
		dana.fatalf("inbox filtered by VIP = %+v, want only %s", rows, labelled)
	}
	dana.clickTo("open the Ended queue", tid("queue-ended"), "/agent")
	if got := runAction(dana, "read the label filter", chromedp.Evaluate[string](`(() => { const s = document.querySelector('[data-testid="filter-label"]'); return s.options[s.selectedIndex].textContent.trim(); })()`)); got != "VIP" {
		dana.fatalf("the label filter after changing queue = %q, want VIP", got)
	}
}
