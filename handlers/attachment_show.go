package handlers

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// attachmentPolicy is the file response's CSP: a file opened directly runs
// nothing and loads nothing, whatever it contains.
const attachmentPolicy = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"

// attachmentShow is GET /conversations/{id}/attachments/{att}: a file, to
// the conversation's participants only. Images are shown inline; any other
// file is a download.
func (s *Server) attachmentShow(c echo.Context) error {
	actor, err := s.attachmentReader(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.engine.Attachment(ctx, actor, c.Param("att"))
	if err != nil {
		return err
	}
	if a.ConversationID != c.Param("id") {
		// A hand-off token names one conversation: it opens no other's
		// files through its URL.
		return fmt.Errorf("attachment %s of conversation %s: %w", a.ID, c.Param("id"), kustomer.ErrNotFound)
	}
	disposition := "attachment"
	if kustomer.IsInlineImage(a.ContentType) {
		disposition = "inline"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.ContentType)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(a.Size, 10))
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": a.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", attachmentPolicy)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// A file never changes, but who may read it can: the browser keeps it,
	// shared caches do not.
	h.Set("Cache-Control", "private, max-age=3600")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := s.engine.CopyAttachment(ctx, a, c.Response()); err != nil {
		// The status line is gone: log and cut the response short.
		s.log.ErrorContext(ctx, "serve attachment", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "attachment_id", a.ID, "err", err)
	}
	return nil
}

// attachmentReader is who fetches a file: a signed-in agent, the
// organization API (its bearer token), or the customer (session or hand-off
// token, as for the chat page).
func (s *Server) attachmentReader(c echo.Context) (kustomer.Actor, error) {
	r := c.Request()
	if id, sid := s.sessions.Agent(r); id != "" {
		if a, err := s.engine.AgentBySession(r.Context(), id, sid); err == nil {
			return a.Actor(), nil
		}
	}
	if s.hasAPIToken(r) {
		return orgActor, nil
	}
	acc, err := s.conversationAccess(c)
	return acc.Actor, err
}
