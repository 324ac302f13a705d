package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/handlers/notify"
	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/mail"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/session"
)

type capture struct{ sent []mail.Message }

func (c *capture) Send(_ context.Context, m mail.Message) error {
	c.sent = append(c.sent, m)
	return nil
}

type fixture struct {
	store  *sqlstore.Store
	engine *kustomer.Engine
	links  *session.Manager
	sender *capture
	mailer *notify.Mailer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "handoff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg, err := kustomer.ParseConfig(strings.NewReader(`
forms:
  - id: contact
    title: Contact us
    fields:
      - {name: email, type: email, role: email}
      - {name: message, type: textarea, role: message}
`))
	if err != nil {
		t.Fatal(err)
	}
	hub := kustomer.NewHub()
	t.Cleanup(hub.Close)
	links, err := session.New(session.Options{Keys: []session.KeyPair{{Auth: make([]byte, 32), Encrypt: make([]byte, 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{}
	base, _ := url.Parse("https://chat.example.com")
	return &fixture{store: s, engine: kustomer.NewEngine(s, hub, cfg, nil), links: links, sender: c,
		mailer: &notify.Mailer{Store: s, Links: links, Sender: c, From: "Support <support@example.com>", BaseURL: base}}
}

// start hands off a conversation for a customer with this email ("" for
// none).
func (f *fixture) start(t *testing.T, email string) (kustomer.Conversation, kustomer.Actor) {
	t.Helper()
	c, _, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{
		CustomerName: "Ada", CustomerEmail: email, Message: "Can I get a quote?"})
	if err != nil {
		t.Fatal(err)
	}
	return c, kustomer.CustomerActor(c.CustomerID)
}

var grace = kustomer.Actor{Type: kustomer.AuthorAgent, ID: "agent-1", Name: "Grace"}

func (f *fixture) reply(t *testing.T, convID, body string) kustomer.Message {
	t.Helper()
	m, _, err := f.engine.SendMessage(t.Context(), grace, kustomer.SendMessageInput{ConversationID: convID, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// due claims the follow-up rows due an hour from now.
func (f *fixture) due(t *testing.T) []kustomer.OutboxItem {
	t.Helper()
	items, err := f.store.ClaimOutbox(t.Context(), kustomer.OutboxFollowUp, time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestFollowUpUnseenReplies(t *testing.T) {
	f := newFixture(t)
	f.engine.FollowUpDelay = time.Minute
	c, cust := f.start(t, "ada@example.com")
	first := f.reply(t, c.ID, "Seen live")
	// The customer reads the first reply; two more come while away.
	if err := f.engine.MarkRead(t.Context(), cust, c.ID, first.Seq); err != nil {
		t.Fatal(err)
	}
	f.reply(t, c.ID, "A quote for <b>10</b> seats:\n€ 120")
	f.reply(t, c.ID, "Anything else?")
	items := f.due(t)
	if len(items) != 1 {
		t.Fatalf("%d follow-ups due, want 1 (one per conversation while waiting)", len(items))
	}
	if err := f.mailer.DeliverFollowUp(t.Context(), items[0]); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.sent) != 1 {
		t.Fatalf("sent %d emails", len(f.sender.sent))
	}
	m := f.sender.sent[0]
	if m.To != "ada@example.com" || m.From != "Support <support@example.com>" || m.Subject != "Grace replied to your message" ||
		m.ID != items[0].Key+"@chat.example.com" {
		t.Errorf("email %+v", m)
	}
	for _, part := range []string{m.Text, m.HTML} {
		if strings.Contains(part, "Seen live") {
			t.Errorf("the reply the customer read is in the email:\n%s", part)
		}
		if !strings.Contains(part, "Anything else?") || !strings.Contains(part, "Grace") {
			t.Errorf("an unseen reply or the agent's name is missing:\n%s", part)
		}
	}
	if !strings.Contains(m.Text, "A quote for <b>10</b> seats:\n  € 120") || !strings.Contains(m.HTML, "A quote for &lt;b&gt;10&lt;/b&gt; seats:\n€ 120") {
		t.Errorf("reply body not kept (escaped in HTML):\n%s\n%s", m.Text, m.HTML)
	}
	link, err := url.Parse(m.Text[strings.Index(m.Text, "https://chat.example.com/conversations/"):][:strings.Index(m.Text[strings.Index(m.Text, "https://chat.example.com/conversations/"):], "\n")])
	if err != nil || link.Path != "/conversations/"+c.ID+"/continue" {
		t.Fatalf("continue link %v (%v)", link, err)
	}
	h, err := f.links.ReadEmailLink(link.Query().Get("token"), time.Now())
	if err != nil || h.ConversationID != c.ID || h.CustomerID != c.CustomerID {
		t.Errorf("continue link token: %+v, %v", h, err)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link.String(), "&", "&amp;")+`"`) {
		t.Errorf("HTML lacks the continue link %s", link)
	}
	u, _ := url.Parse(m.Unsubscribe)
	if cust, err := f.links.ReadUnsubscribe(u.Query().Get("token"), time.Now()); err != nil || cust != c.CustomerID || u.Path != "/unsubscribe" {
		t.Errorf("unsubscribe link %s: %q, %v", m.Unsubscribe, cust, err)
	}
}

func TestFollowUpSkipped(t *testing.T) {
	f := newFixture(t)
	f.engine.FollowUpDelay = time.Minute
	read, cust := f.start(t, "ada@example.com")
	last := f.reply(t, read.ID, "Hello")
	if err := f.engine.MarkRead(t.Context(), cust, read.ID, last.Seq); err != nil {
		t.Fatal(err)
	}
	noEmail, _ := f.start(t, "")
	f.reply(t, noEmail.ID, "Hello")
	stopped, _ := f.start(t, "bob@example.com")
	f.reply(t, stopped.ID, "Hello")
	if err := f.store.StopFollowUps(t.Context(), stopped.CustomerID, time.Now()); err != nil {
		t.Fatal(err)
	}
	items := f.due(t)
	if len(items) != 3 {
		t.Fatalf("%d follow-ups due, want 3", len(items))
	}
	for _, it := range items {
		if err := f.mailer.DeliverFollowUp(t.Context(), it); !errors.Is(err, kustomer.ErrNothingToDeliver) {
			t.Errorf("follow-up of %s: %v, want ErrNothingToDeliver", it.ConversationID, err)
		}
	}
	if len(f.sender.sent) != 0 {
		t.Errorf("sent %d emails, want none", len(f.sender.sent))
	}
}

func TestEmailLinkEmail(t *testing.T) {
	f := newFixture(t)
	c, _ := f.start(t, "ada@example.com")
	if err := f.store.StopFollowUps(t.Context(), c.CustomerID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.RequestEmailLink(t.Context(), c.ID, c.CustomerID); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.RequestEmailLink(t.Context(), c.ID, "someone-else"); !errors.Is(err, kustomer.ErrForbidden) {
		t.Errorf("link for another customer: %v, want ErrForbidden", err)
	}
	items, err := f.store.ClaimOutbox(t.Context(), kustomer.OutboxEmailLink, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claimed %d link emails (%v), want 1", len(items), err)
	}
	// Asked for, it is sent even though follow-ups were stopped.
	if err := f.mailer.DeliverEmailLink(t.Context(), items[0]); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.sent) != 1 {
		t.Fatalf("sent %d emails", len(f.sender.sent))
	}
	m := f.sender.sent[0]
	if m.To != "ada@example.com" || m.Subject != "Your link to continue the conversation" ||
		!strings.Contains(m.Text, "https://chat.example.com/conversations/"+c.ID+"/continue?token=") {
		t.Errorf("email %+v", m)
	}
}

func TestTranscriptEmail(t *testing.T) {
	f := newFixture(t)
	f.mailer.FormTitle = func(string) string { return "Contact us" }
	c, cust := f.start(t, "ada@example.com")
	f.reply(t, c.ID, "Here is <your> answer.")
	if _, _, err := f.engine.SendMessage(t.Context(), grace, kustomer.SendMessageInput{ConversationID: c.ID, Body: "secret note", Private: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.EndConversation(t.Context(), grace, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.RequestTranscript(t.Context(), cust, c.ID); err != nil {
		t.Fatal(err)
	}
	items, err := f.store.ClaimOutbox(t.Context(), kustomer.OutboxTranscript, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claimed %d transcripts (%v)", len(items), err)
	}
	if err := f.mailer.DeliverTranscript(t.Context(), items[0]); err != nil {
		t.Fatal(err)
	}
	m := f.sender.sent[0]
	if m.To != "ada@example.com" || m.Subject != "Transcript of your conversation: Contact us" || m.Unsubscribe != "" {
		t.Errorf("email %+v", m)
	}
	for _, part := range []string{m.Text, m.HTML} {
		q, a, end := strings.Index(part, "Can I get a quote?"), strings.Index(part, "answer."), strings.Index(part, "has ended")
		if q < 0 || a < q || end < a {
			t.Errorf("the transcript lacks a message or has them out of order:\n%s", part)
		}
		if strings.Contains(part, "secret note") {
			t.Errorf("a private note is in the transcript:\n%s", part)
		}
	}
	if !strings.Contains(m.HTML, "Here is &lt;your&gt; answer.") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
}

// TestFollowUpInTheConversationsLanguage: a conversation started in German
// gets its follow-up in German, with the page's direction for Arabic.
func TestFollowUpInTheConversationsLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang, subject, continueWord, dir string
	}{
		{"de", "Grace hat auf Ihre Nachricht geantwortet", "Unterhaltung fortsetzen", "ltr"},
		{"ar", "ردّ Grace على رسالتك", "متابعة المحادثة", "rtl"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			f := newFixture(t)
			f.engine.FollowUpDelay = time.Minute
			c, _, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{
				CustomerName: "Ada", CustomerEmail: "ada@example.com", Message: "Hallo", Lang: tt.lang})
			if err != nil {
				t.Fatal(err)
			}
			f.reply(t, c.ID, "Guten Tag!")
			items := f.due(t)
			if len(items) != 1 {
				t.Fatalf("%d follow-ups due", len(items))
			}
			if err := f.mailer.DeliverFollowUp(t.Context(), items[0]); err != nil {
				t.Fatal(err)
			}
			m := f.sender.sent[0]
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, "lang="+tt.lang) {
				t.Errorf("the email's links do not carry its language:\n%s", m.Text)
			}
			if !strings.Contains(m.Text, tt.continueWord) || !strings.Contains(m.HTML, tt.continueWord) ||
				!strings.Contains(m.HTML, `lang="`+tt.lang+`" dir="`+tt.dir+`"`) {
				t.Errorf("email not in %s:\n%s\n%s", tt.lang, m.Text, m.HTML)
			}
		})
	}
}

// TestTranscriptInTheVisitorsLanguageAndZone: a transcript gives its times
// in the zone the visitor's browser reported, written as their language
// writes dates, and its events in that language.
func TestTranscriptInTheVisitorsLanguageAndZone(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{
		CustomerName: "Ada", CustomerEmail: "ada@example.com", Message: "Hallo", Lang: "de",
		Context: kustomer.PageContext{TimeZone: "Asia/Tokyo"}})
	if err != nil {
		t.Fatal(err)
	}
	reply := f.reply(t, c.ID, "Guten Tag!")
	if _, err := f.engine.EndConversation(t.Context(), grace, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.RequestTranscript(t.Context(), kustomer.CustomerActor(c.CustomerID), c.ID); err != nil {
		t.Fatal(err)
	}
	items, err := f.store.ClaimOutbox(t.Context(), kustomer.OutboxTranscript, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claimed %d transcripts (%v)", len(items), err)
	}
	if err := f.mailer.DeliverTranscript(t.Context(), items[0]); err != nil {
		t.Fatal(err)
	}
	m := f.sender.sent[0]
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := reply.CreatedAt.In(tokyo)
	german := [...]string{"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."}
	want := fmt.Sprintf("%d. %s %d, %s JST", at.Day(), german[at.Month()-1], at.Year(), at.Format("15:04"))
	for _, part := range []string{m.Text, m.HTML} {
		if !strings.Contains(part, want) || strings.Contains(part, "UTC") {
			t.Errorf("the reply's time is not %q (the visitor's zone, in German):\n%s", want, part)
		}
		if !strings.Contains(part, "Die Unterhaltung ist beendet.") || strings.Contains(part, "has ended") {
			t.Errorf("the end is not said in German:\n%s", part)
		}
	}
}

func TestCleanTimeZone(t *testing.T) {
	for in, want := range map[string]string{
		"Europe/Madrid": "Europe/Madrid", "UTC": "UTC", "America/Argentina/Buenos_Aires": "America/Argentina/Buenos_Aires",
		"": "", "Local": "", "Mars/Olympus": "", "../../etc/passwd": "", "Europe/Madrid\n": "", strings.Repeat("A", 65): "",
	} {
		if got := kustomer.CleanTimeZone(in); got != want {
			t.Errorf("CleanTimeZone(%q) = %q, want %q", in, got, want)
		}
	}
}
