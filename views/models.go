// Package views renders handoff's pages with templ. Handlers build the view
// models below; components only lay them out. This package imports templ,
// the standard library, its own locale package (the customer's pages
// speak the visitor's language) and xurls (links in messages) only.
package views

import (
	"time"

	"github.com/handoff/handoff/views/locale"
)

// Page is what every full page carries for the layout.
type Page struct {
	Title string
	// Embed is true when the page is shown inside an iframe on another
	// site: the layout drops the site header and footer.
	Embed bool
	// EmbedPanel is true in the launcher's panel, whose bar already shows
	// the title: the page's heading is then for screen readers only.
	EmbedPanel bool
	// EmbedHost is the origin of the page embedding this one, when known
	// and allowed: the frame script talks to it (resize, hand-off) and to
	// nobody else.
	EmbedHost string
	// ShowConversationsLink shows the "Your conversations" link, for a
	// visitor who already has conversations.
	ShowConversationsLink bool
	// L speaks the visitor's language; nil speaks English.
	L *locale.Localizer
}

// IndexPage lists the forms a visitor can start from.
type IndexPage struct {
	Page
	Forms []FormSummary
}

// FormSummary is one entry of the index.
type FormSummary struct {
	Title string
	Intro string
	URL   string
}

// HoneypotField is the name of the form's trap field: hidden from people and
// screen readers, it is filled only by bots. Operator field names cannot
// hold a dash, so it never collides with one.
const HoneypotField = "website-url"

// LangField is the name of the form's hidden field that carries the page's
// language into the conversation; like HoneypotField it holds a dash, so it
// never collides with an operator's field.
const LangField = "handoff-lang"

// TimeZoneField is the name of the form's hidden field that times.js fills
// with the visitor's time zone (IANA name), so that emails about the
// conversation give times in it.
const TimeZoneField = "handoff-tz"

// FormPage is a contact form, blank or re-shown with errors.
type FormPage struct {
	Page
	FormID      string
	Intro       string
	SubmitLabel string
	Action      string // where the form posts
	// Target is "_blank" when the embedded form continues the chat in a new
	// top-level tab (the loader's data-chat="tab").
	Target string
	// SubmissionID is a random id rendered into the form so that a
	// double-submitted form creates one conversation.
	SubmissionID string
	// Referrer is the page that led to the form, carried in a hidden field
	// into the conversation's context.
	Referrer string
	// Error is a message about the whole form (not one field).
	Error string
	// ContinueURL is this browser's open conversation from this form, if
	// any: the page offers it above the form (Back after a hand-off no
	// longer leads to a second conversation by mistake).
	ContinueURL string
	// Expect, when set, says how soon an answer usually comes.
	Expect *ExpectView
	Fields []FieldView
}

// EventView is a system message's event: a catalog code (event.<code>)
// and the names it mentions.
type EventView struct {
	Code   string
	Params map[string]string
}

// ExpectView is what a customer may expect of the answer: within
// WithinMinutes while the team is in, else the team back at Back.
type ExpectView struct {
	WithinMinutes int
	Back          time.Time
	// Offline says nobody takes conversations now, within the hours: the
	// answer comes later, by email.
	Offline bool
}

// FieldView is one input of a form with its current value and error.
type FieldView struct {
	Name        string
	Label       string
	Type        string // text, email, textarea, select, number, checkbox, url, tel
	Required    bool
	Placeholder string
	Help        string
	MaxLength   int
	Options     []OptionView
	Value       string
	Checked     bool // checkbox state
	Error       string
}

// OptionView is one choice of a select.
type OptionView struct {
	Value    string
	Label    string
	Selected bool
}

// ChatPage is one conversation with its thread and composer.
type ChatPage struct {
	Page
	ConversationID string
	FormTitle      string
	CreatedAt      time.Time
	Ended          bool
	AssistantMode  bool
	Messages       []MessageView
	// LastSeq is the seq of the newest message rendered; the socket resumes
	// after it.
	LastSeq int64
	// EarlierURL links to older messages when the thread was cut to the most
	// recent ones; empty when the whole thread is shown.
	EarlierURL string
	SocketURL  string // path of the websocket, e.g. /conversations/{id}/ws
	PostURL    string // where the no-JavaScript composer posts
	// UploadURL is where the composer's script uploads a file before
	// sending it over the socket.
	UploadURL string
	NewURL    string // where "start a new conversation" goes
	ListURL   string
	// ClientMessageID is a fresh id for the no-JavaScript composer so that a
	// resubmitted POST is stored once.
	ClientMessageID string
	// Expect, when set (nobody has answered yet), says how soon an answer
	// usually comes.
	Expect *ExpectView
	// SeenSeq is how far the agents have read: the customer's last message
	// within it says "Seen".
	SeenSeq int64
	// MaxBodyLen is how many characters a message may have: the composer
	// counts towards it and refuses more before sending, never cutting.
	MaxBodyLen int
	// Draft and DraftError re-show a rejected no-JavaScript send.
	Draft      string
	DraftError string
	// AssigneeName is the agent answering, if any.
	AssigneeName string
	// EndURL, where the conversation's form lets customers end it, is where
	// the "End chat" button posts; empty otherwise.
	EndURL string
	// RatingURL is where the satisfaction form posts; the form shows once
	// the conversation has ended and is not rated yet.
	RatingURL string
	// TranscriptURL is where the ended chat's "Email me a transcript"
	// posts; TranscriptNotice reports the outcome of a request.
	TranscriptURL    string
	TranscriptNotice string
	Satisfaction     *SatisfactionView
	// RatingError, RatingValue and RatingComment re-show a rejected rating.
	RatingError   string
	RatingValue   int
	RatingComment string
	// Token is a fresh hand-off token on embedded chat pages: the frame
	// keeps it in memory, exchanges it for a session in a new tab (OpenURL)
	// and, when TokenAuth (no cookie reached the server), opens the socket
	// and sends with it.
	Token     string
	TokenAuth bool
	OpenURL   string
}

// SatisfactionView is a customer's rating of a conversation.
type SatisfactionView struct {
	Rating    int // 1 to 5
	Comment   string
	CreatedAt time.Time
}

// MessageView is one message as a viewer sees it.
type MessageView struct {
	// L speaks the reader's language (a customer's; nil: English).
	L *locale.Localizer
	// Grouped follows a message of the same author moments before: its
	// name and avatar are not shown again.
	Grouped bool
	// Event names what a system message records, so that it is said in
	// the reader's language; nil shows Body.
	Event           *EventView
	ID              string
	Seq             int64
	ClientMessageID string
	Body            string
	Direction       string // "in" (customer to organization) or "out"
	AuthorType      string // customer, agent, assistant, system
	AuthorName      string
	CreatedAt       time.Time
	// Mine is true when the viewer wrote the message.
	Mine bool
	// Private marks an agents' note (only ever rendered for agents).
	Private bool
	// AgentView renders for the console: sequence numbers shown, and who
	// performed a system event.
	AgentView bool
	// AvatarURL is the assistant's (or agent's) avatar, if any.
	AvatarURL string
	// Question is set on an assistant's question: the controls that answer
	// it. Live is true while it is the question the assistant waits for.
	Question *QuestionView
	// Attachments are the message's files, in the order sent.
	Attachments []AttachmentView
	// Relaying marks a customer's message not yet accepted by the system
	// agents answer in (Kustomer, in relay mode): it says so until then.
	Relaying bool
}

// AttachmentView is a file sent with a message: a picture shown as a
// preview (Image), any other file a named link with its size.
type AttachmentView struct {
	Name  string
	URL   string
	Size  int64
	Image bool
}

// QuestionView is how the customer answers an assistant's question.
type QuestionView struct {
	// Step names the question; an answer carries it so that a stale click
	// (on an earlier question) is recognised.
	Step string
	Live bool
	// PostURL is where the no-JavaScript answer posts (the composer's URL).
	PostURL string
	// Buttons are quick replies (a button question, or a deflection's two
	// answers); each is sent as body=Label with the payload.
	Buttons []ButtonView
	// Articles are a deflection's knowledge-base links.
	Articles []ArticleView
	// InputType asks for a typed attribute: text, number, email, url,
	// datetime (a datetime-local input) or checkbox; empty otherwise.
	InputType string
	Attribute string
}

// ButtonView is one quick reply.
type ButtonView struct {
	Label   string
	Payload string
}

// ArticleView is one knowledge-base article offered by a deflection.
type ArticleView struct {
	ID    string
	Title string
	URL   string
}

// ConversationListPage is the customer's list of conversations.
type ConversationListPage struct {
	Page
	Rows  []ConversationRow
	Total int
	Pager Pager
	// NewURL starts a new conversation.
	NewURL string
}

// ConversationRow is one conversation in a list.
type ConversationRow struct {
	ID            string
	URL           string
	FormTitle     string
	Preview       string
	CreatedAt     time.Time
	LastMessageAt time.Time
	Ended         bool
	AssistantMode bool
	Unread        int
}

// Pager holds the links of a paged list; an empty URL means no such page.
type Pager struct {
	Current     int
	FirstURL    string
	PreviousURL string
	NextURL     string
}

// ErrorPage is shown for 4xx and 5xx answers to page requests.
type ErrorPage struct {
	Page
	Status    int
	Heading   string
	Detail    string
	RequestID string
}
