package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// messageCreate is the no-JavaScript composer: a plain POST that stores the
// message and redirects back to the chat (303). A rejected message re-renders
// the chat with the error and the text kept.
func (s *Server) messageCreate(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Message too large", Detail: "The message is longer than the server accepts."}
	}
	body := r.PostForm.Get("body")
	clientID := r.PostForm.Get("clientMessageId")
	if !validClientID(clientID) {
		clientID = ""
	}
	id := c.Param("id")
	msg, _, err := s.engine.SendMessage(r.Context(), actor, kustomer.SendMessageInput{ConversationID: id, Body: body, ClientMessageID: clientID})
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		msg := verr.Fields["body"]
		if msg == "" {
			msg = verr.Error()
		}
		return s.chatWithDraft(c, actor, id, http.StatusUnprocessableEntity, body, "Your message "+msg+".")
	case errors.As(err, &cerr):
		return s.chatWithDraft(c, actor, id, http.StatusConflict, body, sentence(cerr.Reason))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+id+"#m"+strconv.FormatInt(msg.Seq, 10))
}

func (s *Server) chatWithDraft(c echo.Context, actor kustomer.Actor, id string, status int, draft, msg string) error {
	return s.rerenderChat(c, actor, id, status, func(p *views.ChatPage) { p.Draft, p.DraftError = draft, msg })
}

// rerenderChat renders the chat page again with status after a rejected
// form, letting edit put back what the customer typed and why it was
// refused.
func (s *Server) rerenderChat(c echo.Context, actor kustomer.Actor, id string, status int, edit func(*views.ChatPage)) error {
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, actor, id)
	if err != nil {
		return err
	}
	msgs, err := s.engine.GetMessages(ctx, actor, id, kustomer.MessageQuery{Max: threadWindow, Last: true})
	if err != nil {
		return err
	}
	p := s.chatPage(c, conv, msgs, actor)
	edit(&p)
	s.framePolicy(c, conv)
	noStore(c)
	return render(c, status, views.ChatView(p))
}
