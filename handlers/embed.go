package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/session"
)

// embedState is what keeps a page in embed mode from one request to the
// next: ?embed=1, the embedding page's origin (host, only when it is one
// the form allows) and, on the form, whether the chat opens in a new tab.
type embedState struct {
	On    bool
	Host  string // the parent page's origin, validated; "" when unknown
	Tab   bool   // chat=tab: the form posts to a new top-level tab
	Panel bool   // panel=1: in the launcher's panel, whose bar shows the title
}

// embedFor reads the request's embed parameters; origins are the form's
// allowed origins.
func (s *Server) embedFor(c echo.Context, origins []string) embedState {
	q := c.Request().URL.Query()
	if q.Get("embed") != "1" {
		return embedState{}
	}
	e := embedState{On: true, Tab: q.Get("chat") == "tab", Panel: q.Get("panel") == "1"}
	if h, err := kustomer.ParseOrigin(q.Get("host")); err == nil && (s.isOwnOrigin(c.Request(), h) || slices.Contains(origins, h)) {
		e.Host = h
	}
	return e
}

// query is the query string that keeps the next page in embed mode ("" when
// not embedded), with token when the frame authenticates by hand-off token.
func (e embedState) query(token string) string {
	if !e.On {
		return ""
	}
	v := url.Values{"embed": {"1"}}
	if e.Host != "" {
		v.Set("host", e.Host)
	}
	if e.Panel {
		v.Set("panel", "1")
	}
	if token != "" {
		v.Set("token", token)
	}
	return "?" + v.Encode()
}

// isOwnOrigin reports whether origin (normalized by kustomer.ParseOrigin)
// is this site's: the base URL's, or the request's own scheme, host and
// port.
func (s *Server) isOwnOrigin(r *http.Request, origin string) bool {
	if b := s.opts.BaseURL; b != nil {
		if own, err := kustomer.ParseOrigin(b.Scheme + "://" + b.Host); err == nil && origin == own {
			return true
		}
	}
	own, err := kustomer.ParseOrigin(s.requestScheme(r) + "://" + r.Host)
	return err == nil && origin == own
}

// formOrigins returns the origins allowed to embed a form and its chats.
func (s *Server) formOrigins(ctx context.Context, formID string) ([]string, error) {
	if formID == "" {
		return nil, nil
	}
	origins, _, err := s.engine.FormOrigins(ctx, formID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return nil, nil // a form since removed from handoff.yaml
	}
	for _, o := range s.opts.FrameOrigins {
		if !slices.Contains(origins, o) {
			origins = append(slices.Clip(origins), o)
		}
	}
	return origins, err
}

// access is how a request reached a conversation: by its session cookie
// (first-party or the embed cookie), or by a hand-off token when the
// browser kept no cookie in the frame.
type access struct {
	Actor   kustomer.Actor
	Handoff *session.Handoff // set when the token, not a cookie, authenticated
}

// errHandoffExpired answers a frame whose token expired and which has no
// cookie to fall back on.
var errHandoffExpired = &Error{
	Status: http.StatusForbidden, Code: "handoff_expired", Title: "This chat link has expired",
	Detail: "Your browser keeps no cookies for this chat inside the frame, and the link the frame was using has expired. Start a new conversation, or open the chat in a new tab next time to keep it.",
}

// conversationAccess authenticates a request for conversation c.Param("id"):
// a valid hand-off token for that conversation (query parameter token)
// grants its customer access; otherwise the session's customer acts.
func (s *Server) conversationAccess(c echo.Context) (access, error) {
	r := c.Request()
	cid := s.sessions.CustomerID(r)
	if tok := r.URL.Query().Get("token"); tok != "" {
		h, err := s.sessions.ReadHandoff(tok, time.Now())
		switch {
		case err == nil && h.ConversationID == c.Param("id"):
			if h.CustomerID == cid {
				return access{Actor: kustomer.CustomerActor(cid)}, nil // the cookie survived
			}
			return access{Actor: kustomer.CustomerActor(h.CustomerID), Handoff: &h}, nil
		case cid == "":
			if errors.Is(err, session.ErrTokenExpired) {
				return access{}, errHandoffExpired
			}
			return access{}, kustomer.ErrForbidden
		}
	}
	if cid == "" {
		return access{}, kustomer.ErrForbidden
	}
	return access{Actor: kustomer.CustomerActor(cid)}, nil
}

// embedJSON is GET /forms/{form}/embed.json: what the loader script needs
// before it inserts a frame. It is public (the same origins are in the form
// page's CSP), readable from any origin, and sets no cookie.
func (s *Server) embedJSON(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=60")
	f, ok := s.engine.Config().Form(c.Param("form"))
	if !ok {
		return c.JSON(http.StatusNotFound, map[string]any{"errors": []apiError{{
			Code: "not_found", Title: "No such form",
			Detail: fmt.Sprintf("There is no form %q on this server.", c.Param("form")),
		}}})
	}
	origins, err := s.formOrigins(c.Request().Context(), f.ID)
	if err != nil {
		return err
	}
	if origins == nil {
		origins = []string{}
	}
	// The title in the page's language: the embed's ?lang=, else the form's
	// own, else the browser's.
	l := pageLocale(c, c.QueryParam("lang"), f.Language)
	words := map[string]string{"launcher": l.T("embed.launcher"), "close": l.T("embed.close"), "frame": l.T("embed.frame")}
	return c.JSON(http.StatusOK, map[string]any{"formId": f.ID, "title": f.Title.In(l.Lang()), "lang": l.Lang(), "dir": l.Dir(),
		"words": words, "allowedOrigins": origins})
}

// conversationOpen is POST /conversations/{id}/open, sent from an embedded
// frame to a new top-level tab: it exchanges the frame's hand-off token for
// a first-party session (once per token) and shows the chat there.
func (s *Server) conversationOpen(c echo.Context) error {
	r := c.Request()
	id := c.Param("id")
	tok := r.PostFormValue("token")
	h, err := s.sessions.ReadHandoff(tok, time.Now())
	switch {
	case errors.Is(err, session.ErrTokenExpired):
		return errHandoffExpired
	case err != nil || h.ConversationID != id:
		return kustomer.ErrForbidden
	}
	if s.sessions.CustomerID(r) != h.CustomerID {
		if err := s.engine.UseOnce(r.Context(), "handoff:"+h.Nonce, h.Expires); err != nil {
			if errors.Is(err, kustomer.ErrAlreadyUsed) {
				return &Error{Status: http.StatusConflict, Code: "handoff_used", Title: "This link was already used",
					Detail: "Each hand-off link opens the chat once. Use the tab it opened, or open the chat again from the frame."}
			}
			return err
		}
		if err := s.sessions.SetCustomerID(c.Response(), r, h.CustomerID); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+id)
}
