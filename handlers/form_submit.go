package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

const maxFormBytes = 256 << 10

// formSubmit validates a form and hands it off: one transaction creates the
// customer, the conversation and its first message, then 303 to the chat.
// Invalid input re-renders the form with 422, errors beside their fields and
// every value kept.
func (s *Server) formSubmit(c echo.Context) error {
	f, ok := s.engine.Config().Form(c.Param("form"))
	if !ok {
		return echo.ErrNotFound
	}
	r := c.Request()
	origins, err := s.formOrigins(r.Context(), f.ID)
	if err != nil {
		return err
	}
	frameAncestors(c, origins)
	emb := s.embedFor(c, origins)
	noStore(c)
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Form too large", Detail: "The form sent more than the server accepts."}
		}
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	values := r.PostForm
	if values.Get(views.HoneypotField) != "" {
		// A bot: it gets the answer a person gets, and nothing is stored.
		s.opts.Metrics.honeypotFilled(f.ID)
		return c.Redirect(http.StatusSeeOther, "/conversations/"+kustomer.NewID())
	}
	values.Del(views.HoneypotField)
	sub, err := f.Parse(values)
	if err != nil {
		return s.formInvalid(c, f, emb, values, err)
	}
	actor, _ := s.customer(c)
	if wait := s.allowHandoff(c, f.ID, actor.ID); wait > 0 {
		secs := s.retryAfter(c, wait)
		l := pageLocale(c, values.Get(fieldLang), f.Language)
		return render(c, http.StatusTooManyRequests, views.FormView(s.formPage(c, f, emb, values, nil,
			l.Tf("form.rate_limited", map[string]any{"Wait": localWait(l, secs)}))))
	}
	assistantID, _, err := s.engine.FormAssistant(r.Context(), f.ID)
	if err != nil {
		return err
	}
	subID := values.Get(fieldSubmissionID)
	if !validClientID(subID) {
		subID = ""
	}
	conv, _, err := s.engine.CreateConversation(r.Context(), kustomer.CreateConversationInput{
		CustomerID:       actor.ID,
		CustomerName:     sub.Name,
		CustomerEmail:    sub.Email,
		Message:          sub.Message,
		ClientMessageID:  subID,
		AssistantID:      assistantID,
		FormID:           f.ID,
		CustomAttributes: sub.Attributes,
		Context:          pageContext(r, values.Get(fieldReferrer), values.Get(fieldTimeZone)),
		Lang:             pageLocale(c, values.Get(fieldLang), f.Language).Lang(),
	})
	if err != nil {
		return s.formInvalid(c, f, emb, values, err)
	}
	if emb.On {
		// In a frame the cookie is partitioned, and the browser may still
		// drop it: the chat also gets a hand-off token, so the customer
		// never loses the conversation just started.
		if err := s.sessions.SetEmbedCustomerID(c.Response(), r, conv.CustomerID); err != nil {
			return err
		}
		tok, _ := s.sessions.IssueHandoff(conv.ID, conv.CustomerID, time.Now())
		return c.Redirect(http.StatusSeeOther, "/conversations/"+conv.ID+emb.query(tok))
	}
	if err := s.sessions.SetCustomerID(c.Response(), r, conv.CustomerID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+conv.ID)
}

// formInvalid re-renders the form for a validation error or a conflict and
// returns any other error.
func (s *Server) formInvalid(c echo.Context, f *kustomer.Form, emb embedState, values url.Values, err error) error {
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		errs, formErr := fieldErrors(f, verr, pageLocale(c, values.Get(fieldLang), f.Language))
		return render(c, http.StatusUnprocessableEntity, views.FormView(s.formPage(c, f, emb, values, errs, formErr)))
	case errors.As(err, &cerr):
		values = cloneValues(values)
		values.Del(fieldSubmissionID)
		l := pageLocale(c, values.Get(fieldLang), f.Language)
		return render(c, http.StatusConflict, views.FormView(s.formPage(c, f, emb, values, nil, l.T("form.conflict"))))
	}
	return err
}

// fieldErrors maps engine validation keys back to the form's field names,
// each problem said in l's language when it has a code, else in English.
func fieldErrors(f *kustomer.Form, verr *kustomer.ValidationError, l *locale.Localizer) (map[string]string, string) {
	byKey := map[string]string{}
	for _, fl := range f.Fields {
		switch {
		case fl.Attribute != "":
			byKey["customAttributes."+fl.Attribute] = fl.Name
		case fl.Role != "":
			byKey[string(fl.Role)] = fl.Name
		}
		byKey[fl.Name] = fl.Name
	}
	errs := map[string]string{}
	var other []string
	for k, msg := range verr.Fields {
		if p, ok := verr.Problems[k]; ok {
			msg = problemText(l, p)
		}
		if name, ok := byKey[k]; ok {
			errs[name] = sentence(msg)
			continue
		}
		other = append(other, sentence(msg))
	}
	return errs, strings.Join(other, " ")
}

// sentence capitalises msg and ends it with a full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = strings.ToUpper(string(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// pageContext records where the conversation started: referrer is the page
// that led to the form (carried in a hidden field) or, for the API, the
// request's Referer.
func pageContext(r *http.Request, referrer, timeZone string) kustomer.PageContext {
	if u, err := url.Parse(referrer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || len(referrer) > kustomer.MaxURLLen {
		referrer = ""
	}
	locale, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	locale, _, _ = strings.Cut(locale, ";")
	return kustomer.PageContext{
		Referrer:  referrer,
		UserAgent: truncate(r.UserAgent(), 512),
		Locale:    truncate(strings.TrimSpace(locale), 35),
		TimeZone:  kustomer.CleanTimeZone(timeZone),
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// problemText says p in l's language. Its numbers and words are the
// message's data by their capitalised names ("length" is {{.Length}});
// "max" is the count its plural form follows.
func problemText(l *locale.Localizer, p kustomer.Problem) string {
	id := "validation." + p.Code
	data := make(map[string]any, len(p.Params)+len(p.Words))
	for k, v := range p.Params {
		data[dataKey(k)] = v
	}
	for k, v := range p.Words {
		data[dataKey(k)] = v
	}
	if max, ok := p.Params["max"]; ok {
		return l.Tn(id, max, data)
	}
	return l.Tf(id, data)
}

// dataKey is a problem's parameter name as a message's data key.
func dataKey(k string) string {
	if k == "" {
		return k
	}
	return strings.ToUpper(k[:1]) + k[1:]
}
