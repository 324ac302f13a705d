package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// adminAgents lists accounts with the form to add one.
func (s *Server) adminAgents(c echo.Context) error {
	return s.renderAdminAgents(c, http.StatusOK, views.AgentForm{Role: string(kustomer.RoleAgent), Capacity: strconv.Itoa(kustomer.DefaultCapacity)}, "")
}

func (s *Server) renderAdminAgents(c echo.Context, status int, form views.AgentForm, listErr string) error {
	me := currentAgent(c)
	agents, err := s.engine.Agents(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.AdminAgentsPage{AgentPage: s.agentPage(c, "Agents", "agents"), Error: listErr}
	now := time.Now()
	for _, a := range agents {
		presence := string(a.Status)
		if presence != string(kustomer.StatusOffline) && (a.SeenAt == nil || now.Sub(*a.SeenAt) >= kustomer.PresenceTTL) {
			presence = string(kustomer.StatusOffline) // no console open: offline, whatever the status says
		}
		p.Agents = append(p.Agents, views.AgentRow{
			ID: a.ID, Name: a.Name, Email: a.Email, Role: string(a.Role), Skills: s.skillNames(a.Skills),
			Disabled: a.Disabled, Self: a.ID == me.ID, Presence: presence, Capacity: a.Capacity,
			EditURL: "/admin/agents/" + a.ID, ToggleURL: "/admin/agents/" + a.ID + "/toggle",
		})
	}
	form.Action = "/admin/agents"
	form.Skills = s.skillOptions(selectedSkills(form.Skills))
	p.New = form
	return render(c, status, views.AdminAgentsView(p))
}

func (s *Server) skillNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if sk, ok := s.engine.Config().Skill(id); ok {
			out = append(out, sk.Name)
		}
	}
	return out
}

func (s *Server) skillOptions(selected []string) []views.OptionView {
	var out []views.OptionView
	for _, sk := range s.engine.Config().Skills {
		out = append(out, views.OptionView{Value: sk.ID, Label: sk.Name, Selected: slices.Contains(selected, sk.ID)})
	}
	return out
}

func selectedSkills(opts []views.OptionView) []string {
	var out []string
	for _, o := range opts {
		if o.Selected {
			out = append(out, o.Value)
		}
	}
	return out
}

// agentFormErrors maps engine validation to the account form's fields.
func agentFormErrors(verr *kustomer.ValidationError) map[string]string {
	errs := map[string]string{}
	for k, msg := range verr.Fields {
		errs[k] = sentence(msg)
	}
	return errs
}

// parseCapacity reads the capacity field: nil when empty (the default,
// or unchanged), else a whole number; the message says what is wrong.
func parseCapacity(raw string) (*int, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, ""
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return nil, "Must be a whole number."
	}
	return &n, ""
}

// withCapacityError adds the capacity field's problem to err's.
func withCapacityError(err error, msg string) error {
	if msg == "" {
		return err
	}
	var verr *kustomer.ValidationError
	if !errors.As(err, &verr) {
		if err != nil {
			return err
		}
		verr = &kustomer.ValidationError{}
	}
	verr.Add("capacity", msg)
	return verr
}

// adminAgentCreate adds an account.
func (s *Server) adminAgentCreate(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	in := kustomer.NewAgentInput{
		Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password"),
		Role: kustomer.Role(r.PostForm.Get("role")), Skills: r.PostForm["skills"],
	}
	capacity := r.PostForm.Get("capacity")
	var capErr string
	in.Capacity, capErr = parseCapacity(capacity)
	var (
		a   kustomer.Agent
		err error
	)
	if capErr == "" {
		a, err = s.engine.CreateAgent(r.Context(), currentAgent(c).Actor(), in)
	} else {
		err = withCapacityError(nil, capErr)
	}
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		form := views.AgentForm{Name: in.Name, Email: in.Email, Role: string(in.Role), Skills: s.skillOptions(in.Skills), Capacity: capacity, Errors: agentFormErrors(verr)}
		return s.renderAdminAgents(c, http.StatusUnprocessableEntity, form, "")
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "agent created", "agent_id", a.ID, "by", currentAgent(c).ID)
	if err := s.sessions.SetNotice(c.Response(), r, a.Name+" can now sign in."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/agents")
}

// adminAgentEdit renders an account's form.
func (s *Server) adminAgentEdit(c echo.Context) error {
	a, err := s.engine.Agent(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderAgentEdit(c, http.StatusOK, views.AgentForm{Name: a.Name, Email: a.Email, Role: string(a.Role), Skills: s.skillOptions(a.Skills),
		Capacity: strconv.Itoa(a.Capacity)}, a, "")
}

func (s *Server) renderAgentEdit(c echo.Context, status int, form views.AgentForm, a kustomer.Agent, msg string) error {
	form.Action, form.Editing, form.Email = "/admin/agents/"+a.ID, true, a.Email
	p := views.AdminAgentEditPage{AgentPage: s.agentPage(c, "Edit "+a.Name, "agents"), Form: form, Error: msg, SignOutURL: "/admin/agents/" + a.ID + "/sign-out"}
	return render(c, status, views.AdminAgentEditView(p))
}

// adminAgentUpdate changes an account's name, role, skills and, when given,
// password.
func (s *Server) adminAgentUpdate(c echo.Context) error {
	r := c.Request()
	a, err := s.engine.Agent(r.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	name := r.PostForm.Get("name")
	role := kustomer.Role(r.PostForm.Get("role"))
	skills := r.PostForm["skills"]
	if skills == nil {
		skills = []string{}
	}
	capacity := r.PostForm.Get("capacity")
	in := kustomer.UpdateAgentInput{Name: &name, Role: &role, Skills: &skills, Password: r.PostForm.Get("password")}
	var capErr string
	in.Capacity, capErr = parseCapacity(capacity)
	if a.ID == currentAgent(c).ID {
		in.KeepSessionID = currentSessionID(c) // a new password of one's own keeps this browser signed in
	}
	if capErr == "" {
		_, err = s.engine.UpdateAgent(r.Context(), currentAgent(c).Actor(), a.ID, in)
	} else {
		err = withCapacityError(nil, capErr)
	}
	form := views.AgentForm{Name: name, Role: string(role), Skills: s.skillOptions(skills), Capacity: capacity}
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		form.Errors = agentFormErrors(verr)
		return s.renderAgentEdit(c, http.StatusUnprocessableEntity, form, a, "")
	case errors.As(err, &cerr):
		return s.renderAgentEdit(c, http.StatusConflict, form, a, sentence(cerr.Reason))
	case err != nil:
		return err
	}
	notice := "Saved " + strings.TrimSpace(name) + "."
	if in.Password != "" && in.KeepSessionID == "" {
		notice += " The new password signed them out everywhere."
	}
	if err := s.sessions.SetNotice(c.Response(), r, notice); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/agents")
}

// adminAgentToggle disables an active account (putting its conversations
// back in the queue) or enables a disabled one.
func (s *Server) adminAgentToggle(c echo.Context) error {
	r := c.Request()
	me := currentAgent(c)
	a, err := s.engine.Agent(r.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if a.ID == me.ID {
		return s.renderAdminAgents(c, http.StatusConflict, views.AgentForm{Role: string(kustomer.RoleAgent)}, "You cannot disable your own account.")
	}
	disabled := !a.Disabled
	_, err = s.engine.UpdateAgent(r.Context(), me.Actor(), a.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	var cerr *kustomer.ConflictError
	if errors.As(err, &cerr) {
		return s.renderAdminAgents(c, http.StatusConflict, views.AgentForm{Role: string(kustomer.RoleAgent)}, sentence(cerr.Reason))
	}
	if err != nil {
		return err
	}
	notice := a.Name + " is enabled."
	if disabled {
		notice = a.Name + " is disabled and signed out; their open conversations are back in the queue."
	}
	s.log.InfoContext(c.Request().Context(), "agent toggled", "agent_id", a.ID, "disabled", disabled, "by", me.ID)
	if err := s.sessions.SetNotice(c.Response(), r, notice); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/agents")
}

// adminAgentSignOut ends every session of an account at once: its cookies
// stop working and its sockets close.
func (s *Server) adminAgentSignOut(c echo.Context) error {
	r := c.Request()
	me := currentAgent(c)
	a, err := s.engine.Agent(r.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.engine.EndAgentSessions(r.Context(), me.Actor(), a.ID); err != nil {
		return err
	}
	if a.ID == me.ID {
		if err := s.sessions.ClearAgent(c.Response(), r, "You are signed out everywhere."); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/agent/sign-in")
	}
	if err := s.sessions.SetNotice(c.Response(), r, a.Name+" is signed out everywhere."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/agents")
}
