package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// savedReplyList is GET /agent/replies: the team's replies and the agent's
// own, with the form that adds one.
func (s *Server) savedReplyList(c echo.Context) error {
	return s.renderSavedReplies(c, http.StatusOK, s.newReplyForm(c, kustomer.SavedReplyInput{}, nil))
}

// newReplyForm is the form that adds a reply, showing in and errs.
func (s *Server) newReplyForm(c echo.Context, in kustomer.SavedReplyInput, errs map[string]string) views.SavedReplyForm {
	a := currentAgent(c)
	return views.SavedReplyForm{Action: "/agent/replies", Title: in.Title, Body: in.Body, CanShare: a.Role == kustomer.RoleAdmin,
		Shared: in.Shared, Errors: errs, Submit: "Add reply"}
}

func (s *Server) renderSavedReplies(c echo.Context, status int, form views.SavedReplyForm) error {
	a := currentAgent(c)
	replies, err := s.engine.SavedReplies(c.Request().Context(), a)
	if err != nil {
		return err
	}
	p := views.SavedRepliesPage{AgentPage: s.agentPage(c, "Saved replies", "replies"), New: form, Placeholders: kustomer.ReplyPlaceholders()}
	for _, r := range replies {
		row := views.SavedReplyRow{ID: r.ID, Title: r.Title, Body: r.Body}
		if kustomer.MayManageReply(a, r) {
			row.EditURL, row.DeleteURL = "/agent/replies/"+r.ID, "/agent/replies/"+r.ID+"/delete"
		}
		if r.Shared() {
			p.Shared = append(p.Shared, row)
		} else {
			p.Personal = append(p.Personal, row)
		}
	}
	noStore(c)
	return render(c, status, views.SavedRepliesView(p))
}

// replyInput reads the reply form.
func replyInput(c echo.Context) (kustomer.SavedReplyInput, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return kustomer.SavedReplyInput{}, &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	return kustomer.SavedReplyInput{Title: r.PostForm.Get("title"), Body: r.PostForm.Get("body"), Shared: r.PostForm.Get("shared") == "true"}, nil
}

// formErrors turns what the engine refused into a form's errors:
// by field, or for the whole form.
func formErrors(err error) map[string]string {
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		errs := map[string]string{}
		for k, msg := range verr.Fields {
			errs[k] = sentence(msg)
		}
		return errs
	}
	var cerr *kustomer.ConflictError
	if errors.As(err, &cerr) {
		return map[string]string{"form": sentence(cerr.Reason)}
	}
	return nil
}

// savedReplyCreate is POST /agent/replies.
func (s *Server) savedReplyCreate(c echo.Context) error {
	in, err := replyInput(c)
	if err != nil {
		return err
	}
	r, err := s.engine.CreateSavedReply(c.Request().Context(), currentAgent(c), in)
	if errs := formErrors(err); errs != nil {
		return s.renderSavedReplies(c, http.StatusUnprocessableEntity, s.newReplyForm(c, in, errs))
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "“"+r.Title+"” is saved."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/replies")
}

// savedReplyEdit is GET /agent/replies/{id}: the reply's form, for its
// owner (or, for a team reply, an admin).
func (s *Server) savedReplyEdit(c echo.Context) error {
	r, err := s.managedReply(c)
	if err != nil {
		return err
	}
	return s.renderReplyEdit(c, http.StatusOK, r, kustomer.SavedReplyInput{Title: r.Title, Body: r.Body}, nil)
}

// managedReply reads the reply of the route, which the agent must be
// allowed to change.
func (s *Server) managedReply(c echo.Context) (kustomer.SavedReply, error) {
	a := currentAgent(c)
	r, err := s.engine.SavedReply(c.Request().Context(), a, c.Param("id"))
	if err != nil {
		return r, err
	}
	if !kustomer.MayManageReply(a, r) {
		return r, kustomer.ErrForbidden
	}
	return r, nil
}

func (s *Server) renderReplyEdit(c echo.Context, status int, r kustomer.SavedReply, in kustomer.SavedReplyInput, errs map[string]string) error {
	p := views.SavedReplyEditPage{
		AgentPage: s.agentPage(c, "Edit "+r.Title, "replies"),
		Form:      views.SavedReplyForm{Action: "/agent/replies/" + r.ID, Title: in.Title, Body: in.Body, Errors: errs, Submit: "Save"},
		Shared:    r.Shared(), DeleteURL: "/agent/replies/" + r.ID + "/delete", Placeholders: kustomer.ReplyPlaceholders(),
	}
	noStore(c)
	return render(c, status, views.SavedReplyEditView(p))
}

// savedReplyUpdate is POST /agent/replies/{id}.
func (s *Server) savedReplyUpdate(c echo.Context) error {
	r, err := s.managedReply(c)
	if err != nil {
		return err
	}
	in, err := replyInput(c)
	if err != nil {
		return err
	}
	updated, err := s.engine.UpdateSavedReply(c.Request().Context(), currentAgent(c), r.ID, in)
	if errs := formErrors(err); errs != nil {
		return s.renderReplyEdit(c, http.StatusUnprocessableEntity, r, in, errs)
	}
	if err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "“"+updated.Title+"” is saved."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/replies")
}

// savedReplyDelete is POST /agent/replies/{id}/delete.
func (s *Server) savedReplyDelete(c echo.Context) error {
	r, err := s.managedReply(c)
	if err != nil {
		return err
	}
	if err := s.engine.DeleteSavedReply(c.Request().Context(), currentAgent(c), r.ID); err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), c.Request(), "“"+r.Title+"” is deleted."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/replies")
}

// composerReply is a saved reply as the composer inserts it.
type composerReply struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Text   string `json:"text"`
	Shared bool   `json:"shared"`
}

// conversationReplies is GET /agent/conversations/{id}/replies: the saved
// replies the agent may insert, their placeholders filled in for this
// conversation, by title. The composer asks for them at its first "/".
func (s *Server) conversationReplies(c echo.Context) error {
	a := currentAgent(c)
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, a.Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	cust, err := s.engine.Customer(ctx, a.Actor(), conv.CustomerID)
	if err != nil {
		return err
	}
	replies, err := s.engine.SavedReplies(ctx, a)
	if err != nil {
		return err
	}
	rc := kustomer.ReplyContext{CustomerName: cust.Name, AgentName: a.Name, FormTitle: s.formTitle(conv.FormID, conv.Lang), Attributes: conv.CustomAttributes}
	if len(cust.Emails) > 0 {
		rc.CustomerEmail = cust.Emails[0]
	}
	out := make([]composerReply, 0, len(replies))
	for _, r := range replies {
		out = append(out, composerReply{ID: r.ID, Title: r.Title, Text: kustomer.ExpandReply(r.Body, rc), Shared: r.Shared()})
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}
