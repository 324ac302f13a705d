package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// indexShow lists the forms.
func (s *Server) indexShow(c echo.Context) error {
	l := pageLocale(c, c.QueryParam("lang"), "")
	p := views.IndexPage{Page: views.Page{Title: l.T("index.title"), ShowConversationsLink: s.sessions.CustomerID(c.Request()) != "", L: l}}
	for _, f := range s.engine.Config().Forms {
		p.Forms = append(p.Forms, views.FormSummary{Title: f.Title.In(l.Lang()), Intro: f.Intro.In(l.Lang()), URL: "/forms/" + f.ID})
	}
	return render(c, http.StatusOK, views.IndexView(p))
}

// formShow renders a blank form. It sets no cookie.
func (s *Server) formShow(c echo.Context) error {
	f, ok := s.engine.Config().Form(c.Param("form"))
	if !ok {
		return echo.ErrNotFound
	}
	origins, err := s.formOrigins(c.Request().Context(), f.ID)
	if err != nil {
		return err
	}
	frameAncestors(c, origins)
	emb := s.embedFor(c, origins)
	values := url.Values{}
	if lang := c.QueryParam("lang"); lang != "" {
		values.Set(fieldLang, lang)
	}
	// Keep where the visitor came from, for the conversation's context: in
	// a frame, the embedding page (the loader passes its address, which
	// must be on the embedding origin); otherwise the Referer.
	if ref := c.QueryParam(fieldReferrer); emb.Host != "" && sameOrigin(ref, emb.Host) {
		values.Set(fieldReferrer, ref)
	} else if ref := c.Request().Referer(); ref != "" {
		values.Set(fieldReferrer, ref)
	}
	noStore(c)
	return render(c, http.StatusOK, views.FormView(s.formPage(c, f, emb, values, nil, "")))
}

// sameOrigin reports whether the URL ref is on origin.
func sameOrigin(ref, origin string) bool {
	u, err := url.Parse(ref)
	return err == nil && u.Host != "" && strings.EqualFold(u.Scheme+"://"+u.Host, origin)
}

// Hidden fields the form carries besides the operator's fields.
const (
	fieldSubmissionID = "submissionId"
	fieldReferrer     = "referrer"
)

// formPage builds the view of form f showing values and per-field errors.
func (s *Server) formPage(c echo.Context, f *kustomer.Form, emb embedState, values url.Values, errs map[string]string, formErr string) views.FormPage {
	l := pageLocale(c, values.Get(fieldLang), f.Language)
	lang := l.Lang()
	action, target := "/forms/"+f.ID+emb.query(""), ""
	if emb.Tab {
		// The chat continues in a new top-level tab, with a first-party
		// session: the form posts there as a plain page.
		action, target = "/forms/"+f.ID, "_blank"
	}
	subID := values.Get(fieldSubmissionID)
	if !validClientID(subID) {
		subID = kustomer.NewID()
	}
	var continueURL string
	if actor, ok := s.customer(c); ok && values.Get(fieldSubmissionID) == "" {
		continueURL = s.openConversationURL(c, actor, f.ID, emb)
	}
	p := views.FormPage{
		Expect:       s.expectView(c.Request().Context(), f, time.Now()),
		ContinueURL:  continueURL,
		Page:         views.Page{Title: f.Title.In(lang), Embed: emb.On, EmbedPanel: emb.Panel, EmbedHost: emb.Host, ShowConversationsLink: s.sessions.CustomerID(c.Request()) != "", L: l},
		FormID:       f.ID,
		Intro:        f.Intro.In(lang),
		SubmitLabel:  f.SubmitLabel.In(lang),
		Action:       action,
		Target:       target,
		SubmissionID: subID,
		Referrer:     values.Get(fieldReferrer),
		Error:        formErr,
	}
	for _, fl := range f.Fields {
		v := values.Get(fl.Name)
		fv := views.FieldView{
			Name: fl.Name, Label: fl.Label.In(lang), Type: string(fl.Type), Required: fl.Required,
			Placeholder: fl.Placeholder.In(lang), Help: fl.Help.In(lang), MaxLength: fl.MaxLength,
			Value: v, Checked: fl.Type == kustomer.FieldCheckbox && (v == "true" || v == "on"),
			Error: errs[fl.Name],
		}
		for _, o := range fl.Options {
			fv.Options = append(fv.Options, views.OptionView{Value: o.Value, Label: o.Label.In(lang), Selected: o.Value == v})
		}
		p.Fields = append(p.Fields, fv)
	}
	return p
}

// expectView is what form f's pages say of the answer to come at now:
// when the team is back outside its hours; within them, how soon an answer
// usually comes, or that nobody is online to give it now.
func (s *Server) expectView(ctx context.Context, f *kustomer.Form, now time.Time) *views.ExpectView {
	e, ok := f.ExpectAt(now)
	if !e.Back.IsZero() {
		return &views.ExpectView{Back: e.Back}
	}
	if available, err := s.engine.AnyoneAvailable(ctx); err == nil && !available {
		return &views.ExpectView{Offline: true}
	} else if err != nil {
		s.log.WarnContext(ctx, "read who is online", "err", err)
	}
	if !ok {
		return nil
	}
	return &views.ExpectView{WithinMinutes: int(e.Within.Round(time.Minute) / time.Minute)}
}

// openConversationURL is the chat of actor's most recent open
// conversation from form, or "" when there is none (or it cannot be read:
// the form shows anyway).
func (s *Server) openConversationURL(c echo.Context, actor kustomer.Actor, form string, emb embedState) string {
	page, err := s.engine.GetConversations(c.Request().Context(), actor, actor.ID, 1, 20)
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "list conversations for the form", "form", form, "err", err)
		return ""
	}
	for _, conv := range page.Conversations {
		if conv.FormID == form && !conv.Ended {
			return "/conversations/" + conv.ID + emb.query("")
		}
	}
	return ""
}

// validClientID reports whether id is usable as a clientMessageId.
func validClientID(id string) bool {
	if id == "" || len(id) > kustomer.MaxClientIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
