package assistant

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// ErrStale is returned by Reply for an input the assistant can no longer
// take: the assistant has finished, or the input answers a step that is no
// longer the current one (a second click on the same button). The caller
// keeps the customer's message, if any, and leaves the state as it is.
var ErrStale = errors.New("assistant: stale input")

// maxSteps bounds the steps one Begin or Reply runs without waiting for the
// customer. Parse rejects loops that could reach it; the bound is a defence.
const maxSteps = 50

// Outcome is how an assistant finished.
type Outcome string

// The outcomes.
const (
	OutcomeNone        Outcome = ""            // still running
	OutcomeTransferred Outcome = "transferred" // handed to an agent queue (State.Skill)
	OutcomeEnded       Outcome = "ended"       // ended the conversation
	OutcomeHelped      Outcome = "helped"      // ended after an article helped
)

// State is where a conversation stands in its assistant. The caller stores it
// with the conversation (it is JSON) and passes it back to Reply; it holds
// everything needed to continue after a restart.
type State struct {
	// Step is the question waiting for an answer, or the step the
	// assistant finished on.
	Step string `json:"step"`
	// Attempts counts the bad answers to the current question.
	Attempts int `json:"attempts,omitempty"`
	// Done is true once the assistant transferred or ended.
	Done    bool    `json:"done,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`
	// Skill is the queue of a transfer ("" is the general queue).
	Skill string `json:"skill,omitempty"`
	// Helped records that the customer said an article helped.
	Helped bool `json:"helped,omitempty"`
	// Turn counts the inputs applied. It changes with every Reply, so a
	// caller can store a new state only if the stored one is unchanged
	// (compare-and-swap) and retry or drop the input otherwise.
	Turn int `json:"turn,omitempty"`
}

// Input is one customer input to the assistant.
type Input struct {
	// Text is what the customer typed (or a clicked button's label).
	Text string
	// Payload is a clicked button's payload; for a deflection PayloadHelped
	// or PayloadNotHelped.
	Payload string
	// Step is the step the input answers, as rendered with the question
	// (Say.Step). When set and not the current step, Reply returns ErrStale.
	// Clicks should always carry it; typed text may leave it empty.
	Step string
	// Visited lists the ids of the deflection's articles the customer opened.
	Visited []string
}

// Result is what one Begin or Reply produced, for the caller to apply in one
// transaction: store State, send Say as assistant messages, set Set on the
// conversation, attach LastDeflection to the customer's message, and then
// transfer or end.
type Result struct {
	State State
	// Say holds the messages the assistant sends, in order.
	Say []Say
	// Set holds the custom attributes to set, normalised; nil when none.
	Set kustomer.Attributes
	// LastDeflection describes the articles the customer just answered a
	// deflection about, as the SDK's sendMessage lastDeflection.
	LastDeflection *Deflection
	// Transfer, when set, ends assistant mode and puts the conversation in
	// the skill's queue.
	Transfer *Transfer
	// End is true when the assistant ended the conversation.
	End bool
}

// Say is one message the assistant sends. A question carries what the chat
// page needs to render its answer controls.
type Say struct {
	// Step is the step that said it; a rendered answer sends it back as
	// Input.Step.
	Step string `json:"step,omitempty"`
	Text string `json:"text"`
	// Buttons are quick replies (button questions and deflections).
	Buttons []Button `json:"buttons,omitempty"`
	// Articles are a deflection's articles.
	Articles []ArticleLink `json:"articles,omitempty"`
	// Attribute is the custom attribute a question fills.
	Attribute string `json:"attribute,omitempty"`
	// InputType is the input an attribute question asks for: text, number,
	// email, url, datetime or checkbox.
	InputType string `json:"inputType,omitempty"`
	// Question is true when the message asks something and waits.
	Question bool `json:"question,omitempty"`
}

// Button is a quick reply: clicking it sends Label as text with Payload.
type Button struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// ArticleLink is an article as a deflection offers it, titled in the
// conversation's language.
type ArticleLink struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Deflection is the SDK's lastDeflection: the articles a deflection offered
// and which of them the customer opened.
type Deflection struct {
	Articles []DeflectionArticle `json:"articles"`
}

// DeflectionArticle is one article of a Deflection.
// Its fields are the SDK's: Version is the article's version (handoff's
// articles have one, 1), Lang the language its title was shown in.
type DeflectionArticle struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Visited bool   `json:"visited"`
	Lang    string `json:"lang,omitempty"`
	Title   string `json:"title"`
	URL     string `json:"url"`
}

// Transfer hands the conversation to an agent queue.
type Transfer struct {
	// Skill is the queue; "" is the general queue.
	Skill string `json:"skill,omitempty"`
}

// Locale is the language a run speaks: the conversation's language tag
// ("es", "es-MX"; "" for the fallback texts) and the translator of the
// assistant's own sentences. The zero Locale speaks the fallback texts and
// English.
type Locale struct {
	Lang  string
	Words Words
}

// Begin starts the assistant for a new conversation speaking loc, whose
// custom attributes are attrs and whose first message (the form's message)
// is firstMessage. It runs from Start until a question waits for the
// customer or the assistant finishes. As in Kustomer, the first message
// answers the first question asked, unless that question is a button
// question or a deflection: the customer must still click. A question
// answered by the first message is not said; a bad answer is re-asked with
// the reason.
func (a *Assistant) Begin(loc Locale, attrs kustomer.Attributes, firstMessage string, now time.Time) Result {
	r := newRun(a, loc, attrs, now, State{})
	r.from(a.Start, &firstMessage)
	return r.result()
}

// Reply applies one customer input to a conversation speaking loc, whose
// stored state is st and whose custom attributes are attrs, and runs on
// until the next question or the end. A bad answer re-asks the question
// with the reason. It returns ErrStale (and st unchanged) for an input the
// assistant can no longer take. A state whose step no longer exists (the
// definition changed) hands the conversation to the general queue.
func (a *Assistant) Reply(loc Locale, st State, attrs kustomer.Attributes, in Input, now time.Time) (Result, error) {
	if st.Done || (in.Step != "" && in.Step != st.Step) {
		return Result{State: st}, ErrStale
	}
	r := newRun(a, loc, attrs, now, st)
	r.st.Turn++
	s, ok := a.steps[st.Step]
	switch {
	case !ok:
		r.giveUp(st.Step)
	case !s.Type.isQuestion():
		r.from(s.ID, nil)
	default:
		if next, wait := r.take(s, in, st.Attempts); !wait {
			r.from(next, nil)
		}
	}
	return r.result(), nil
}

// Pending returns the question waiting for an answer in state st, as said
// in loc, for a page that renders the answer controls; false when nothing
// waits.
func (a *Assistant) Pending(loc Locale, st State) (Say, bool) {
	if st.Done {
		return Say{}, false
	}
	s, ok := a.steps[st.Step]
	if !ok || !s.Type.isQuestion() {
		return Say{}, false
	}
	r := newRun(a, loc, nil, time.Time{}, st)
	return r.question(s), true
}

// run is one Begin or Reply in progress.
type run struct {
	a     *Assistant
	loc   Locale
	now   time.Time
	attrs kustomer.Attributes // the conversation's attributes with set applied
	set   kustomer.Attributes
	st    State // Helped and Turn carry over; the rest is decided by the run
	res   Result
}

func newRun(a *Assistant, loc Locale, attrs kustomer.Attributes, now time.Time, st State) *run {
	return &run{a: a, loc: loc, now: now, attrs: maps.Clone(attrs), st: st}
}

func (r *run) result() Result {
	if len(r.set) > 0 {
		r.res.Set = r.set
	}
	return r.res
}

func (r *run) say(s Say) { r.res.Say = append(r.res.Say, s) }

// setAttr records an attribute value, visible to the steps that follow.
func (r *run) setAttr(name string, v any) {
	if r.attrs == nil {
		r.attrs = kustomer.Attributes{}
	}
	if r.set == nil {
		r.set = kustomer.Attributes{}
	}
	r.attrs[name] = v
	r.set[name] = v
}

// from runs steps starting at id until a question waits or the assistant
// finishes. first, when not nil, is the form's message still to answer the
// first text or attribute question.
func (r *run) from(id string, first *string) {
	for range maxSteps {
		s, ok := r.a.steps[id]
		if !ok {
			r.giveUp(id)
			return
		}
		switch s.Type {
		case StepMessage:
			r.say(Say{Step: s.ID, Text: r.text(s.Text)})
			id = s.Next
		case StepCondition:
			if r.holds(s) {
				id = s.Then
			} else {
				id = s.Else
			}
		case StepHours:
			if r.a.Schedule.Open(r.now) {
				id = s.Open
			} else {
				id = s.Closed
			}
		case StepTransfer:
			if s.Text.String() != "" {
				r.say(Say{Step: s.ID, Text: r.text(s.Text)})
			}
			r.finish(s.ID, OutcomeTransferred, s.Skill)
			r.res.Transfer = &Transfer{Skill: s.Skill}
			return
		case StepEnd:
			if s.Text.String() != "" {
				r.say(Say{Step: s.ID, Text: r.text(s.Text)})
			}
			outcome := OutcomeEnded
			if r.st.Helped {
				outcome = OutcomeHelped
			}
			r.finish(s.ID, outcome, "")
			r.res.End = true
			return
		case StepText, StepAttribute:
			if s.SkipIfSet && isSet(r.attrs[s.Attribute]) {
				id = s.Next
				continue
			}
			if first != nil && strings.TrimSpace(*first) != "" {
				in := Input{Text: *first}
				first = nil
				next, wait := r.take(s, in, 0)
				if wait {
					return
				}
				id = next
				continue
			}
			r.ask(s, 0)
			return
		case StepButtons, StepDeflection:
			r.ask(s, 0)
			return
		default:
			r.giveUp(id)
			return
		}
	}
	r.giveUp(id)
}

// giveUp hands the conversation to the general queue when the assistant
// cannot go on (a step that does not exist, or too many automatic steps).
func (r *run) giveUp(id string) {
	r.finish(id, OutcomeTransferred, "")
	r.res.Transfer = &Transfer{}
}

func (r *run) finish(id string, o Outcome, skill string) {
	r.res.State = State{Step: id, Done: true, Outcome: o, Skill: skill, Helped: r.st.Helped, Turn: r.st.Turn}
}

// ask says question s and waits for its answer.
func (r *run) ask(s *Step, attempts int) {
	r.say(r.question(s))
	r.res.State = State{Step: s.ID, Attempts: attempts, Helped: r.st.Helped, Turn: r.st.Turn}
}

// text is t in the conversation's language.
func (r *run) text(t kustomer.Text) string { return t.In(r.loc.Lang) }

// textLang is the language text says t in: the conversation's, when t is
// written in it; else "" (the fallback, whatever the operator wrote it in).
func (r *run) textLang(t kustomer.Text) string {
	if r.loc.Lang != "" && t.Has(r.loc.Lang) {
		return r.loc.Lang
	}
	return ""
}

// question is the message that asks s.
func (r *run) question(s *Step) Say {
	q := Say{Step: s.ID, Text: r.text(s.Text), Question: true}
	if q.Text == "" && s.Type == StepAttribute {
		q.Text = r.defaultQuestion(s.attr)
	}
	switch s.Type {
	case StepText:
		q.Attribute = s.Attribute
	case StepAttribute:
		q.Attribute = s.Attribute
		q.InputType = inputType(s)
	case StepButtons:
		for _, o := range s.Options {
			q.Buttons = append(q.Buttons, Button{Label: r.text(o.Label), Payload: o.Payload})
		}
	case StepDeflection:
		for _, ar := range s.Articles {
			q.Articles = append(q.Articles, ArticleLink{ID: ar.ID, Title: r.text(ar.Title), URL: ar.URL})
		}
		helped, notHelped := r.answers(s)
		q.Buttons = []Button{
			{Label: helped.in, Payload: PayloadHelped},
			{Label: notHelped.in, Payload: PayloadNotHelped},
		}
	}
	return q
}

func inputType(s *Step) string {
	if s.InputType != "" {
		return s.InputType
	}
	switch s.attr.Type {
	case kustomer.TypeNum:
		return InputNumber
	case kustomer.TypeURL:
		return InputURL
	case kustomer.TypeAt:
		return InputDatetime
	case kustomer.TypeBool:
		return InputCheckbox
	}
	return InputText
}

// take applies input in to question s, which has had attempts bad answers.
// It returns the step to go on from, or wait=true when the question has been
// asked again.
func (r *run) take(s *Step, in Input, attempts int) (next string, wait bool) {
	next, problem := r.answer(s, in)
	if problem == "" {
		return next, false
	}
	attempts++
	if s.MaxAttempts > 0 && attempts >= s.MaxAttempts {
		return s.Failed, false
	}
	r.say(Say{Step: s.ID, Text: problem})
	r.ask(s, attempts)
	return "", true
}

// label is a button's label as the conversation's language says it and as
// the fallback does; a typed answer may be either.
type label struct{ in, fallback string }

// typed reports which of labels text is: a label in the conversation's
// language first, then a fallback one; -1 for none.
func typed(text string, labels []label) int {
	if strings.TrimSpace(text) == "" {
		return -1
	}
	for i, l := range labels {
		if sameLabel(text, l.in) {
			return i
		}
	}
	for i, l := range labels {
		if sameLabel(text, l.fallback) {
			return i
		}
	}
	return -1
}

// answers are the labels of a deflection's two answers; a step that does
// not name them has the built-in ones, in English as the fallback.
func (r *run) answers(s *Step) (helped, notHelped label) {
	resolve := func(t kustomer.Text, id string) label {
		if t.String() == "" {
			return label{r.word(id, nil), englishWord(id, nil)}
		}
		return label{r.text(t), t.String()}
	}
	return resolve(s.HelpedLabel, "helped"), resolve(s.NotHelpedLabel, "not_helped")
}

// answer checks in against question s. On a good answer it records its
// effects and returns the next step; otherwise it returns the problem, a
// sentence for the customer.
func (r *run) answer(s *Step, in Input) (next, problem string) {
	switch s.Type {
	case StepText:
		if strings.TrimSpace(in.Text) == "" {
			return "", r.word("please_answer", nil)
		}
		if s.Attribute != "" {
			v, err := s.attr.ParseString(in.Text)
			if err != nil {
				return "", r.reason(s.attr, in.Text)
			}
			if v == nil {
				return "", r.word("please_answer", nil)
			}
			r.setAttr(s.Attribute, v)
		}
		return s.Next, ""

	case StepAttribute:
		raw := in.Text
		if strings.TrimSpace(raw) == "" {
			raw = in.Payload
		}
		if strings.TrimSpace(raw) == "" {
			return "", r.word("please_answer", nil)
		}
		if s.InputType == InputEmail && !isEmail(strings.TrimSpace(raw)) {
			return "", r.word("please_email", nil)
		}
		v, err := s.attr.ParseString(raw)
		if err != nil && s.attr.Type == kustomer.TypeAt {
			v, err = r.parseLocalTime(s.attr, raw, err)
		}
		if err != nil {
			return "", r.reason(s.attr, raw)
		}
		if v == nil {
			return "", r.word("please_answer", nil)
		}
		r.setAttr(s.Attribute, v)
		return s.Next, ""

	case StepButtons:
		o, ok := r.chosen(s.Options, in)
		if !ok {
			return "", r.word("please_choose", nil)
		}
		for _, name := range slices.Sorted(maps.Keys(o.set)) {
			r.setAttr(name, o.set[name])
		}
		if o.Next != "" {
			return o.Next, ""
		}
		return s.Next, ""

	case StepDeflection:
		h, n := r.answers(s)
		var helped bool
		switch {
		case in.Payload == PayloadHelped:
			helped = true
		case in.Payload == PayloadNotHelped:
		case strings.TrimSpace(in.Text) != "":
			// Typing instead of clicking means the articles did not do,
			// unless the text is the helped label.
			helped = typed(in.Text, []label{h, n}) == 0
		default:
			return "", r.word("please_choose", nil)
		}
		d := &Deflection{Articles: make([]DeflectionArticle, len(s.Articles))}
		for i, ar := range s.Articles {
			d.Articles[i] = DeflectionArticle{ID: ar.ID, Version: 1, Lang: r.textLang(ar.Title), Title: r.text(ar.Title), URL: ar.URL,
				Visited: slices.Contains(in.Visited, ar.ID)}
		}
		r.res.LastDeflection = d
		if helped {
			r.st.Helped = true
			return s.Helped, ""
		}
		return s.NotHelped, ""
	}
	return "", r.word("please_answer", nil)
}

// chosen finds the option in selects: its payload, or its label typed in
// the conversation's language or the fallback.
func (r *run) chosen(opts []ButtonOption, in Input) (ButtonOption, bool) {
	if in.Payload != "" {
		for _, o := range opts {
			if o.Payload == in.Payload {
				return o, true
			}
		}
	}
	labels := make([]label, len(opts))
	for i, o := range opts {
		labels[i] = label{r.text(o.Label), o.Label.String()}
	}
	if i := typed(in.Text, labels); i >= 0 {
		return opts[i], true
	}
	return ButtonOption{}, false
}

// parseLocalTime accepts the date-time forms a browser's datetime input and a
// person send ("2026-01-31T09:30", "2026-01-31 09:30", "2026-01-31"), read in
// the assistant's time zone (UTC without a schedule).
func (r *run) parseLocalTime(def kustomer.AttributeDef, raw string, err error) (any, error) {
	loc := time.UTC
	if r.a.Schedule != nil {
		loc = r.a.Schedule.Location()
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, perr := time.ParseInLocation(layout, strings.TrimSpace(raw), loc); perr == nil {
			return def.ParseString(t.Format(time.RFC3339))
		}
	}
	return nil, err
}

// holds evaluates a condition step against the attributes.
func (r *run) holds(s *Step) bool {
	v := r.attrs[s.Attribute]
	switch s.Op {
	case OpSet:
		return isSet(v)
	case OpUnset:
		return !isSet(v)
	}
	if !isSet(v) {
		return s.Op == OpNe
	}
	c, ok := compare(s.attr.Type, v, s.value)
	if !ok {
		return s.Op == OpNe
	}
	switch s.Op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpGt:
		return c > 0
	case OpLt:
		return c < 0
	}
	return false
}

// isSet reports whether an attribute value counts as present.
func isSet(v any) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s) != ""
	}
	return true
}

// compare orders an attribute value against a condition's normalised value;
// ok is false when the value does not have the attribute's type.
func compare(t kustomer.AttributeType, v, want any) (int, bool) {
	switch t {
	case kustomer.TypeNum:
		x, ok1 := toFloat(v)
		y, ok2 := toFloat(want)
		return cmp.Compare(x, y), ok1 && ok2
	case kustomer.TypeBool:
		x, ok1 := v.(bool)
		y, ok2 := want.(bool)
		if x == y {
			return 0, ok1 && ok2
		}
		return 1, ok1 && ok2
	case kustomer.TypeAt:
		x, ok1 := v.(string)
		y, ok2 := want.(string)
		if !ok1 || !ok2 {
			return 0, false
		}
		tx, err1 := time.Parse(time.RFC3339Nano, x)
		ty, err2 := time.Parse(time.RFC3339Nano, y)
		return tx.Compare(ty), err1 == nil && err2 == nil
	default:
		x, ok1 := v.(string)
		y, ok2 := want.(string)
		return strings.Compare(x, y), ok1 && ok2
	}
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
