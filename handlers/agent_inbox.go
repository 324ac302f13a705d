package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

var queueLabels = []struct {
	q     kustomer.Queue
	label string
}{
	{kustomer.QueueUnassigned, "Unassigned"},
	{kustomer.QueueMine, "Mine"},
	{kustomer.QueueOpen, "All open"},
	{kustomer.QueueEnded, "Ended"},
}

// matchLabels name where a search matched, for the inbox.
var matchLabels = map[string]string{
	kustomer.MatchMessage:    "Message",
	kustomer.MatchCustomer:   "Customer",
	kustomer.MatchAttributes: "Attributes",
}

// agentInbox renders the inbox: a queue, filtered by form and skill.
func (s *Server) agentInbox(c echo.Context) error {
	p, err := s.inboxPage(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.InboxView(p))
}

// agentInboxList renders only the inbox list, for live refreshes.
func (s *Server) agentInboxList(c echo.Context) error {
	p, err := s.inboxPage(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.InboxList(p))
}

func (s *Server) inboxPage(c echo.Context) (views.InboxPage, error) {
	a := currentAgent(c)
	q := kustomer.Queue(c.QueryParam("queue"))
	if q == "" {
		q = kustomer.QueueUnassigned
	}
	page, pageSize, err := pageParams(c)
	if err != nil {
		return views.InboxPage{}, err
	}
	f := kustomer.ConversationFilter{Queue: q, FormID: c.QueryParam("form"), Skill: c.QueryParam("skill")}
	if l := c.QueryParam("label"); kustomer.ValidID(l) {
		f.Label = l
	}
	search := strings.TrimSpace(c.QueryParam("q"))
	var searchErr string
	if search != "" {
		terms, err := kustomer.SearchTerms(search, "q")
		var verr *kustomer.ValidationError
		switch {
		case errors.As(err, &verr):
			searchErr = "The search " + verr.Fields["q"] + "."
		case err != nil:
			return views.InboxPage{}, err
		case len(terms) == 0:
			searchErr = "Type a word or a number to search for."
		}
		f.Terms = terms
	}
	ctx := c.Request().Context()
	res, err := s.engine.Inbox(ctx, a.Actor(), f, page, pageSize)
	if err != nil {
		return views.InboxPage{}, err
	}
	cfg := s.engine.Config()
	query := func(queue kustomer.Queue, page int) url.Values {
		v := url.Values{"queue": {string(queue)}}
		if f.FormID != "" {
			v.Set("form", f.FormID)
		}
		if f.Skill != "" {
			v.Set("skill", f.Skill)
		}
		if f.Label != "" {
			v.Set("label", f.Label)
		}
		if search != "" {
			v.Set("q", search)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		return v
	}
	p := views.InboxPage{
		AgentPage:  s.agentPage(c, "Inbox", "inbox"),
		Queue:      string(q),
		Total:      res.Total,
		SocketURL:  "/agent/ws",
		RefreshURL: "/agent/inbox?" + query(q, page).Encode(),
		Now:        time.Now(),
		Pager:      views.Pager{Current: page},

		Query:       search,
		Searching:   len(f.Terms) > 0,
		SearchError: searchErr,
	}
	if search != "" {
		clear := query(q, 1)
		clear.Del("q")
		p.ClearSearchURL = "/agent?" + clear.Encode()
	}
	for _, ql := range queueLabels {
		p.Queues = append(p.Queues, views.QueueTab{ID: string(ql.q), Label: ql.label, URL: "/agent?" + query(ql.q, 1).Encode(), Active: ql.q == q})
	}
	p.Forms = append(p.Forms, views.OptionView{Value: "", Label: "All forms", Selected: f.FormID == ""})
	for _, fm := range cfg.Forms {
		p.Forms = append(p.Forms, views.OptionView{Value: fm.ID, Label: fm.Title.String(), Selected: fm.ID == f.FormID})
	}
	p.Skills = append(p.Skills, views.OptionView{Value: "", Label: "All skills", Selected: f.Skill == ""})
	for _, sk := range cfg.Skills {
		p.Skills = append(p.Skills, views.OptionView{Value: sk.ID, Label: sk.Name, Selected: sk.ID == f.Skill})
	}
	labels, err := s.engine.Labels(ctx)
	if err != nil {
		return views.InboxPage{}, err
	}
	if len(labels) > 0 {
		p.Labels = append(p.Labels, views.OptionView{Value: "", Label: "All labels", Selected: f.Label == ""})
	}
	for _, l := range labels {
		p.Labels = append(p.Labels, views.OptionView{Value: l.ID, Label: l.Name, Selected: l.ID == f.Label})
	}
	if page > 1 {
		p.Pager.FirstURL = "/agent?" + query(q, 1).Encode()
	}
	if res.Pages.Previous != nil {
		p.Pager.PreviousURL = "/agent?" + query(q, *res.Pages.Previous).Encode()
	}
	if res.Pages.Next != nil {
		p.Pager.NextURL = "/agent?" + query(q, *res.Pages.Next).Encode()
	}
	customers := map[string]kustomer.Customer{}
	for _, conv := range res.Conversations {
		row := s.inboxRow(ctx, a, conv, customers, p.Now)
		for _, l := range labels { // by name
			if slices.Contains(conv.Labels, l.ID) {
				row.Labels = append(row.Labels, views.LabelView{Name: l.Name, Color: l.Color})
			}
		}
		if m, ok := res.Matches[conv.ID]; ok {
			row.Match = &views.MatchView{Label: matchLabels[m.Field], Parts: views.MatchParts(m.Text, kustomer.MatchStart, kustomer.MatchEnd)}
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// inboxRow is one conversation as an agent's inbox shows it.
func (s *Server) inboxRow(ctx context.Context, a kustomer.Agent, conv kustomer.Conversation, customers map[string]kustomer.Customer, now time.Time) views.InboxRow {
	cust, ok := customers[conv.CustomerID]
	if !ok {
		cust, _ = s.engine.Customer(ctx, a.Actor(), conv.CustomerID)
		customers[conv.CustomerID] = cust
	}
	row := views.InboxRow{
		ID:            conv.ID,
		URL:           "/agent/conversations/" + conv.ID,
		CustomerName:  orDefault(cust.Name, "Anonymous customer"),
		FormTitle:     s.formTitle(conv.FormID, ""),
		Preview:       conv.Preview,
		AssigneeName:  conv.AssigneeName,
		CreatedAt:     conv.CreatedAt,
		LastMessageAt: conv.LastMessageAt,
		Unread:        conv.AgentUnread,
		Ended:         conv.Ended,
		AssistantMode: conv.IsInAssistantMode,
		TTRTarget:     ttrAllowed(conv, s.engine.Config().TTRTarget(conv.FormID)),
	}
	if len(cust.Emails) > 0 {
		row.CustomerEmail = cust.Emails[0]
	}
	if sk, ok := s.engine.Config().Skill(conv.Skill); ok {
		row.SkillName = sk.Name
	}
	if conv.AwaitingSince != nil && !conv.Ended {
		row.Waiting, row.WaitingSince = true, *conv.AwaitingSince
		row.WaitingFor = now.Sub(*conv.AwaitingSince)
		row.Overdue = row.WaitingFor > row.TTRTarget
	}
	if conv.Satisfaction != nil {
		row.Rating = conv.Satisfaction.Rating
	}
	return row
}

// ttrAllowed is how long conversation c allows an agent to answer a
// waiting customer: from when they started waiting to when the answer is
// due (its TTR type, or a manual expected time), else its TTR's seconds,
// else formTarget.
func ttrAllowed(c kustomer.Conversation, formTarget time.Duration) time.Duration {
	switch {
	case c.TTREffective != nil && c.AwaitingSince != nil:
		return max(c.TTREffective.Sub(*c.AwaitingSince), time.Second)
	case c.TTR.Seconds > 0:
		return time.Duration(c.TTR.Seconds) * time.Second
	}
	return formTarget
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
