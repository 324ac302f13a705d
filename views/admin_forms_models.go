package views

import "time"

// AdminFormsPage lists every form with its fields and assistant, and lets
// an admin change the assistant.
type AdminFormsPage struct {
	AgentPage
	Forms []AdminForm
	// Error is a refused change (e.g. an unknown assistant).
	Error string
	Audit []AuditEntry
}

// AdminForm is one form as the admin page shows it.
type AdminForm struct {
	ID             string
	Title          string
	URL            string // the public form
	Fields         []AdminField
	AllowedOrigins []string
	// AssistantID is the assistant in effect ("" for none); DefaultID the
	// one handoff.yaml names; Overridden is true when an operator chose.
	AssistantID string
	DefaultID   string
	Overridden  bool
	// AllowOverride says whether API clients may pick the assistant per
	// conversation.
	AllowOverride bool
	// Assistants are the choices of the select: "" (none) first.
	Assistants []OptionView
	// Action is where the assistant form posts (field assistantId).
	Action string
}

// AdminField is one field of a form and where its value goes.
type AdminField struct {
	Name     string
	Label    string
	Type     string
	Required bool
	// Maps is "message", "customer name", "customer email" or the
	// attribute's name and type, e.g. "topicStr (Str)".
	Maps string
}

// AuditEntry is one recorded change of a form's assistant.
type AuditEntry struct {
	At     time.Time
	Who    string
	FormID string
	From   string // "" shown as "none"
	To     string
}
