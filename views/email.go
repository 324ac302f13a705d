package views

import (
	"fmt"
	"strings"

	"github.com/handoff/handoff/views/locale"
)

// FollowUpEmail is what a follow-up email shows: the organization's replies
// the customer has not seen, and where to continue.
type FollowUpEmail struct {
	// L speaks the conversation's language; nil speaks English.
	L              *locale.Localizer
	CustomerName   string
	AgentName      string // who wrote the newest reply
	Replies        []EmailReply
	ContinueURL    string
	UnsubscribeURL string
	LinkDays       int
	// Fresh makes it the email a customer asked for when a link had
	// expired or was used: a new link and no replies.
	Fresh bool
}

// EmailReply is one reply in a follow-up email.
type EmailReply struct {
	Author string
	Body   string
	At     string // formatted for the reader, e.g. "29 Nov 2026 13:05 UTC"
}

// Subject is the follow-up email's subject line.
func (e FollowUpEmail) Subject() string {
	if e.Fresh {
		return e.L.T("email.subject_fresh")
	}
	if e.AgentName == "" {
		return e.L.T("email.subject_new")
	}
	return e.L.Tf("email.subject_reply", map[string]any{"Name": e.AgentName})
}

// hello greets the customer.
func (e FollowUpEmail) hello() string {
	if e.CustomerName == "" {
		return e.L.T("email.hello")
	}
	return e.L.Tf("email.hello_name", map[string]any{"Name": e.CustomerName})
}

// linkNote says how long the continue link works.
func (e FollowUpEmail) linkNote() string { return e.L.Tn("email.link_days", e.LinkDays, nil) }

func (e FollowUpEmail) intro() string {
	if e.Fresh {
		return e.L.T("email.intro_fresh")
	}
	if e.AgentName == "" {
		return e.L.Tn("email.intro_we", len(e.Replies), nil)
	}
	return e.L.Tn("email.intro", len(e.Replies), map[string]any{"Name": e.AgentName})
}

// FollowUpEmailText is the plain-text part of a follow-up email.
func FollowUpEmailText(e FollowUpEmail) string {
	var b strings.Builder
	b.WriteString(e.hello() + "\n\n")
	b.WriteString(e.intro() + "\n\n")
	for _, r := range e.Replies {
		fmt.Fprintf(&b, "%s, %s:\n", r.Author, r.At)
		for _, line := range strings.Split(r.Body, "\n") {
			b.WriteString("  " + line + "\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s:\n%s\n\n", e.L.T("email.continue"), e.ContinueURL)
	b.WriteString(e.linkNote() + "\n")
	if e.UnsubscribeURL != "" {
		fmt.Fprintf(&b, "%s: %s\n", e.L.T("email.stop"), e.UnsubscribeURL)
	}
	return b.String()
}

// ContinueView is the page an email's continue link opens.
type ContinueView struct {
	Page           Page
	ConversationID string
	Token          string
}

// LinkProblemView explains an email link that cannot be used.
type LinkProblemView struct {
	Page           Page
	Heading        string
	Detail         string
	Notice         string // the outcome of a request for a fresh link
	ConversationID string
	Token          string
	CanResend      bool
}

// UnsubscribeView is the unsubscribe page, before (Done=false) and after.
type UnsubscribeView struct {
	Page  Page
	Token string
	Done  bool
}

// TranscriptEmail is a conversation's transcript as emailed to its
// customer.
type TranscriptEmail struct {
	// L speaks the conversation's language; nil speaks English.
	L         *locale.Localizer
	FormTitle string
	Started   string // when the conversation started, formatted
	Messages  []TranscriptMessage
}

// TranscriptMessage is one message of a transcript.
type TranscriptMessage struct {
	Author       string
	Body         string
	At           string
	FromCustomer bool
	System       bool // an event: joined, transferred, ended
}

// Subject is the transcript email's subject line.
func (e TranscriptEmail) Subject() string {
	if e.FormTitle == "" {
		return e.L.T("email.transcript")
	}
	return e.L.Tf("email.transcript_of", map[string]any{"Form": e.FormTitle})
}

// TranscriptEmailText is the plain-text part of a transcript email.
func TranscriptEmailText(e TranscriptEmail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n\n", e.Subject(), e.Started)
	for _, m := range e.Messages {
		if m.System {
			fmt.Fprintf(&b, "-- %s (%s)\n\n", m.Body, m.At)
			continue
		}
		fmt.Fprintf(&b, "%s, %s:\n", m.Author, m.At)
		for _, line := range strings.Split(m.Body, "\n") {
			b.WriteString("  " + line + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}
