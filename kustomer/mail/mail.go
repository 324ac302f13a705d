// Package mail sends handoff's outbound email: over SMTP through
// github.com/wneessen/go-mail, or, in development, as .eml files in a
// directory. Both build the same MIME message. Errors never carry an
// address, a body or a credential: they are shown to admins and logged.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email, multipart with a plain-text and an HTML part.
type Message struct {
	// ID is the Message-ID without angle brackets; it stays the same
	// across retries, so receivers can tell a resend from a new email.
	ID      string
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	Date    time.Time
	// Unsubscribe, when set, is the one-click unsubscribe URL (RFC 8058):
	// List-Unsubscribe and List-Unsubscribe-Post carry it.
	Unsubscribe string
}

// Sender delivers a Message. An error is temporary (worth retrying) unless
// it is a *PermanentError.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a refusal that retrying cannot change (an SMTP 5xx, an
// invalid address). Its text names the failure only.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return "mail: permanent failure: " + e.Reason }

// IsPermanent reports whether err is a failure retrying cannot change.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// build turns m into a go-mail message.
func build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, &PermanentError{Reason: "invalid From address"}
	}
	if err := msg.To(m.To); err != nil {
		return nil, &PermanentError{Reason: "invalid recipient address"}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	if m.Unsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Render writes m as an RFC 5322 message (what an .eml file holds).
func Render(w io.Writer, m Message) error {
	msg, err := build(m)
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return fmt.Errorf("mail: render: %w", err)
	}
	return nil
}

// SMTPConfig is parsed from HANDOFF_SMTP_URL.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps:// (TLS from the first byte); otherwise
	// STARTTLS is required unless Insecure is set.
	ImplicitTLS bool
	// Insecure allows a plain connection when the server offers no
	// STARTTLS (?tls=none; for a local relay or a test server).
	Insecure bool
}

// ParseSMTPURL parses smtp://user:pass@host:port (STARTTLS, port 587 by
// default) or smtps://user:pass@host:port (implicit TLS, port 465). The
// query ?tls=none allows an unencrypted connection. Errors never repeat
// the URL, which holds a password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("mail: the SMTP URL is not a valid URL")
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.ImplicitTLS = 465, true
	default:
		return c, errors.New("mail: the SMTP URL must start with smtp:// or smtps://")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("mail: the SMTP URL names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return c, errors.New("mail: the SMTP URL's port is not a port number")
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	switch tls := u.Query().Get("tls"); tls {
	case "":
	case "none":
		c.Insecure = true
	default:
		return c, errors.New("mail: the SMTP URL's tls parameter may only be none")
	}
	return c, nil
}

// SMTP sends through an SMTP server, one connection per message.
type SMTP struct {
	cfg     SMTPConfig
	Timeout time.Duration // per connection; 0 means 30 s
}

// NewSMTP returns a Sender for cfg.
func NewSMTP(cfg SMTPConfig) *SMTP { return &SMTP{cfg: cfg} }

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(timeout)}
	switch {
	case s.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.Insecure:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.Insecure {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return errors.New("mail: smtp client: invalid settings")
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return smtpError(err)
	}
	return nil
}

// smtpError turns a go-mail error into one that names the failure by its
// codes only: go-mail's text lists the recipients and the server's reply
// may repeat them.
func smtpError(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		reason := fmt.Sprintf("smtp %s", se.Reason)
		if code := se.ErrorCode(); code != 0 {
			reason += " " + strconv.Itoa(code)
		}
		if esc := se.EnhancedStatusCode(); esc != "" {
			reason += " " + esc
		}
		if !se.IsTemp() && se.ErrorCode() >= 500 {
			return &PermanentError{Reason: reason}
		}
		return fmt.Errorf("mail: temporary failure: %s", reason)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("mail: temporary failure: smtp timeout")
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("mail: temporary failure: smtp %s failed", oe.Op)
	}
	return errors.New("mail: temporary failure: smtp connection or authentication failed")
}

// Dir writes each message as <Message-ID>.eml in a directory, for
// development: nothing leaves the machine and a developer reads exactly
// what would have been sent. Writing one Message-ID again replaces the file.
type Dir struct{ Path string }

// Send implements Sender.
func (d Dir) Send(_ context.Context, m Message) error {
	var b bytes.Buffer
	if err := Render(&b, m); err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return fmt.Errorf("mail: outbox directory: %w", err)
	}
	name := fileName(m.ID)
	tmp, err := os.CreateTemp(d.Path, ".tmp-*")
	if err != nil {
		return fmt.Errorf("mail: write .eml: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("mail: write .eml: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mail: write .eml: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(d.Path, name)); err != nil {
		return fmt.Errorf("mail: write .eml: %w", err)
	}
	return nil
}

// fileName is the .eml file name for a Message-ID, with anything but
// letters, digits, '.', '-' and '_' replaced by '_', and never starting
// with '.' (hidden, and how temporary files start).
func fileName(id string) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	if strings.HasPrefix(name, ".") {
		name = "_" + name[1:]
	}
	return name + ".eml"
}

// File is one .eml file in a Dir.
type File struct {
	Name    string
	ModTime time.Time
	Size    int64
}

// Files lists the .eml files, newest first.
func (d Dir) Files() ([]File, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return []File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mail: list outbox directory: %w", err)
	}
	files := []File{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, File{Name: e.Name(), ModTime: info.ModTime(), Size: info.Size()})
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].ModTime.Equal(files[j].ModTime) {
			return files[i].ModTime.After(files[j].ModTime)
		}
		return files[i].Name < files[j].Name
	})
	return files, nil
}

// Open opens one .eml file by the name Files gave; any other name is
// os.ErrNotExist.
func (d Dir) Open(name string) (*os.File, error) {
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
		return nil, os.ErrNotExist
	}
	return os.Open(filepath.Join(d.Path, name))
}
