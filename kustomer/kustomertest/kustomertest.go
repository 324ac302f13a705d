// Package kustomertest holds the conformance suite every kustomer.Store
// passes (RunStore) and the Engine's behaviour over a real Store (RunEngine).
// A Store implementation runs both from its own tests:
//
//	func TestStore(t *testing.T)  { kustomertest.RunStore(t, open) }
//	func TestEngine(t *testing.T) { kustomertest.RunEngine(t, open) }
package kustomertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// t0 is the suite's epoch: a UTC time at millisecond precision, the
// precision stores keep.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// eventTimeout bounds every wait for a live event.
const eventTimeout = 5 * time.Second

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want errors.Is(err, %v)", what, err, target)
	}
}

// must fails the test now when err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantValidation fails the test unless err is a *kustomer.ValidationError
// naming exactly the given fields.
func wantValidation(t testing.TB, what string, err error, fields ...string) {
	t.Helper()
	var ve *kustomer.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: err = %v (%T), want *kustomer.ValidationError naming %v", what, err, err, fields)
		return
	}
	got := make([]string, 0, len(ve.Fields))
	for k, msg := range ve.Fields {
		got = append(got, k)
		if strings.TrimSpace(msg) == "" {
			t.Errorf("%s: field %q has an empty message", what, k)
		}
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: validation error names %q, want %q (%v)", what, got, want, err)
	}
}

// seqs returns the sequence numbers of msgs.
func seqs(msgs []kustomer.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// seqRange returns from, from+1, …, to.
func seqRange(from, to int64) []int64 {
	out := []int64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func timePtrEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func fmtTimePtr(p *time.Time) string {
	if p == nil {
		return "<nil>"
	}
	return p.Format(time.RFC3339Nano)
}

// attrsEqual compares attribute maps, treating nil and empty as equal and
// numbers by value whatever their Go type.
func attrsEqual(a, b kustomer.Attributes) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var x, y map[string]any
	if json.Unmarshal(ja, &x) != nil || json.Unmarshal(jb, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// jsonEqual compares two JSON documents ignoring insignificant white space.
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

type diff struct {
	t    testing.TB
	what string
}

func (d diff) check(field string, ok bool, got, want any) {
	d.t.Helper()
	if !ok {
		d.t.Errorf("%s: %s = %v, want %v", d.what, field, got, want)
	}
}

// checkConversation reports every field of got that differs from want.
func checkConversation(t testing.TB, what string, got, want kustomer.Conversation) {
	t.Helper()
	d := diff{t, what}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("CustomerID", got.CustomerID == want.CustomerID, got.CustomerID, want.CustomerID)
	d.check("FormID", got.FormID == want.FormID, got.FormID, want.FormID)
	d.check("AssistantID", got.AssistantID == want.AssistantID, got.AssistantID, want.AssistantID)
	d.check("CreatedAt", got.CreatedAt.Equal(want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("UpdatedAt", got.UpdatedAt.Equal(want.UpdatedAt), got.UpdatedAt, want.UpdatedAt)
	d.check("LastMessageAt", got.LastMessageAt.Equal(want.LastMessageAt), got.LastMessageAt, want.LastMessageAt)
	d.check("Preview", got.Preview == want.Preview, got.Preview, want.Preview)
	d.check("Ended", got.Ended == want.Ended, got.Ended, want.Ended)
	d.check("EndedAt", timePtrEqual(got.EndedAt, want.EndedAt), fmtTimePtr(got.EndedAt), fmtTimePtr(want.EndedAt))
	d.check("EndedBy", reflect.DeepEqual(got.EndedBy, want.EndedBy), fmt.Sprintf("%+v", got.EndedBy), fmt.Sprintf("%+v", want.EndedBy))
	d.check("IsInAssistantMode", got.IsInAssistantMode == want.IsInAssistantMode, got.IsInAssistantMode, want.IsInAssistantMode)
	d.check("CustomAttributes", attrsEqual(got.CustomAttributes, want.CustomAttributes), got.CustomAttributes, want.CustomAttributes)
	d.check("Context", got.Context == want.Context, got.Context, want.Context)
	d.check("LastSeq", got.LastSeq == want.LastSeq, got.LastSeq, want.LastSeq)
	d.check("CustomerUnread", got.CustomerUnread == want.CustomerUnread, got.CustomerUnread, want.CustomerUnread)
	d.check("AssigneeID", got.AssigneeID == want.AssigneeID, got.AssigneeID, want.AssigneeID)
	d.check("AssigneeName", got.AssigneeName == want.AssigneeName, got.AssigneeName, want.AssigneeName)
	d.check("Skill", got.Skill == want.Skill, got.Skill, want.Skill)
	d.check("AwaitingSince", timePtrEqual(got.AwaitingSince, want.AwaitingSince), fmtTimePtr(got.AwaitingSince), fmtTimePtr(want.AwaitingSince))
	d.check("FirstResponseAt", timePtrEqual(got.FirstResponseAt, want.FirstResponseAt), fmtTimePtr(got.FirstResponseAt), fmtTimePtr(want.FirstResponseAt))
	d.check("Satisfaction", satisfactionEqual(got.Satisfaction, want.Satisfaction), fmtSatisfaction(got.Satisfaction), fmtSatisfaction(want.Satisfaction))
	d.check("AgentUnread", got.AgentUnread == want.AgentUnread, got.AgentUnread, want.AgentUnread)
	d.check("SuggestedAgentID", got.SuggestedAgentID == want.SuggestedAgentID, got.SuggestedAgentID, want.SuggestedAgentID)
	if want.TTR.Type == "" {
		want.TTR.Type = kustomer.TTRNormal // a store's default
	}
	d.check("TTR", got.TTR.Type == want.TTR.Type && got.TTR.Value == want.TTR.Value && got.TTR.Seconds == want.TTR.Seconds &&
		timePtrEqual(got.TTR.ManualETTR, want.TTR.ManualETTR), fmt.Sprintf("%+v", got.TTR), fmt.Sprintf("%+v", want.TTR))
	// When the answer is due follows from the rest.
	due := got.TTR.Effective(got.AwaitingSince, got.Ended)
	d.check("TTREffective", timePtrEqual(got.TTREffective, due), fmtTimePtr(got.TTREffective), fmtTimePtr(due))
}

func satisfactionEqual(a, b *kustomer.Satisfaction) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Rating == b.Rating && a.Comment == b.Comment && a.CreatedAt.Equal(b.CreatedAt)
}

func fmtSatisfaction(s *kustomer.Satisfaction) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{rating %d, comment %q, at %s}", s.Rating, s.Comment, s.CreatedAt.Format(time.RFC3339Nano))
}

// timep returns a pointer to t, for the optional times of a conversation.
func timep(t time.Time) *time.Time { return &t }

// checkAgent reports every field of got that differs from want.
func checkAgent(t testing.TB, what string, got, want kustomer.Agent) {
	t.Helper()
	d := diff{t, what}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("Email", got.Email == want.Email, got.Email, want.Email)
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("Role", got.Role == want.Role, got.Role, want.Role)
	d.check("Skills", slices.Equal(got.Skills, want.Skills) && got.Skills != nil, got.Skills, want.Skills)
	d.check("Disabled", got.Disabled == want.Disabled, got.Disabled, want.Disabled)
	d.check("CreatedAt", got.CreatedAt.Equal(want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("UpdatedAt", got.UpdatedAt.Equal(want.UpdatedAt), got.UpdatedAt, want.UpdatedAt)
	d.check("PasswordHash", got.PasswordHash == want.PasswordHash, got.PasswordHash, want.PasswordHash)
	d.check("Capacity", got.Capacity == want.Capacity, got.Capacity, want.Capacity)
}

// checkMessage reports every field of got that differs from want.
func checkMessage(t testing.TB, what string, got, want kustomer.Message) {
	t.Helper()
	d := diff{t, what}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("ConversationID", got.ConversationID == want.ConversationID, got.ConversationID, want.ConversationID)
	d.check("Seq", got.Seq == want.Seq, got.Seq, want.Seq)
	d.check("Body", got.Body == want.Body, got.Body, want.Body)
	d.check("Payload", jsonEqual(got.Payload, want.Payload), string(got.Payload), string(want.Payload))
	d.check("Direction", got.Direction == want.Direction, got.Direction, want.Direction)
	d.check("CreatedAt", got.CreatedAt.Equal(want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("Attachments", len(got.Attachments) == len(want.Attachments) && (len(got.Attachments) == 0 || reflect.DeepEqual(got.Attachments, want.Attachments)),
		got.Attachments, want.Attachments)
	d.check("SentBy", got.SentBy == want.SentBy, got.SentBy, want.SentBy)
	d.check("ClientMessageID", got.ClientMessageID == want.ClientMessageID, got.ClientMessageID, want.ClientMessageID)
	d.check("Private", got.Private == want.Private, got.Private, want.Private)
}

// checkCustomer reports every field of got that differs from want.
func checkCustomer(t testing.TB, what string, got, want kustomer.Customer) {
	t.Helper()
	d := diff{t, what}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("Emails", slices.Equal(got.Emails, want.Emails), got.Emails, want.Emails)
	d.check("Phones", slices.Equal(got.Phones, want.Phones), got.Phones, want.Phones)
	if want.Socials == nil {
		want.Socials = []kustomer.Social{}
	}
	d.check("Socials", got.Socials != nil && slices.Equal(got.Socials, want.Socials), got.Socials, want.Socials)
	d.check("CustomAttributes", attrsEqual(got.CustomAttributes, want.CustomAttributes), got.CustomAttributes, want.CustomAttributes)
	d.check("CreatedAt", got.CreatedAt.Equal(want.CreatedAt), got.CreatedAt, want.CreatedAt)
	d.check("UpdatedAt", got.UpdatedAt.Equal(want.UpdatedAt), got.UpdatedAt, want.UpdatedAt)
}

// nextEvent returns the next event of sub, failing the test when none
// arrives within eventTimeout or the subscription closes.
func nextEvent(t testing.TB, sub kustomer.Subscription) kustomer.Event {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription closed (dropped=%v) while waiting for an event", sub.Dropped())
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no event within %v", eventTimeout)
	}
	panic("unreachable")
}
