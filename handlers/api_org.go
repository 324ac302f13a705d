package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// requireAPIToken authenticates the organization API by bearer token.
func (s *Server) requireAPIToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		if s.opts.APIToken == "" {
			return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Title: "Unauthorized", Detail: "The organization API is disabled: set HANDOFF_API_TOKEN to enable it."}
		}
		if !s.hasAPIToken(c.Request()) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="handoff"`)
			return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Title: "Unauthorized", Detail: "Send Authorization: Bearer <HANDOFF_API_TOKEN>."}
		}
		return next(c)
	}
}

// hasAPIToken reports whether r carries the organization API's bearer
// token (never, when the API is disabled).
func (s *Server) hasAPIToken(r *http.Request) bool {
	if s.opts.APIToken == "" {
		return false
	}
	want := sha256.Sum256([]byte(s.opts.APIToken))
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return ok && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// orgActor is the organization acting through the API.
var orgActor = kustomer.Actor{Type: kustomer.AuthorSystem, ID: "api", Name: "API"}

// orgConversationList lists every conversation, or one customer's; with q,
// those a full-text search matches (see kustomer.SearchTerms).
func (s *Server) orgConversationList(c echo.Context) error {
	page, pageSize, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if q := c.QueryParam("q"); q != "" {
		// Full-text search, as in the inbox.
		res, err := s.engine.SearchConversations(ctx, orgActor, kustomer.ConversationFilter{CustomerID: c.QueryParam("customerId")}, q, page, pageSize)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, res)
	}
	res, err := s.engine.GetConversations(ctx, orgActor, c.QueryParam("customerId"), page, pageSize)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// orgConversationShow returns a conversation with every field.
func (s *Server) orgConversationShow(c echo.Context) error {
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	notes, err := s.engine.AgentNotes(ctx, orgActor, conv.ID)
	if err != nil {
		return err
	}
	unread, err := s.engine.UnreadByParticipant(ctx, orgActor, conv)
	if err != nil {
		return err
	}
	out := struct {
		kustomer.Conversation
		// AgentNote is the agents' note on the conversation, if any.
		AgentNote *kustomer.AgentNote `json:"agentNote"`
		// Unread is how many messages each participant has not read, by
		// user id (the agent side's numberOfunreadMessages).
		Unread map[string]int `json:"numberOfunreadMessages"`
	}{Conversation: conv, Unread: unread}
	if len(notes) > 0 {
		out.AgentNote = &notes[0]
	}
	return c.JSON(http.StatusOK, out)
}

// orgConversationDescribe sets custom attributes.
func (s *Server) orgConversationDescribe(c echo.Context) error { return s.describe(c, orgActor) }

// orgMessageList returns messages in seq order.
func (s *Server) orgMessageList(c echo.Context) error { return s.listMessages(c, orgActor) }

type orgMessageRequest struct {
	Body            string `json:"body"`
	AuthorType      string `json:"authorType"`
	AuthorName      string `json:"authorName"`
	AuthorID        string `json:"authorId"`
	ClientMessageID string `json:"clientMessageId"`
	// Private makes the message an agents' note.
	Private bool `json:"private"`
	// Attachments names uploaded files by id.
	Attachments []kustomer.Attachment `json:"attachments"`
	// Lang is the language the message is written in.
	Lang string `json:"lang"`
	// QuickReplies are buttons the customer answers with.
	QuickReplies []kustomer.QuickReply `json:"quickReplies"`
}

// orgMessageCreate sends an outbound message as an agent or assistant; it
// reaches the customer's open socket live.
func (s *Server) orgMessageCreate(c echo.Context) error {
	var req orgMessageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	actor := kustomer.Actor{Type: kustomer.AuthorType(req.AuthorType), ID: req.AuthorID, Name: req.AuthorName}
	switch actor.Type {
	case "":
		actor.Type = kustomer.AuthorAgent
	case kustomer.AuthorAgent, kustomer.AuthorAssistant:
	default:
		return &kustomer.ValidationError{Fields: map[string]string{"authorType": `must be "agent" or "assistant"`}}
	}
	if len(actor.ID) > 64 {
		return &kustomer.ValidationError{Fields: map[string]string{"authorId": "must be at most 64 characters"}}
	}
	return s.sendMessage(c, actor, kustomer.SendMessageInput{ConversationID: c.Param("id"), Body: req.Body, ClientMessageID: req.ClientMessageID, Private: req.Private, Attachments: req.Attachments, Lang: req.Lang,
		QuickReplies: req.QuickReplies})
}

type transferRequest struct {
	AgentID string `json:"agentId"`
	Skill   string `json:"skill"`
	Suggest bool   `json:"suggest"`
}

// orgConversationTransfer is the agent side's transfer: {"agentId"} to an
// agent, {"skill"} to a skill's queue, both (the agent, in that queue),
// neither (back to its queue); "suggest": true only suggests the agent,
// who accepts it (POST …/accept).
func (s *Server) orgConversationTransfer(c echo.Context) error {
	var req transferRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	conv, err := s.engine.Transfer(c.Request().Context(), orgActor, c.Param("id"), kustomer.TransferInput{AgentID: req.AgentID, Skill: req.Skill, Suggest: req.Suggest})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// orgConversationAccept is POST /api/v1/org/conversations/{id}/accept
// {"agentId"}: the agent a transfer suggested the conversation to takes it.
func (s *Server) orgConversationAccept(c echo.Context) error {
	var req struct {
		AgentID string `json:"agentId"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.engine.Agent(ctx, req.AgentID)
	if errors.Is(err, kustomer.ErrNotFound) || err == nil && a.Disabled {
		return &kustomer.ValidationError{Fields: map[string]string{"agentId": "must name an active agent"}}
	}
	if err != nil {
		return err
	}
	conv, err := s.engine.AcceptSuggestion(ctx, a.Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// orgConversationUnassign puts the conversation back in its queue.
func (s *Server) orgConversationUnassign(c echo.Context) error {
	conv, err := s.engine.Unassign(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// orgConversationReopen reopens an ended conversation.
func (s *Server) orgConversationReopen(c echo.Context) error {
	conv, err := s.engine.ReopenConversation(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// orgAgentList lists the console's accounts (never their password hashes).
func (s *Server) orgAgentList(c echo.Context) error {
	agents, err := s.engine.Agents(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"agents": agents})
}

// orgConversationEnd ends a conversation.
func (s *Server) orgConversationEnd(c echo.Context) error {
	conv, err := s.engine.EndConversation(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversationId": conv.ID, "createdAt": conv.CreatedAt, "ended": conv.Ended})
}

// agentNoteRequest is setAgentNote's body.
type agentNoteRequest struct {
	Note       string `json:"note"`
	AuthorID   string `json:"authorId"`
	AuthorName string `json:"authorName"`
}

// orgAgentNoteCreate is POST /api/v1/org/conversations/{id}/note, the
// agent side's setAgentNote: the note becomes the conversation's, the
// earlier ones its history. A note over 5,000 characters is kept cut
// there: truncated is true and truncatedText is the text kept.
func (s *Server) orgAgentNoteCreate(c echo.Context) error {
	var req agentNoteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.AuthorID) > 64 || len([]rune(req.AuthorName)) > kustomer.MaxAuthorNameLen {
		return &kustomer.ValidationError{Fields: map[string]string{"authorName": "authorId must be at most 64 characters, authorName at most 100"}}
	}
	actor := kustomer.Actor{Type: kustomer.AuthorAgent, ID: req.AuthorID, Name: strings.TrimSpace(req.AuthorName)}
	n, truncated, err := s.engine.SetAgentNote(c.Request().Context(), actor, c.Param("id"), req.Note)
	if err != nil {
		return err
	}
	out := map[string]any{"conversationId": n.ConversationID, "note": n, "truncated": truncated}
	if truncated {
		out["truncatedText"] = n.Text
	}
	return c.JSON(http.StatusCreated, out)
}

// orgAgentNoteList is GET /api/v1/org/conversations/{id}/notes: the
// conversation's note and its history, the latest first.
func (s *Server) orgAgentNoteList(c echo.Context) error {
	notes, err := s.engine.AgentNotes(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversationId": c.Param("id"), "notes": notes})
}

// orgConversationTTR is PUT /api/v1/org/conversations/{id}/ttr
// {ttrType, value}: how soon an agent must answer (NORMAL, PRIORITIZED,
// URGENT, or CUSTOM with value seconds).
func (s *Server) orgConversationTTR(c echo.Context) error {
	var req struct {
		TTRType string `json:"ttrType"`
		Value   int64  `json:"value"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	conv, err := s.engine.SetTTR(c.Request().Context(), orgActor, c.Param("id"), req.TTRType, req.Value)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}

// orgConversationETTR is PUT /api/v1/org/conversations/{id}/ettr {time}:
// a manual expected time to respond (RFC 3339), or null to clear it.
func (s *Server) orgConversationETTR(c echo.Context) error {
	var req struct {
		Time *time.Time `json:"time"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	conv, err := s.engine.SetManualETTR(c.Request().Context(), orgActor, c.Param("id"), req.Time)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv)
}
