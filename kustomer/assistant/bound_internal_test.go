package assistant

import (
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// TestAutomaticStepsAreBounded runs a loop Parse would reject: the run stops
// after maxSteps and hands the conversation to the general queue.
func TestAutomaticStepsAreBounded(t *testing.T) {
	a := &Assistant{ID: "loop", Start: "a", steps: map[string]*Step{
		"a": {ID: "a", Type: StepMessage, Text: kustomer.NewText("again"), Next: "b"},
		"b": {ID: "b", Type: StepCondition, Attribute: "companyStr", Op: OpSet, Then: "a", Else: "a"},
	}}
	res := a.Begin(Locale{}, nil, "hi", time.Unix(0, 0))
	if len(res.Say) != maxSteps/2 {
		t.Errorf("said %d messages, want %d", len(res.Say), maxSteps/2)
	}
	if res.Transfer == nil || res.Transfer.Skill != "" || !res.State.Done || res.State.Outcome != OutcomeTransferred {
		t.Errorf("result %+v, want a transfer to the general queue", res)
	}
}
