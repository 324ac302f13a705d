package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// describeCustomerRequest is the SDK's describeCustomer: contact details
// under attributes, and custom attributes beside them.
type describeCustomerRequest struct {
	Name       *string `json:"name"`
	Attributes struct {
		Emails  []string          `json:"emails"`
		Phones  []string          `json:"phones"`
		Socials []kustomer.Social `json:"socials"`
	} `json:"attributes"`
	CustomAttributes kustomer.Attributes `json:"customAttributes"`
}

// apiCustomerDescribe is PATCH /api/v1/customer, the SDK's describeCustomer:
// it adds emails, phones and social accounts to the session's customer and
// sets custom attributes (validated against attributes.customer; null
// clears one). It answers the customer as stored.
func (s *Server) apiCustomerDescribe(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req describeCustomerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cu, err := s.engine.DescribeCustomer(c.Request().Context(), actor, actor.ID, kustomer.DescribeCustomerInput{
		Name: req.Name, Emails: req.Attributes.Emails, Phones: req.Attributes.Phones, Socials: req.Attributes.Socials,
		CustomAttributes: req.CustomAttributes,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cu)
}

// markReadRequest is the SDK's markRead.
type markReadRequest struct {
	ConversationID string   `json:"conversationId"`
	MessageIDs     []string `json:"messageIds"`
}

// apiConversationRead is POST /api/v1/conversations/{id}/read, the SDK's
// markRead: the customer has read the named messages, so the conversation
// up to the latest of them. It answers the read position and what is
// still unread.
func (s *Server) apiConversationRead(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req markReadRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := samePath(c, req.ConversationID); err != nil {
		return err
	}
	ctx := c.Request().Context()
	seq, err := s.engine.MarkMessagesRead(ctx, actor, c.Param("id"), req.MessageIDs)
	if err != nil {
		return err
	}
	conv, err := s.engine.Conversation(ctx, actor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversationId": conv.ID, "readSeq": seq, "unreadCount": conv.CustomerUnread})
}

// apiUnread is GET /api/v1/unread, the SDK's getUnreadCount: the messages
// sent to the customer they have not read, in all and by conversation
// (only conversations with some are listed).
func (s *Server) apiUnread(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	total, per, err := s.engine.UnreadCounts(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "conversations": per})
}

// typingRequest is the SDK's sendTypingActivity.
type typingRequest struct {
	ConversationID string `json:"conversationId"`
	Typing         *bool  `json:"typing"`
}

// apiTyping is POST /api/v1/conversations/{id}/typing, the SDK's
// sendTypingActivity: the agents watching see the customer typing, or
// stop seeing it. It answers 204.
func (s *Server) apiTyping(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req typingRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := samePath(c, req.ConversationID); err != nil {
		return err
	}
	if req.Typing == nil {
		return &kustomer.ValidationError{Fields: map[string]string{"typing": "is required: true or false"}}
	}
	// As over the socket: two a second, four at once, per customer.
	if wait := s.limiter.take(bucketKey{key: "typing|" + actor.ID, limit: 2, burst: 4}); wait > 0 {
		return errRateLimited(s.retryAfter(c, wait))
	}
	if err := s.engine.SetTyping(c.Request().Context(), actor, c.Param("id"), *req.Typing); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// endRequest is the SDK's endConversation.
type endRequest struct {
	ConversationID string `json:"conversationId"`
}

// apiConversationEnd is POST /api/v1/conversations/{id}/end, the SDK's
// endConversation, where the conversation's form allows customers to end
// it (allowCustomerEnd); 403 otherwise. It answers {conversationId,
// createdAt, ended}.
func (s *Server) apiConversationEnd(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req endRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if err := samePath(c, req.ConversationID); err != nil {
		return err
	}
	conv, err := s.engine.EndConversation(c.Request().Context(), actor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summary(conv, false))
}
