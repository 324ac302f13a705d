// Package notify turns outbox rows into emails: it decides at delivery time
// whether a follow-up is still needed, renders it (templ for HTML, plain
// text beside it) and hands it to a mail.Sender.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/mail"
	"github.com/handoff/handoff/session"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// Store is what the follow-ups read.
type Store interface {
	Conversation(ctx context.Context, id string) (kustomer.Conversation, error)
	Customer(ctx context.Context, id string) (kustomer.Customer, error)
	Messages(ctx context.Context, conversationID string, q kustomer.MessageQuery) ([]kustomer.Message, error)
	FollowUpsStopped(ctx context.Context, customerID string) (bool, error)
}

// Links signs the links emails carry.
type Links interface {
	IssueEmailLink(conversationID, customerID string, now time.Time) (string, session.Handoff)
	IssueUnsubscribe(customerID string, now time.Time) string
}

// Mailer delivers the outbox's email rows.
type Mailer struct {
	Store  Store
	Links  Links
	Sender mail.Sender
	// From is the From header (HANDOFF_MAIL_FROM).
	From string
	// BaseURL is the site's public origin; links point there.
	BaseURL *url.URL
	// Now is the clock; tests replace it.
	Now func() time.Time
	// FormTitle names a form in transcript subjects; nil leaves it out.
	FormTitle func(formID string) string
}

// maxUnseen bounds how many unseen replies one email repeats.
const maxUnseen = 20

func (m *Mailer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// skip answers a follow-up found unnecessary at delivery time, saying why
// ("read", "no_email", "stopped").
func skip(reason string) error {
	return fmt.Errorf("notify: follow-up %s: %w", reason, kustomer.ErrNothingToDeliver)
}

// MessageID is the Message-ID of the email an outbox row sends: its key at
// the site's host, the same on every attempt.
func (m *Mailer) MessageID(it kustomer.OutboxItem) string {
	return it.Key + "@" + m.BaseURL.Hostname()
}

// DeliverFollowUp is the Deliver of the OutboxFollowUp dispatcher. At
// delivery time it emails the organization's replies the customer has not
// read, unless there are none (the customer read them live), the customer
// gave no email address, or stopped follow-ups.
func (m *Mailer) DeliverFollowUp(ctx context.Context, it kustomer.OutboxItem) error {
	conv, err := m.Store.Conversation(ctx, it.ConversationID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return &mail.PermanentError{Reason: "the conversation no longer exists"}
	}
	if err != nil {
		return fmt.Errorf("notify: follow-up: %w", err)
	}
	if conv.CustomerUnread == 0 {
		return skip("read")
	}
	cust, err := m.Store.Customer(ctx, conv.CustomerID)
	if err != nil {
		return fmt.Errorf("notify: follow-up: %w", err)
	}
	if len(cust.Emails) == 0 {
		return skip("no_email")
	}
	stopped, err := m.Store.FollowUpsStopped(ctx, cust.ID)
	if err != nil {
		return fmt.Errorf("notify: follow-up: %w", err)
	}
	if stopped {
		return skip("stopped")
	}
	msgs, err := m.Store.Messages(ctx, conv.ID, kustomer.MessageQuery{Last: true, Max: 200})
	if err != nil {
		return fmt.Errorf("notify: follow-up: %w", err)
	}
	// CustomerUnread counts the customer-visible replies after their read
	// position: the last that many of them are the unseen ones.
	var replies []kustomer.Message
	for _, msg := range msgs {
		if msg.Direction == kustomer.DirectionOut && !msg.Private && msg.SentBy.Type != kustomer.AuthorSystem {
			replies = append(replies, msg)
		}
	}
	if n := min(conv.CustomerUnread, maxUnseen); len(replies) > n {
		replies = replies[len(replies)-n:]
	}
	if len(replies) == 0 {
		return skip("read")
	}
	e := views.FollowUpEmail{L: convLocale(conv), AgentName: replies[len(replies)-1].SentBy.DisplayName}
	for _, r := range replies {
		author := r.SentBy.DisplayName
		if author == "" {
			author = e.L.T("js.support")
		}
		e.Replies = append(e.Replies, views.EmailReply{Author: author, Body: r.Body, At: e.L.DateTime(r.CreatedAt, conv.Context.Location())})
	}
	return m.send(ctx, it, conv, cust, e)
}

// DeliverEmailLink is the Deliver of the OutboxEmailLink dispatcher: it
// emails the customer a fresh link to the conversation, which they asked
// for, whether or not they stopped follow-ups.
func (m *Mailer) DeliverEmailLink(ctx context.Context, it kustomer.OutboxItem) error {
	conv, err := m.Store.Conversation(ctx, it.ConversationID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return &mail.PermanentError{Reason: "the conversation no longer exists"}
	}
	if err != nil {
		return fmt.Errorf("notify: email link: %w", err)
	}
	cust, err := m.Store.Customer(ctx, conv.CustomerID)
	if err != nil {
		return fmt.Errorf("notify: email link: %w", err)
	}
	if len(cust.Emails) == 0 {
		return skip("no_email")
	}
	return m.send(ctx, it, conv, cust, views.FollowUpEmail{L: convLocale(conv), Fresh: true})
}

// send completes e with the customer, a fresh continue link and the
// unsubscribe link, renders it and sends it as the row's email.
func (m *Mailer) send(ctx context.Context, it kustomer.OutboxItem, conv kustomer.Conversation, cust kustomer.Customer, e views.FollowUpEmail) error {
	now := m.now()
	tok, _ := m.Links.IssueEmailLink(conv.ID, cust.ID, now)
	e.CustomerName = cust.Name
	e.ContinueURL = m.link("/conversations/"+conv.ID+"/continue", tok, conv.Lang)
	e.UnsubscribeURL = m.link("/unsubscribe", m.Links.IssueUnsubscribe(cust.ID, now), conv.Lang)
	e.LinkDays = int(session.EmailLinkTTL / (24 * time.Hour))
	var html bytes.Buffer
	if err := views.FollowUpEmailHTML(e).Render(ctx, &html); err != nil {
		return fmt.Errorf("notify: render email: %w", err)
	}
	return m.Sender.Send(ctx, mail.Message{
		ID: m.MessageID(it), From: m.From, To: cust.Emails[0], Subject: e.Subject(),
		Text: views.FollowUpEmailText(e), HTML: html.String(), Date: now, Unsubscribe: e.UnsubscribeURL,
	})
}

// link is an absolute URL on the site with the token as its query.
func (m *Mailer) link(path, token, lang string) string {
	u := *m.BaseURL
	u.Path = path
	// The token first (links are found by it), then the language, so that
	// the page it opens speaks the email's.
	u.RawQuery = url.Values{"token": {token}}.Encode()
	if lang != "" {
		u.RawQuery += "&" + url.Values{"lang": {lang}}.Encode()
	}
	return u.String()
}

// DeliverTranscript is the Deliver of the OutboxTranscript dispatcher: it
// emails every message the customer saw, in order, to the customer.
func (m *Mailer) DeliverTranscript(ctx context.Context, it kustomer.OutboxItem) error {
	conv, err := m.Store.Conversation(ctx, it.ConversationID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return &mail.PermanentError{Reason: "the conversation no longer exists"}
	}
	if err != nil {
		return fmt.Errorf("notify: transcript: %w", err)
	}
	cust, err := m.Store.Customer(ctx, conv.CustomerID)
	if err != nil {
		return fmt.Errorf("notify: transcript: %w", err)
	}
	if len(cust.Emails) == 0 {
		return skip("no_email")
	}
	l := convLocale(conv)
	e := views.TranscriptEmail{L: l, Started: l.T("chat.started") + l.DateTime(conv.CreatedAt, conv.Context.Location())}
	if m.FormTitle != nil {
		e.FormTitle = m.FormTitle(conv.FormID)
	}
	var after int64
	for {
		msgs, err := m.Store.Messages(ctx, conv.ID, kustomer.MessageQuery{AfterSeq: after, Max: kustomer.MaxMessages})
		if err != nil {
			return fmt.Errorf("notify: transcript: %w", err)
		}
		for _, msg := range msgs {
			author := msg.SentBy.DisplayName
			switch {
			case msg.Direction == kustomer.DirectionIn:
				author = l.T("js.you")
			case author == "":
				author = l.T("js.support")
			}
			e.Messages = append(e.Messages, views.TranscriptMessage{Author: author, Body: messageText(l, msg), At: l.DateTime(msg.CreatedAt, conv.Context.Location()),
				FromCustomer: msg.Direction == kustomer.DirectionIn, System: msg.SentBy.Type == kustomer.AuthorSystem})
			after = msg.Seq
		}
		if len(msgs) < kustomer.MaxMessages {
			break
		}
	}
	var html bytes.Buffer
	if err := views.TranscriptEmailHTML(e).Render(ctx, &html); err != nil {
		return fmt.Errorf("notify: render transcript: %w", err)
	}
	return m.Sender.Send(ctx, mail.Message{
		ID: m.MessageID(it), From: m.From, To: cust.Emails[0], Subject: e.Subject(),
		Text: views.TranscriptEmailText(e), HTML: html.String(), Date: m.now(),
	})
}

// messageText is msg's text as l's reader sees it: a system event's in
// their language.
func messageText(l *locale.Localizer, msg kustomer.Message) string {
	if ev := msg.Event(); ev != nil {
		return views.EventText(l, ev.Code, ev.Params, msg.Body)
	}
	return msg.Body
}

// convLocale speaks the conversation's language (English when it has none).
func convLocale(conv kustomer.Conversation) *locale.Localizer {
	return locale.Choose("", conv.Lang, "")
}
