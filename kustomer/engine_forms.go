package kustomer

import (
	"context"
	"fmt"
	"time"
)

// FormAuditEntry records an operator changing a form's assistant.
type FormAuditEntry struct {
	ID        string    `json:"id"`
	FormID    string    `json:"formId"`
	AgentID   string    `json:"agentId"`
	AgentName string    `json:"agentName"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	At        time.Time `json:"at"`
}

// FormAssistant returns the assistant that greets a form's next hand-off:
// the operator's choice if one was made, else handoff.yaml's assistantId.
func (e *Engine) FormAssistant(ctx context.Context, formID string) (id string, overridden bool, err error) {
	f, ok := e.config.Form(formID)
	if !ok {
		return "", false, fmt.Errorf("form %q: %w", formID, ErrNotFound)
	}
	chosen, err := e.store.FormAssistants(ctx)
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
	return e.store.FormAssistants(ctx)
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
	entry := FormAuditEntry{ID: NewID(), FormID: formID, AgentID: by.ID, AgentName: by.Name, From: current, To: assistantID, At: e.now()}
	if err := e.store.SetFormAssistant(ctx, entry); err != nil {
		return err
	}
	e.log.Info("form assistant changed", "form_id", formID, "from", current, "to", assistantID, "agent_id", by.ID)
	return nil
}

// FormAudit returns the newest changes of forms' assistants.
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
