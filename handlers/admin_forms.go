package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// auditShown is how many setting changes the forms page lists.
const auditShown = 50

// maxOriginsText bounds the origins textarea: MaxAllowedOrigins origins of
// up to a few hundred bytes each, with room for blank lines.
const maxOriginsText = 16 << 10

// adminForms lists every form with its fields, origins and assistant.
func (s *Server) adminForms(c echo.Context) error {
	return s.renderAdminForms(c, http.StatusOK, "", nil)
}

// originsDraft is a refused list of origins, shown again on its form.
type originsDraft struct {
	formID string
	text   string
	err    string
}

func (s *Server) renderAdminForms(c echo.Context, status int, msg string, draft *originsDraft) error {
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
		origins, originsOverridden, err := s.engine.FormOrigins(ctx, f.ID)
		if err != nil {
			return err
		}
		af := views.AdminForm{
			ID: f.ID, Title: f.Title.String(), URL: "/forms/" + f.ID,
			AllowedOrigins: origins, OriginsOverridden: originsOverridden, DefaultOrigins: f.AllowedOrigins,
			OriginsAction: "/admin/forms/" + f.ID + "/origins", OriginsText: strings.Join(origins, "\n"),
			AssistantID: current, DefaultID: f.AssistantID, Overridden: overridden, AllowOverride: f.AllowAssistantOverride,
			Action: "/admin/forms/" + f.ID + "/assistant",
		}
		if draft != nil && draft.formID == f.ID {
			af.OriginsText, af.OriginsError = draft.text, draft.err
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
			af.Fields = append(af.Fields, views.AdminField{Name: fl.Name, Label: fl.Label.String(), Type: string(fl.Type), Required: fl.Required, Maps: maps})
		}
		p.Forms = append(p.Forms, af)
	}
	audit, err := s.engine.FormAudit(ctx, auditShown)
	if err != nil {
		return err
	}
	for _, a := range audit {
		p.Audit = append(p.Audit, views.AuditEntry{At: a.At, Who: a.AgentName, FormID: a.FormID, Setting: a.Setting, From: a.From, To: a.To})
	}
	return render(c, status, views.AdminFormsView(p))
}

// adminFormAssistant changes a form's assistant from the next hand-off on.
func (s *Server) adminFormAssistant(c echo.Context) error {
	r := c.Request()
	err := s.engine.SetFormAssistant(r.Context(), currentAgent(c), c.Param("id"), r.FormValue("assistantId"))
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.renderAdminForms(c, http.StatusUnprocessableEntity, sentence(firstValue(verr.Fields)), nil)
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), r, "Saved: the next conversation from this form uses the new assistant."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/forms")
}

// adminFormOrigins replaces the origins allowed to embed a form (textarea
// origins, one per line), or with reset=1 goes back to handoff.yaml's list.
func (s *Server) adminFormOrigins(c echo.Context) error {
	r := c.Request()
	by, formID := currentAgent(c), c.Param("id")
	if r.FormValue("reset") == "1" {
		if err := s.engine.ResetFormOrigins(r.Context(), by, formID); err != nil {
			return err
		}
		return s.savedOrigins(c, "Saved: this form may be embedded where handoff.yaml allows.")
	}
	text := strings.ReplaceAll(r.FormValue("origins"), "\r\n", "\n")
	var err error
	if len(text) > maxOriginsText {
		err = &kustomer.ValidationError{Fields: map[string]string{"allowedOrigins": fmt.Sprintf("list at most %d origins, one per line", kustomer.MaxAllowedOrigins)}}
	} else {
		origins := []string{}
		for line := range strings.Lines(text) {
			if line = strings.TrimSpace(line); line != "" {
				origins = append(origins, line)
			}
		}
		err = s.engine.SetFormOrigins(r.Context(), by, formID, origins)
	}
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.renderAdminForms(c, http.StatusUnprocessableEntity, "", &originsDraft{formID: formID, text: text, err: sentence(firstValue(verr.Fields))})
	}
	if err != nil {
		return err
	}
	return s.savedOrigins(c, "Saved: pages on the listed origins may embed this form from now on.")
}

// savedOrigins sends the admin back to the forms page with notice.
func (s *Server) savedOrigins(c echo.Context, notice string) error {
	if err := s.sessions.SetNotice(c.Response(), c.Request(), notice); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/forms")
}
