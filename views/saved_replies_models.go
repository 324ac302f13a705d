package views

// SavedRepliesPage lists the replies an agent may insert (the team's and
// their own) with the form that adds one.
type SavedRepliesPage struct {
	AgentPage
	Shared   []SavedReplyRow
	Personal []SavedReplyRow
	New      SavedReplyForm
	// Placeholders are the {{…}} a body may use.
	Placeholders []string
}

// SavedReplyRow is one reply of the list.
type SavedReplyRow struct {
	ID, Title, Body string
	// EditURL and DeleteURL are set when the agent may change it.
	EditURL, DeleteURL string
}

// SavedReplyForm adds or edits a reply, every error beside its field.
type SavedReplyForm struct {
	Action string
	Title  string
	Body   string
	// CanShare offers "Share with the team" (admins, on a new reply);
	// Shared is its value.
	CanShare bool
	Shared   bool
	Errors   map[string]string // by field: title, body
	Submit   string
}

// SavedReplyEditPage edits one reply.
type SavedReplyEditPage struct {
	AgentPage
	Form         SavedReplyForm
	Shared       bool
	DeleteURL    string
	Placeholders []string
}
