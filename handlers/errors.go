package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// Error is an error with the status, code and text to show. Pointer names
// the offending part of a JSON body (RFC 6901), if any. A customer's page
// says it in its language from the catalogs' "errors.<Key>" (Key is Code
// when empty), with Wait, seconds to wait, as {{.Wait}} in words.
type Error struct {
	Status  int
	Code    string
	Title   string
	Detail  string
	Pointer string
	Key     string
	Wait    int
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail) }

// apiError is one entry of a JSON error response.
type apiError struct {
	Code   string     `json:"code"`
	Title  string     `json:"title"`
	Detail string     `json:"detail,omitempty"`
	Source *apiSource `json:"source,omitempty"`

	// What a page needs to say it in its reader's language: the catalog
	// key, the seconds to wait, the field's problem.
	key     string
	wait    int
	problem *kustomer.Problem
}

type apiSource struct {
	Pointer string `json:"pointer"`
}

// handleError is echo's central error handler: it maps errors to statuses,
// answers JSON under /api/ and an HTML page elsewhere, and logs 5xx with
// the request id. Internal error text never reaches the response.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, errs := classify(err)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "internal error", slog.String("request_id", reqID),
			slog.String("route", c.Path()), slog.Any("err", err))
	}
	var werr error
	switch {
	case isAPI(c):
		werr = c.JSON(status, map[string]any{"errors": errs})
	case wantsJSON(c):
		// A customer page's script (an upload): what it shows the customer,
		// in the page's language. The console stays in English.
		if l := pageLocale(c, c.QueryParam("lang"), ""); !isStaff(c) {
			for i := range errs {
				errs[i].Title, errs[i].Detail = localError(l, errs[i])
			}
		}
		werr = c.JSON(status, map[string]any{"errors": errs})
	default:
		l := pageLocale(c, c.QueryParam("lang"), "")
		title, detail := localError(l, errs[0])
		p := views.ErrorPage{Page: views.Page{Title: title, Embed: c.QueryParam("embed") == "1", L: l}, Status: status, Heading: title, Detail: detail, RequestID: reqID}
		werr = render(c, status, views.ErrorView(p))
	}
	if werr != nil {
		s.log.ErrorContext(c.Request().Context(), "write error response", slog.String("request_id", reqID), slog.Any("err", werr))
	}
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// wantsJSON reports whether a page's script asked for JSON first (as the
// chat's and the console's uploads do).
func wantsJSON(c echo.Context) bool {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	first, _, _ := strings.Cut(accept, ",")
	mt, _, _ := strings.Cut(strings.TrimSpace(first), ";")
	return mt == echo.MIMEApplicationJSON
}

// isStaff reports whether the request is to the agents' or admins' pages.
func isStaff(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/agent") || strings.HasPrefix(p, "/admin")
}

// classify maps an error to a status and the errors to show.
func classify(err error) (int, []apiError) {
	var (
		herr *Error
		verr *kustomer.ValidationError
		cerr *kustomer.ConflictError
		ferr *kustomer.ForbiddenError
		eerr *echo.HTTPError
	)
	switch {
	case errors.As(err, &herr):
		e := apiError{Code: herr.Code, Title: herr.Title, Detail: herr.Detail, key: herr.Key, wait: herr.Wait}
		if herr.Pointer != "" {
			e.Source = &apiSource{Pointer: herr.Pointer}
		}
		return herr.Status, []apiError{e}
	case errors.As(err, &verr):
		keys := make([]string, 0, len(verr.Fields))
		for k := range verr.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]apiError, 0, len(keys))
		for _, k := range keys {
			e := apiError{Code: "invalid", Title: "Invalid value", Detail: k + " " + verr.Fields[k], Source: &apiSource{Pointer: jsonPointer(k)}}
			if p, ok := verr.Problems[k]; ok {
				e.problem = &p
			}
			out = append(out, e)
		}
		return http.StatusUnprocessableEntity, out
	case errors.As(err, &cerr):
		return http.StatusConflict, []apiError{{Code: cerr.Code, Title: "Conflict", Detail: cerr.Reason}}
	case errors.As(err, &ferr):
		return http.StatusForbidden, []apiError{{Code: ferr.Code, Title: "Forbidden", Detail: sentence(ferr.Reason)}}
	case errors.Is(err, kustomer.ErrNotFound):
		return http.StatusNotFound, []apiError{{Code: "not_found", Title: "Not found", Detail: "There is nothing here. Check the address."}}
	case errors.Is(err, kustomer.ErrForbidden):
		return http.StatusForbidden, []apiError{{Code: "forbidden", Title: "Forbidden", Detail: "You do not have access to this conversation."}}
	case errors.Is(err, kustomer.ErrConflict):
		return http.StatusConflict, []apiError{{Code: "conflict", Title: "Conflict", Detail: "The request conflicts with the current state."}}
	case errors.As(err, &eerr):
		title := http.StatusText(eerr.Code)
		detail := ""
		switch eerr.Code {
		case http.StatusNotFound:
			detail = "There is nothing here. Check the address."
		case http.StatusRequestEntityTooLarge:
			detail = "The request body is too large."
		case http.StatusMethodNotAllowed:
			detail = "This address does not accept that method."
		}
		key := ""
		if eerr.Code >= 500 {
			title, detail, key = "Something went wrong", "Please try again in a moment.", "internal"
		}
		return eerr.Code, []apiError{{Code: strings.ReplaceAll(strings.ToLower(http.StatusText(eerr.Code)), " ", "_"), Title: title, Detail: detail, key: key}}
	}
	return http.StatusInternalServerError, []apiError{{Code: "internal", Title: "Something went wrong", Detail: "Please try again in a moment."}}
}

// jsonPointer turns "customAttributes.topicStr" or "attributes.emails[0]"
// into "/customAttributes/topicStr" and "/attributes/emails/0".
func jsonPointer(key string) string {
	r := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, part := range strings.Split(key, ".") {
		name, idx, _ := strings.Cut(part, "[")
		b.WriteString("/" + r.Replace(name))
		if idx != "" {
			b.WriteString("/" + strings.TrimSuffix(idx, "]"))
		}
	}
	return b.String()
}

// localError is e's title and detail in l's language, for the errors the
// catalogs know (the ones a customer meets) and the fields' problems the
// engine named; e's own English text for the others.
func localError(l *locale.Localizer, e apiError) (string, string) {
	key := e.key
	if key == "" {
		key = e.Code
	}
	id := "errors." + key
	title, detail := l.T(id+".title"), l.Tf(id+".detail", map[string]any{"Wait": localWait(l, e.wait)})
	if title == id+".title" || detail == id+".detail" {
		title, detail = e.Title, e.Detail
	}
	if e.problem != nil {
		detail = sentence(problemText(l, *e.problem))
	}
	return title, detail
}
