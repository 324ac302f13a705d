package views

import (
	"strings"
	"time"
)

// AgentPage is what every console page carries for the console layout.
type AgentPage struct {
	Title string
	// AgentName is the signed-in agent; empty on the sign-in page.
	AgentName string
	IsAdmin   bool
	// Nav names the active section: "inbox", "replies", "profile",
	// "agents", "forms", "labels", "mail", "webhooks" or "audit".
	Nav string
	// Notice is a one-off message after an action ("Agent saved.").
	Notice string
	// WebhookAlerts are the webhook endpoints handoff disabled, shown at
	// the top of admin pages.
	WebhookAlerts []WebhookAlert
	// Status is the agent's (online, away, offline); StatusReason why
	// handoff set it ("idle", "gone"; "" when the agent chose it).
	// AwayAfterMS is how long the console waits without activity before
	// setting the agent away. Path is the page, to come back to.
	Status       string
	StatusReason string
	AwayAfterMS  string
	Path         string
}

// SignInPage is the console's sign-in form.
type SignInPage struct {
	AgentPage
	Email string
	// Error says why the last attempt failed (wrong password, disabled
	// account, too many attempts).
	Error string
	// Next is where to go after signing in (a local path).
	Next string
}

// QueueTab is one inbox queue.
type QueueTab struct {
	ID     string // unassigned, mine, open, ended
	Label  string
	URL    string
	Active bool
}

// InboxPage is the agent inbox: one queue, filtered, live.
type InboxPage struct {
	AgentPage
	Queue  string
	Queues []QueueTab
	// Filter selects; the first option of each is "All".
	Forms  []OptionView
	Skills []OptionView
	// Labels is empty when no label is defined: no filter is shown.
	Labels []OptionView
	Rows   []InboxRow
	Total  int
	Pager  Pager
	// SocketURL is the live inbox socket; RefreshURL returns InboxList for
	// the current queue and filters, fetched when the socket says something
	// changed.
	SocketURL  string
	RefreshURL string
	Now        time.Time
	// Query is the search typed in the inbox, kept in its box; Searching
	// says the list is its results. SearchError says why the query could
	// not be run.
	Query       string
	Searching   bool
	SearchError string
	// ClearSearchURL is the queue and filters without the search.
	ClearSearchURL string
}

// MatchView is where a search matched a conversation: Label names what
// matched ("Message", "Customer", "Attributes"), Parts are its excerpt,
// the matching words Marked.
type MatchView struct {
	Label string
	Parts []MatchPart
}

// MatchPart is a run of a match's excerpt.
type MatchPart struct {
	Text   string
	Marked bool
}

// MatchParts splits an excerpt whose matching words are between start
// and end markers into runs; markers left unclosed mark to the end.
func MatchParts(text, start, end string) []MatchPart {
	var parts []MatchPart
	for text != "" {
		i := strings.Index(text, start)
		if i < 0 {
			parts = append(parts, MatchPart{Text: text})
			break
		}
		if i > 0 {
			parts = append(parts, MatchPart{Text: text[:i]})
		}
		text = text[i+len(start):]
		j := strings.Index(text, end)
		if j < 0 {
			j = len(text)
		}
		if j > 0 {
			parts = append(parts, MatchPart{Text: text[:j], Marked: true})
		}
		text = strings.TrimPrefix(text[j:], end)
	}
	return parts
}

// InboxRow is one conversation in the inbox.
type InboxRow struct {
	// Match, in search results, is where the search matched.
	Match         *MatchView
	ID            string
	URL           string
	CustomerName  string
	CustomerEmail string
	FormTitle     string
	Preview       string
	SkillName     string
	AssigneeName  string
	CreatedAt     time.Time
	LastMessageAt time.Time
	// Waiting is true while a customer message awaits an agent's answer,
	// since WaitingSince; Overdue once that exceeds the form's TTRTarget.
	Waiting       bool
	WaitingSince  time.Time
	WaitingFor    time.Duration
	TTRTarget     time.Duration
	Overdue       bool
	Unread        int
	Ended         bool
	Rating        int // 0 when not rated
	AssistantMode bool
	Labels        []LabelView
}

// LabelView is a label as a badge: its name and color (one of
// kustomer.LabelColors, styled by .label-<color>).
type LabelView struct {
	Name, Color string
}

// LabelOption is a label to tick on a conversation.
type LabelOption struct {
	ID, Name, Color string
	Selected        bool
}

// AgentConversationPage is one conversation in the console.
type AgentConversationPage struct {
	AgentPage
	Panel    ConversationPanel
	Messages []MessageView
	LastSeq  int64
	// SeenSeq is how far the customer has read: the agents' last message
	// within it says "Seen".
	SeenSeq int64
	// SocketURL is the console socket of this conversation.
	SocketURL string
	// PostURL takes a reply or, with private=true, a note (no-JS path).
	// UploadURL is where the console's script uploads a file.
	UploadURL string
	// RepliesURL lists the saved replies filled in for the conversation,
	// for the composer's "/".
	RepliesURL      string
	PostURL         string
	ClientMessageID string
	Draft           string
	DraftPrivate    bool
	DraftError      string
}

// ConversationPanel is the side panel of a conversation: state, actions,
// customer, attributes, rating. It is also served alone (PanelURL) so the
// page can refresh it live.
type ConversationPanel struct {
	ConversationID string
	PanelURL       string
	FormTitle      string
	CreatedAt      time.Time
	Ended          bool
	AssistantMode  bool
	AssigneeName   string
	// AssignedToMe is true when the viewing agent answers it.
	AssignedToMe    bool
	SkillName       string
	Waiting         bool
	WaitingSince    time.Time
	TTRTarget       time.Duration
	Overdue         bool
	FirstResponseAt *time.Time
	// TTRType is the conversation's time-to-respond type, TTRDue when the
	// answer is due (nil when nobody waits), ManualETTR whether an agent
	// set that time by hand; the form at TTRURL changes them.
	TTRType    string
	TTRDue     *time.Time
	ManualETTR bool
	TTRURL     string

	CustomerName   string
	CustomerEmails []string
	Referrer       string
	UserAgent      string
	Locale         string
	TimeZone       string

	// SuggestedName is the agent a transfer suggested the conversation
	// to, who has not accepted it; SuggestedToMe when that is the viewer,
	// who accepts at AcceptURL.
	SuggestedName string
	SuggestedToMe bool
	AcceptURL     string

	// Action URLs (POST). Transfer takes agentId, skill, or both, and
	// suggest to only suggest the agent.
	JoinURL     string
	UnassignURL string
	TransferURL string
	EndURL      string
	ReopenURL   string
	// TranscriptURL emails the conversation's transcript to the customer.
	TranscriptURL string
	// TransferAgents lists active agents one can transfer to;
	// TransferSkills the defined skills.
	TransferAgents []OptionView
	TransferSkills []OptionView
	// ActionError reports a refused action ("the conversation has ended").
	ActionError string

	// Labels are every label, those on the conversation Selected; the form
	// at LabelsURL replaces them (one "label" value per ticked box).
	// LabelsError says why the last change was refused.
	Labels      []LabelOption
	LabelsURL   string
	LabelsError string

	// Attributes are the conversation's defined custom attributes, editable
	// (POST AttributesURL, one input per attribute named by the attribute).
	AttributesURL string
	Attributes    []AttributeField

	Satisfaction *SatisfactionView

	// The agents' note on the conversation (POST NoteURL, field note):
	// the latest, editable, and the earlier ones below it. NoteDraft and
	// NoteError re-show a refused note.
	NoteURL     string
	Note        *NoteView
	NoteHistory []NoteView
	NoteDraft   string
	NoteError   string
}

// NoteView is one agents' note: what it says, who wrote it, when.
type NoteView struct {
	Text      string
	AgentName string
	CreatedAt time.Time
}

// AttributeField is one editable custom attribute.
type AttributeField struct {
	Name        string // the attribute's name, e.g. topicStr; also the input name
	DisplayName string
	Type        string // Str, Txt, Num, Bool, At, Url
	Value       string // as text; Bool is "true"/"false"/""
	Error       string
}

// AdminAgentsPage lists accounts and adds one.
type AdminAgentsPage struct {
	AgentPage
	Agents []AgentRow
	New    AgentForm
	// Error is a refused action on the list (e.g. disabling the last admin).
	Error string
}

// AgentRow is one account in the admin list.
type AgentRow struct {
	ID       string
	Name     string
	Email    string
	Role     string
	Skills   []string // skill names
	Disabled bool
	// Presence is online, away or offline as the agent is now (offline
	// when no console of theirs is open), Capacity their capacity.
	Presence string
	Capacity int
	// Self is the signed-in admin's own row (cannot disable oneself).
	Self    bool
	EditURL string
	// ToggleURL disables an active account or enables a disabled one (POST).
	ToggleURL string
}

// AgentForm adds or edits an account.
type AgentForm struct {
	Action string
	// Editing is true on the edit page (password optional, email fixed).
	Editing bool
	Name    string
	Email   string
	Role    string // agent or admin
	Skills  []OptionView
	// Capacity is the number typed, as typed.
	Capacity string
	Errors   map[string]string // by field: name, email, password, role, skills, capacity
}

// AdminAgentEditPage edits one account.
type AdminAgentEditPage struct {
	AgentPage
	Form  AgentForm
	Error string
	// SignOutURL ends every session of the account.
	SignOutURL string
}

// ProfilePage is the signed-in agent's own account.
type ProfilePage struct {
	AgentPage
	Email string
	// Name is the display name as last typed, kept after an error.
	Name           string
	NameMaxLen     int
	PasswordMinLen int
	// Errors by field: name, current (password), password (the new one).
	Errors map[string]string
}

// AdminMailPage is the admins' view of outbound email.
type AdminMailPage struct {
	AgentPage
	// DevOutbox is true when emails are written as .eml files (no SMTP).
	DevOutbox bool
	Failed    []MailFailure
	Files     []MailFile
}

// MailFailure is an outbox email that failed: retrying or parked.
type MailFailure struct {
	State, Kind, ConversationID, LastError string
	Attempts                               int
	UpdatedAt                              time.Time
}

// MailFile is one written .eml file.
type MailFile struct {
	Name    string
	ModTime time.Time
}
