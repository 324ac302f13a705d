package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// messageCreate is the no-JavaScript composer: a plain POST that stores the
// message and redirects back to the chat (303). A rejected message re-renders
// the chat with the error and the text kept.
func (s *Server) messageCreate(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	actor := acc.Actor
	r := c.Request()
	id := c.Param("id")
	var (
		files  []kustomer.Attachment
		waited bool // the send bucket was drawn from already, for the file
	)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		form, file, wait, err := s.readComposerUpload(c, actor, id, func() (time.Duration, error) { return s.allowCustomerSend(c, actor, id) })
		body := form.Get("body")
		var verr *kustomer.ValidationError
		var cerr *kustomer.ConflictError
		switch {
		case wait > 0:
			secs := s.retryAfter(c, wait)
			return s.chatWithDraft(c, acc, id, http.StatusTooManyRequests, body, func(l *locale.Localizer) string {
				return l.Tf("chat.too_fast", map[string]any{"Wait": localWait(l, secs)})
			})
		case errors.As(err, &verr):
			msg := sentence(firstValue(verr.Fields))
			if f := verr.Fields["file"]; f != "" {
				msg = "The file " + f + "." // not capitalized: it starts with the file's name
			}
			return s.chatWithDraft(c, acc, id, http.StatusUnprocessableEntity, body, bodyProblem(verr, msg))
		case errors.As(err, &cerr):
			return s.chatWithDraft(c, acc, id, http.StatusConflict, body, english(sentence(cerr.Reason)))
		case err != nil:
			return err
		}
		r.PostForm = form
		if file != nil {
			files, waited = []kustomer.Attachment{*file}, true
		}
	} else {
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Message too large", Detail: "The message is longer than the server accepts."}
		}
	}
	body := r.PostForm.Get("body")
	clientID := r.PostForm.Get("clientMessageId")
	if !validClientID(clientID) {
		clientID = ""
	}
	in := kustomer.SendMessageInput{ConversationID: id, Body: body, ClientMessageID: clientID, Attachments: files}
	// An answer to an assistant's question without JavaScript: a quick
	// reply (step + payload, its label becomes the message) or a typed
	// answer (step + body).
	if step := r.PostForm.Get("step"); step != "" && len(step) <= 64 {
		answer := map[string]any{"step": step}
		if payload := r.PostForm.Get("payload"); payload != "" && len(payload) <= 256 {
			answer["payload"] = payload
			if visited := r.PostForm["visited"]; len(visited) > 0 && len(visited) <= 20 {
				answer["visited"] = visited
			}
			if in.Body == "" {
				in.Body = s.quickReplyLabel(c, actor, id, step, payload)
			}
		}
		in.Payload, _ = json.Marshal(answer)
	}
	var wait time.Duration
	if !waited {
		wait, err = s.allowCustomerSend(c, actor, id)
		if err != nil {
			return err
		}
	}
	if wait > 0 {
		secs := s.retryAfter(c, wait)
		return s.chatWithDraft(c, acc, id, http.StatusTooManyRequests, body, func(l *locale.Localizer) string {
			return l.Tf("chat.too_fast", map[string]any{"Wait": localWait(l, secs)})
		})
	}
	msg, _, err := s.engine.SendMessage(r.Context(), actor, in)
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		msg := verr.Fields["body"]
		if msg == "" {
			msg = verr.Error()
		}
		msg = "Your message " + msg + "."
		if len(files) > 0 {
			msg += " Attach the file again to send it."
		}
		return s.chatWithDraft(c, acc, id, http.StatusUnprocessableEntity, body, bodyProblem(verr, msg))
	case errors.As(err, &cerr):
		return s.chatWithDraft(c, acc, id, http.StatusConflict, body, english(sentence(cerr.Reason)))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/conversations/"+id+s.carryEmbed(c, acc, id)+"#m"+strconv.FormatInt(msg.Seq, 10))
}

// readComposerUpload reads a no-JavaScript composer posted as a multipart
// form: its text fields, and the file in field "file" if one was chosen,
// stored as it streams in once allow (if not nil) lets it: a wait above
// zero refuses it.
func (s *Server) readComposerUpload(c echo.Context, actor kustomer.Actor, id string, allow func() (time.Duration, error)) (url.Values, *kustomer.Attachment, time.Duration, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxUploadBytes)
	form := url.Values{}
	mr, err := r.MultipartReader()
	if err != nil {
		return form, nil, 0, errNotMultipart
	}
	var file *kustomer.Attachment
	textBytes := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, file, 0, nil
		}
		if err != nil {
			return form, nil, 0, uploadReadError(err)
		}
		name := part.FormName()
		if name != "file" {
			v, err := io.ReadAll(io.LimitReader(part, int64(maxFormBytes-textBytes+1)))
			textBytes += len(v)
			if err != nil || textBytes > maxFormBytes {
				return form, nil, 0, &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Message too large", Detail: "The message is longer than the server accepts."}
			}
			form.Add(name, string(v))
			continue
		}
		if part.FileName() == "" || file != nil {
			continue // no file chosen; or a second one, which the form cannot send
		}
		if allow != nil {
			wait, err := allow()
			if err != nil || wait > 0 {
				return form, nil, wait, err
			}
		}
		body := &readErrors{r: part}
		upload := func() (kustomer.Attachment, error) {
			return s.engine.UploadAttachment(r.Context(), actor, id, part.FileName(), body)
		}
		var a kustomer.Attachment
		if actor.IsCustomer() {
			// The client address's upload budget, as for the API.
			var wait time.Duration
			if a, wait, err = s.withUploadBudget(c, upload); wait > 0 {
				return form, nil, wait, nil
			}
		} else {
			a, err = upload()
		}
		if body.err != nil {
			return form, nil, 0, uploadReadError(body.err)
		}
		if err != nil {
			return form, nil, 0, err
		}
		file = &a
	}
}

func (s *Server) chatWithDraft(c echo.Context, acc access, id string, status int, draft string, msg func(*locale.Localizer) string) error {
	return s.rerenderChat(c, acc, id, status, func(p *views.ChatPage) { p.Draft, p.DraftError = draft, msg(p.L) })
}

// rerenderChat renders the chat page again with status after a rejected
// form, letting edit put back what the customer typed and why it was
// refused.
func (s *Server) rerenderChat(c echo.Context, acc access, id string, status int, edit func(*views.ChatPage)) error {
	ctx := c.Request().Context()
	conv, err := s.engine.Conversation(ctx, acc.Actor, id)
	if err != nil {
		return err
	}
	msgs, err := s.engine.GetMessages(ctx, acc.Actor, id, kustomer.MessageQuery{Max: threadWindow, Last: true})
	if err != nil {
		return err
	}
	origins, err := s.formOrigins(ctx, conv.FormID)
	if err != nil {
		return err
	}
	frameAncestors(c, origins)
	p := s.chatPage(c, conv, msgs, acc, s.embedFor(c, origins))
	edit(&p)
	noStore(c)
	return render(c, status, views.ChatView(p))
}

// quickReplyLabel finds the label of a quick reply among the recent
// assistant questions, for a no-JavaScript click; the payload itself when
// none matches.
func (s *Server) quickReplyLabel(c echo.Context, actor kustomer.Actor, id, step, payload string) string {
	msgs, err := s.engine.GetMessages(c.Request().Context(), actor, id, kustomer.MessageQuery{Max: 20, Last: true})
	if err != nil {
		return payload
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if q := questionView(msgs[i]); q != nil && q.Step == step {
			for _, b := range q.Buttons {
				if b.Payload == payload {
					return b.Label
				}
			}
		}
	}
	return payload
}

// english is a problem said in English whatever the page's language (one
// the catalogs do not have yet).
func english(msg string) func(*locale.Localizer) string {
	return func(*locale.Localizer) string { return msg }
}

// bodyProblem says a refused message's problem in the page's language when
// the engine named it, else msg (English).
func bodyProblem(verr *kustomer.ValidationError, msg string) func(*locale.Localizer) string {
	return func(l *locale.Localizer) string {
		if p, ok := verr.Problems["body"]; ok {
			return problemText(l, p)
		}
		return msg
	}
}
