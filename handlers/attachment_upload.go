package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// maxUploadBytes bounds an upload request: one file at the limit plus room
// for the multipart framing, a message's fields (the no-JavaScript form)
// and the engine's last read past the limit, so that a file too large is
// refused by the engine, naming it, rather than cut off here. The global
// body limit does not apply to upload routes (see isUpload).
const maxUploadBytes = kustomer.MaxAttachmentBytes + 1<<20

// isUpload reports whether the request is to a route that takes a file,
// which has its own body limit instead of the global one.
func isUpload(c echo.Context) bool {
	if c.Request().Method != http.MethodPost {
		return false
	}
	switch c.Path() {
	case "/api/v1/conversations/:id/attachments", "/api/v1/org/conversations/:id/attachments", "/conversations/:id/attachments",
		"/agent/conversations/:id/attachments", "/conversations/:id/messages", "/agent/conversations/:id/messages":
		return true
	}
	return false
}

// errNotMultipart is the answer to an upload that is not a multipart form.
var errNotMultipart = &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Send a multipart form",
	Detail: "Upload the file as multipart/form-data in a field named file.", Pointer: "/file"}

// apiAttachmentCreate is POST /api/v1/conversations/{id}/attachments: the
// customer uploads a file to send in a message.
func (s *Server) apiAttachmentCreate(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	return s.customerAttachmentCreate(c, actor)
}

// chatAttachmentCreate is POST /conversations/{id}/attachments: the chat
// page's upload, authenticated as the page is (session, or the hand-off
// token of an embedded chat without cookies).
func (s *Server) chatAttachmentCreate(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	return s.customerAttachmentCreate(c, acc.Actor)
}

// customerAttachmentCreate stores a customer's upload; it takes from the
// same bucket as sends.
func (s *Server) customerAttachmentCreate(c echo.Context, actor kustomer.Actor) error {
	wait, err := s.allowCustomerSend(c, actor, c.Param("id"))
	if err != nil {
		return err
	}
	if wait > 0 {
		return errRateLimited(s.retryAfter(c, wait))
	}
	a, wait, err := s.withUploadBudget(c, func() (kustomer.Attachment, error) { return s.attachmentCreate(c, actor) })
	if wait > 0 {
		return errUploadBudget(s.retryAfter(c, wait))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// errUploadBudget answers an upload over the address's byte budget.
func errUploadBudget(secs int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Title: "Too many files",
		Detail: fmt.Sprintf("This network has uploaded a lot in a short while; try again in %s.", waitWords(secs)), Pointer: "/file",
		Key: "upload_budget", Wait: secs}
}

// orgAttachmentCreate is POST /api/v1/org/conversations/{id}/attachments.
func (s *Server) orgAttachmentCreate(c echo.Context) error { return s.uploaded(c, orgActor) }

// agentAttachmentCreate is POST /agent/conversations/{id}/attachments: the
// console's upload, answered in JSON like the API's.
func (s *Server) agentAttachmentCreate(c echo.Context) error {
	return s.uploaded(c, currentAgent(c).Actor())
}

// uploaded stores the upload and answers 201 with it.
func (s *Server) uploaded(c echo.Context, actor kustomer.Actor) error {
	a, err := s.attachmentCreate(c, actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// attachmentCreate reads the multipart field "file" from the request and
// stores it, returning the file's id, name, type, size and url.
func (s *Server) attachmentCreate(c echo.Context, actor kustomer.Actor) (kustomer.Attachment, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxUploadBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return kustomer.Attachment{}, errNotMultipart
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return kustomer.Attachment{}, errNotMultipart
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return kustomer.Attachment{}, &kustomer.ValidationError{Fields: map[string]string{"file": "is missing: send the file in a multipart field named file"}}
		}
		if err != nil {
			return kustomer.Attachment{}, uploadReadError(err)
		}
		if part.FormName() != "file" {
			continue
		}
		body := &readErrors{r: part}
		a, err := s.engine.UploadAttachment(r.Context(), actor, c.Param("id"), part.FileName(), body)
		if body.err != nil {
			return kustomer.Attachment{}, uploadReadError(body.err)
		}
		return a, err
	}
}

// readErrors remembers the error, other than EOF, reading r failed with:
// the client's fault (too large, malformed), not the server's.
type readErrors struct {
	r   io.Reader
	err error
}

func (re *readErrors) Read(p []byte) (int, error) {
	n, err := re.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		re.err = err
	}
	return n, err
}

// uploadReadError maps a failure to read an upload's body: too large is
// 413, anything else (a malformed form, a connection cut) 400.
func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Upload too large",
			Detail: "The upload is larger than the server accepts: at most 5 MB a file.", Pointer: "/file"}
	}
	return &Error{Status: http.StatusBadRequest, Code: "malformed", Title: "Malformed upload", Detail: "The multipart form could not be read.", Pointer: "/file"}
}
