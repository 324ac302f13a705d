package kustomer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Label is a tag admins define and agents put on conversations, to sort
// and find them ("refund", "VIP", "bug"). Customers never see labels.
type Label struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Color     string    `json:"color"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// LabelColors are the colors a label may have, named as pages style them;
// each keeps its name readable in both themes.
var LabelColors = []string{"gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}

// Limits on labels.
const (
	MaxLabels       = 200
	MaxLabelNameLen = 40
)

// LabelInput is what an admin sets on a label.
type LabelInput struct {
	Name  string
	Color string
}

// checkLabel cleans and checks in.
func checkLabel(in *LabelInput) error {
	verr := &ValidationError{}
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		verr.Add("name", "is required")
	case n > MaxLabelNameLen:
		verr.Add("name", fmt.Sprintf("must be at most %d characters (it has %d)", MaxLabelNameLen, n))
	case !utf8.ValidString(in.Name):
		verr.Add("name", "must be text")
	}
	if in.Color == "" {
		in.Color = LabelColors[0]
	}
	if !slices.Contains(LabelColors, in.Color) {
		verr.Add("color", "must be one of "+strings.Join(LabelColors, ", "))
	}
	return verr.OrNil()
}

// requireAdmin refuses anyone but an active admin.
func requireAdmin(by Agent, what string) error {
	if by.Role != RoleAdmin || by.Disabled {
		return fmt.Errorf("%s: %w", what, ErrForbidden)
	}
	return nil
}

// labelNameTaken turns the store's name_taken conflict into a problem with
// the name.
func labelNameTaken(err error) error {
	var cerr *ConflictError
	if errors.As(err, &cerr) && cerr.Code == "name_taken" {
		return &ValidationError{Fields: map[string]string{"name": "a label with this name exists"}}
	}
	return err
}

// Labels lists the labels, by name.
func (e *Engine) Labels(ctx context.Context) ([]Label, error) { return e.store.Labels(ctx) }

// CreateLabel defines a label; admins only.
func (e *Engine) CreateLabel(ctx context.Context, by Agent, in LabelInput) (Label, error) {
	if err := requireAdmin(by, "create label"); err != nil {
		return Label{}, err
	}
	if err := checkLabel(&in); err != nil {
		return Label{}, err
	}
	now := e.now()
	l := Label{ID: NewID(), Name: in.Name, Color: in.Color, CreatedAt: now, UpdatedAt: now}
	audit := e.newAudit(by.Actor(), AuditLabels, l.ID, l.Name, AuditCreated)
	audit.change("color", "", l.Color)
	if err := e.store.CreateLabel(ctx, l, MaxLabels, audit); err != nil {
		return Label{}, labelNameTaken(err)
	}
	return l, nil
}

// UpdateLabel renames or recolors a label; admins only.
func (e *Engine) UpdateLabel(ctx context.Context, by Agent, id string, in LabelInput) (Label, error) {
	if err := requireAdmin(by, "update label"); err != nil {
		return Label{}, err
	}
	l, err := e.Label(ctx, id)
	if err != nil {
		return Label{}, err
	}
	if err := checkLabel(&in); err != nil {
		return Label{}, err
	}
	audit := e.newAudit(by.Actor(), AuditLabels, l.ID, l.Name, AuditUpdated)
	audit.change("name", l.Name, in.Name)
	audit.change("color", l.Color, in.Color)
	if len(audit.Changes) == 0 {
		return l, nil
	}
	l.Name, l.Color, l.UpdatedAt = in.Name, in.Color, e.now()
	if err := e.store.UpdateLabel(ctx, l, audit); err != nil {
		return Label{}, labelNameTaken(err)
	}
	return l, nil
}

// DeleteLabel deletes a label, taking it off every conversation; admins
// only.
func (e *Engine) DeleteLabel(ctx context.Context, by Agent, id string) error {
	if err := requireAdmin(by, "delete label"); err != nil {
		return err
	}
	l, err := e.Label(ctx, id)
	if err != nil {
		return err
	}
	return e.store.DeleteLabel(ctx, l.ID, e.newAudit(by.Actor(), AuditLabels, l.ID, l.Name, AuditDeleted))
}

// Label returns one label.
func (e *Engine) Label(ctx context.Context, id string) (Label, error) {
	if !ValidID(id) {
		return Label{}, fmt.Errorf("label %q: %w", id, ErrNotFound)
	}
	return e.store.Label(ctx, id)
}

// SetConversationLabels replaces the labels of a conversation (open or
// ended) with labelIDs, for an agent or the organization. A label that
// does not exist (deleted meanwhile) is a validation error on "labels".
func (e *Engine) SetConversationLabels(ctx context.Context, actor Actor, conversationID string, labelIDs []string) (Conversation, error) {
	if err := requireOrg(actor); err != nil {
		return Conversation{}, err
	}
	c, err := e.Conversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	ids := slices.Clone(labelIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if slices.Equal(ids, c.Labels) {
		return c, nil
	}
	for _, id := range ids {
		if !ValidID(id) {
			return Conversation{}, &ValidationError{Fields: map[string]string{"labels": fmt.Sprintf("%q is not a label", id)}}
		}
	}
	c, err = e.store.SetConversationLabels(ctx, conversationID, ids, e.now())
	var cerr *ConflictError
	if errors.As(err, &cerr) && cerr.Code == "unknown_label" {
		return Conversation{}, &ValidationError{Fields: map[string]string{"labels": "a label was deleted meanwhile; choose again"}}
	}
	if err != nil {
		return Conversation{}, err
	}
	e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
	return c, nil
}
