package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// adminLabels is GET /admin/labels: the labels and the form that adds one.
func (s *Server) adminLabels(c echo.Context) error {
	return s.renderAdminLabels(c, http.StatusOK, labelForm("/admin/labels", "Add label", kustomer.LabelInput{Color: kustomer.LabelColors[0]}, nil))
}

// labelForm is the label form showing in and errs.
func labelForm(action, submit string, in kustomer.LabelInput, errs map[string]string) views.LabelForm {
	return views.LabelForm{Action: action, Name: in.Name, Color: in.Color, Colors: kustomer.LabelColors, Errors: errs, Submit: submit}
}

func (s *Server) renderAdminLabels(c echo.Context, status int, form views.LabelForm) error {
	labels, err := s.engine.Labels(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.AdminLabelsPage{AgentPage: s.agentPage(c, "Labels", "labels"), New: form}
	for _, l := range labels {
		p.Labels = append(p.Labels, views.AdminLabelRow{ID: l.ID, Name: l.Name, Color: l.Color, EditURL: "/admin/labels/" + l.ID})
	}
	noStore(c)
	return render(c, status, views.AdminLabelsView(p))
}

// labelInput reads the label form.
func labelInput(c echo.Context) (kustomer.LabelInput, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return kustomer.LabelInput{}, &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	return kustomer.LabelInput{Name: r.PostForm.Get("name"), Color: r.PostForm.Get("color")}, nil
}

// adminLabelCreate is POST /admin/labels.
func (s *Server) adminLabelCreate(c echo.Context) error {
	in, err := labelInput(c)
	if err != nil {
		return err
	}
	l, err := s.engine.CreateLabel(c.Request().Context(), currentAgent(c), in)
	if errs := formErrors(err); errs != nil {
		return s.renderAdminLabels(c, http.StatusUnprocessableEntity, labelForm("/admin/labels", "Add label", in, errs))
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "The label “"+l.Name+"” is added."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/labels")
}

// adminLabelEdit is GET /admin/labels/{id}.
func (s *Server) adminLabelEdit(c echo.Context) error {
	l, err := s.engine.Label(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderLabelEdit(c, http.StatusOK, l, kustomer.LabelInput{Name: l.Name, Color: l.Color}, nil)
}

func (s *Server) renderLabelEdit(c echo.Context, status int, l kustomer.Label, in kustomer.LabelInput, errs map[string]string) error {
	p := views.AdminLabelEditPage{
		AgentPage: s.agentPage(c, "Edit "+l.Name, "labels"),
		Form:      labelForm("/admin/labels/"+l.ID, "Save", in, errs),
		DeleteURL: "/admin/labels/" + l.ID + "/delete",
	}
	noStore(c)
	return render(c, status, views.AdminLabelEditView(p))
}

// adminLabelUpdate is POST /admin/labels/{id}.
func (s *Server) adminLabelUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := s.engine.Label(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in, err := labelInput(c)
	if err != nil {
		return err
	}
	updated, err := s.engine.UpdateLabel(ctx, currentAgent(c), l.ID, in)
	if errs := formErrors(err); errs != nil {
		return s.renderLabelEdit(c, http.StatusUnprocessableEntity, l, in, errs)
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "The label “"+updated.Name+"” is saved."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/labels")
}

// adminLabelDelete is POST /admin/labels/{id}/delete.
func (s *Server) adminLabelDelete(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := s.engine.Label(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.engine.DeleteLabel(ctx, currentAgent(c), l.ID); err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "The label “"+l.Name+"” is deleted and taken off every conversation."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/labels")
}
