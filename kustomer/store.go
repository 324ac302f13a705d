package kustomer

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// Store persists customers, conversations and messages. Every method is one
// transaction; not-found is ErrNotFound, never a zero value with a nil error.
// kustomertest holds the conformance suite every Store must pass.
type Store interface {
	// CreateConversation stores, in one transaction, the customer (created
	// or updated), the conversation and its first message. When a
	// conversation with the same non-empty ClientRef exists it returns that
	// one and created=false.
	CreateConversation(ctx context.Context, in NewConversation) (c Conversation, first Message, created bool, err error)
	// Conversation returns one conversation.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// ConversationHead returns what a send needs to know of a
	// conversation, cheaper to read than all of it: its ID, CustomerID,
	// FormID, AssistantID, IsInAssistantMode, Ended, EndedAt,
	// FirstResponseAt, Lang and LastSeq; the other fields are zero.
	ConversationHead(ctx context.Context, id string) (Conversation, error)
	// Conversations lists conversations, newest activity first.
	Conversations(ctx context.Context, f ConversationFilter, offset, limit int) ([]Conversation, int, error)
	// SearchMatches says where terms (see SearchTerms) matched each of
	// conversationIDs: the newest message with one of them, else the
	// customer's name and email addresses, else the custom attributes'
	// values. A conversation none of them matches is left out.
	SearchMatches(ctx context.Context, terms []string, conversationIDs []string) (map[string]SearchMatch, error)
	// UpdateConversationAttributes merges attrs into the conversation's
	// custom attributes; a nil value removes the attribute.
	// outbox is added to the outbox in the same transaction.
	UpdateConversationAttributes(ctx context.Context, id string, attrs Attributes, at time.Time, outbox ...OutboxItem) (Conversation, error)
	// EndConversation marks the conversation ended and appends event, the
	// system message that says so. Ending an ended conversation changes
	// nothing and returns changed=false.
	EndConversation(ctx context.Context, id string, by Author, at time.Time, event NewMessage) (c Conversation, m Message, changed bool, err error)
	// ReopenConversation reopens an ended conversation (clearing its
	// rating) and appends event; an open one is left as is, changed=false.
	ReopenConversation(ctx context.Context, id string, at time.Time, event NewMessage) (c Conversation, m Message, changed bool, err error)
	// UpdateAssignment sets who answers the conversation and the queue it
	// waits in, taking it out of assistant mode, and appends event, the
	// system message that says so; the assignee's LastAssignedAt becomes
	// at. An ended conversation is an ErrConflict.
	UpdateAssignment(ctx context.Context, id string, a Assignment, at time.Time, event NewMessage) (Conversation, Message, error)
	// ApplyAssistantTurn stores an assistant's turn in one transaction:
	// its messages, attributes, new state and any hand-off or end, if the
	// stored state still equals t.ExpectState (ErrStaleAnswer otherwise).
	ApplyAssistantTurn(ctx context.Context, id string, t AssistantApply) (Conversation, []Message, error)
	// FormAssistants returns operators' assistant choices by form id;
	// SetFormAssistant stores one with its audit entry (recorded with
	// Setting FormSettingAssistant, in the audit log too); FormAudit lists
	// the newest entries of every setting.
	FormAssistants(ctx context.Context) (map[string]string, error)
	SetFormAssistant(ctx context.Context, e FormAuditEntry) error
	FormAudit(ctx context.Context, limit int) ([]FormAuditEntry, error)
	// FormOrigins returns the operators' list of origins allowed to frame
	// a form, and ok=false (with no error) when none was stored. It is read
	// on every form page, chat page and chat socket: one point read.
	FormOrigins(ctx context.Context, formID string) (origins []string, ok bool, err error)
	// SetFormOrigins stores origins as e.FormID's list (an empty list is a
	// list: nothing may frame the form) or, when origins is nil, deletes
	// it, and records e with Setting FormSettingAllowedOrigins, in one
	// transaction.
	SetFormOrigins(ctx context.Context, e FormAuditEntry, origins []string) error
	// UseOnce records key as used until expires. When key is already
	// recorded and has not expired at now, it records nothing and returns
	// an error wrapping ErrAlreadyUsed (an ErrConflict). Expired keys may
	// be used again, and are deleted along the way.
	UseOnce(ctx context.Context, key string, expires, now time.Time) error
	// RateConversation records the customer's satisfaction, once, after the
	// conversation ended (ErrConflict otherwise); outbox is added to the
	// outbox with it.
	RateConversation(ctx context.Context, id string, s Satisfaction, outbox ...OutboxItem) (Conversation, error)
	// Agent, AgentByEmail and Agents read accounts; SaveAgent creates or
	// replaces one (ErrConflict when the email is taken), recording audit
	// in the same transaction.
	Agent(ctx context.Context, id string) (Agent, error)
	AgentByEmail(ctx context.Context, email string) (Agent, error)
	Agents(ctx context.Context) ([]Agent, error)
	SaveAgent(ctx context.Context, a Agent, audit ...AuditEntry) error
	// SetAgentStatus sets an agent's status, why handoff set it ("" when
	// the agent chose it) and StatusAt, and returns the agent.
	SetAgentStatus(ctx context.Context, agentID string, status AgentStatus, reason string, at time.Time) (Agent, error)
	// TouchAgent sets the agent's SeenAt and, when handoff had set them
	// offline for having no console open (StatusGone), sets them online:
	// back reports that it did.
	TouchAgent(ctx context.Context, agentID string, at time.Time) (back bool, err error)
	// ExpireAgents sets offline (StatusGone) the agents not offline whose
	// SeenAt and StatusAt are both before staleBefore (or unset: an agent
	// who just signed in has until then to open a console), and returns
	// them as they are now. An agent is returned by one call only, whatever the number
	// of callers at once.
	ExpireAgents(ctx context.Context, staleBefore, at time.Time) ([]Agent, error)
	// OpenAssignments counts each agent's open conversations (assigned,
	// not ended), by agent id.
	OpenAssignments(ctx context.Context) (map[string]int, error)
	// CreateAgentSession stores a new session, deleting along the way the
	// sessions that expired at or before its CreatedAt.
	CreateAgentSession(ctx context.Context, s AgentSession) error
	// AgentSession returns a session with its agent as stored now
	// (ErrNotFound when there is no such session). Expiry is the caller's
	// to check.
	AgentSession(ctx context.Context, id string) (AgentSession, Agent, error)
	// DeleteAgentSession ends one session; ending a missing one is not an
	// error.
	DeleteAgentSession(ctx context.Context, id string) error
	// DeleteAgentSessions ends every session of the agent except keepID
	// ("" keeps none) and returns how many it ended, recording audit in
	// the same transaction.
	DeleteAgentSessions(ctx context.Context, agentID, keepID string, audit ...AuditEntry) (int, error)
	// AppendMessage assigns the next seq and stores the message, unless a
	// message with the same non-empty ClientMessageID exists in the
	// conversation: then it returns that message and created=false.
	AppendMessage(ctx context.Context, m NewMessage) (msg Message, created bool, err error)
	// CreateAttachment stores an uploaded, unsent file and its content (in
	// the pieces it was read in, each at most AttachmentChunkSize bytes), in
	// one transaction, unless the conversation's unsent files would then
	// exceed maxUnsent bytes (an ErrConflict, code "attachment_quota").
	// AppendMessage claims files by the IDs of the message's Attachments:
	// each must be an unsent file of the conversation, or the append is an
	// ErrConflict (code "attachment_unavailable") and stores nothing.
	CreateAttachment(ctx context.Context, a StoredAttachment, content [][]byte, maxUnsent int64) error
	// Attachment returns a file's record.
	Attachment(ctx context.Context, id string) (StoredAttachment, error)
	// CopyAttachment writes a file's content to w a chunk at a time, holding
	// no database connection while w is written.
	CopyAttachment(ctx context.Context, id string, w io.Writer) (int64, error)
	// DeleteUnsentAttachments deletes at most limit files uploaded before
	// and never sent, and returns how many it deleted.
	DeleteUnsentAttachments(ctx context.Context, before time.Time, limit int) (int, error)
	// Messages returns a window of the conversation's messages in seq order.
	Messages(ctx context.Context, conversationID string, q MessageQuery) ([]Message, error)
	// Customer returns one customer.
	Customer(ctx context.Context, id string) (Customer, error)
	// UpdateCustomer applies in to the customer.
	UpdateCustomer(ctx context.Context, id string, in DescribeCustomerInput, at time.Time) (Customer, error)
	// AddAgentNote records an agents' note on the conversation as a whole;
	// ErrNotFound for an unknown conversation.
	AddAgentNote(ctx context.Context, n AgentNote) error
	// AgentNotes returns the conversation's notes, the latest first, at
	// most limit of them; ErrNotFound for an unknown conversation.
	AgentNotes(ctx context.Context, conversationID string, limit int) ([]AgentNote, error)
	// MarkRead records that reader has read the conversation up to seq; the
	// stored position never moves backwards.
	MarkRead(ctx context.Context, conversationID, reader string, seq int64) error
	// ReadPositions returns how far each reader of the conversation has
	// read, by reader (ReaderCustomer, "agent:<id>").
	ReadPositions(ctx context.Context, conversationID string) (map[string]int64, error)
	// SetTTR sets an open conversation's time to respond (type, value,
	// resolved seconds, manual expected time) and appends event, the
	// (private) message recording it; ErrNotFound, or a conversation_ended
	// conflict.
	SetTTR(ctx context.Context, id string, ttr TTR, at time.Time, event NewMessage) (Conversation, Message, error)
	// UnreadByReader counts, for each reader with a read position in the
	// conversation, the messages from the other side after it (public,
	// not system events): for ReaderCustomer the organization's, for an
	// agent the customer's. Readers in also are counted from the start
	// when they have no position.
	UnreadByReader(ctx context.Context, conversationID string, also ...string) (map[string]int, error)
	// StopFollowUps records that the customer wants no follow-up emails;
	// FollowUpsStopped reports it. Either is ErrNotFound for an unknown
	// customer.
	StopFollowUps(ctx context.Context, customerID string, at time.Time) error
	FollowUpsStopped(ctx context.Context, customerID string) (bool, error)
	// SavedReplies lists the shared saved replies and agentID's own, by
	// title; SavedReply reads one.
	SavedReplies(ctx context.Context, agentID string) ([]SavedReply, error)
	SavedReply(ctx context.Context, id string) (SavedReply, error)
	// CreateSavedReply stores r, unless its owner (or, for a shared one,
	// the team) has limit replies already (ErrConflict, code
	// "too_many_replies") or one with the same title, whatever its case
	// (ErrConflict, code "title_taken"). UpdateSavedReply stores r's title
	// and body (the same title_taken conflict), DeleteSavedReply deletes
	// one; both ErrNotFound for an unknown id. Each records audit in its
	// transaction.
	CreateSavedReply(ctx context.Context, r SavedReply, limit int, audit ...AuditEntry) error
	UpdateSavedReply(ctx context.Context, r SavedReply, audit ...AuditEntry) error
	DeleteSavedReply(ctx context.Context, id string, audit ...AuditEntry) error
	// Labels lists the labels by name; Label reads one. CreateLabel
	// stores l unless limit labels exist (ErrConflict, code
	// "too_many_labels") or one has its name, whatever its case
	// (ErrConflict, code "name_taken"); UpdateLabel stores l's name and
	// color (the same name_taken conflict); DeleteLabel deletes one and
	// takes it off every conversation. Each records audit in its
	// transaction; an unknown id is ErrNotFound.
	Labels(ctx context.Context) ([]Label, error)
	Label(ctx context.Context, id string) (Label, error)
	CreateLabel(ctx context.Context, l Label, limit int, audit ...AuditEntry) error
	UpdateLabel(ctx context.Context, l Label, audit ...AuditEntry) error
	DeleteLabel(ctx context.Context, id string, audit ...AuditEntry) error
	// SetConversationLabels replaces the conversation's labels with
	// labelIDs (sorted, no repeats) and returns it. A label that does not
	// exist is an ErrConflict (code "unknown_label") and changes nothing.
	SetConversationLabels(ctx context.Context, conversationID string, labelIDs []string, at time.Time) (Conversation, error)
	// ReportFacts reads what reports need of the conversations q selects
	// (created in [q.From, q.To), of its form, skill and assignee when set),
	// the oldest first, at most limit of them.
	ReportFacts(ctx context.Context, q ReportQuery, limit int) ([]ReportFact, error)
	// AuditLog lists the audit log's entries (recorded with the changes
	// they describe), the newest first. An unknown q.Before lists none.
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Outbox
	WebhookStore
	ExternalRefs
}

// NewConversation is what Store.CreateConversation writes.
type NewConversation struct {
	Customer     Customer
	Conversation Conversation
	First        Message
	// ClientRef makes creation idempotent: a retried submission carries the
	// same ClientRef and gets the same conversation back.
	ClientRef string
	// Outbox is added to the outbox with the conversation, only if it is
	// created.
	Outbox []OutboxItem
}

// NewMessage is what Store.AppendMessage writes. The store assigns Seq.
type NewMessage struct {
	Message
	// Preview replaces the conversation's preview when non-empty.
	Preview string
	// Outbox is added to the outbox in the transaction that stores the
	// message (see Outbox.Enqueue), only if the message is stored.
	Outbox []OutboxItem
	// OwnerID, when set, is the customer whose own conversation it must
	// be, not in assistant mode, for the message to be stored: a customer's
	// send checked by the write itself, without reading the conversation
	// first. Another customer's conversation is refused with an error
	// wrapping ErrForbidden, one in assistant mode with ErrAssistantMode.
	OwnerID string
}

// ConversationFilter narrows Store.Conversations.
type ConversationFilter struct {
	CustomerID string
	Queue      Queue
	// AgentID is the viewing agent: QueueMine is theirs, and AgentUnread
	// counts after their read position.
	AgentID string
	FormID  string
	Skill   string
	// Lean leaves out custom attributes and page context, which lists do
	// not show.
	Lean bool
	// Summary reads only what a customer's list shows: the id, customer,
	// form, language, creation, last message and its preview, last seq,
	// whether and when it ended, assistant mode, the assignee's id and
	// name, and the customer's unread count. Every other field is zero
	// (custom attributes empty). It implies Lean.
	Summary bool
	// Label, when set, keeps the conversations with that label.
	Label string
	// Skills, when set, keeps the conversations waiting in one of these
	// skills' queues ("" is the general queue).
	Skills []string
	// Unread keeps the conversations with customer messages after the
	// read position of AgentID.
	Unread bool
	// Terms, when set, keeps the conversations in which each term begins
	// a word of a message (notes included), of the customer's name or
	// email addresses, or of a custom attribute's value (see SearchTerms).
	Terms []string
}

// Assignment is who answers a conversation and the queue it waits in.
type Assignment struct {
	AssigneeID string // "" when nobody is assigned
	Skill      string // "" for the general queue
	// SuggestedID is an agent the conversation waits for to accept it,
	// unassigned; "" for none. Every new assignment replaces it.
	SuggestedID string
	// IfUnassigned applies the assignment only to a conversation that
	// still waits in the queue (nobody assigned or suggested, out of
	// assistant mode); otherwise it is an ErrConflict (code
	// "already_assigned") and changes nothing. Auto-assignment claims
	// conversations so.
	IfUnassigned bool
}

// Reader names a participant whose read position is tracked.
const ReaderCustomer = "customer"

// EventType names a live event.
type EventType string

// The live events the Engine publishes after each change is committed.
const (
	EventMessageCreated      EventType = "message.created"
	EventConversationCreated EventType = "conversation.created"
	EventConversationUpdated EventType = "conversation.updated"
	EventTyping              EventType = "typing"
	EventRead                EventType = "read"
	// EventAgentUpdated is published on AllConversations when an account
	// changes (for example, is disabled) or some of its sessions end:
	// subscribers read the account and its sessions back from the store.
	EventAgentUpdated EventType = "agent.updated"
)

// Event is a change published on a conversation's topic.
type Event struct {
	Type           EventType     `json:"type"`
	ConversationID string        `json:"conversationId"`
	Message        *Message      `json:"message,omitempty"`
	Conversation   *Conversation `json:"conversation,omitempty"`
	Typing         *Typing       `json:"typing,omitempty"`
	Read           *Read         `json:"read,omitempty"`
	Agent          *Agent        `json:"agent,omitempty"`
	// Memo caches what subscribers derive from the event (set by the
	// Engine when it publishes).
	Memo *Memo `json:"-"`
}

// Typing is an ephemeral typing indicator; it is never stored.
type Typing struct {
	Author Author `json:"author"`
	Typing bool   `json:"typing"`
}

// Read is a participant's new read position.
type Read struct {
	Reader string `json:"reader"`
	Seq    int64  `json:"seq"`
}

// Broker carries events from the Engine to subscribers, in this process (Hub)
// or between instances.
type Broker interface {
	Publish(ctx context.Context, ev Event) error
	// Subscribe returns a subscription to one conversation's events, or to
	// every conversation's when conversationID is AllConversations.
	Subscribe(conversationID string) Subscription
	// SubscribeFunc is Subscribe for a subscriber with no goroutine of its
	// own waiting on it: events wait in a queue, and notify is called after
	// each is queued and when the subscription is dropped or the broker
	// closes. notify may be called with the broker's locks held: it must
	// return at once and call nothing of the broker.
	SubscribeFunc(conversationID string, notify func()) QueuedSubscription
}

// AllConversations subscribes to the events of every conversation.
const AllConversations = "*"

// Subscription is a stream of events. Its channel is closed when the
// subscription is closed, or dropped for falling behind (then Dropped is true).
type Subscription interface {
	Events() <-chan Event
	Dropped() bool
	Close()
}

// QueuedSubscription is a stream of events without a channel: they wait in
// a queue that holds memory only while it holds events, so an idle
// subscriber costs neither a goroutine nor a buffer. The same guarantees
// hold as for a Subscription: events in the order published, each once,
// and a subscriber that falls too far behind is dropped, never waited for.
type QueuedSubscription interface {
	// Next removes and returns the oldest waiting event (ok). With none
	// waiting, ok is false and ended says whether the subscription has
	// ended (closed, or dropped: see Dropped), so that none will follow.
	Next() (ev Event, ok, ended bool)
	Dropped() bool
	Close()
}

// rawJSON returns a copy of p, or nil when p is empty.
func rawJSON(p json.RawMessage) json.RawMessage {
	if len(p) == 0 {
		return nil
	}
	return append(json.RawMessage(nil), p...)
}

// ExternalRef names a local record (a customer, conversation or message)
// in another System, such as the Kustomer organization handoff relays to.
type ExternalRef struct {
	System   string
	Kind     string
	LocalID  string
	RemoteID string
	// Version is the remote's time (Unix ms) of the last update applied
	// to the record: later updates carry later times.
	Version   int64
	CreatedAt time.Time
}

// ExternalRefs keeps the mapping between local records and their names in
// other systems.
type ExternalRefs interface {
	// SetExternalRef records r. When the local record is mapped already it
	// returns the stored mapping unchanged; a remote id mapped to another
	// local record is an ErrConflict.
	SetExternalRef(ctx context.Context, r ExternalRef) (ExternalRef, error)
	// ExternalRef returns the mapping of a local record, RemoteRef the one
	// of a remote id; ErrNotFound when there is none.
	ExternalRef(ctx context.Context, system, kind, localID string) (ExternalRef, error)
	RemoteRef(ctx context.Context, system, kind, remoteID string) (ExternalRef, error)
	// AdvanceExternalRef sets the mapping's Version to version if that is
	// later than the stored one, and reports whether it did: an update
	// older than the last one applied is not applied.
	AdvanceExternalRef(ctx context.Context, system, kind, localID string, version int64) (bool, error)
}
