package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// indexShow lists the forms.
func (s *Server) indexShow(c echo.Context) error {
	p := views.IndexPage{Page: views.Page{Title: "Contact us", ShowConversationsLink: s.sessions.CustomerID(c.Request()) != ""}}
	for _, f := range s.engine.Config().Forms {
		p.Forms = append(p.Forms, views.FormSummary{Title: f.Title, Intro: f.Intro, URL: "/forms/" + f.ID})
	}
	return render(c, http.StatusOK, views.IndexView(p))
}

// formShow renders a blank form. It sets no cookie.
func (s *Server) formShow(c echo.Context) error {
	f, ok := s.engine.Config().Form(c.Param("form"))
	if !ok {
		return echo.ErrNotFound
	}
	values := url.Values{}
	// Keep where the visitor came from, for the conversation's context.
	if ref := c.Request().Referer(); ref != "" {
		values.Set(fieldReferrer, ref)
	}
	frameAncestors(c, f.AllowedOrigins)
	noStore(c)
	return render(c, http.StatusOK, views.FormView(s.formPage(c, f, values, nil, "")))
}

// Hidden fields the form carries besides the operator's fields.
const (
	fieldSubmissionID = "submissionId"
	fieldReferrer     = "referrer"
)

// formPage builds the view of form f showing values and per-field errors.
func (s *Server) formPage(c echo.Context, f *kustomer.Form, values url.Values, errs map[string]string, formErr string) views.FormPage {
	embed := c.QueryParam("embed") == "1"
	action := "/forms/" + f.ID
	if embed {
		action += "?embed=1"
	}
	subID := values.Get(fieldSubmissionID)
	if !validClientID(subID) {
		subID = kustomer.NewID()
	}
	p := views.FormPage{
		Page:         views.Page{Title: f.Title, Embed: embed, ShowConversationsLink: s.sessions.CustomerID(c.Request()) != ""},
		FormID:       f.ID,
		Intro:        f.Intro,
		SubmitLabel:  f.SubmitLabel,
		Action:       action,
		SubmissionID: subID,
		Referrer:     values.Get(fieldReferrer),
		Error:        formErr,
	}
	for _, fl := range f.Fields {
		v := values.Get(fl.Name)
		fv := views.FieldView{
			Name: fl.Name, Label: fl.Label, Type: string(fl.Type), Required: fl.Required,
			Placeholder: fl.Placeholder, Help: fl.Help, MaxLength: fl.MaxLength,
			Value: v, Checked: fl.Type == kustomer.FieldCheckbox && (v == "true" || v == "on"),
			Error: errs[fl.Name],
		}
		for _, o := range fl.Options {
			fv.Options = append(fv.Options, views.OptionView{Value: o.Value, Label: o.Label, Selected: o.Value == v})
		}
		p.Fields = append(p.Fields, fv)
	}
	return p
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
