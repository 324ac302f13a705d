package kustomer

import (
	"encoding/json"
	"errors"
	"time"
)

// AssistantRunner runs the conversational assistants that greet forms. The
// Engine stores and publishes what a turn produced; the runner only decides
// (package assistant implements it).
type AssistantRunner interface {
	// Profile returns an assistant's public name and avatar; ok is false
	// when no assistant has the id.
	Profile(id string) (name, avatarURL string, ok bool)
	// Begin starts assistant id on a new conversation in language lang (a
	// tag; "" is the fallback) whose first message is firstMessage.
	Begin(id, lang string, attrs Attributes, firstMessage string, now time.Time) (AssistantTurn, error)
	// Reply continues from state with the customer's input. An input the
	// assistant can no longer take (a second click) is ErrStaleAnswer.
	Reply(id string, state json.RawMessage, attrs Attributes, in AssistantInput, now time.Time) (AssistantTurn, error)
}

// ErrStaleAnswer is an answer to a question the assistant no longer waits
// for; the customer's message is kept and the assistant ignores it.
var ErrStaleAnswer = errors.New("stale answer")

// AssistantInput is one customer input to an assistant.
type AssistantInput struct {
	// Lang is the conversation's language: the assistant answers in it.
	Lang    string
	Text    string
	Payload string   // a clicked quick reply's payload
	Step    string   // the question the input answers
	Visited []string // articles of a deflection the customer opened
}

// AssistantTurn is what one Begin or Reply produced.
type AssistantTurn struct {
	// State is stored with the conversation and given back to Reply.
	State json.RawMessage
	Say   []AssistantSay
	// Set holds custom attributes to set (already validated).
	Set Attributes
	// LastDeflection goes with the customer's message (SDK lastDeflection).
	LastDeflection json.RawMessage
	// Transfer ends assistant mode into the queue of *Transfer ("" is the
	// general queue).
	Transfer *string
	// End ends the conversation.
	End bool
}

// AssistantSay is one message the assistant sends; Question, when set, is
// what the chat page needs to render the answer controls (opaque here).
type AssistantSay struct {
	Text     string
	Question json.RawMessage
}

// AssistantApply is one assistant turn as the store applies it, in one
// transaction, if the stored state still equals ExpectState.
type AssistantApply struct {
	ExpectState json.RawMessage // nil: no state stored yet
	State       json.RawMessage
	Messages    []NewMessage
	Set         Attributes
	// Begin, when set, starts assistant Begin on a conversation that has
	// none (the SDK's initAssistantPayload): the turn is its first. A
	// conversation that has an assistant already makes the turn stale.
	Begin string
	// LeaveAssistant ends assistant mode, into the Skill queue.
	LeaveAssistant bool
	Skill          string
	// End ends the conversation (its system message is in Messages).
	End *Author
	At  time.Time
	// Outbox is added to the outbox with the turn, after its messages'.
	Outbox []OutboxItem
}
