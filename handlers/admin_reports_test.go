package handlers

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

// TestAdminReports: the reports page of a range with known conversations
// shows their number, first-response and resolution times, ratings, a bar
// per day, tables by form, queue and agent, and the same as CSV; a bad
// range is said with the filters kept; agents cannot read reports.
func TestAdminReports(t *testing.T) {
	e := newEnv(t)
	admin, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	ctx := t.Context()
	// Three conversations today: answered by Root after a while, ended,
	// rated 5, 4 and not at all.
	for i, rating := range []int{5, 4, 0} {
		id := e.client().handoff(t)
		if _, err := e.engine.Join(ctx, root.Actor(), id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.engine.SendMessage(ctx, root.Actor(), kustomer.SendMessageInput{ConversationID: id, Body: "hello"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.engine.EndConversation(ctx, root.Actor(), id); err != nil {
			t.Fatal(err)
		}
		if rating > 0 {
			c, _ := e.engine.Conversation(ctx, root.Actor(), id)
			if _, err := e.engine.RateConversation(ctx, kustomer.CustomerActor(c.CustomerID), id, rating, ""); err != nil {
				t.Fatalf("rate %d: %v", i, err)
			}
		}
	}
	res := admin.get("/admin/reports")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/reports: %d", res.StatusCode)
	}
	doc := res.doc(t)
	today := time.Now().UTC().Format(time.DateOnly)
	if doc.Find(`[data-testid="report-to"]`).AttrOr("value", "") != today || doc.Find(`[data-testid="nav-reports"][aria-current="page"]`).Length() != 1 {
		t.Errorf("default range ends %q, want today %s (or the nav link is not current)", doc.Find(`[data-testid="report-to"]`).AttrOr("value", ""), today)
	}
	card := func(id string) string { return strings.TrimSpace(doc.Find(`[data-testid="` + id + `-value"]`).Text()) }
	if got := card("card-conversations"); got != "3" {
		t.Errorf("conversations = %q", got)
	}
	if got := card("card-csat"); got != "4.5 / 5" {
		t.Errorf("satisfaction = %q, want 4.5 / 5", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="card-csat-detail"]`).Text()); got != "2 ratings" {
		t.Errorf("ratings = %q", got)
	}
	if got := card("card-first-response"); got != "0 s" && !strings.HasSuffix(got, " s") {
		t.Errorf("first response = %q, want seconds", got)
	}
	if n := doc.Find(`[data-testid="chart-per-day"] [data-testid="chart-bar"]`).Length(); n != 30 {
		t.Errorf("bars per day = %d, want 30 (the default range)", n)
	}
	if got := doc.Find(`[data-testid="chart-ratings"] [data-testid="chart-bar"] title`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }); strings.Join(got, "|") != "1 stars: 0|2 stars: 0|3 stars: 0|4 stars: 1|5 stars: 1" {
		t.Errorf("rating bars = %q", got)
	}
	cells := doc.Find(`[data-testid="report-by-agent"] [data-testid="report-row"]`).First().Find("th, td").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if got := strings.Join(cells, "|"); len(cells) != 7 || cells[0] != "Root" || cells[1] != "3" || cells[6] != "4.5 / 5" {
		t.Errorf("by agent = %q", got)
	}

	// CSV by day: today's row holds the three.
	csvURL := doc.Find(`[data-testid="report-csv-day"]`).AttrOr("href", "")
	res = admin.get(csvURL)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	records, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	last := records[len(records)-1]
	if len(records) != 31 || records[0][0] != "day" || last[0] != today || last[1] != "3" || last[2] != "3" || last[8] != "2" || last[9] != "4.50" || last[13] != "1" || last[14] != "1" {
		t.Errorf("CSV: %d rows, header %q, last %q", len(records), records[0], last)
	}
	if res := admin.get(strings.Replace(csvURL, "by=day", "by=agent", 1)); !strings.Contains(string(res.Body), root.ID+",3,") {
		t.Errorf("CSV by agent:\n%s", res.Body)
	}

	// A bad range: said, the filters kept.
	res = admin.get("/admin/reports?from=2026-02-01&to=2025-01-01")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.doc(t).Find(`[data-testid="report-error"]`).Text(), "after the start") {
		t.Errorf("reversed range: %d", res.StatusCode)
	}
	if res := admin.get("/admin/reports?from=nonsense&to=2025-01-01"); res.StatusCode != http.StatusUnprocessableEntity ||
		res.doc(t).Find(`[data-testid="report-from"]`).AttrOr("value", "") != "nonsense" {
		t.Errorf("a bad date: %d", res.StatusCode)
	}
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	for _, path := range []string{"/admin/reports", csvURL} {
		if res := agent.get(path); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", path, res.StatusCode)
		}
	}
}
