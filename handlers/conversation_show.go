package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// threadWindow is how many of the newest messages the chat page renders.
const threadWindow = 200

// conversationShow renders the chat page: the thread rendered on the server,
// continued live by chat.js over the socket.
func (s *Server) conversationShow(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	actor := acc.Actor
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, actor, c.Param("id"))
	if err != nil {
		return err
	}
	var before int64
	if b := c.QueryParam("before"); b != "" {
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before < 1 {
			return &Error{Status: http.StatusBadRequest, Code: "bad_query", Title: "Bad request", Detail: "before must be a positive sequence number."}
		}
	}
	msgs, err := s.engine.GetMessages(ctx, actor, conv.ID, kustomer.MessageQuery{BeforeSeq: before, Max: threadWindow, Last: true})
	if err != nil {
		return err
	}
	origins, err := s.formOrigins(ctx, conv.FormID)
	if err != nil {
		return err
	}
	frameAncestors(c, origins)
	p := s.chatPage(c, conv, msgs, acc, s.embedFor(c, origins))
	if seen, err := s.engine.Seen(ctx, acc.Actor, conv); err == nil {
		p.SeenSeq = seen
	} else {
		s.log.WarnContext(ctx, "read positions", "conversation_id", conv.ID, "err", err)
	}
	if before > 0 {
		// An earlier window is history only; the live thread is the latest.
		p.SocketURL = ""
	}
	if conv.CustomerUnread > 0 && before == 0 {
		if err := s.engine.MarkRead(ctx, actor, conv.ID, conv.LastSeq); err != nil {
			s.log.WarnContext(ctx, "mark read", "conversation_id", conv.ID, "err", err)
		}
	}
	noStore(c)
	return render(c, http.StatusOK, views.ChatView(p))
}

// chatPage builds the chat view of conv for the customer who reached it by
// acc, embedded or not.
func (s *Server) chatPage(c echo.Context, conv kustomer.Conversation, msgs []kustomer.Message, acc access, emb embedState) views.ChatPage {
	viewer := acc.Actor
	l := pageLocale(c, c.QueryParam("lang"), conv.Lang)
	p := views.ChatPage{
		Page:            views.Page{Title: s.formTitle(conv.FormID, l.Lang()), Embed: emb.On, EmbedPanel: emb.Panel, EmbedHost: emb.Host, ShowConversationsLink: true, L: l},
		ConversationID:  conv.ID,
		FormTitle:       s.formTitle(conv.FormID, l.Lang()),
		CreatedAt:       conv.CreatedAt,
		Ended:           conv.Ended,
		AssistantMode:   conv.IsInAssistantMode,
		LastSeq:         conv.LastSeq,
		SocketURL:       "/conversations/" + conv.ID + "/ws?lang=" + l.Lang(),
		PostURL:         "/conversations/" + conv.ID + "/messages",
		UploadURL:       "/conversations/" + conv.ID + "/attachments",
		NewURL:          "/forms/" + conv.FormID,
		ListURL:         "/conversations",
		ClientMessageID: kustomer.NewID(),
		MaxBodyLen:      kustomer.MaxBodyLen,
		RatingURL:       "/conversations/" + conv.ID + "/rating",
		TranscriptURL:   "/conversations/" + conv.ID + "/transcript",
	}
	if !conv.Ended {
		p.AssigneeName = conv.AssigneeName
		f, ok := s.engine.Config().Form(conv.FormID)
		if ok && conv.FirstResponseAt == nil {
			p.Expect = s.expectView(c.Request().Context(), f, time.Now())
		}
		if ok && f.AllowCustomerEnd {
			p.EndURL = "/conversations/" + conv.ID + "/end"
		}
	}
	if conv.Ended && c.QueryParam("transcript") == "sent" {
		// Back from a rating that asked for a transcript (303): say so.
		p.TranscriptNotice = p.L.T("chat.transcript_sent")
	}
	if sat := conv.Satisfaction; sat != nil {
		p.Satisfaction = &views.SatisfactionView{Rating: sat.Rating, Comment: sat.Comment, CreatedAt: sat.CreatedAt}
	}
	if conv.FormID == "" {
		p.NewURL = "/"
	}
	relaying, err := s.engine.RelayPending(c.Request().Context(), conv.ID)
	if err != nil {
		// Only the "being passed on" line is lost.
		s.log.WarnContext(c.Request().Context(), "relay pending", "conversation_id", conv.ID, "err", err)
	}
	p.Messages = make([]views.MessageView, 0, len(msgs))
	for _, m := range msgs {
		mv := messageView(m, viewer, false, p.L)
		mv.Relaying = m.Direction == kustomer.DirectionIn && relaying[m.ID]
		if n := len(p.Messages); n > 0 {
			mv.Grouped = groupedAfter(p.Messages[n-1], mv)
		}
		p.Messages = append(p.Messages, mv)
	}
	markLiveQuestion(conv, p.Messages)
	if len(msgs) > 0 {
		p.LastSeq = msgs[len(msgs)-1].Seq
		if first := msgs[0].Seq; first > 1 {
			p.EarlierURL = "/conversations/" + conv.ID + "?before=" + strconv.FormatInt(first, 10)
		}
	}
	if emb.On {
		s.embedChat(&p, conv, acc, emb)
	}
	return p
}

// embedChat adapts a chat page shown in a frame: every link and form stays
// in embed mode; the page carries a fresh hand-off token to open the chat
// in a new tab and, when no cookie reached the server, to authenticate the
// socket and the forms (TokenAuth). The list of conversations needs a
// first-party session, so the frame links to the new tab instead.
func (s *Server) embedChat(p *views.ChatPage, conv kustomer.Conversation, acc access, emb embedState) {
	tok, _ := s.sessions.IssueHandoff(conv.ID, acc.Actor.ID, time.Now())
	p.Token, p.TokenAuth = tok, acc.Handoff != nil
	p.OpenURL = "/conversations/" + conv.ID + "/open"
	p.ListURL = ""
	if conv.FormID != "" {
		p.NewURL = "/forms/" + conv.FormID + emb.query("")
	}
	q := emb.query("")
	if p.TokenAuth {
		q = emb.query(tok)
	}
	p.PostURL += q
	p.UploadURL += q
	p.RatingURL += q
	p.TranscriptURL += q
	if p.EndURL != "" {
		p.EndURL += q
	}
	if p.EarlierURL != "" {
		p.EarlierURL = strings.Replace(p.EarlierURL, "?", q+"&", 1)
	}
	for i := range p.Messages {
		if qv := p.Messages[i].Question; qv != nil {
			qv.PostURL += q
		}
		for j := range p.Messages[i].Attachments {
			p.Messages[i].Attachments[j].URL += q
		}
	}
}

// groupWithin is how close in time two messages of one author must be for
// the second to be grouped under the first.
const groupWithin = 5 * time.Minute

// groupedAfter reports whether m follows prev closely enough, from the same
// author, to be shown under it without the author again.
func groupedAfter(prev, m views.MessageView) bool {
	return m.AuthorType != "system" && prev.AuthorType == m.AuthorType && prev.AuthorName == m.AuthorName &&
		prev.Mine == m.Mine && m.CreatedAt.Sub(prev.CreatedAt) < groupWithin
}

// messageView is m as the viewer sees it; agentView renders it for the
// console.
func messageView(m kustomer.Message, viewer kustomer.Actor, agentView bool, l *locale.Localizer) views.MessageView {
	return views.MessageView{
		L:               l,
		ID:              m.ID,
		Seq:             m.Seq,
		ClientMessageID: m.ClientMessageID,
		Body:            m.Body,
		Direction:       string(m.Direction),
		AuthorType:      string(m.SentBy.Type),
		AuthorName:      m.SentBy.DisplayName,
		CreatedAt:       m.CreatedAt,
		// In the console every message is labelled by its author: the
		// markup is then the same for every agent and rendered once.
		Mine:        !agentView && m.SentBy.Type == viewer.Type && m.SentBy.ID == viewer.ID,
		Private:     m.Private,
		AgentView:   agentView,
		AvatarURL:   m.SentBy.AvatarURL,
		Question:    questionView(m),
		Event:       eventView(m),
		Attachments: attachmentViews(m.Attachments),
	}
}

// eventView is the event a system message records, if any.
func eventView(m kustomer.Message) *views.EventView {
	ev := m.Event()
	if ev == nil {
		return nil
	}
	return &views.EventView{Code: ev.Code, Params: ev.Params}
}

// attachmentViews shows a message's files: pictures of the types browsers
// display inline as previews, others as links.
func attachmentViews(files []kustomer.Attachment) []views.AttachmentView {
	if len(files) == 0 {
		return nil
	}
	out := make([]views.AttachmentView, len(files))
	for i, a := range files {
		out[i] = views.AttachmentView{Name: a.Name, URL: a.URL, Size: a.Size, Image: kustomer.IsInlineImage(a.ContentType)}
	}
	return out
}

// questionView reads an assistant question's answer controls from the
// message's meta; they start spent (Live false): the caller makes the
// newest one live.
func questionView(m kustomer.Message) *views.QuestionView {
	if m.SentBy.Type != kustomer.AuthorAssistant && m.SentBy.Type != kustomer.AuthorAgent || len(m.Meta) == 0 || m.Private {
		return nil
	}
	var meta struct {
		Question *struct {
			Step    string `json:"step"`
			Buttons []struct {
				Label   string `json:"label"`
				Payload string `json:"payload"`
			} `json:"buttons"`
			Articles []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"articles"`
			Attribute string `json:"attribute"`
			InputType string `json:"inputType"`
		} `json:"question"`
	}
	if json.Unmarshal(m.Meta, &meta) != nil || meta.Question == nil {
		return nil
	}
	q := meta.Question
	v := &views.QuestionView{Step: q.Step, PostURL: "/conversations/" + m.ConversationID + "/messages", Attribute: q.Attribute, InputType: q.InputType}
	for _, b := range q.Buttons {
		v.Buttons = append(v.Buttons, views.ButtonView{Label: b.Label, Payload: b.Payload})
	}
	for _, a := range q.Articles {
		v.Articles = append(v.Articles, views.ArticleView{ID: a.ID, Title: a.Title, URL: a.URL})
	}
	return v
}

// markLiveQuestion makes the newest question answerable until the
// customer writes after it: an assistant's while the assistant is in
// charge, an agent's quick replies while the conversation is open.
// Earlier questions stay spent.
func markLiveQuestion(conv kustomer.Conversation, msgs []views.MessageView) {
	if conv.Ended || len(msgs) == 0 {
		return
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].AuthorType == string(kustomer.AuthorCustomer) {
			return // answered: the next question comes after it
		}
		if msgs[i].Question != nil {
			if msgs[i].AuthorType != string(kustomer.AuthorAssistant) || conv.IsInAssistantMode {
				msgs[i].Question.Live = true
			}
			return
		}
	}
}

// carryEmbed is the query string that keeps a redirect after a chat form in
// the frame's embed mode, with a fresh token when the frame authenticates by
// token. The next page validates host again.
func (s *Server) carryEmbed(c echo.Context, acc access, conversationID string) string {
	q := c.Request().URL.Query()
	if q.Get("embed") != "1" {
		return ""
	}
	e := embedState{On: true, Panel: q.Get("panel") == "1"}
	if h, err := kustomer.ParseOrigin(q.Get("host")); err == nil {
		e.Host = h
	}
	var tok string
	if acc.Handoff != nil {
		tok, _ = s.sessions.IssueHandoff(conversationID, acc.Actor.ID, time.Now())
	}
	return e.query(tok)
}
