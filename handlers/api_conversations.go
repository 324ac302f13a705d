package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// createConversationRequest holds createConversation's options; name and
// email describe a customer the session does not know yet.
type createConversationRequest struct {
	Message          string              `json:"message"`
	AssistantID      string              `json:"assistantId"`
	CustomAttributes kustomer.Attributes `json:"customAttributes"`
	FormID           string              `json:"formId"`
	ClientMessageID  string              `json:"clientMessageId"`
	Name             string              `json:"name"`
	Email            string              `json:"email"`
	Lang             string              `json:"lang"`
}

// conversationSummary is createConversation's and getConversations' shape.
type conversationSummary struct {
	ConversationID    string    `json:"conversationId"`
	CreatedAt         time.Time `json:"createdAt"`
	Ended             bool      `json:"ended"`
	IsInAssistantMode bool      `json:"isInAssistantMode"`
	Preview           string    `json:"preview,omitempty"`
	LastMessageAt     time.Time `json:"lastMessageAt,omitzero"`
	// AssigneeName is the display name of the agent answering, if any.
	AssigneeName string `json:"assigneeName,omitempty"`
}

func summary(c kustomer.Conversation, full bool) conversationSummary {
	s := conversationSummary{ConversationID: c.ID, CreatedAt: c.CreatedAt, Ended: c.Ended, IsInAssistantMode: c.IsInAssistantMode}
	if full {
		s.Preview, s.LastMessageAt, s.AssigneeName = c.Preview, c.LastMessageAt, c.AssigneeName
	}
	return s
}

// describeResponse is describeConversation's shape.
type describeResponse struct {
	ConversationID   string              `json:"conversationId"`
	CustomAttributes kustomer.Attributes `json:"customAttributes"`
}

// messageResponse is sendMessage's shape plus seq, the author and the
// client's id.
type messageResponse struct {
	MessageID       string                `json:"messageId"`
	Body            string                `json:"body"`
	CreatedAt       time.Time             `json:"createdAt"`
	Direction       kustomer.Direction    `json:"direction"`
	ConversationID  string                `json:"conversationId"`
	Attachments     []kustomer.Attachment `json:"attachments"`
	Seq             int64                 `json:"seq"`
	SentBy          kustomer.Author       `json:"sentBy"`
	Payload         json.RawMessage       `json:"payload,omitempty"`
	ClientMessageID string                `json:"clientMessageId,omitempty"`
	// Meta is the SDK's message meta: an assistant question's answer
	// controls, or a reply's lastDeflection.
	Meta json.RawMessage `json:"meta,omitempty"`
	// Private tells the organization whether the message is an agents'
	// note; customers never see notes, so their responses leave it out.
	Private *bool `json:"private,omitempty"`
	// Lang is the language the sender said the message is in.
	Lang string `json:"lang,omitempty"`
}

func messageJSON(m kustomer.Message) messageResponse {
	return messageResponse{MessageID: m.ID, Body: m.Body, CreatedAt: m.CreatedAt, Direction: m.Direction,
		ConversationID: m.ConversationID, Attachments: m.Attachments, Seq: m.Seq, SentBy: m.SentBy,
		Payload: m.Payload, ClientMessageID: m.ClientMessageID, Meta: m.Meta, Lang: m.Lang}
}

// orgMessageJSON is messageJSON for the organization: every message says
// whether it is private.
func orgMessageJSON(m kustomer.Message) messageResponse {
	r := messageJSON(m)
	r.Private = &m.Private
	return r
}

func messagesJSON(ms []kustomer.Message, viewer kustomer.Actor) map[string]any {
	out := make([]messageResponse, len(ms))
	for i, m := range ms {
		if viewer.IsCustomer() {
			out[i] = messageJSON(forViewer(m, viewer))
		} else {
			out[i] = orgMessageJSON(m)
		}
	}
	return map[string]any{"messages": out}
}

// forViewer hides from a customer who performed a system event: the
// customer reads the event's words, not the organization's internals.
func forViewer(m kustomer.Message, viewer kustomer.Actor) kustomer.Message {
	if viewer.IsCustomer() && m.SentBy.Type == kustomer.AuthorSystem {
		m.SentBy = kustomer.Author{Type: kustomer.AuthorSystem}
		// The event's typed form names agents and queues: it is for the
		// organization. The customer keeps its code and words.
		if ev := m.Event(); ev != nil && len(ev.Events) > 0 {
			ev.Events = nil
			m.Meta, _ = json.Marshal(map[string]any{"event": ev})
		}
	}
	return m
}

// apiConversationCreate is createConversation. Without a session it creates
// the customer and starts one.
func (s *Server) apiConversationCreate(c echo.Context) error {
	var req createConversationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r := c.Request()
	actor, _ := s.customer(c)
	if wait := s.allowHandoff(c, req.FormID, actor.ID); wait > 0 {
		return errRateLimited(s.retryAfter(c, wait))
	}
	pc := pageContext(r, r.Referer(), "")
	if req.Lang != "" {
		pc.Locale = truncate(req.Lang, 35)
	}
	// A form's assistant is the operator's choice; a client may pick
	// another per conversation only where the form allows it.
	assistant := req.AssistantID
	if f, ok := s.engine.Config().Form(req.FormID); ok {
		if assistant != "" && !f.AllowAssistantOverride {
			return &kustomer.ValidationError{Fields: map[string]string{"assistantId": fmt.Sprintf("form %q does not let clients choose the assistant", f.ID)}}
		}
		if assistant == "" {
			a, _, err := s.engine.FormAssistant(r.Context(), f.ID)
			if err != nil {
				return err
			}
			assistant = a
		}
	}
	conv, created, err := s.engine.CreateConversation(r.Context(), kustomer.CreateConversationInput{
		CustomerID: actor.ID, CustomerName: req.Name, CustomerEmail: req.Email, Message: req.Message,
		ClientMessageID: req.ClientMessageID, AssistantID: assistant, FormID: req.FormID,
		CustomAttributes: req.CustomAttributes, Context: pc, Lang: req.Lang,
	})
	if err != nil {
		return err
	}
	if conv.CustomerID != actor.ID {
		if err := s.sessions.SetCustomerID(c.Response(), r, conv.CustomerID); err != nil {
			return err
		}
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.Response().Header().Set("Location", "/api/v1/conversations/"+conv.ID)
	return c.JSON(status, summary(conv, false))
}

// apiConversationList is getConversations.
func (s *Server) apiConversationList(c echo.Context) error {
	page, pageSize, err := pageParams(c)
	if err != nil {
		return err
	}
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	res, err := s.engine.GetConversations(c.Request().Context(), actor, actor.ID, page, pageSize)
	if err != nil {
		return err
	}
	list := make([]conversationSummary, len(res.Conversations))
	for i, conv := range res.Conversations {
		list[i] = summary(conv, true)
	}
	return c.JSON(http.StatusOK, map[string]any{"conversations": list, "pages": res.Pages})
}

// apiConversationShow returns one of the customer's conversations.
func (s *Server) apiConversationShow(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	conv, err := s.engine.Conversation(c.Request().Context(), actor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summary(conv, true))
}

// describeRequest holds describeConversation's options. The SDK sends the
// conversation's id in the body too.
type describeRequest struct {
	ConversationID   string              `json:"conversationId"`
	CustomAttributes kustomer.Attributes `json:"customAttributes"`
}

// samePath checks that a body's conversationId, when given, names the
// conversation of the request's path.
func samePath(c echo.Context, bodyID string) error {
	if bodyID == "" || bodyID == c.Param("id") {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "conversation_mismatch", Title: "Conversation mismatch",
		Detail: fmt.Sprintf("conversationId %q in the body is not the conversation of the path (%q).", bodyID, c.Param("id")), Pointer: "/conversationId"}
}

// apiConversationDescribe is describeConversation.
func (s *Server) apiConversationDescribe(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	return s.describe(c, actor)
}

func (s *Server) describe(c echo.Context, actor kustomer.Actor) error {
	var req describeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := samePath(c, req.ConversationID); err != nil {
		return err
	}
	conv, err := s.engine.DescribeConversation(c.Request().Context(), actor, c.Param("id"), req.CustomAttributes)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, describeResponse{ConversationID: conv.ID, CustomAttributes: conv.CustomAttributes})
}

// sendMessageRequest holds sendMessage's options: the SDK's, with its
// assistant state (see kustomer.SendMessageInput).
type sendMessageRequest struct {
	ConversationID       string                         `json:"conversationId"`
	Body                 string                         `json:"body"`
	Payload              json.RawMessage                `json:"payload"`
	Attachments          []kustomer.Attachment          `json:"attachments"`
	ClientMessageID      string                         `json:"clientMessageId"`
	LastDeflection       *kustomer.ClientDeflection     `json:"lastDeflection"`
	IsInAssistantMode    *bool                          `json:"isInAssistantMode"`
	InitAssistantPayload *kustomer.InitAssistantPayload `json:"initAssistantPayload"`
	Lang                 string                         `json:"lang"`
}

// apiMessageCreate is sendMessage.
func (s *Server) apiMessageCreate(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req sendMessageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := samePath(c, req.ConversationID); err != nil {
		return err
	}
	if wait, err := s.allowCustomerSend(c, actor, c.Param("id")); err != nil {
		return err
	} else if wait > 0 {
		return errRateLimited(s.retryAfter(c, wait))
	}
	return s.sendMessage(c, actor, kustomer.SendMessageInput{
		ConversationID: c.Param("id"), ClientMessageID: req.ClientMessageID, Body: req.Body,
		Payload: req.Payload, Attachments: req.Attachments, Lang: req.Lang,
		InitAssistant: req.InitAssistantPayload, ClientAssistantMode: req.IsInAssistantMode, ClientDeflection: req.LastDeflection,
	})
}

func (s *Server) sendMessage(c echo.Context, actor kustomer.Actor, in kustomer.SendMessageInput) error {
	msg, created, err := s.engine.SendMessage(c.Request().Context(), actor, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	if actor.IsCustomer() {
		return c.JSON(status, messageJSON(msg))
	}
	return c.JSON(status, orgMessageJSON(msg))
}

// apiMessageList returns messages in seq order.
func (s *Server) apiMessageList(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	return s.listMessages(c, actor)
}

func (s *Server) listMessages(c echo.Context, actor kustomer.Actor) error {
	q, err := messageQuery(c)
	if err != nil {
		return err
	}
	if !actor.IsCustomer() {
		switch c.QueryParam("private") {
		case "":
		case "false":
			q.Private = kustomer.PublicOnly
		case "true":
			q.Private = kustomer.PrivateOnly
		default:
			return &kustomer.ValidationError{Fields: map[string]string{"private": "must be true or false"}}
		}
	}
	ctx := c.Request().Context()
	msgs, err := s.engine.GetMessages(ctx, actor, c.Param("id"), q)
	if err != nil {
		return err
	}
	conv, err := s.engine.Conversation(ctx, actor, c.Param("id"))
	if err != nil {
		return err
	}
	out := messagesJSON(msgs, actor)
	out["conversationId"] = conv.ID
	out["satisfaction"] = conv.Satisfaction
	return c.JSON(http.StatusOK, out)
}
