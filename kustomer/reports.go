package kustomer

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// ReportFact is what a report reads of one conversation.
type ReportFact struct {
	ConversationID  string
	CreatedAt       time.Time
	FormID          string
	Skill           string
	AssigneeID      string
	FirstResponseAt *time.Time
	EndedAt         *time.Time
	Rating          int // 0 when not rated
}

// ReportQuery selects the conversations of a report: created in [From,
// To), of a form, skill or agent when set.
type ReportQuery struct {
	From, To time.Time
	FormID   string
	Skill    string
	AgentID  string
}

// Limits of reports.
const (
	// MaxReportDays bounds a report's range.
	MaxReportDays = 366
	// MaxReportConversations bounds the conversations one report reads;
	// a report past it says it is cut.
	MaxReportConversations = 200_000
)

// Stats sums up a set of conversations.
type Stats struct {
	Conversations int
	// FirstResponse is the time from the conversation's start to the
	// organization's first answer (of those answered), Resolution to its
	// end (of those ended).
	FirstResponse Durations
	Resolution    Durations
	// Ratings counts the ratings by value, 1 to 5 at [0] to [4].
	Ratings [5]int
}

// Durations are the median and 90th percentile of N durations.
type Durations struct {
	N      int
	Median time.Duration
	P90    time.Duration
}

// RatingCount is how many conversations were rated.
func (s Stats) RatingCount() int {
	n := 0
	for _, c := range s.Ratings {
		n += c
	}
	return n
}

// RatingAverage is the mean rating, 0 with none.
func (s Stats) RatingAverage() float64 {
	n, sum := 0, 0
	for i, c := range s.Ratings {
		n += c
		sum += c * (i + 1)
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

// Report is what the reports page shows: the whole range, each day, and
// the same sums per form, skill and agent.
type Report struct {
	Query   ReportQuery
	Total   Stats
	Days    []DayStats // every day of the range, in order
	ByForm  []GroupStats
	BySkill []GroupStats
	ByAgent []GroupStats
	// Cut says the range held more than MaxReportConversations: the
	// report covers the first of them.
	Cut bool
}

// DayStats sums up the conversations created on one day (UTC).
type DayStats struct {
	Day time.Time
	Stats
}

// GroupStats sums up the conversations of one form, skill or agent (Key;
// "" is none: the general queue, or nobody assigned).
type GroupStats struct {
	Key string
	Stats
}

// Report computes the report of q for an admin. From and To are whole UTC
// days; To is exclusive.
func (e *Engine) Report(ctx context.Context, by Agent, q ReportQuery) (Report, error) {
	if by.Role != RoleAdmin || by.Disabled {
		return Report{}, fmt.Errorf("report: %w", ErrForbidden)
	}
	q.From, q.To = q.From.UTC().Truncate(24*time.Hour), q.To.UTC().Truncate(24*time.Hour)
	days := int(q.To.Sub(q.From) / (24 * time.Hour))
	switch {
	case days <= 0:
		return Report{}, &ValidationError{Fields: map[string]string{"to": "must be after the start"}}
	case days > MaxReportDays:
		return Report{}, &ValidationError{Fields: map[string]string{"to": fmt.Sprintf("the range must be at most %d days", MaxReportDays)}}
	}
	facts, err := e.store.ReportFacts(ctx, q, MaxReportConversations+1)
	if err != nil {
		return Report{}, err
	}
	r := Report{Query: q}
	if len(facts) > MaxReportConversations {
		facts, r.Cut = facts[:MaxReportConversations], true
	}
	r.Total = stats(facts)
	byDay := make([][]ReportFact, days)
	for _, f := range facts {
		if i := int(f.CreatedAt.Sub(q.From) / (24 * time.Hour)); i >= 0 && i < days {
			byDay[i] = append(byDay[i], f)
		}
	}
	for i, fs := range byDay {
		r.Days = append(r.Days, DayStats{Day: q.From.AddDate(0, 0, i), Stats: stats(fs)})
	}
	r.ByForm = groups(facts, func(f ReportFact) string { return f.FormID })
	r.BySkill = groups(facts, func(f ReportFact) string { return f.Skill })
	r.ByAgent = groups(facts, func(f ReportFact) string { return f.AssigneeID })
	return r, nil
}

// groups sums up facts by key, the largest group first.
func groups(facts []ReportFact, key func(ReportFact) string) []GroupStats {
	by := map[string][]ReportFact{}
	for _, f := range facts {
		by[key(f)] = append(by[key(f)], f)
	}
	out := make([]GroupStats, 0, len(by))
	for k, fs := range by {
		out = append(out, GroupStats{Key: k, Stats: stats(fs)})
	}
	slices.SortFunc(out, func(a, b GroupStats) int {
		return cmp.Or(cmp.Compare(b.Conversations, a.Conversations), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// stats sums up facts.
func stats(facts []ReportFact) Stats {
	s := Stats{Conversations: len(facts)}
	var first, resolved []time.Duration
	for _, f := range facts {
		if f.FirstResponseAt != nil {
			first = append(first, max(0, f.FirstResponseAt.Sub(f.CreatedAt)))
		}
		if f.EndedAt != nil {
			resolved = append(resolved, max(0, f.EndedAt.Sub(f.CreatedAt)))
		}
		if f.Rating >= 1 && f.Rating <= 5 {
			s.Ratings[f.Rating-1]++
		}
	}
	s.FirstResponse, s.Resolution = durations(first), durations(resolved)
	return s
}

// durations is the median and 90th percentile of ds (nearest rank).
func durations(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	slices.Sort(ds)
	return Durations{N: len(ds), Median: percentile(ds, 0.5), P90: percentile(ds, 0.9)}
}

// percentile is the nearest-rank p-th percentile of sorted ds.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[max(0, min(len(sorted), rank)-1)]
}
