package assistant

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// Runner runs parsed assistants for the kustomer Engine.
type Runner struct {
	// Words says the assistants' own sentences in the conversation's
	// language; nil says them in English. Set it before the first run.
	Words Words

	assistants map[string]*Assistant
}

var _ kustomer.AssistantRunner = (*Runner)(nil)

// NewRunner returns a Runner over assistants parsed by Parse.
func NewRunner(assistants map[string]*Assistant) *Runner { return &Runner{assistants: assistants} }

// IDs lists the assistants' ids.
func (r *Runner) IDs() []string {
	ids := make([]string, 0, len(r.assistants))
	for id := range r.assistants {
		ids = append(ids, id)
	}
	return ids
}

// Profile implements kustomer.AssistantRunner.
func (r *Runner) Profile(id string) (string, string, bool) {
	a, ok := r.assistants[id]
	if !ok {
		return "", "", false
	}
	name := a.PublicName
	if name == "" {
		name = a.Name
	}
	return name, a.AvatarURL, true
}

// Begin implements kustomer.AssistantRunner.
func (r *Runner) Begin(id, lang string, attrs kustomer.Attributes, firstMessage string, now time.Time) (kustomer.AssistantTurn, error) {
	a, ok := r.assistants[id]
	if !ok {
		return kustomer.AssistantTurn{}, fmt.Errorf("assistant %q is not defined", id)
	}
	return turn(a.Begin(Locale{Lang: lang, Words: r.Words}, attrs, firstMessage, now))
}

// Reply implements kustomer.AssistantRunner.
func (r *Runner) Reply(id string, state json.RawMessage, attrs kustomer.Attributes, in kustomer.AssistantInput, now time.Time) (kustomer.AssistantTurn, error) {
	a, ok := r.assistants[id]
	if !ok {
		return kustomer.AssistantTurn{}, fmt.Errorf("assistant %q is not defined", id)
	}
	var st State
	if err := json.Unmarshal(state, &st); err != nil {
		return kustomer.AssistantTurn{}, fmt.Errorf("assistant %q: stored state: %w", id, err)
	}
	res, err := a.Reply(Locale{Lang: in.Lang, Words: r.Words}, st, attrs, Input{Text: in.Text, Payload: in.Payload, Step: in.Step, Visited: in.Visited}, now)
	if errors.Is(err, ErrStale) {
		return kustomer.AssistantTurn{}, kustomer.ErrStaleAnswer
	}
	if err != nil {
		return kustomer.AssistantTurn{}, err
	}
	return turn(res)
}

// turn converts a Result for the Engine.
func turn(res Result) (kustomer.AssistantTurn, error) {
	state, err := json.Marshal(res.State)
	if err != nil {
		return kustomer.AssistantTurn{}, err
	}
	t := kustomer.AssistantTurn{State: state, Set: res.Set, End: res.End}
	for _, s := range res.Say {
		say := kustomer.AssistantSay{Text: s.Text}
		if s.Question {
			if say.Question, err = json.Marshal(s); err != nil {
				return kustomer.AssistantTurn{}, err
			}
		}
		t.Say = append(t.Say, say)
	}
	if res.LastDeflection != nil {
		if t.LastDeflection, err = json.Marshal(res.LastDeflection); err != nil {
			return kustomer.AssistantTurn{}, err
		}
	}
	if res.Transfer != nil {
		skill := res.Transfer.Skill
		t.Transfer = &skill
	}
	return t, nil
}

// Load reads the assistants of a handoff.yaml document, checks them against
// the configuration's attributes and skills, and checks that every form's
// assistantId names one of them. Every problem is reported.
func Load(doc []byte, cfg *kustomer.Config) (*Runner, error) {
	list, err := Decode(doc)
	if err != nil {
		return nil, err
	}
	parsed, err := Parse(list, cfg.ConversationAttributes(), func(id string) bool { _, ok := cfg.Skill(id); return ok })
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, f := range cfg.Forms {
		if f.AssistantID != "" {
			if _, ok := parsed[f.AssistantID]; !ok {
				problems = append(problems, fmt.Sprintf("form %q: assistantId %q is not a defined assistant", f.ID, f.AssistantID))
			}
		}
	}
	if len(problems) > 0 {
		return nil, &ParseError{Problems: problems}
	}
	return NewRunner(parsed), nil
}
