package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// conversationRate records the customer's rating of an ended conversation
// (the chat page's form); a rejected one re-renders with the reason.
func (s *Server) conversationRate(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	actor := acc.Actor
	r := c.Request()
	id := c.Param("id")
	rating, _ := strconv.Atoi(r.FormValue("rating"))
	comment := r.FormValue("comment")
	_, err = s.engine.RateConversation(r.Context(), actor, id, rating, comment)
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		return s.chatWithRating(c, acc, id, http.StatusUnprocessableEntity, rating, comment, func(l *locale.Localizer) string {
			if p, ok := verr.Problems["comment"]; ok {
				return problemText(l, p)
			}
			if m, ok := verr.Fields["comment"]; ok {
				return "Your comment " + m + "."
			}
			return l.T("rating.choose")
		})
	case errors.As(err, &cerr):
		return s.chatWithRating(c, acc, id, http.StatusConflict, rating, comment, english(sentence(cerr.Reason)))
	case err != nil:
		return err
	}
	q := s.carryEmbed(c, acc, id)
	if r.FormValue("transcript") == "1" {
		if err := s.engine.RequestTranscript(r.Context(), actor, id); err != nil {
			return s.transcriptOutcome(c, acc, id, err)
		}
		// The chat says the transcript is on its way.
		if q == "" {
			q = "?transcript=sent"
		} else {
			q += "&transcript=sent"
		}
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+id+q+"#rating")
}

// conversationTranscript is POST /conversations/{id}/transcript, the ended
// chat's "Email me a transcript": the chat again, saying what happened.
func (s *Server) conversationTranscript(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	return s.transcriptOutcome(c, acc, id, s.engine.RequestTranscript(c.Request().Context(), acc.Actor, id))
}

// transcriptOutcome shows the chat with the outcome of a transcript
// request: queued, or refused with the reason (no email address, not
// ended).
func (s *Server) transcriptOutcome(c echo.Context, acc access, id string, err error) error {
	status, reason := http.StatusOK, ""
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &cerr):
		status, reason = http.StatusConflict, sentence(cerr.Reason)
	case err != nil:
		return err
	}
	return s.rerenderChat(c, acc, id, status, func(p *views.ChatPage) {
		if reason == "" {
			p.TranscriptNotice = p.L.T("chat.transcript_sent")
		} else {
			p.TranscriptNotice = p.L.T("chat.transcript_not_sent") + " " + reason
		}
	})
}

func (s *Server) chatWithRating(c echo.Context, acc access, id string, status, rating int, comment string, msg func(*locale.Localizer) string) error {
	return s.rerenderChat(c, acc, id, status, func(p *views.ChatPage) {
		p.RatingError, p.RatingValue, p.RatingComment = msg(p.L), rating, comment
	})
}

type rateRequest struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// apiConversationRate records the customer's satisfaction through the API.
func (s *Server) apiConversationRate(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req rateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	conv, err := s.engine.RateConversation(c.Request().Context(), actor, c.Param("id"), req.Rating, req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversationId": conv.ID, "satisfaction": conv.Satisfaction})
}

// conversationEnd is POST /conversations/{id}/end: the customer ends the
// chat where its form allows it (allowCustomerEnd), and sees it ended,
// with the rating.
func (s *Server) conversationEnd(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if _, err := s.engine.EndConversation(c.Request().Context(), acc.Actor, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+id+s.carryEmbed(c, acc, id))
}
