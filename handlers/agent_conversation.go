package handlers

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// agentConversation renders a conversation in the console and marks it read
// for the agent.
func (s *Server) agentConversation(c echo.Context) error {
	p, err := s.agentConversationPage(c, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AgentConversationView(p))
}

// agentConversationPage builds the page; state carries what a rejected form
// re-shows.
func (s *Server) agentConversationPage(c echo.Context, state *agentFormState) (views.AgentConversationPage, error) {
	a := currentAgent(c)
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, a.Actor(), c.Param("id"))
	if err != nil {
		return views.AgentConversationPage{}, err
	}
	msgs, err := s.engine.GetMessages(ctx, a.Actor(), conv.ID, kustomer.MessageQuery{Max: kustomer.MaxMessages, Last: true})
	if err != nil {
		return views.AgentConversationPage{}, err
	}
	panel, err := s.conversationPanel(c, conv, state)
	if err != nil {
		return views.AgentConversationPage{}, err
	}
	p := views.AgentConversationPage{
		AgentPage:       s.agentPage(c, s.formTitle(conv.FormID, "")+" · "+panel.CustomerName, "inbox"),
		Panel:           panel,
		LastSeq:         0,
		SocketURL:       "/agent/conversations/" + conv.ID + "/ws",
		PostURL:         "/agent/conversations/" + conv.ID + "/messages",
		UploadURL:       "/agent/conversations/" + conv.ID + "/attachments",
		RepliesURL:      "/agent/conversations/" + conv.ID + "/replies",
		ClientMessageID: kustomer.NewID(),
	}
	for _, m := range msgs {
		p.Messages = append(p.Messages, messageView(m, a.Actor(), true, nil))
		p.LastSeq = m.Seq
	}
	if seen, err := s.engine.Seen(ctx, a.Actor(), conv); err == nil {
		p.SeenSeq = seen
	} else {
		s.log.WarnContext(ctx, "read positions", "conversation_id", conv.ID, "err", err)
	}
	if state != nil {
		p.Draft, p.DraftPrivate, p.DraftError = state.draft, state.draftPrivate, state.draftError
	}
	if p.LastSeq > 0 && state == nil {
		if err := s.engine.MarkRead(ctx, a.Actor(), conv.ID, p.LastSeq); err != nil {
			s.log.WarnContext(ctx, "mark read", "conversation_id", conv.ID, "err", err)
		}
	}
	return p, nil
}

// agentFormState is what a rejected console form re-shows.
type agentFormState struct {
	draft        string
	draftPrivate bool
	draftError   string
	actionError  string
	attrValues   map[string]string
	attrErrors   map[string]string
	noteDraft    string
	noteError    string
	labelsError  string
}

// agentPanel renders only the side panel, for live refreshes.
func (s *Server) agentPanel(c echo.Context) error {
	conv, err := s.engine.Conversation(c.Request().Context(), currentAgent(c).Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	panel, err := s.conversationPanel(c, conv, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConversationPanelView(panel))
}

func (s *Server) conversationPanel(c echo.Context, conv kustomer.Conversation, state *agentFormState) (views.ConversationPanel, error) {
	a := currentAgent(c)
	ctx := c.Request().Context()
	cust, err := s.engine.Customer(ctx, a.Actor(), conv.CustomerID)
	if err != nil && !errors.Is(err, kustomer.ErrNotFound) {
		return views.ConversationPanel{}, err
	}
	base := "/agent/conversations/" + conv.ID
	p := views.ConversationPanel{
		ConversationID:  conv.ID,
		PanelURL:        base + "/panel",
		FormTitle:       s.formTitle(conv.FormID, ""),
		CreatedAt:       conv.CreatedAt,
		Ended:           conv.Ended,
		AssistantMode:   conv.IsInAssistantMode,
		AssigneeName:    conv.AssigneeName,
		AssignedToMe:    conv.AssigneeID == a.ID,
		TTRTarget:       ttrAllowed(conv, s.engine.Config().TTRTarget(conv.FormID)),
		TTRType:         conv.TTR.Type,
		TTRDue:          conv.TTREffective,
		ManualETTR:      conv.TTR.ManualETTR != nil,
		TTRURL:          base + "/ttr",
		FirstResponseAt: conv.FirstResponseAt,
		CustomerName:    orDefault(cust.Name, "Anonymous customer"),
		CustomerEmails:  cust.Emails,
		Referrer:        conv.Context.Referrer,
		UserAgent:       conv.Context.UserAgent,
		Locale:          conv.Context.Locale,
		TimeZone:        conv.Context.TimeZone,
		JoinURL:         base + "/join",
		UnassignURL:     base + "/unassign",
		TransferURL:     base + "/transfer",
		EndURL:          base + "/end",
		TranscriptURL:   base + "/transcript",
		ReopenURL:       base + "/reopen",
		AttributesURL:   base + "/attributes",
		LabelsURL:       base + "/labels",
		NoteURL:         base + "/note",
		AcceptURL:       base + "/accept",
		SuggestedToMe:   conv.SuggestedAgentID != "" && conv.SuggestedAgentID == a.ID,
	}
	notes, err := s.engine.AgentNotes(ctx, a.Actor(), conv.ID)
	if err != nil {
		return p, err
	}
	for i, n := range notes {
		v := views.NoteView{Text: n.Text, AgentName: n.AgentName, CreatedAt: n.CreatedAt}
		if i == 0 {
			p.Note = &v
		} else {
			p.NoteHistory = append(p.NoteHistory, v)
		}
	}
	if sk, ok := s.engine.Config().Skill(conv.Skill); ok {
		p.SkillName = sk.Name
	}
	if conv.AwaitingSince != nil && !conv.Ended {
		p.Waiting, p.WaitingSince = true, *conv.AwaitingSince
		p.Overdue = time.Since(*conv.AwaitingSince) > p.TTRTarget
	}
	if conv.TTREffective != nil && !p.Waiting {
		p.Overdue = time.Now().After(*conv.TTREffective) // a manual expected time passed
	}
	if conv.Satisfaction != nil {
		p.Satisfaction = &views.SatisfactionView{Rating: conv.Satisfaction.Rating, Comment: conv.Satisfaction.Comment, CreatedAt: conv.Satisfaction.CreatedAt}
	}
	agents, err := s.engine.Agents(ctx)
	if err != nil {
		return p, err
	}
	for _, ag := range agents {
		if ag.ID == conv.SuggestedAgentID {
			p.SuggestedName = ag.Name
		}
		if !ag.Disabled && ag.ID != conv.AssigneeID {
			p.TransferAgents = append(p.TransferAgents, views.OptionView{Value: ag.ID, Label: ag.Name})
		}
	}
	for _, sk := range s.engine.Config().Skills {
		p.TransferSkills = append(p.TransferSkills, views.OptionView{Value: sk.ID, Label: sk.Name, Selected: sk.ID == conv.Skill})
	}
	labels, err := s.engine.Labels(ctx)
	if err != nil {
		return p, err
	}
	for _, l := range labels {
		p.Labels = append(p.Labels, views.LabelOption{ID: l.ID, Name: l.Name, Color: l.Color, Selected: slices.Contains(conv.Labels, l.ID)})
	}
	defs := s.engine.Config().Attributes.Conversation
	for _, d := range defs {
		f := views.AttributeField{Name: d.Name, DisplayName: d.DisplayName, Type: string(d.Type), Value: attributeText(conv.CustomAttributes[d.Name])}
		if state != nil {
			if v, ok := state.attrValues[d.Name]; ok {
				f.Value = v
			}
			f.Error = state.attrErrors[d.Name]
		}
		p.Attributes = append(p.Attributes, f)
	}
	if state != nil {
		p.LabelsError = state.labelsError
		p.ActionError = state.actionError
		p.NoteDraft, p.NoteError = state.noteDraft, state.noteError
	}
	return p, nil
}

// attributeText shows an attribute value in a form input.
func attributeText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// agentMessageCreate is the console's no-JavaScript composer: a reply, or a
// private note with private=true.
func (s *Server) agentMessageCreate(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	id := c.Param("id")
	var files []kustomer.Attachment
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		form, file, _, err := s.readComposerUpload(c, a.Actor(), id, nil)
		var verr *kustomer.ValidationError
		var cerr *kustomer.ConflictError
		state := &agentFormState{draft: form.Get("body"), draftPrivate: form.Get("private") == "true"}
		switch {
		case errors.As(err, &verr):
			state.draftError = "The file " + verr.Fields["file"] + "."
			if verr.Fields["file"] == "" {
				state.draftError = sentence(firstValue(verr.Fields))
			}
			return s.agentRejected(c, http.StatusUnprocessableEntity, state)
		case errors.As(err, &cerr):
			state.draftError = sentence(cerr.Reason)
			return s.agentRejected(c, http.StatusConflict, state)
		case err != nil:
			return err
		}
		r.Form, r.PostForm = form, form
		if file != nil {
			files = []kustomer.Attachment{*file}
		}
	}
	body := r.FormValue("body")
	private := r.FormValue("private") == "true"
	clientID := r.FormValue("clientMessageId")
	if !validClientID(clientID) {
		clientID = ""
	}
	var replies []kustomer.QuickReply
	for _, line := range strings.Split(r.FormValue("quickReplies"), "\n") {
		if label := strings.TrimSpace(line); label != "" {
			replies = append(replies, kustomer.QuickReply{Label: label, Payload: label})
		}
	}
	msg, _, err := s.engine.SendMessage(r.Context(), a.Actor(), kustomer.SendMessageInput{ConversationID: id, Body: body, ClientMessageID: clientID,
		Private: private, Attachments: files, QuickReplies: replies})
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		return s.agentRejected(c, http.StatusUnprocessableEntity, &agentFormState{draft: body, draftPrivate: private, draftError: "The message " + firstValue(verr.Fields) + "."})
	case errors.As(err, &cerr):
		return s.agentRejected(c, http.StatusConflict, &agentFormState{draft: body, draftPrivate: private, draftError: sentence(cerr.Reason)})
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+id+"#m"+strconv.FormatInt(msg.Seq, 10))
}

func firstValue(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, v := range m {
		parts = append(parts, v)
	}
	return strings.Join(parts, "; ")
}

func (s *Server) agentRejected(c echo.Context, status int, state *agentFormState) error {
	p, err := s.agentConversationPage(c, state)
	if err != nil {
		return err
	}
	return render(c, status, views.AgentConversationView(p))
}

// agentAction runs one conversation operation from a console form and
// redirects back (303); a refused one re-renders with the reason.
func (s *Server) agentAction(op func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		_, err := op(c, currentAgent(c), id)
		var verr *kustomer.ValidationError
		var cerr *kustomer.ConflictError
		switch {
		case errors.As(err, &verr):
			return s.agentRejected(c, http.StatusUnprocessableEntity, &agentFormState{actionError: sentence(firstValue(verr.Fields))})
		case errors.As(err, &cerr):
			return s.agentRejected(c, http.StatusConflict, &agentFormState{actionError: sentence(cerr.Reason)})
		case err != nil:
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+id)
	}
}

func (s *Server) routesAgentActions(g *echo.Group) {
	g.POST("/conversations/:id/join", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		return s.engine.Join(c.Request().Context(), a.Actor(), id)
	}))
	g.POST("/conversations/:id/unassign", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		return s.engine.Unassign(c.Request().Context(), a.Actor(), id)
	}))
	g.POST("/conversations/:id/transfer", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		agentID, skill := c.FormValue("agentId"), c.FormValue("skill")
		if agentID == "" && skill == "" {
			return kustomer.Conversation{}, &kustomer.ValidationError{Fields: map[string]string{"agentId": "choose an agent or a skill to transfer to"}}
		}
		return s.engine.Transfer(c.Request().Context(), a.Actor(), id, kustomer.TransferInput{AgentID: agentID, Skill: skill, Suggest: c.FormValue("suggest") == "1"})
	}))
	g.POST("/conversations/:id/ttr", s.agentAction(s.agentTTR))
	g.POST("/conversations/:id/accept", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		return s.engine.AcceptSuggestion(c.Request().Context(), a.Actor(), id)
	}))
	g.POST("/conversations/:id/end", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		return s.engine.EndConversation(c.Request().Context(), a.Actor(), id)
	}))
	g.POST("/conversations/:id/transcript", s.agentTranscript)
	g.POST("/conversations/:id/reopen", s.agentAction(func(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
		return s.engine.ReopenConversation(c.Request().Context(), a.Actor(), id)
	}))
}

// agentLabels is POST /agent/conversations/{id}/labels: the ticked labels
// (label, repeated) replace the conversation's.
func (s *Server) agentLabels(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	_, err := s.engine.SetConversationLabels(r.Context(), currentAgent(c).Actor(), c.Param("id"), r.PostForm["label"])
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.agentRejected(c, http.StatusUnprocessableEntity, &agentFormState{labelsError: sentence(verr.Fields["labels"])})
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), r, "Labels saved."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+c.Param("id"))
}

// agentAttributes edits the conversation's custom attributes with the same
// validation as describeConversation: an empty input clears the attribute.
func (s *Server) agentAttributes(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	attrs := kustomer.Attributes{}
	values := map[string]string{}
	errs := map[string]string{}
	for _, d := range s.engine.Config().Attributes.Conversation {
		if _, sent := r.PostForm[d.Name]; !sent {
			continue
		}
		raw := r.PostForm.Get(d.Name)
		values[d.Name] = raw
		v, err := d.ParseString(raw)
		if err != nil {
			errs[d.Name] = sentence(err.Error())
			continue
		}
		attrs[d.Name] = v // nil clears
	}
	if len(errs) == 0 {
		_, err := s.engine.DescribeConversation(r.Context(), a.Actor(), c.Param("id"), attrs)
		var verr *kustomer.ValidationError
		if !errors.As(err, &verr) {
			if err != nil {
				return err
			}
			if err := s.sessions.SetNotice(c.Response(), r, "Attributes saved."); err != nil {
				return err
			}
			return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+c.Param("id"))
		}
		for k, msg := range verr.Fields {
			errs[strings.TrimPrefix(k, "customAttributes.")] = sentence(msg)
		}
	}
	return s.agentRejected(c, http.StatusUnprocessableEntity, &agentFormState{attrValues: values, attrErrors: errs})
}

// agentTranscript is POST /agent/conversations/{id}/transcript: it emails
// the conversation's transcript to the customer.
func (s *Server) agentTranscript(c echo.Context) error {
	id := c.Param("id")
	err := s.engine.RequestTranscript(c.Request().Context(), currentAgent(c).Actor(), id)
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &cerr):
		return s.agentRejected(c, http.StatusConflict, &agentFormState{actionError: sentence(cerr.Reason)})
	case err != nil:
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "A transcript is on its way to the customer."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+id)
}

// agentNoteCreate is POST /agent/conversations/{id}/note: the agent's note
// on the conversation replaces the shown one and keeps it in the history.
// A note over the limit is kept cut, and the page says so.
func (s *Server) agentNoteCreate(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	text := r.PostForm.Get("note")
	_, truncated, err := s.engine.SetAgentNote(r.Context(), a.Actor(), c.Param("id"), text)
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.agentRejected(c, http.StatusUnprocessableEntity, &agentFormState{noteDraft: text, noteError: sentence(firstValue(verr.Fields))})
	}
	if err != nil {
		return err
	}
	notice := "Note saved."
	if truncated {
		notice = fmt.Sprintf("Note saved, cut to its first %d characters.", kustomer.MaxAgentNoteLen)
	}
	if err := s.sessions.SetNotice(c.Response(), r, notice); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/conversations/"+c.Param("id"))
}

// agentTTR is POST /agent/conversations/{id}/ttr (through agentAction):
// the console sets the conversation's time to respond (ttrType, with
// customMinutes for CUSTOM), or a manual expected time in expectMinutes
// from now (cleared with clearEttr).
func (s *Server) agentTTR(c echo.Context, a kustomer.Agent, id string) (kustomer.Conversation, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return kustomer.Conversation{}, &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	ctx := r.Context()
	minutes := func(name string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
		if err != nil || n < 1 {
			return 0, &kustomer.ValidationError{Fields: map[string]string{name: "enter a whole number of minutes, 1 or more"}}
		}
		return n, nil
	}
	switch {
	case r.PostForm.Get("clearEttr") != "":
		return s.engine.SetManualETTR(ctx, a.Actor(), id, nil)
	case r.PostForm.Has("expectMinutes"):
		n, err := minutes("expectMinutes")
		if err != nil {
			return kustomer.Conversation{}, err
		}
		when := time.Now().Add(time.Duration(n) * time.Minute)
		return s.engine.SetManualETTR(ctx, a.Actor(), id, &when)
	}
	ttrType, value := r.PostForm.Get("ttrType"), int64(0)
	if ttrType == kustomer.TTRCustom {
		n, err := minutes("customMinutes")
		if err != nil {
			return kustomer.Conversation{}, err
		}
		value = n * 60
	}
	return s.engine.SetTTR(ctx, a.Actor(), id, ttrType, value)
}
