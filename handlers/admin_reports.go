package handlers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// reportRangeDays is the range a report shows when none is asked for.
const reportRangeDays = 30

// reportParams reads a report's filters: from and to are dates, to
// included; with neither, the last reportRangeDays days up to today.
func reportParams(c echo.Context, now time.Time) (q kustomer.ReportQuery, from, to string, problem string) {
	today := now.UTC().Truncate(24 * time.Hour)
	from, to = c.QueryParam("from"), c.QueryParam("to")
	q = kustomer.ReportQuery{FormID: c.QueryParam("form"), Skill: c.QueryParam("skill"), AgentID: c.QueryParam("agent"),
		From: today.AddDate(0, 0, 1-reportRangeDays), To: today.AddDate(0, 0, 1)}
	if from == "" && to == "" {
		return q, q.From.Format(time.DateOnly), today.Format(time.DateOnly), ""
	}
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return q, from, to, "Give both dates, like 2026-11-01."
	}
	q.From, q.To = f, t.AddDate(0, 0, 1)
	return q, from, to, ""
}

// adminReports is GET /admin/reports.
func (s *Server) adminReports(c echo.Context) error {
	a := currentAgent(c)
	ctx := c.Request().Context()
	q, from, to, problem := reportParams(c, time.Now())
	p := views.ReportsPage{AgentPage: s.agentPage(c, "Reports", "reports"), From: from, To: to}
	agents, err := s.engine.Agents(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, ag := range agents {
		names[ag.ID] = ag.Name
	}
	cfg := s.engine.Config()
	p.Forms = append(p.Forms, views.OptionView{Value: "", Label: "All forms", Selected: q.FormID == ""})
	for _, f := range cfg.Forms {
		p.Forms = append(p.Forms, views.OptionView{Value: f.ID, Label: f.Title.String(), Selected: f.ID == q.FormID})
	}
	p.Skills = append(p.Skills, views.OptionView{Value: "", Label: "All queues", Selected: q.Skill == ""})
	for _, sk := range cfg.Skills {
		p.Skills = append(p.Skills, views.OptionView{Value: sk.ID, Label: sk.Name, Selected: sk.ID == q.Skill})
	}
	p.Agents = append(p.Agents, views.OptionView{Value: "", Label: "All agents", Selected: q.AgentID == ""})
	for _, ag := range agents {
		p.Agents = append(p.Agents, views.OptionView{Value: ag.ID, Label: ag.Name, Selected: ag.ID == q.AgentID})
	}
	status := http.StatusOK
	var r kustomer.Report
	if problem == "" {
		r, err = s.engine.Report(ctx, a, q)
		var verr *kustomer.ValidationError
		if errors.As(err, &verr) {
			problem = sentence(firstValue(verr.Fields))
		} else if err != nil {
			return err
		}
	}
	noStore(c)
	if problem != "" {
		p.FilterError = problem
		status = http.StatusUnprocessableEntity
		return render(c, status, views.ReportsView(p))
	}
	p.Cut, p.Empty = r.Cut, r.Total.Conversations == 0
	t := r.Total
	p.Cards = []views.ReportCard{
		{Label: "Conversations", Value: strconv.Itoa(t.Conversations), Detail: fmt.Sprintf("%d answered, %d ended", t.FirstResponse.N, t.Resolution.N), TestID: "card-conversations"},
		{Label: "First response", Value: reportDuration(t.FirstResponse.Median, t.FirstResponse.N), Detail: "median · 90th pct. " + reportDuration(t.FirstResponse.P90, t.FirstResponse.N), TestID: "card-first-response"},
		{Label: "Resolution", Value: reportDuration(t.Resolution.Median, t.Resolution.N), Detail: "median · 90th pct. " + reportDuration(t.Resolution.P90, t.Resolution.N), TestID: "card-resolution"},
		{Label: "Satisfaction", Value: ratingText(t), Detail: plural(t.RatingCount(), "rating", "ratings"), TestID: "card-csat"},
	}
	p.Charts = reportCharts(r)
	groupName := func(kind string) func(string) string {
		return func(key string) string {
			switch kind {
			case "form":
				if f, ok := cfg.Form(key); ok {
					return f.Title.String()
				}
			case "skill":
				if key == "" {
					return "General queue"
				}
				if sk, ok := cfg.Skill(key); ok {
					return sk.Name
				}
			case "agent":
				if key == "" {
					return "Nobody assigned"
				}
				if n, ok := names[key]; ok {
					return n
				}
			}
			return key
		}
	}
	for _, g := range []struct {
		title, id string
		rows      []kustomer.GroupStats
		name      func(string) string
	}{
		{"By form", "report-by-form", r.ByForm, groupName("form")},
		{"By queue", "report-by-skill", r.BySkill, groupName("skill")},
		{"By agent", "report-by-agent", r.ByAgent, groupName("agent")},
	} {
		if len(g.rows) == 0 {
			continue
		}
		group := views.ReportGroup{Title: g.title, TestID: g.id}
		for _, row := range g.rows {
			group.Rows = append(group.Rows, reportRow(g.name(row.Key), row.Stats))
		}
		p.Groups = append(p.Groups, group)
	}
	for _, by := range []string{"day", "form", "skill", "agent"} {
		v := c.QueryParams()
		v.Set("by", by)
		v.Set("from", from)
		v.Set("to", to)
		p.CSV = append(p.CSV, views.ReportLink{Label: by, URL: "/admin/reports.csv?" + v.Encode()})
	}
	return render(c, status, views.ReportsView(p))
}

// reportRow formats one group's sums.
func reportRow(name string, s kustomer.Stats) views.ReportRow {
	return views.ReportRow{
		Name: name, Conversations: strconv.Itoa(s.Conversations),
		FirstMedian: reportDuration(s.FirstResponse.Median, s.FirstResponse.N), FirstP9: reportDuration(s.FirstResponse.P90, s.FirstResponse.N),
		ResMedian: reportDuration(s.Resolution.Median, s.Resolution.N), ResP90: reportDuration(s.Resolution.P90, s.Resolution.N),
		Rating: ratingText(s),
	}
}

// reportDuration says a duration on the reports page: "—" with none to
// measure.
func reportDuration(d time.Duration, n int) string {
	switch {
	case n == 0:
		return "—"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}

// ratingText is the average rating out of 5, "—" with no rating.
func ratingText(s kustomer.Stats) string {
	if s.RatingCount() == 0 {
		return "—"
	}
	return strconv.FormatFloat(s.RatingAverage(), 'f', 1, 64) + " / 5"
}

// Chart geometry, in the SVG's units.
const (
	chartWidth  = 720.0
	chartHeight = 260.0
	chartLeft   = 48.0
	chartTop    = 24.0
	chartBottom = 228.0 // the x axis
)

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// bars lays out values as a bar chart with labels every few bars.
func bars(id, title, summary string, values []float64, label func(i int) string, barTitle func(i int) string, yLabel func(max float64) string) views.BarChart {
	c := views.BarChart{ID: id, Title: title, Summary: summary, Width: num(chartWidth), Height: num(chartHeight), Baseline: num(chartBottom)}
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	c.YLabel = yLabel(top)
	if top == 0 {
		top = 1
	}
	slot := (chartWidth - chartLeft) / float64(max(1, len(values)))
	every := max(1, int(math.Ceil(float64(len(values))/8)))
	for i, v := range values {
		h := (chartBottom - chartTop) * v / top
		x := chartLeft + float64(i)*slot + slot*0.15
		c.Bars = append(c.Bars, views.Bar{X: num(x), Y: num(chartBottom - h), W: num(max(1, slot*0.7)), H: num(h), Title: barTitle(i)})
		if i%every == 0 {
			c.Labels = append(c.Labels, views.ChartLabel{X: num(x + slot*0.35), Y: num(chartHeight - 8), Text: label(i)})
		}
	}
	return c
}

// reportCharts draws conversations per day, the median first response
// per day, and the ratings' distribution.
func reportCharts(r kustomer.Report) []views.BarChart {
	if r.Total.Conversations == 0 {
		return nil
	}
	dayLabel := func(i int) string { return r.Days[i].Day.Format("2 Jan") }
	counts := make([]float64, len(r.Days))
	firsts := make([]float64, len(r.Days))
	for i, d := range r.Days {
		counts[i] = float64(d.Conversations)
		firsts[i] = d.FirstResponse.Median.Minutes()
	}
	charts := []views.BarChart{
		bars("per-day", "Conversations per day", fmt.Sprintf("%d conversations over %d days", r.Total.Conversations, len(r.Days)), counts, dayLabel,
			func(i int) string {
				return r.Days[i].Day.Format("Mon 2 Jan") + ": " + plural(r.Days[i].Conversations, "conversation", "conversations")
			},
			func(top float64) string { return strconv.Itoa(int(top)) }),
		bars("first-response", "First response per day (median)", "The median time to the first answer of each day's conversations", firsts, dayLabel,
			func(i int) string {
				d := r.Days[i]
				return d.Day.Format("Mon 2 Jan") + ": " + reportDuration(d.FirstResponse.Median, d.FirstResponse.N) + " (90th pct. " + reportDuration(d.FirstResponse.P90, d.FirstResponse.N) + ")"
			},
			func(top float64) string { return reportDuration(time.Duration(top*float64(time.Minute)), 1) }),
	}
	ratings := make([]float64, 5)
	for i, n := range r.Total.Ratings {
		ratings[i] = float64(n)
	}
	charts = append(charts, bars("ratings", "Ratings", fmt.Sprintf("%s, average %s", plural(r.Total.RatingCount(), "rating", "ratings"), ratingText(r.Total)), ratings,
		func(i int) string { return strconv.Itoa(i+1) + " ★" },
		func(i int) string { return strconv.Itoa(i+1) + " stars: " + strconv.Itoa(r.Total.Ratings[i]) },
		func(top float64) string { return strconv.Itoa(int(top)) }))
	return charts
}

// adminReportsCSV is GET /admin/reports.csv: the report by day, form,
// skill or agent (by), one row each.
func (s *Server) adminReportsCSV(c echo.Context) error {
	a := currentAgent(c)
	ctx := c.Request().Context()
	q, from, to, problem := reportParams(c, time.Now())
	if problem != "" {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "bad_range", Title: "Bad range", Detail: problem}
	}
	r, err := s.engine.Report(ctx, a, q)
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "bad_range", Title: "Bad range", Detail: sentence(firstValue(verr.Fields))}
	}
	if err != nil {
		return err
	}
	by := c.QueryParam("by")
	head := []string{"conversations", "answered", "first_response_median_s", "first_response_p90_s", "ended", "resolution_median_s", "resolution_p90_s",
		"ratings", "rating_average", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5"}
	var rows [][]string
	line := func(key string, st kustomer.Stats) []string {
		avg := ""
		if st.RatingCount() > 0 {
			avg = strconv.FormatFloat(st.RatingAverage(), 'f', 2, 64)
		}
		secs := func(d time.Duration, n int) string {
			if n == 0 {
				return ""
			}
			return strconv.FormatInt(int64(d/time.Second), 10)
		}
		out := []string{key, strconv.Itoa(st.Conversations), strconv.Itoa(st.FirstResponse.N), secs(st.FirstResponse.Median, st.FirstResponse.N), secs(st.FirstResponse.P90, st.FirstResponse.N),
			strconv.Itoa(st.Resolution.N), secs(st.Resolution.Median, st.Resolution.N), secs(st.Resolution.P90, st.Resolution.N), strconv.Itoa(st.RatingCount()), avg}
		for _, n := range st.Ratings {
			out = append(out, strconv.Itoa(n))
		}
		return out
	}
	var groups []kustomer.GroupStats
	switch by {
	case "", "day":
		by = "day"
		for _, d := range r.Days {
			rows = append(rows, line(d.Day.Format(time.DateOnly), d.Stats))
		}
	case "form":
		groups = r.ByForm
	case "skill":
		groups = r.BySkill
	case "agent":
		groups = r.ByAgent
	default:
		return &Error{Status: http.StatusBadRequest, Code: "bad_by", Title: "Bad request", Detail: "by must be day, form, skill or agent."}
	}
	for _, g := range groups {
		rows = append(rows, line(g.Key, g.Stats))
	}
	noStore(c)
	name := fmt.Sprintf("handoff-report-%s-%s-by-%s.csv", from, to, by)
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+url.PathEscape(name)+`"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write(append([]string{by}, head...)); err != nil {
		return err
	}
	for _, row := range rows {
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
