package kustomer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuditArea names what an admin change was made to.
type AuditArea string

// The areas of the audit log.
const (
	AuditAgents       AuditArea = "agents"
	AuditForms        AuditArea = "forms"
	AuditWebhooks     AuditArea = "webhooks"
	AuditSavedReplies AuditArea = "saved_replies"
	AuditLabels       AuditArea = "labels"
)

// AuditAreas lists the areas in the order pages offer them.
var AuditAreas = []AuditArea{AuditAgents, AuditForms, AuditWebhooks, AuditSavedReplies, AuditLabels}

// Valid reports whether a is a known area.
func (a AuditArea) Valid() bool { return slices.Contains(AuditAreas, a) }

// The actions the audit log records. Forms' entries name the setting that
// changed (FormSettingAssistant, FormSettingAllowedOrigins).
const (
	AuditCreated       = "created"
	AuditUpdated       = "updated"
	AuditDeleted       = "deleted"
	AuditSignedOut     = "signed_out"
	AuditSecretRotated = "secret_rotated"
)

// AuditEntry records one change to how the organization works (accounts,
// forms, webhooks, saved replies, labels): who made it, when, and what
// changed. Secrets and password hashes are never in it: a new password or
// secret is recorded as a change with no values.
type AuditEntry struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	ActorID   string    `json:"actorId"`
	ActorName string    `json:"actorName"`
	Area      AuditArea `json:"area"`
	// TargetID and TargetName are what changed (an account, a form…), its
	// name as it was when the change was made.
	TargetID   string        `json:"targetId"`
	TargetName string        `json:"targetName"`
	Action     string        `json:"action"`
	Changes    []AuditChange `json:"changes,omitempty"`
}

// AuditChange is one field's change; From or To is "" for none.
type AuditChange struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// AuditQuery selects entries of the audit log, the newest first.
type AuditQuery struct {
	Area AuditArea // "" for every area
	// Before, an entry's ID, lists the entries older than it.
	Before string
	Limit  int
}

// Limits on reading the audit log.
const (
	AuditPageSize    = 50
	MaxAuditPageSize = 200
)

// newAudit starts an entry of by's change to target.
func (e *Engine) newAudit(by Actor, area AuditArea, targetID, targetName, action string) AuditEntry {
	name := by.Name
	if name == "" && by.Type == AuthorSystem {
		name = "handoff"
	}
	return AuditEntry{ID: NewID(), At: e.now(), ActorID: by.ID, ActorName: name, Area: area, TargetID: targetID, TargetName: targetName, Action: action}
}

// change adds field's change to the entry when from and to differ.
func (a *AuditEntry) change(field, from, to string) {
	if from != to {
		a.Changes = append(a.Changes, AuditChange{Field: field, From: from, To: to})
	}
}

// changed adds field's change, without its values (a password, a secret).
func (a *AuditEntry) changed(field string) {
	a.Changes = append(a.Changes, AuditChange{Field: field})
}

// ifChanged returns the entry to record: none when no field changed.
func (a AuditEntry) ifChanged() []AuditEntry {
	if len(a.Changes) == 0 {
		return nil
	}
	return []AuditEntry{a}
}

// AuditLog returns entries of the audit log, the newest first; only admins
// read it.
func (e *Engine) AuditLog(ctx context.Context, by Agent, q AuditQuery) ([]AuditEntry, error) {
	if by.Role != RoleAdmin || by.Disabled {
		return nil, fmt.Errorf("audit log: %w", ErrForbidden)
	}
	if q.Area != "" && !q.Area.Valid() {
		return nil, &ValidationError{Fields: map[string]string{"area": fmt.Sprintf("must be one of %s", joinAreas())}}
	}
	if q.Before != "" && !ValidID(q.Before) {
		return nil, &ValidationError{Fields: map[string]string{"before": "is not an entry of the log"}}
	}
	if q.Limit <= 0 {
		q.Limit = AuditPageSize
	}
	q.Limit = min(q.Limit, MaxAuditPageSize)
	return e.store.AuditLog(ctx, q)
}

func joinAreas() string {
	s := make([]string, len(AuditAreas))
	for i, a := range AuditAreas {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
