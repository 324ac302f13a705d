package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/session"
	"github.com/handoff/handoff/views"
)

// emailLinkShow is GET /conversations/{id}/continue?token=…, where a
// follow-up email's link lands: a page whose button exchanges the link.
// Nothing is used up on GET, so mail scanners that fetch links cannot
// spend it.
func (s *Server) emailLinkShow(c echo.Context) error {
	noStore(c)
	tok := c.QueryParam("token")
	if _, err := s.readEmailLink(c, tok); err != nil {
		return s.linkProblem(c, tok, err, "")
	}
	l := pageLocale(c, c.QueryParam("lang"), "")
	return render(c, http.StatusOK, views.ContinuePage(views.ContinueView{
		Page: views.Page{Title: l.T("link.continue_title"), L: l}, ConversationID: c.Param("id"), Token: tok}))
}

// emailLinkOpen is POST /conversations/{id}/continue: it exchanges the
// email link, once, for a first-party session of its customer on this
// browser, and opens the chat.
func (s *Server) emailLinkOpen(c echo.Context) error {
	noStore(c)
	r := c.Request()
	tok := r.PostFormValue("token")
	h, err := s.readEmailLink(c, tok)
	if err != nil {
		return s.linkProblem(c, tok, err, "")
	}
	if err := s.engine.UseOnce(r.Context(), "email-link:"+h.Nonce, h.Expires); err != nil {
		return s.linkProblem(c, tok, err, "")
	}
	if err := s.sessions.SetCustomerID(c.Response(), r, h.CustomerID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+h.ConversationID)
}

// emailLinkResend is POST /conversations/{id}/continue/resend: for a link
// that expired or was used (but is genuine), it emails a fresh one to the
// same customer, at most once per kustomer.EmailLinkInterval.
func (s *Server) emailLinkResend(c echo.Context) error {
	noStore(c)
	r := c.Request()
	tok := r.PostFormValue("token")
	h, err := s.sessions.ReadEmailLink(tok, time.Now())
	if err != nil && !errors.Is(err, session.ErrTokenExpired) || h.ConversationID != c.Param("id") {
		return kustomer.ErrForbidden
	}
	notice := "We emailed you a new link. It can take a minute to arrive."
	if err := s.engine.RequestEmailLink(r.Context(), h.ConversationID, h.CustomerID); err != nil {
		if !errors.Is(err, kustomer.ErrEmailLinkTooSoon) {
			return err
		}
		notice = "We emailed you a new link a short while ago: look for it in your inbox, or try again in a few minutes."
	}
	return s.linkProblem(c, tok, kustomer.ErrAlreadyUsed, notice)
}

// readEmailLink reads the token of an email link to the route's
// conversation.
func (s *Server) readEmailLink(c echo.Context, tok string) (session.Handoff, error) {
	h, err := s.sessions.ReadEmailLink(tok, time.Now())
	if err == nil && h.ConversationID != c.Param("id") {
		return h, session.ErrTokenInvalid
	}
	return h, err
}

// linkProblem answers an email link that cannot open the chat: an invalid
// one is forbidden; an expired or used one gets a page that explains and
// offers a fresh link by email.
func (s *Server) linkProblem(c echo.Context, tok string, err error, notice string) error {
	l := pageLocale(c, c.QueryParam("lang"), "")
	v := views.LinkProblemView{Page: views.Page{Title: l.T("link.problem_title"), L: l}, ConversationID: c.Param("id"),
		Token: tok, CanResend: true, Notice: notice}
	status := http.StatusGone
	switch {
	case errors.Is(err, session.ErrTokenExpired):
		v.Heading = l.T("link.expired")
		v.Detail = l.T("link.expired_detail")
	case errors.Is(err, kustomer.ErrAlreadyUsed):
		status = http.StatusConflict
		v.Heading = l.T("link.used")
		v.Detail = l.T("link.used_detail")
	case errors.Is(err, session.ErrTokenInvalid):
		return kustomer.ErrForbidden
	default:
		return err
	}
	if notice != "" {
		status = http.StatusOK
	}
	return render(c, status, views.LinkProblemPage(v))
}

// unsubscribeShow is GET /unsubscribe?token=…, the link in a follow-up
// email: it asks before stopping anything (mail scanners fetch links).
func (s *Server) unsubscribeShow(c echo.Context) error {
	noStore(c)
	tok := c.QueryParam("token")
	if _, err := s.sessions.ReadUnsubscribe(tok, time.Now()); err != nil {
		return kustomer.ErrForbidden
	}
	l := pageLocale(c, c.QueryParam("lang"), "")
	return render(c, http.StatusOK, views.UnsubscribePage(views.UnsubscribeView{Page: views.Page{Title: l.T("unsubscribe.ask"), L: l}, Token: tok}))
}

// unsubscribe is POST /unsubscribe?token=…: the page's button, and the
// one-click unsubscribe (RFC 8058) mail clients send to List-Unsubscribe.
func (s *Server) unsubscribe(c echo.Context) error {
	noStore(c)
	customerID, err := s.sessions.ReadUnsubscribe(c.QueryParam("token"), time.Now())
	if err != nil {
		return kustomer.ErrForbidden
	}
	if err := s.engine.StopFollowUps(c.Request().Context(), customerID); err != nil {
		return err
	}
	l := pageLocale(c, c.QueryParam("lang"), "")
	return render(c, http.StatusOK, views.UnsubscribePage(views.UnsubscribeView{Page: views.Page{Title: l.T("unsubscribe.done_title"), L: l}, Done: true}))
}
