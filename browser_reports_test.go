package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserReports: three conversations today, each answered and ended
// by the admin in the console, two rated 5 and 3 by their customers; the
// reports page shows three conversations, an average rating of 4.0 from
// two, the rating bars, a bar per day with today's at the top of the
// scale, the admin's row in the table by agent; a filter with nothing in
// it says so; the CSV by day has today's row.
func TestBrowserReports(t *testing.T) {
	srv := startServer(t)
	admin := newBrowser(t)
	admin.signIn(srv, testAdminEmail, testAdminPassword)
	for i, rating := range []int{5, 3, 0} {
		customer := admin.isolatedTab()
		id := customer.startConversation(srv, contactForm{Name: "Customer " + string(rune('A'+i)), Email: "c@example.com", Topic: "order", OrderNumber: "A-1", Message: "Question"})
		customer.waitLive()
		admin.open(srv, "/agent/conversations/"+id, http.StatusOK)
		admin.waitLive()
		admin.clickTo("join", tid("action-join"), "/agent/conversations/"+id)
		admin.waitLive()
		admin.do("reply", chromedp.SendKeys(tid("agent-composer-body"), "Here is the answer."), chromedp.Click(tid("agent-send")))
		admin.waitFor("the reply is acknowledged", messageIsShownJS("Here is the answer.", "out"))
		admin.clickTo("end", tid("action-end"), "/agent/conversations/"+id)
		if rating > 0 {
			customer.do("rate", chromedp.WaitVisible(tid("rating-form")), chromedp.Click(`label[for="rating-`+string(rune('0'+rating))+`"]`))
			customer.navigate("send the rating", chromedp.Click(tid("rating-submit")))
			customer.waitFor("the rating is taken", `document.querySelector('[data-testid="rating-thanks"]') !== null`)
		}
	}

	admin.open(srv, "/admin/reports", http.StatusOK)
	card := func(id string) string { return admin.text(tid(id + "-value")) }
	if got := card("card-conversations"); got != "3" {
		admin.fatalf("conversations = %q", got)
	}
	if got, detail := card("card-csat"), admin.text(tid("card-csat-detail")); got != "4.0 / 5" || detail != "2 ratings" {
		admin.fatalf("satisfaction = %q (%q), want 4.0 / 5 from 2 ratings", got, detail)
	}
	if got := runAction(admin, "read the rating bars", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('[data-testid="chart-ratings"] [data-testid="chart-bar"]')).map(b => b.querySelector('title').textContent + "@" + b.getAttribute("height")).join("|")`)); !strings.HasPrefix(got, "1 stars: 0@0|2 stars: 0@0|3 stars: 1@204|4 stars: 0@0|5 stars: 1@204") {
		admin.fatalf("rating bars = %q", got)
	}
	// Today, the last of the 30 days, holds all three: the full height.
	bars := runAction(admin, "read the bars per day", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('[data-testid="chart-per-day"] [data-testid="chart-bar"]')).map(b => b.getAttribute("height"))`))
	if len(bars) != 30 || bars[29] != "204" || bars[0] != "0" {
		admin.fatalf("bars per day = %q, want 30 with today's full", bars)
	}
	if got := admin.text(chromedp.CSS(`[data-testid="report-by-agent"] [data-testid="report-row"] th`)); got != testAdminName {
		admin.fatalf("by agent = %q", got)
	}
	if got := runAction(admin, "read the agent's conversations", chromedp.Evaluate[string](`document.querySelector('[data-testid="report-by-agent"] [data-testid="report-row"] td').textContent`)); got != "3" {
		admin.fatalf("the admin's conversations = %q", got)
	}

	// The CSV by day, as the link gives it.
	csvText := runAction(admin, "fetch the CSV", chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid="report-csv-day"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	lines := strings.Split(strings.TrimSpace(csvText), "\n")
	today := time.Now().UTC().Format(time.DateOnly)
	if len(lines) != 31 || !strings.HasPrefix(lines[30], today+",3,3,") || !strings.Contains(lines[30], ",2,4.00,0,0,1,0,1") {
		admin.fatalf("CSV: %d lines, last %q", len(lines), lines[len(lines)-1])
	}

	// A form with nothing in the range.
	admin.do("choose the sales form", chromedp.SetValue(tid("report-form"), "sales"))
	admin.clickTo("show", tid("report-submit"), "/admin/reports")
	if got := admin.text(tid("report-empty")); got != "No conversation started in this range." {
		admin.fatalf("an empty report says %q", got)
	}
}
