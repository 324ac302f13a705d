package mail_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer/mail"
	"github.com/handoff/handoff/kustomer/mail/mailtest"
)

func message() mail.Message {
	return mail.Message{
		ID: "followup-abc-2@handoff.test", From: "Handoff <support@example.com>", To: "ada@example.com",
		Subject: "Grace replied", Text: "Hello Ada\nsee you", HTML: "<p>Hello <b>Ada</b></p>",
		Date: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), Unsubscribe: "https://chat.example.com/unsubscribe/tok",
	}
}

// parts returns the text and HTML parts of a multipart/alternative message.
func parts(t *testing.T, data []byte) (netmail.Header, map[string]string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	got := map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		got[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return m.Header, got
}

func TestSMTPSends(t *testing.T) {
	srv := mailtest.Start(t, "mailer", "s3cret")
	cfg, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := mail.NewSMTP(cfg).Send(t.Context(), message()); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 5*time.Second)
	if got[0].From != "support@example.com" || len(got[0].To) != 1 || got[0].To[0] != "ada@example.com" {
		t.Errorf("envelope from %q to %q", got[0].From, got[0].To)
	}
	h, body := parts(t, got[0].Data)
	for name, want := range map[string]string{
		"Message-Id":            "<followup-abc-2@handoff.test>",
		"Subject":               "Grace replied",
		"List-Unsubscribe":      "<https://chat.example.com/unsubscribe/tok>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Auto-Submitted":        "auto-generated",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
	if body["text/plain"] != "Hello Ada\nsee you" || body["text/html"] != "<p>Hello <b>Ada</b></p>" {
		t.Errorf("parts = %q", body)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	srv := mailtest.Start(t, "mailer", "s3cret")
	cfg, _ := mail.ParseSMTPURL(srv.URL())
	cfg.Password = "wrong-pass-123"
	err := mail.NewSMTP(cfg).Send(t.Context(), message())
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("wrong password: %v, want a temporary error", err)
	}
	noSecrets(t, err, "wrong-pass-123")
}

// noSecrets fails when err's text contains an address, a body or secrets.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, "ada@example.com", "Hello Ada", "mailer") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}

func TestSMTPRefusals(t *testing.T) {
	srv := mailtest.Start(t, "", "")
	cfg, _ := mail.ParseSMTPURL(srv.URL())
	s := mail.NewSMTP(cfg)
	srv.RefuseNext(451, 550)
	err := s.Send(t.Context(), message())
	if err == nil || mail.IsPermanent(err) {
		t.Errorf("451: %v, want a temporary error", err)
	} else {
		noSecrets(t, err)
	}
	err = s.Send(t.Context(), message())
	if !mail.IsPermanent(err) {
		t.Errorf("550: %v, want a permanent error", err)
	} else {
		noSecrets(t, err)
	}
	if err := s.Send(t.Context(), message()); err != nil {
		t.Errorf("third send: %v", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("server accepted %d messages, want 1", n)
	}
	// Nothing listens: temporary.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	s = mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: addr.Port, Insecure: true})
	if err := s.Send(t.Context(), message()); err == nil || mail.IsPermanent(err) {
		t.Errorf("no server: %v, want a temporary error", err)
	}
	// A bad recipient is refused before connecting.
	m := message()
	m.To = "not an address"
	if err := s.Send(t.Context(), m); !mail.IsPermanent(err) {
		t.Errorf("bad recipient: %v, want a permanent error", err)
	}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw  string
		want mail.SMTPConfig
		bad  bool
	}{
		{raw: "smtp://u:p%40ss@mail.example.com", want: mail.SMTPConfig{Host: "mail.example.com", Port: 587, Username: "u", Password: "p@ss"}},
		{raw: "smtps://u:pw@mail.example.com", want: mail.SMTPConfig{Host: "mail.example.com", Port: 465, Username: "u", Password: "pw", ImplicitTLS: true}},
		{raw: "smtp://127.0.0.1:2525?tls=none", want: mail.SMTPConfig{Host: "127.0.0.1", Port: 2525, Insecure: true}},
		{raw: "http://u:topsecret@mail.example.com", bad: true},
		{raw: "smtp://u:topsecret@mail.example.com:99999", bad: true},
		{raw: "smtp://u:topsecret@:25", bad: true},
		{raw: "smtp://u:topsecret@host?tls=maybe", bad: true},
		{raw: "smtp://u:topsecret@host:25\x7f", bad: true},
	}
	for _, tt := range tests {
		got, err := mail.ParseSMTPURL(tt.raw)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: no error", tt.raw)
			} else if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("%q: error %q repeats the password", tt.raw, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}

func TestDir(t *testing.T) {
	d := mail.Dir{Path: filepath.Join(t.TempDir(), "outbox")}
	files, err := d.Files()
	if err != nil || len(files) != 0 {
		t.Fatalf("Files before any mail: %v, %v", files, err)
	}
	for range 2 { // the same Message-ID twice is one file
		if err := d.Send(t.Context(), message()); err != nil {
			t.Fatal(err)
		}
	}
	m := message()
	m.ID = "../other@handoff.test"
	if err := d.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	files, err = d.Files()
	if err != nil || len(files) != 2 {
		t.Fatalf("Files: %+v, %v; want 2", files, err)
	}
	names := map[string]bool{}
	for _, f := range files {
		names[f.Name] = true
	}
	if !names["followup-abc-2_handoff.test.eml"] || !names["_._other_handoff.test.eml"] {
		t.Errorf("file names %v", names)
	}
	f, err := d.Open("followup-abc-2_handoff.test.eml")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	h, body := parts(t, data)
	if h.Get("Message-Id") != "<followup-abc-2@handoff.test>" || body["text/html"] != "<p>Hello <b>Ada</b></p>" {
		t.Errorf("eml: %v %q", h, body)
	}
	for _, bad := range []string{"../outbox/x.eml", "x.txt", ".tmp-1.eml", ""} {
		if _, err := d.Open(bad); !os.IsNotExist(err) {
			t.Errorf("Open(%q) = %v, want not-exist", bad, err)
		}
	}
}
