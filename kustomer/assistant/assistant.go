// Package assistant is handoff's embedded conversational-assistant engine,
// after Kustomer's conversational assistants: an assistant greets a
// conversation, asks its questions (text, buttons, typed attributes), may
// deflect with articles, checks business hours, and finally transfers the
// conversation to an agent queue or ends it.
//
// The package is pure and deterministic: no I/O, no clock, no randomness.
// Definitions come from handoff.yaml and are checked once by Parse. At run
// time the caller keeps a State per conversation, calls Begin when the
// conversation is created and Reply for every customer input, and applies the
// Result (messages to send, attributes to set, transfer or end) in its own
// transaction.
package assistant

import (
	"github.com/handoff/handoff/kustomer"
)

// StepType is what a step does.
type StepType string

// The step types. Message, condition and hours steps run without waiting;
// text, buttons, attribute and deflection steps are questions that wait for
// the customer; transfer and end finish the assistant.
const (
	StepMessage    StepType = "message"    // says text, goes to next
	StepText       StepType = "text"       // text question; any non-empty answer
	StepButtons    StepType = "buttons"    // button question (quick replies)
	StepAttribute  StepType = "attribute"  // asks for a typed custom attribute
	StepDeflection StepType = "deflection" // offers articles: helped or not
	StepCondition  StepType = "condition"  // branches on an attribute
	StepHours      StepType = "hours"      // branches on the business hours
	StepTransfer   StepType = "transfer"   // hands off to an agent queue
	StepEnd        StepType = "end"        // ends the conversation
)

// Op is the comparison of a condition step.
type Op string

// The condition operators. Set and unset take no value; gt and lt compare
// Num and At attributes only.
const (
	OpSet   Op = "set"
	OpUnset Op = "unset"
	OpEq    Op = "eq"
	OpNe    Op = "ne"
	OpGt    Op = "gt"
	OpLt    Op = "lt"
)

// The payloads of a deflection's two answers.
const (
	PayloadHelped    = "helped"
	PayloadNotHelped = "not_helped"
)

// The input types an attribute question asks the chat page to render.
const (
	InputText     = "text"
	InputNumber   = "number"
	InputEmail    = "email"
	InputURL      = "url"
	InputDatetime = "datetime"
	InputCheckbox = "checkbox"
)

// Assistant is one conversational assistant as defined in handoff.yaml. Use
// only assistants returned by Parse: it checks the definition and prepares
// what Begin and Reply need. A parsed Assistant is never modified, so it is
// safe for concurrent use.
type Assistant struct {
	ID         string `yaml:"id"`
	Name       string `yaml:"name"`
	PublicName string `yaml:"publicName"` // shown to customers as the author of its messages
	AvatarURL  string `yaml:"avatarUrl"`
	// Start is the id of the first step; empty means the first step listed.
	Start    string             `yaml:"start"`
	Schedule *kustomer.Schedule `yaml:"schedule"`
	Steps    []Step             `yaml:"steps"`

	steps map[string]*Step
}

// Step is one interaction of an assistant. Which fields apply depends on
// Type; Parse rejects fields a type does not use. Its texts (Text, the
// options' labels, the deflection's labels and article titles) are one
// string or one per language: the assistant says them in the
// conversation's language, else in the fallback text.
type Step struct {
	ID   string   `yaml:"id"`
	Type StepType `yaml:"type"`
	// Text is what the assistant says (the question, for questions). An
	// attribute question without text asks for the attribute by name.
	Text kustomer.Text `yaml:"text"`
	Next string        `yaml:"next"`

	// Attribute is the custom attribute an attribute question asks for, a
	// text question stores its answer in (Str or Txt), or a condition tests.
	Attribute string `yaml:"attribute"`
	// SkipIfSet skips an attribute or text question whose attribute already
	// has a value.
	SkipIfSet bool `yaml:"skipIfSet"`
	// InputType overrides the input an attribute question renders; only
	// "email" is accepted (on Str attributes), and the answer must then be
	// an email address.
	InputType string `yaml:"inputType"`
	// MaxAttempts, when positive, bounds the bad answers to a question:
	// after that many the assistant goes to Failed instead of asking again.
	MaxAttempts int    `yaml:"maxAttempts"`
	Failed      string `yaml:"failed"`

	Options []ButtonOption `yaml:"options"`

	Articles  []Article `yaml:"articles"`
	Helped    string    `yaml:"helped"`
	NotHelped string    `yaml:"notHelped"`
	// The deflection's answers; by default the built-in "That helped" and
	// "I still need help", in the conversation's language.
	HelpedLabel    kustomer.Text `yaml:"helpedLabel"`
	NotHelpedLabel kustomer.Text `yaml:"notHelpedLabel"`

	Op    Op     `yaml:"op"`
	Value string `yaml:"value"`
	Then  string `yaml:"then"`
	Else  string `yaml:"else"`

	Open   string `yaml:"open"`
	Closed string `yaml:"closed"`

	// Skill is the queue a transfer sends the conversation to ("" is the
	// general queue).
	Skill string `yaml:"skill"`

	attr  kustomer.AttributeDef // Attribute's definition
	value any                   // Value, normalised for Attribute
}

// ButtonOption is one quick reply of a button question.
type ButtonOption struct {
	Label   kustomer.Text `yaml:"label"`
	Payload string        `yaml:"payload"`
	// Next is where the option leads; empty means the step's next.
	Next string `yaml:"next"`
	// Set lists custom attributes to set when the option is chosen, with
	// values written as a customer would type them ("30", "true").
	Set map[string]string `yaml:"set"`

	set kustomer.Attributes // Set, normalised
}

// Article is a knowledge-base article a deflection step offers.
type Article struct {
	ID    string        `yaml:"id"` // default: the URL
	Title kustomer.Text `yaml:"title"`
	URL   string        `yaml:"url"`
}

// Step returns a copy of the step with the given id.
func (a *Assistant) Step(id string) (Step, bool) {
	s, ok := a.steps[id]
	if !ok {
		return Step{}, false
	}
	return *s, true
}

// isQuestion reports whether the step waits for the customer.
func (t StepType) isQuestion() bool {
	switch t {
	case StepText, StepButtons, StepAttribute, StepDeflection:
		return true
	}
	return false
}
