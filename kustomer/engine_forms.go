package kustomer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// FormAuditEntry records an operator changing a setting of a form.
type FormAuditEntry struct {
	ID     string `json:"id"`
	FormID string `json:"formId"`
	// Setting is what changed: FormSettingAssistant or
	// FormSettingAllowedOrigins.
	Setting   string `json:"setting"`
	AgentID   string `json:"agentId"`
	AgentName string `json:"agentName"`
	// From and To are the assistant ids, or the allowed origins joined by
	// single spaces; "" is none.
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// The settings of a form that operators change, as FormAuditEntry.Setting
// names them.
const (
	FormSettingAssistant      = "assistant"
	FormSettingAllowedOrigins = "allowedOrigins"
)

// FormAssistant returns the assistant that greets a form's next hand-off:
// the operator's choice if one was made, else handoff.yaml's assistantId.
func (e *Engine) FormAssistant(ctx context.Context, formID string) (id string, overridden bool, err error) {
	f, ok := e.config.Form(formID)
	if !ok {
		return "", false, fmt.Errorf("form %q: %w", formID, ErrNotFound)
	}
	chosen, err := e.storedAssistants(ctx)
	if err != nil {
		return "", false, err
	}
	if a, ok := chosen[formID]; ok {
		return a, true, nil
	}
	return f.AssistantID, false, nil
}

// FormAssistants returns the operators' choices by form id.
func (e *Engine) FormAssistants(ctx context.Context) (map[string]string, error) {
	chosen, err := e.storedAssistants(ctx)
	return maps.Clone(chosen), err
}

// storedAssistants is the store's FormAssistants, kept for settingsTTL;
// callers do not change the map.
func (e *Engine) storedAssistants(ctx context.Context) (map[string]string, error) {
	return e.formAssistants.get("", func() (map[string]string, error) { return e.store.FormAssistants(ctx) })
}

// SetFormAssistant changes which assistant greets a form ("" for none) from
// the next hand-off on, recording who changed it from what.
func (e *Engine) SetFormAssistant(ctx context.Context, by Agent, formID, assistantID string) error {
	if by.Role != RoleAdmin || by.Disabled {
		return fmt.Errorf("set form assistant: %w", ErrForbidden)
	}
	current, _, err := e.FormAssistant(ctx, formID)
	if err != nil {
		return err
	}
	if assistantID != "" {
		if e.Assistants == nil {
			return &ValidationError{Fields: map[string]string{"assistantId": "no assistants are defined"}}
		}
		if _, _, ok := e.Assistants.Profile(assistantID); !ok {
			return &ValidationError{Fields: map[string]string{"assistantId": fmt.Sprintf("%q is not a defined assistant", assistantID)}}
		}
	}
	if assistantID == current {
		return nil
	}
	entry := FormAuditEntry{ID: NewID(), FormID: formID, Setting: FormSettingAssistant, AgentID: by.ID, AgentName: by.Name, From: current, To: assistantID, At: e.now()}
	defer e.formAssistants.forget()
	if err := e.store.SetFormAssistant(ctx, entry); err != nil {
		return err
	}
	e.log.InfoContext(ctx, "form assistant changed", "form_id", formID, "from", current, "to", assistantID, "agent_id", by.ID)
	return nil
}

// FormOrigins returns the origins allowed to frame a form and its chats: the
// operators' list if one was saved (even an empty one: then nothing may),
// else handoff.yaml's allowedOrigins.
func (e *Engine) FormOrigins(ctx context.Context, formID string) (origins []string, overridden bool, err error) {
	f, ok := e.config.Form(formID)
	if !ok {
		return nil, false, fmt.Errorf("form %q: %w", formID, ErrNotFound)
	}
	stored, err := e.formOrigins.get(formID, func() (storedOrigins, error) {
		list, ok, err := e.store.FormOrigins(ctx, formID)
		return storedOrigins{list, ok}, err
	})
	if err != nil {
		return nil, false, err
	}
	if stored.ok {
		return slices.Clone(stored.list), true, nil
	}
	return slices.Clone(f.AllowedOrigins), false, nil
}

// SetFormOrigins replaces the origins allowed to frame a form, recording
// who changed them from what. Every entry must pass ParseOrigin; they are
// stored normalized, without repeats, in their order. An empty list means
// the form cannot be framed.
func (e *Engine) SetFormOrigins(ctx context.Context, by Agent, formID string, origins []string) error {
	if by.Role != RoleAdmin || by.Disabled {
		return fmt.Errorf("set form origins: %w", ErrForbidden)
	}
	current, _, err := e.FormOrigins(ctx, formID)
	if err != nil {
		return err
	}
	next, err := parseOrigins(origins)
	if err != nil {
		return &ValidationError{Fields: map[string]string{"allowedOrigins": err.Error()}}
	}
	if slices.Equal(next, current) {
		return nil
	}
	return e.storeFormOrigins(ctx, by, formID, current, next)
}

// ResetFormOrigins drops the operators' list of a form's allowed origins,
// so that handoff.yaml's applies again, recording who did it.
func (e *Engine) ResetFormOrigins(ctx context.Context, by Agent, formID string) error {
	if by.Role != RoleAdmin || by.Disabled {
		return fmt.Errorf("reset form origins: %w", ErrForbidden)
	}
	current, overridden, err := e.FormOrigins(ctx, formID)
	if err != nil {
		return err
	}
	if !overridden {
		return nil
	}
	return e.storeFormOrigins(ctx, by, formID, current, nil)
}

// storeFormOrigins stores next as the form's list (nil: back to
// handoff.yaml's) with its audit entry.
func (e *Engine) storeFormOrigins(ctx context.Context, by Agent, formID string, current, next []string) error {
	to := next
	if next == nil {
		f, _ := e.config.Form(formID)
		to = f.AllowedOrigins
	}
	entry := FormAuditEntry{
		ID: NewID(), FormID: formID, Setting: FormSettingAllowedOrigins, AgentID: by.ID, AgentName: by.Name,
		From: strings.Join(current, " "), To: strings.Join(to, " "), At: e.now(),
	}
	defer e.formOrigins.forget()
	if err := e.store.SetFormOrigins(ctx, entry, next); err != nil {
		return err
	}
	e.log.InfoContext(ctx, "form allowed origins changed", "form_id", formID, "from", entry.From, "to", entry.To, "reset", next == nil, "agent_id", by.ID)
	return nil
}

// UseOnce records key as used until expires, and fails with an error
// wrapping ErrAlreadyUsed (an ErrConflict) when it was already used and has
// not expired: for tokens that must work only once.
func (e *Engine) UseOnce(ctx context.Context, key string, expires time.Time) error {
	if key == "" {
		return errors.New("use once: empty key")
	}
	return e.store.UseOnce(ctx, key, expires, e.now())
}

// FormAudit returns the newest changes of forms' settings.
func (e *Engine) FormAudit(ctx context.Context, limit int) ([]FormAuditEntry, error) {
	return e.store.FormAudit(ctx, limit)
}

// AssistantIDs lists the defined assistants.
func (e *Engine) AssistantIDs() []string {
	if lister, ok := e.Assistants.(interface{ IDs() []string }); ok {
		return lister.IDs()
	}
	return nil
}
