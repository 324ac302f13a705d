package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// agentProfile shows the signed-in agent's own account.
func (s *Server) agentProfile(c echo.Context) error {
	return s.renderProfile(c, http.StatusOK, currentAgent(c).Name, nil)
}

func (s *Server) renderProfile(c echo.Context, status int, name string, errs map[string]string) error {
	a := currentAgent(c)
	p := views.ProfilePage{
		AgentPage: s.agentPage(c, "Your profile", "profile"),
		Email:     a.Email, Name: name, NameMaxLen: kustomer.MaxAgentNameLen, PasswordMinLen: kustomer.MinPasswordLen, Errors: errs,
	}
	return render(c, status, views.AgentProfileView(p))
}

// agentProfileUpdate changes the agent's own display name, the name
// customers read.
func (s *Server) agentProfileUpdate(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	name := r.FormValue("name")
	updated, err := s.engine.UpdateAgent(r.Context(), a.Actor(), a.ID, kustomer.UpdateAgentInput{Name: &name})
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.renderProfile(c, http.StatusUnprocessableEntity, name, agentFormErrors(verr))
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "agent renamed", "agent_id", a.ID)
	if err := s.sessions.SetNotice(c.Response(), r, "Customers now read your name as "+updated.Name+"."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/profile")
}

// agentPasswordChange changes the agent's own password, given the current
// one. Every other session of theirs ends; this one stays.
func (s *Server) agentPasswordChange(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	err := s.engine.ChangePassword(r.Context(), a.ID, currentSessionID(c), r.FormValue("current"), r.FormValue("password"))
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		return s.renderProfile(c, http.StatusUnprocessableEntity, a.Name, agentFormErrors(verr))
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "password changed", "agent_id", a.ID)
	if err := s.sessions.SetNotice(c.Response(), r, "Your password is changed, and your other sessions are signed out."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/profile")
}

// agentSignOutEverywhere ends every session of the signed-in agent, this
// one included, and closes every socket of theirs.
func (s *Server) agentSignOutEverywhere(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	if err := s.engine.EndAgentSessions(r.Context(), a.Actor(), a.ID); err != nil {
		return err
	}
	if err := s.sessions.ClearAgent(c.Response(), r, "You are signed out everywhere."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/sign-in")
}
