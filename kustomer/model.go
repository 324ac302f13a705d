package kustomer

import (
	"encoding/json"
	"strings"
	"time"
)

// Direction says which way a message travelled, as in the Kustomer SDK.
type Direction string

const (
	// DirectionIn is a message from the customer to the organization.
	DirectionIn Direction = "in"
	// DirectionOut is a message from the organization (agent, assistant or
	// system) to the customer.
	DirectionOut Direction = "out"
)

// AuthorType is who wrote a message or performed an operation.
type AuthorType string

// The kinds of author.
const (
	AuthorCustomer  AuthorType = "customer"
	AuthorAgent     AuthorType = "agent"
	AuthorAssistant AuthorType = "assistant"
	AuthorSystem    AuthorType = "system"
)

// Limits on messages.
const (
	MaxBodyLen        = 8000
	MaxClientIDLen    = 64
	MaxPayloadBytes   = 4096
	MaxAuthorNameLen  = 100
	DefaultPageSize   = 100
	MaxPageSize       = 100
	maxPage           = 1_000_000
	DefaultMaxMessage = 100
	MaxMessages       = 500
	previewLen        = 140
)

// Actor is whoever performs an operation. Customers may act only on their own
// conversations; the organization (agents, assistants, integrations) may act
// on any.
type Actor struct {
	Type AuthorType
	ID   string
	Name string
}

// Customer returns the actor for the customer with the given id.
func CustomerActor(id string) Actor { return Actor{Type: AuthorCustomer, ID: id} }

// IsCustomer reports whether the actor is a customer.
func (a Actor) IsCustomer() bool { return a.Type == AuthorCustomer }

// Author identifies who sent a message, shaped like the SDK's sentBy.
type Author struct {
	Type        AuthorType `json:"type"`
	ID          string     `json:"id,omitempty"`
	DisplayName string     `json:"displayName,omitempty"`
	AvatarURL   string     `json:"avatarUrl,omitempty"`
}

// PageContext is where and how a conversation started.
type PageContext struct {
	Referrer  string `json:"referrer,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	Locale    string `json:"locale,omitempty"`
	// TimeZone is the visitor's IANA time zone ("Europe/Madrid") as their
	// browser reported it, for the times in emails; see TimeZone.
	TimeZone string `json:"timeZone,omitempty"`
}

// Location is the visitor's time zone, or nil when unknown.
func (p PageContext) Location() *time.Location {
	if p.TimeZone == "" {
		return nil
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return nil
	}
	return loc
}

// CleanTimeZone returns s when it is an IANA time zone name this build
// knows ("Europe/Madrid", "UTC"), else "": what a browser reports is
// input like any other.
func CleanTimeZone(s string) string {
	if s == "" || len(s) > 64 || s == "Local" {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_-+", r)) {
			return ""
		}
	}
	if _, err := time.LoadLocation(s); err != nil {
		return ""
	}
	return s
}

// Customer is the person on the customer side of conversations.
type Customer struct {
	ID               string     `json:"id"`
	Name             string     `json:"name,omitempty"`
	Emails           []string   `json:"emails"`
	Phones           []string   `json:"phones"`
	Socials          []Social   `json:"socials"`
	CustomAttributes Attributes `json:"customAttributes"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

// Conversation is a chat thread between one customer and the organization.
// JSON names are the SDK's.
type Conversation struct {
	ID                string      `json:"conversationId"`
	CustomerID        string      `json:"customerId"`
	FormID            string      `json:"formId,omitempty"`
	AssistantID       string      `json:"assistantId,omitempty"`
	CreatedAt         time.Time   `json:"createdAt"`
	UpdatedAt         time.Time   `json:"updatedAt"`
	LastMessageAt     time.Time   `json:"lastMessageAt"`
	Preview           string      `json:"preview"`
	Ended             bool        `json:"ended"`
	EndedAt           *time.Time  `json:"endedAt,omitempty"`
	EndedBy           *Author     `json:"endedBy,omitempty"`
	IsInAssistantMode bool        `json:"isInAssistantMode"`
	CustomAttributes  Attributes  `json:"customAttributes"`
	Context           PageContext `json:"context"`
	LastSeq           int64       `json:"lastSeq"`
	// CustomerUnread counts messages sent to the customer after the last one
	// the customer marked read.
	CustomerUnread int `json:"unreadCount"`
	// AssigneeID and AssigneeName name the agent answering, if any.
	AssigneeID   string `json:"assigneeId,omitempty"`
	AssigneeName string `json:"assigneeName,omitempty"`
	// Skill is the queue the conversation waits in ("" is the general one).
	Skill string `json:"skill,omitempty"`
	// Labels are the IDs of the labels agents put on it, sorted: the
	// organization's, never in what customers receive.
	Labels []string `json:"-"`
	// SuggestedAgentID is an agent a transfer suggested the conversation
	// to, who has not accepted it yet (it waits, unassigned, in its queue).
	SuggestedAgentID string `json:"suggestedAgentId,omitempty"`
	// TTR is how soon an agent must answer it; TTREffective (set by the
	// Engine) the moment the answer is due, when the customer waits.
	TTR          TTR        `json:"ttr"`
	TTREffective *time.Time `json:"ttrEffective,omitempty"`
	// AwaitingSince is when the oldest customer message no agent has
	// answered was sent; nil when nothing awaits an answer.
	AwaitingSince *time.Time `json:"awaitingSince,omitempty"`
	// FirstResponseAt is when an agent first answered.
	FirstResponseAt *time.Time    `json:"firstResponseAt,omitempty"`
	Satisfaction    *Satisfaction `json:"satisfaction,omitempty"`
	// AgentUnread counts customer messages after the viewing agent's read
	// position; set only in lists for an agent.
	AgentUnread int `json:"agentUnreadCount,omitempty"`
	// AssistantState is where the conversation stands in its assistant.
	AssistantState json.RawMessage `json:"-"`
	// Lang is the language the customer's pages speak in the conversation
	// (a BCP 47 tag, the SDK's lang); "" follows the visitor's browser.
	Lang string `json:"lang,omitempty"`
}

// Attachment is a file sent with a message.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"contentLength"`
	URL         string `json:"url,omitempty"`
}

// StoredAttachment is an uploaded file's record: the conversation it was
// uploaded to, by whom, and the message that carries it once sent.
type StoredAttachment struct {
	Attachment
	ConversationID string
	Uploader       Author
	CreatedAt      time.Time
	// MessageID is the message that carries the file; "" while unsent.
	MessageID string
	// Private is true when that message is an agents' note.
	Private bool
}

// Message is one entry of a conversation's thread, with the fields of the
// SDK's sendMessage response plus its sequence number and author.
type Message struct {
	ID              string          `json:"messageId"`
	ConversationID  string          `json:"conversationId"`
	Seq             int64           `json:"seq"`
	Body            string          `json:"body"`
	Payload         json.RawMessage `json:"payload,omitempty"`
	Direction       Direction       `json:"direction"`
	CreatedAt       time.Time       `json:"createdAt"`
	Attachments     []Attachment    `json:"attachments"`
	SentBy          Author          `json:"sentBy"`
	ClientMessageID string          `json:"clientMessageId,omitempty"`
	// Private marks an agents' note: never shown, sent or counted to the
	// customer.
	Private bool `json:"private,omitempty"`
	// Meta carries an assistant question's answer controls, or a reply's
	// lastDeflection, as in the SDK's message meta.
	Meta json.RawMessage `json:"meta,omitempty"`
	// Lang is the language the message is written in, as its sender said
	// (the SDK's sendMessage lang, a BCP 47 tag); "" when not said.
	Lang string `json:"lang,omitempty"`
}

// Pages is the SDK's paging block: page numbers, with next and previous nil
// where there is no such page.
type Pages struct {
	Current  int  `json:"current"`
	First    int  `json:"first"`
	Next     *int `json:"next"`
	Previous *int `json:"previous"`
}

// ConversationPage is the result of GetConversations.
type ConversationPage struct {
	Conversations []Conversation `json:"conversations"`
	Pages         Pages          `json:"pages"`
	Total         int            `json:"total"`
	// Matches says, for a search, where it matched each conversation, by
	// conversation ID.
	Matches map[string]SearchMatch `json:"-"`
}

// CreateConversationInput holds createConversation's options plus what the
// server knows about the customer and the form.
type CreateConversationInput struct {
	// CustomerID names an existing customer; empty creates a new one.
	CustomerID       string
	CustomerName     string
	CustomerEmail    string
	Message          string
	ClientMessageID  string
	AssistantID      string
	FormID           string
	CustomAttributes Attributes
	Context          PageContext
	// Lang is the conversation's language, a BCP 47 tag ("" for none).
	Lang string
}

// DescribeCustomerInput holds describeCustomer's options.
type DescribeCustomerInput struct {
	Name             *string    `json:"name,omitempty"`
	Emails           []string   `json:"emails,omitempty"`
	Phones           []string   `json:"phones,omitempty"`
	Socials          []Social   `json:"socials,omitempty"`
	CustomAttributes Attributes `json:"customAttributes,omitempty"`
}

// Social is one of a customer's social accounts, as describeCustomer
// gives it: the username on a network (Type: "twitter", "instagram"…).
type Social struct {
	Username string `json:"username"`
	Type     string `json:"type"`
}

// SendMessageInput holds sendMessage's options.
type SendMessageInput struct {
	ConversationID  string
	ClientMessageID string
	Body            string
	Payload         json.RawMessage
	Attachments     []Attachment
	// AuthorName and AvatarURL label organization-side messages.
	AuthorName string
	AvatarURL  string
	// Private makes the message an agents' note.
	Private bool
	// Lang is the language the message is written in (the SDK's lang).
	Lang string

	// What an SDK client says of its own state, for a customer's send: the
	// assistant it started (initAssistant), run on the conversation's first
	// send; and whether it thinks it is in assistant mode and which
	// articles it offered, recorded with the message (the server's own
	// state decides).
	InitAssistant       *InitAssistantPayload
	ClientAssistantMode *bool
	ClientDeflection    *ClientDeflection

	// QuickReplies, on an agent's message, are buttons the customer
	// answers with (the agent side's rich text): the message asks, as an
	// assistant's button question does.
	QuickReplies []QuickReply
}

// QuickReply is one button of an agent's question: the label the customer
// clicks (and sends as their message) and the payload sent with it.
type QuickReply struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// InitAssistantPayload is sendMessage's initAssistantPayload: the
// assistant an SDK client started with initAssistant, and where it stood.
type InitAssistantPayload struct {
	Assistant       string            `json:"assistant"`
	Dialog          string            `json:"dialog,omitempty"`
	Node            string            `json:"node,omitempty"`
	InitialMessages []json.RawMessage `json:"initialMessages,omitempty"`
}

// ClientDeflection is a lastDeflection as an SDK client sends it: the
// articles it offered and which the customer opened.
type ClientDeflection struct {
	Articles []ClientArticle `json:"articles"`
}

// ClientArticle is one article of a ClientDeflection, in the SDK's shape.
type ClientArticle struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Visited bool   `json:"visited"`
	Lang    string `json:"lang,omitempty"`
	Title   string `json:"title"`
	URL     string `json:"url"`
}

// MessageQuery selects a window of a conversation's messages by sequence
// number: those after AfterSeq and before BeforeSeq (0: no upper bound), at
// most Max of them, in ascending seq order. With Last set, the window is the
// newest Max messages before BeforeSeq rather than the oldest after AfterSeq.
type MessageQuery struct {
	AfterSeq  int64
	BeforeSeq int64
	Max       int
	Last      bool
	// IDs, when set, narrows the window to the messages with these ids.
	IDs []string
	// IncludePrivate includes agents' notes; the Engine sets it for
	// organization actors only.
	IncludePrivate bool
	// Private narrows the messages an organization actor gets to public
	// ones or to notes; customers get public ones whatever it says.
	Private PrivateFilter
}

// PrivateFilter selects messages by whether they are agents' notes.
type PrivateFilter int

// The private filters: every message, public messages only, notes only.
const (
	AnyPrivate PrivateFilter = iota
	PublicOnly
	PrivateOnly
)

// AgentNote is the agents' note on a conversation as a whole (the agent
// side's setAgentNote), separate from the private messages in its thread.
// A new note replaces the conversation's note and keeps the earlier ones
// as its history. Customers never see notes.
type AgentNote struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	Text           string    `json:"text"`
	AgentID        string    `json:"agentId,omitempty"`
	AgentName      string    `json:"agentName,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
}

// The time-to-respond types, as the agent side names them.
const (
	TTRNormal      = "NORMAL"      // the form's target (ttrTarget)
	TTRPrioritized = "PRIORITIZED" // half the form's target
	TTRUrgent      = "URGENT"      // a quarter of the form's target
	TTRCustom      = "CUSTOM"      // Value seconds
)

// TTR is a conversation's time to respond: its type (and Value seconds
// for CUSTOM), the seconds it allows from the customer's oldest
// unanswered message (Seconds, resolved when set), and a manual expected
// time that overrides them (ManualETTR).
type TTR struct {
	Type       string     `json:"ttrType"`
	Value      int64      `json:"value,omitempty"`
	Seconds    int64      `json:"seconds"`
	ManualETTR *time.Time `json:"manualEttr,omitempty"`
}

// Effective is when the answer to conversation c is due: the manual time
// when set, else awaitingSince plus the allowed seconds; nil when nobody
// waits (and no manual time is set) or the conversation has ended.
func (t TTR) Effective(awaitingSince *time.Time, ended bool) *time.Time {
	switch {
	case ended:
		return nil
	case t.ManualETTR != nil:
		v := *t.ManualETTR
		return &v
	case awaitingSince == nil:
		return nil
	}
	v := awaitingSince.Add(time.Duration(t.Seconds) * time.Second)
	return &v
}
