// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// a free loopback port for tests, and records what it accepts.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Header parses the message and returns its header.
func (r Received) Header() mail.Header {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return mail.Header{}
	}
	return m.Header
}

// Server is an SMTP server for one test. It accepts every message unless
// told to refuse, requires authentication when Username is set, and is
// closed by t.Cleanup.
type Server struct {
	Addr string // host:port
	Host string
	Port int

	mu        sync.Mutex
	received  []Received
	refuse    []*smtp.SMTPError // replies to the next DATA commands, in order
	username  string
	password  string
	arrived   chan struct{}
	srv       *smtp.Server
	listening net.Listener
}

// Start starts a server on 127.0.0.1 on a free port. With a username, AUTH
// PLAIN with that username and password is required (over the plain
// connection).
func Start(t testing.TB, username, password string) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
		username: username, password: password, arrived: make(chan struct{}, 1), listening: l}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// URL is the HANDOFF_SMTP_URL for this server (no TLS).
func (s *Server) URL() string {
	if s.username != "" {
		return fmt.Sprintf("smtp://%s:%s@%s?tls=none", s.username, s.password, s.Addr)
	}
	return fmt.Sprintf("smtp://%s?tls=none", s.Addr)
}

// RefuseNext makes the next DATA commands fail with these codes (451: a
// temporary failure, 550: permanent), one code per message.
func (s *Server) RefuseNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.refuse = append(s.refuse, &smtp.SMTPError{Code: c, EnhancedCode: smtp.EnhancedCode{c / 100, 0, 0}, Message: "refused by the test"})
	}
}

// Received returns what has been accepted so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait waits until n messages have been accepted, or fails the test after
// timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("SMTP server: %d messages after %v, want %d", len(s.Received()), timeout, n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, authed: b.s.username == ""}, nil
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.username || password != ss.s.password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if len(ss.s.refuse) > 0 {
		e := ss.s.refuse[0]
		ss.s.refuse = ss.s.refuse[1:]
		return e
	}
	ss.s.received = append(ss.s.received, Received{From: ss.from, To: ss.to, Data: bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))})
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
