package views

import "time"

// AdminFormsPage lists every form with its fields, assistant and allowed
// origins, and lets an admin change the assistant and the origins.
type AdminFormsPage struct {
	AgentPage
	Forms []AdminForm
	// Error is a refused change of an assistant (e.g. an unknown one);
	// refused origins are shown on their form (AdminForm.OriginsError).
	Error string
	Audit []AuditEntry
}

// AdminForm is one form as the admin page shows it.
type AdminForm struct {
	ID     string
	Title  string
	URL    string // the public form
	Fields []AdminField
	// AllowedOrigins are the origins that may embed the form now;
	// OriginsOverridden is true when an operator set them here (else they
	// are handoff.yaml's, DefaultOrigins).
	AllowedOrigins    []string
	OriginsOverridden bool
	DefaultOrigins    []string
	// OriginsAction is where the origins form posts (field origins, one
	// origin per line; reset=1 goes back to handoff.yaml's list).
	OriginsAction string
	// OriginsText is the textarea's content: the list in effect, or the
	// text a refused change had; OriginsError says why it was refused.
	OriginsText  string
	OriginsError string
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

// AuditEntry is one recorded change of a form's setting.
type AuditEntry struct {
	At     time.Time
	Who    string
	FormID string
	// Setting is "assistant" or "allowedOrigins".
	Setting string
	From    string // "" shown as "none"
	To      string
}
