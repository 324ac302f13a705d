package kustomertest

import (
	"slices"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// day is midnight UTC of the n-th day after t0's.
func day(n int) time.Time { return t0.UTC().Truncate(24*time.Hour).AddDate(0, 0, n) }

// reportConversation stores a conversation created at created, of form
// and skill, assigned to assignee (when set), answered after answer and
// ended after end (when not zero), and rated (when not 0).
func reportConversation(t *testing.T, s kustomer.Store, created time.Time, form, skill, assignee string, answer, end time.Duration, rating int) kustomer.Conversation {
	t.Helper()
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), created, "hello")
	nc.Conversation.FormID = form
	c, _ := create(t, s, nc)
	if assignee != "" || skill != "" {
		_, _, err := s.UpdateAssignment(ctx, c.ID, kustomer.Assignment{AssigneeID: assignee, Skill: skill}, created, systemEvent(c.ID, "assigned", created))
		must(t, "UpdateAssignment", err)
	}
	if answer > 0 {
		appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "an answer", created.Add(answer)))
	}
	if end > 0 {
		_, _, _, err := s.EndConversation(ctx, c.ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: "a"}, created.Add(end), systemEvent(c.ID, "ended", created.Add(end)))
		must(t, "EndConversation", err)
	}
	if rating > 0 {
		_, err := s.RateConversation(ctx, c.ID, kustomer.Satisfaction{Rating: rating, CreatedAt: created.Add(end + time.Minute)})
		must(t, "RateConversation", err)
	}
	return c
}

// testReportFacts checks what reports read: the conversations created in
// the range (its end excluded), oldest first, with their form, skill,
// assignee, first answer, end and rating, narrowed by form, skill and
// assignee, at most limit of them.
func testReportFacts(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	before := reportConversation(t, s, day(0).Add(-time.Minute), "contact", "", "", 0, 0, 0)
	a := reportConversation(t, s, day(0).Add(time.Hour), "contact", "billing", "ada", 2*time.Minute, time.Hour, 4)
	b := reportConversation(t, s, day(1).Add(time.Hour), "sales", "", "bob", 0, 0, 0)
	after := reportConversation(t, s, day(2), "contact", "", "", 0, 0, 0)
	ids := func(q kustomer.ReportQuery, limit int) []string {
		t.Helper()
		facts, err := s.ReportFacts(ctx, q, limit)
		must(t, "ReportFacts", err)
		out := []string{}
		for _, f := range facts {
			out = append(out, f.ConversationID)
		}
		return out
	}
	if got := ids(kustomer.ReportQuery{From: day(0), To: day(2)}, 10); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Errorf("facts of days 0 and 1 = %q, want a and b (not %s before, nor %s at the end)", got, before.ID, after.ID)
	}
	facts, err := s.ReportFacts(ctx, kustomer.ReportQuery{From: day(0), To: day(1)}, 10)
	must(t, "ReportFacts", err)
	if len(facts) != 1 {
		t.Fatalf("facts of day 0 = %+v", facts)
	}
	f := facts[0]
	if !f.CreatedAt.Equal(day(0).Add(time.Hour)) || f.FormID != "contact" || f.Skill != "billing" || f.AssigneeID != "ada" ||
		!timeIs(f.FirstResponseAt, day(0).Add(time.Hour+2*time.Minute)) || !timeIs(f.EndedAt, day(0).Add(2*time.Hour)) || f.Rating != 4 {
		t.Errorf("fact = %+v", f)
	}
	for _, tt := range []struct {
		q    kustomer.ReportQuery
		want []string
	}{
		{kustomer.ReportQuery{FormID: "sales"}, []string{b.ID}},
		{kustomer.ReportQuery{Skill: "billing"}, []string{a.ID}},
		{kustomer.ReportQuery{AgentID: "bob"}, []string{b.ID}},
		{kustomer.ReportQuery{AgentID: "nobody"}, []string{}},
	} {
		tt.q.From, tt.q.To = day(0), day(3)
		if got := ids(tt.q, 10); !slices.Equal(got, tt.want) {
			t.Errorf("facts of %+v = %q, want %q", tt.q, got, tt.want)
		}
	}
	if got := ids(kustomer.ReportQuery{From: day(-1), To: day(3)}, 2); !slices.Equal(got, []string{before.ID, a.ID}) {
		t.Errorf("facts with a limit of 2 = %q, want the two oldest", got)
	}
}

// testEngineReport checks a report's sums: conversations per day (every
// day of the range, empty ones too), first-response and resolution times'
// median and 90th percentile (nearest rank), the ratings' distribution and
// average, per form, skill and agent; admins only; a bounded range.
func testEngineReport(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	// Day 0: ten conversations answered after 1..10 minutes, ended after
	// 1..10 hours, rated 5 (six of them) and 1 (two); day 2: one
	// unanswered, of another form.
	for i := 1; i <= 10; i++ {
		rating := 0
		switch {
		case i <= 6:
			rating = 5
		case i <= 8:
			rating = 1
		}
		agent := "ada"
		if i%2 == 0 {
			agent = "bob"
		}
		reportConversation(t, f.store, day(0).Add(time.Duration(i)*time.Minute), "contact", "", agent, time.Duration(i)*time.Minute, time.Duration(i)*time.Hour, rating)
	}
	reportConversation(t, f.store, day(2).Add(time.Hour), "sales", "billing", "", 0, 0, 0)

	_, err := f.engine.Report(ctx, f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent), kustomer.ReportQuery{From: day(0), To: day(3)})
	wantErr(t, "Report by an agent", err, kustomer.ErrForbidden)
	_, err = f.engine.Report(ctx, root, kustomer.ReportQuery{From: day(3), To: day(3)})
	wantValidation(t, "Report of an empty range", err, "to")
	_, err = f.engine.Report(ctx, root, kustomer.ReportQuery{From: day(0), To: day(kustomer.MaxReportDays + 1)})
	wantValidation(t, "Report of a range too long", err, "to")

	r, err := f.engine.Report(ctx, root, kustomer.ReportQuery{From: day(0), To: day(3)})
	must(t, "Report", err)
	tot := r.Total
	if tot.Conversations != 11 || tot.FirstResponse != (kustomer.Durations{N: 10, Median: 5 * time.Minute, P90: 9 * time.Minute}) ||
		tot.Resolution != (kustomer.Durations{N: 10, Median: 5 * time.Hour, P90: 9 * time.Hour}) || tot.Ratings != [5]int{2, 0, 0, 0, 6} {
		t.Errorf("total = %+v", tot)
	}
	if got := tot.RatingAverage(); got != 4 {
		t.Errorf("average rating = %v, want (2×1 + 6×5) / 8 = 4", got)
	}
	var perDay []int
	for _, d := range r.Days {
		perDay = append(perDay, d.Conversations)
	}
	if !slices.Equal(perDay, []int{10, 0, 1}) || !r.Days[1].Day.Equal(day(1)) {
		t.Errorf("conversations per day = %v (day 1 %v), want 10, 0, 1", perDay, r.Days[1].Day)
	}
	keys := func(gs []kustomer.GroupStats) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Key)
		}
		return out
	}
	if got := keys(r.ByForm); !slices.Equal(got, []string{"contact", "sales"}) || r.ByForm[0].Conversations != 10 {
		t.Errorf("by form = %q (%d), want contact (10), sales", got, r.ByForm[0].Conversations)
	}
	if got := keys(r.BySkill); !slices.Equal(got, []string{"", "billing"}) {
		t.Errorf("by skill = %q, want the general queue, billing", got)
	}
	if got := keys(r.ByAgent); !slices.Equal(got, []string{"ada", "bob", ""}) ||
		r.ByAgent[0].FirstResponse != (kustomer.Durations{N: 5, Median: 5 * time.Minute, P90: 9 * time.Minute}) {
		t.Errorf("by agent = %q, Ada's first responses %+v; want ada, bob, nobody, Ada's 1,3,5,7,9 min: median 5, p90 9", got, r.ByAgent[0].FirstResponse)
	}
	narrowed, err := f.engine.Report(ctx, root, kustomer.ReportQuery{From: day(0), To: day(3), AgentID: "bob"})
	must(t, "Report of Bob", err)
	if narrowed.Total.Conversations != 5 || narrowed.Total.Ratings != [5]int{1, 0, 0, 0, 3} {
		t.Errorf("Bob's report = %+v, want 5 conversations, ratings 1×1 and 3×5", narrowed.Total)
	}
}
