package views

import "time"

// AdminAuditPage is the audit log: every change admins made, the newest
// first, a page at a time.
type AdminAuditPage struct {
	AgentPage
	Areas   []AuditAreaOption
	Area    string // the area shown, "" for all
	Entries []AuditRow
	// OlderURL lists the entries after the last one shown; "" when there
	// are none.
	OlderURL string
	// NewestURL goes back to the first page; "" on it.
	NewestURL string
}

// AuditAreaOption is one choice of the area filter.
type AuditAreaOption struct {
	Value, Label string
	Selected     bool
}

// AuditRow is one entry of the log.
type AuditRow struct {
	At      time.Time
	Actor   string
	Area    string // as a label: "Agents", "Forms"…
	Target  string
	Action  string // in words: "created", "signed out everywhere"…
	Changes []AuditChangeRow
}

// AuditChangeRow is one field's change. A change recorded without values
// (a password, a secret) has both empty and says "changed".
type AuditChangeRow struct {
	Field, From, To string
}
