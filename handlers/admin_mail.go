package handlers

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// MailFiles lists and opens the .eml files emails are written to when no
// SMTP server is configured (kustomer/mail.Dir).
type MailFiles interface {
	Names() ([]MailFileInfo, error)
	Open(name string) (*os.File, error)
}

// MailFileInfo is one written email file.
type MailFileInfo struct {
	Name    string
	ModTime time.Time
}

// mailShown bounds each list on the email page.
const mailShown = 100

// adminMail is GET /admin/mail: failed and parked emails, and the written
// .eml files without SMTP. Addresses and bodies are not shown: the error
// texts name codes only.
func (s *Server) adminMail(c echo.Context) error {
	ctx := c.Request().Context()
	p := views.AdminMailPage{AgentPage: s.agentPage(c, "Email", "mail"), DevOutbox: s.opts.MailFiles != nil}
	for _, state := range []kustomer.OutboxState{kustomer.OutboxParked, kustomer.OutboxPending} {
		items, err := s.engine.OutboxItems(ctx, state, mailShown)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.LastError == "" {
				continue // waiting, never failed
			}
			st := "parked"
			if state == kustomer.OutboxPending {
				st = "retrying"
			}
			p.Failed = append(p.Failed, views.MailFailure{State: st, Kind: string(it.Kind), ConversationID: it.ConversationID,
				LastError: it.LastError, Attempts: it.Attempts, UpdatedAt: it.UpdatedAt})
		}
	}
	if s.opts.MailFiles != nil {
		files, err := s.opts.MailFiles.Names()
		if err != nil {
			return err
		}
		for i, f := range files {
			if i == mailShown {
				break
			}
			p.Files = append(p.Files, views.MailFile{Name: f.Name, ModTime: f.ModTime})
		}
	}
	noStore(c)
	return render(c, http.StatusOK, views.AdminMailView(p))
}

// adminMailFile is GET /admin/mail/files/{name}: one written email, as
// plain text, exactly as it would have been sent.
func (s *Server) adminMailFile(c echo.Context) error {
	if s.opts.MailFiles == nil {
		return kustomer.ErrNotFound
	}
	f, err := s.opts.MailFiles.Open(c.Param("name"))
	if errors.Is(err, os.ErrNotExist) {
		return kustomer.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	noStore(c)
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", "inline")
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), f)
	return err
}
