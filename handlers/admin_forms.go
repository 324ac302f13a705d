package handlers

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// auditShown is how many assistant changes the forms page lists.
const auditShown = 50

// adminForms lists every form with its fields, origins and assistant.
func (s *Server) adminForms(c echo.Context) error {
	return s.renderAdminForms(c, http.StatusOK, "")
}

func (s *Server) renderAdminForms(c echo.Context, status int, msg string) error {
	ctx := c.Request().Context()
	cfg := s.engine.Config()
	ids := s.engine.AssistantIDs()
	slices.Sort(ids)
	p := views.AdminFormsPage{AgentPage: s.agentPage(c, "Forms", "forms"), Error: msg}
	for _, f := range cfg.Forms {
		current, overridden, err := s.engine.FormAssistant(ctx, f.ID)
		if err != nil {
			return err
		}
		af := views.AdminForm{
			ID: f.ID, Title: f.Title, URL: "/forms/" + f.ID, AllowedOrigins: f.AllowedOrigins,
			AssistantID: current, DefaultID: f.AssistantID, Overridden: overridden, AllowOverride: f.AllowAssistantOverride,
			Action: "/admin/forms/" + f.ID + "/assistant",
		}
		af.Assistants = append(af.Assistants, views.OptionView{Value: "", Label: "None (agents answer)", Selected: current == ""})
		for _, id := range ids {
			af.Assistants = append(af.Assistants, views.OptionView{Value: id, Label: id, Selected: id == current})
		}
		for _, fl := range f.Fields {
			maps := string(fl.Role)
			switch fl.Role {
			case kustomer.RoleName:
				maps = "customer name"
			case kustomer.RoleEmail:
				maps = "customer email"
			}
			if fl.Attribute != "" {
				t, _ := kustomer.AttributeTypeOf(fl.Attribute)
				maps = fl.Attribute + " (" + string(t) + ")"
			}
			af.Fields = append(af.Fields, views.AdminField{Name: fl.Name, Label: fl.Label, Type: string(fl.Type), Required: fl.Required, Maps: maps})
		}
		p.Forms = append(p.Forms, af)
	}
	audit, err := s.engine.FormAudit(ctx, auditShown)
	if err != nil {
		return err
	}
	for _, a := range audit {
		p.Audit = append(p.Audit, views.AuditEntry{At: a.At, Who: a.AgentName, FormID: a.FormID, From: a.From, To: a.To})
	}
	return render(c, status, views.AdminFormsView(p))
}

// adminFormAssistant changes a form's assistant from the next hand-off on.
func (s *Server) adminFormAssistant(c echo.Context) error {
	r := c.Request()
	err := s.engine.SetFormAssistant(r.Context(), currentAgent(c), c.Param("id"), r.FormValue("assistantId"))
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.renderAdminForms(c, http.StatusUnprocessableEntity, sentence(firstValue(verr.Fields)))
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), r, "Saved: the next conversation from this form uses the new assistant."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/forms")
}
