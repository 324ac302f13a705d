package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// agentStatusResponse is the agent's status as the console's script reads
// it.
type agentStatusResponse struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// agentStatusUpdate is POST /agent/status: the agent sets their status
// (status: online, away, offline). With auto=true it is the console's
// doing, after inactivity or on activity again, and never overrides a
// status the agent chose. A script asking for JSON gets the status back;
// the plain form goes back to next.
func (s *Server) agentStatusUpdate(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	a, err := s.engine.SetAgentStatus(r.Context(), currentAgent(c).ID, kustomer.AgentStatus(r.PostForm.Get("status")), r.PostForm.Get("auto") == "true")
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		noStore(c)
		return c.JSON(http.StatusOK, agentStatusResponse{Status: string(a.Status), Reason: a.StatusReason})
	}
	return c.Redirect(http.StatusSeeOther, safeNext(r.PostForm.Get("next")))
}
