package kustomer

import (
	"errors"
	"sort"
	"strings"
)

// Sentinel errors returned (wrapped) by the Engine and every Store. Callers
// test them with errors.Is; the HTTP layer maps them to 404, 403 and 409.
var (
	// ErrNotFound means the conversation, customer or message does not exist.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the actor may not see or change the resource.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict means the request clashes with the resource's state, such
	// as a send to an ended conversation or a reused clientMessageId.
	ErrConflict = errors.New("conflict")
	// ErrAlreadyUsed means a single-use key was presented again before it
	// expired (Store.UseOnce). It is an ErrConflict too.
	ErrAlreadyUsed error = &ConflictError{Code: "already_used", Reason: "this has already been used"}
	// ErrAssistantMode means a message guarded with NewMessage.OwnerID was
	// refused because an assistant answers the conversation: its sender
	// reads the conversation and sends again, the assistant's way.
	ErrAssistantMode = errors.New("an assistant answers the conversation")
)

// ValidationError reports every invalid input field at once. Fields maps a
// field or attribute name (for example "body" or "customAttributes.topicStr")
// to a sentence a person can act on.
type ValidationError struct {
	Fields map[string]string
	// Problems name some fields' problem with a code and its parameters,
	// so that a page can say it in the reader's language; the others are
	// shown by their message.
	Problems map[string]Problem
}

// Problem is a field's problem as a code ("required", "too_long") with
// the numbers its sentence needs ("max", "length") and the words it
// quotes as they are ("name": a file's name).
type Problem struct {
	Code   string
	Params map[string]int
	Words  map[string]string
}

// Error lists the offending fields in a stable order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid input: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(e.Fields[k])
	}
	return b.String()
}

// Add records a problem with field, keeping the first message for a field.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = make(map[string]string)
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// AddProblem records a problem with field as Add does, with its code and
// parameters besides the English msg.
func (e *ValidationError) AddProblem(field, code string, params map[string]int, msg string) {
	if _, ok := e.Fields[field]; ok {
		return
	}
	e.Add(field, msg)
	if e.Problems == nil {
		e.Problems = make(map[string]Problem)
	}
	e.Problems[field] = Problem{Code: code, Params: params}
}

// OrNil returns e when it holds at least one problem, nil otherwise, so that
// a function can collect problems and return the result directly.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// ConflictError is an ErrConflict with a reason a person can read.
type ConflictError struct {
	Code   string
	Reason string
}

func (e *ConflictError) Error() string { return "conflict: " + e.Reason }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ForbiddenError is an ErrForbidden with a code and a reason a person can
// read: the actor may see the conversation but not do this to it.
type ForbiddenError struct {
	Code   string
	Reason string
}

func (e *ForbiddenError) Error() string { return "forbidden: " + e.Reason }

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }
