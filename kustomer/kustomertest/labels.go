package kustomertest

import (
	"errors"
	"slices"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

func newLabel(name, color string) kustomer.Label {
	return kustomer.Label{ID: kustomer.NewID(), Name: name, Color: color, CreatedAt: at(0), UpdatedAt: at(0)}
}

func labelNames(ls []kustomer.Label) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// testLabels checks that labels are stored, listed by name, renamed and
// deleted; that names are unique whatever their case and their number
// bounded; that a conversation's labels are replaced as a set, read with
// it (alone and in lists) and filtered by; that an unknown label changes
// nothing; and that deleting a label takes it off every conversation.
func testLabels(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	list := func() []string {
		t.Helper()
		ls, err := s.Labels(ctx)
		must(t, "Labels", err)
		return labelNames(ls)
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("Labels of a new store = %q", got)
	}
	vip, refund, bug := newLabel("VIP", "purple"), newLabel("refund", "red"), newLabel("Bug", "orange")
	must(t, "CreateLabel", s.CreateLabel(ctx, vip, 3, auditEntry(1, kustomer.AuditLabels, vip.ID, kustomer.AuditCreated)))
	must(t, "CreateLabel", s.CreateLabel(ctx, refund, 3))
	must(t, "CreateLabel", s.CreateLabel(ctx, bug, 3))
	if got := list(); !slices.Equal(got, []string{"Bug", "refund", "VIP"}) {
		t.Errorf("Labels = %q, want by name whatever the case", got)
	}
	var cerr *kustomer.ConflictError
	if err := s.CreateLabel(ctx, newLabel("Another", "gray"), 3); !errors.As(err, &cerr) || cerr.Code != "too_many_labels" {
		t.Errorf("CreateLabel past the limit = %v, want too_many_labels", err)
	}
	if err := s.CreateLabel(ctx, newLabel("vip", "gray"), 10); !errors.As(err, &cerr) || cerr.Code != "name_taken" {
		t.Errorf("CreateLabel with a taken name = %v, want name_taken", err)
	}
	got, err := s.Label(ctx, vip.ID)
	must(t, "Label", err)
	if got.Name != "VIP" || got.Color != "purple" || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("Label = %+v, want %+v", got, vip)
	}
	_, err = s.Label(ctx, kustomer.NewID())
	wantErr(t, "Label of an unknown id", err, kustomer.ErrNotFound)
	bug.Name, bug.Color, bug.UpdatedAt = "Bug report", "yellow", at(2)
	must(t, "UpdateLabel", s.UpdateLabel(ctx, bug, auditEntry(2, kustomer.AuditLabels, bug.ID, kustomer.AuditUpdated)))
	if got, _ := s.Label(ctx, bug.ID); got.Name != "Bug report" || got.Color != "yellow" || !got.UpdatedAt.Equal(at(2)) {
		t.Errorf("updated label = %+v", got)
	}
	taken := bug
	taken.Name = "REFUND"
	if err := s.UpdateLabel(ctx, taken); !errors.As(err, &cerr) || cerr.Code != "name_taken" {
		t.Errorf("UpdateLabel to a taken name = %v, want name_taken", err)
	}
	wantErr(t, "UpdateLabel of an unknown id", s.UpdateLabel(ctx, newLabel("x", "gray")), kustomer.ErrNotFound)

	// Conversations' labels.
	a, _, _, err := s.CreateConversation(ctx, newConversation(kustomer.NewID(), at(3), "first"))
	must(t, "CreateConversation", err)
	b, _, _, err := s.CreateConversation(ctx, newConversation(kustomer.NewID(), at(4), "second"))
	must(t, "CreateConversation", err)
	if a.Labels != nil {
		t.Errorf("a new conversation's labels = %q, want none", a.Labels)
	}
	both := []string{vip.ID, refund.ID}
	slices.Sort(both)
	c, err := s.SetConversationLabels(ctx, a.ID, both, at(5))
	must(t, "SetConversationLabels", err)
	if !slices.Equal(c.Labels, both) {
		t.Errorf("SetConversationLabels returned labels %q, want %q", c.Labels, both)
	}
	_, err = s.SetConversationLabels(ctx, b.ID, []string{refund.ID}, at(5))
	must(t, "SetConversationLabels", err)
	if c, _ := s.Conversation(ctx, a.ID); !slices.Equal(c.Labels, both) {
		t.Errorf("Conversation's labels = %q, want %q", c.Labels, both)
	}
	_, err = s.SetConversationLabels(ctx, a.ID, []string{vip.ID, kustomer.NewID()}, at(6))
	if !errors.As(err, &cerr) || cerr.Code != "unknown_label" {
		t.Errorf("SetConversationLabels with an unknown label = %v, want unknown_label", err)
	}
	if c, _ := s.Conversation(ctx, a.ID); !slices.Equal(c.Labels, both) {
		t.Errorf("labels after a refused change = %q, want %q unchanged", c.Labels, both)
	}
	_, err = s.SetConversationLabels(ctx, kustomer.NewID(), nil, at(6))
	wantErr(t, "SetConversationLabels of an unknown conversation", err, kustomer.ErrNotFound)

	filtered := func(label string, lean bool) map[string][]string {
		t.Helper()
		cs, total, err := s.Conversations(ctx, kustomer.ConversationFilter{Label: label, Lean: lean}, 0, 10)
		must(t, "Conversations", err)
		if total != len(cs) {
			t.Errorf("Conversations(label %s) total %d for %d rows", label, total, len(cs))
		}
		out := map[string][]string{}
		for _, c := range cs {
			out[c.ID] = c.Labels
		}
		return out
	}
	if got := filtered(refund.ID, true); len(got) != 2 || !slices.Equal(got[a.ID], both) || !slices.Equal(got[b.ID], []string{refund.ID}) {
		t.Errorf("conversations labelled refund = %v, want both with their labels", got)
	}
	if got := filtered(vip.ID, false); len(got) != 1 || got[a.ID] == nil {
		t.Errorf("conversations labelled VIP = %v, want the first", got)
	}
	if got := filtered(bug.ID, false); len(got) != 0 {
		t.Errorf("conversations labelled bug = %v, want none", got)
	}

	// Deleting a label takes it off every conversation.
	must(t, "DeleteLabel", s.DeleteLabel(ctx, refund.ID, auditEntry(7, kustomer.AuditLabels, refund.ID, kustomer.AuditDeleted)))
	wantErr(t, "DeleteLabel again", s.DeleteLabel(ctx, refund.ID), kustomer.ErrNotFound)
	if got := list(); !slices.Equal(got, []string{"Bug report", "VIP"}) {
		t.Errorf("Labels after the delete = %q", got)
	}
	if c, _ := s.Conversation(ctx, b.ID); c.Labels != nil {
		t.Errorf("labels of a conversation whose only label was deleted = %q", c.Labels)
	}
	if c, _ := s.Conversation(ctx, a.ID); !slices.Equal(c.Labels, []string{vip.ID}) {
		t.Errorf("labels after the delete = %q, want VIP's", c.Labels)
	}
	c, err = s.SetConversationLabels(ctx, a.ID, nil, at(8))
	must(t, "SetConversationLabels to none", err)
	if c.Labels != nil {
		t.Errorf("labels after clearing = %q", c.Labels)
	}
	log, err := s.AuditLog(ctx, kustomer.AuditQuery{Area: kustomer.AuditLabels, Limit: 10})
	must(t, "AuditLog", err)
	if got := auditActionsOf(log); !slices.Equal(got, []string{kustomer.AuditDeleted, kustomer.AuditUpdated, kustomer.AuditCreated}) {
		t.Errorf("audit of labels = %q", got)
	}
}

// testEngineLabels checks that only admins define labels, what a label's
// name and color must be, that agents label conversations (the change
// published live, refused for customers), and the audit of it all.
func testEngineLabels(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent)

	_, err := f.engine.CreateLabel(ctx, grace, kustomer.LabelInput{Name: "VIP"})
	wantErr(t, "CreateLabel by an agent", err, kustomer.ErrForbidden)
	vip, err := f.engine.CreateLabel(ctx, root, kustomer.LabelInput{Name: "  VIP   customer ", Color: "purple"})
	must(t, "CreateLabel", err)
	if vip.Name != "VIP customer" || vip.Color != "purple" {
		t.Errorf("label = %+v", vip)
	}
	plain, err := f.engine.CreateLabel(ctx, root, kustomer.LabelInput{Name: "Refund"})
	must(t, "CreateLabel without a color", err)
	if plain.Color != kustomer.LabelColors[0] {
		t.Errorf("default color = %q", plain.Color)
	}
	for name, in := range map[string]kustomer.LabelInput{
		"no name":    {Name: " "},
		"long name":  {Name: "a very long label name that goes on and on"},
		"taken name": {Name: "vip CUSTOMER"},
		"bad color":  {Name: "x", Color: "chartreuse"},
	} {
		_, err := f.engine.CreateLabel(ctx, root, in)
		field := "name"
		if name == "bad color" {
			field = "color"
		}
		wantValidation(t, "CreateLabel with "+name, err, field)
	}

	c, customer := f.startForAgents(t, "hello", "contact")
	_, err = f.engine.SetConversationLabels(ctx, customer, c.ID, []string{vip.ID})
	wantErr(t, "a customer labels", err, kustomer.ErrForbidden)
	sub := f.subscribe(t, grace.Actor(), c.ID)
	got, err := f.engine.SetConversationLabels(ctx, grace.Actor(), c.ID, []string{plain.ID, vip.ID, plain.ID})
	must(t, "SetConversationLabels", err)
	want := []string{plain.ID, vip.ID}
	slices.Sort(want)
	if !slices.Equal(got.Labels, want) {
		t.Errorf("labels = %q, want %q", got.Labels, want)
	}
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil || !slices.Equal(ev.Conversation.Labels, want) {
		t.Errorf("event = %+v, want conversation.updated with the labels", ev)
	}
	_, err = f.engine.SetConversationLabels(ctx, grace.Actor(), c.ID, []string{"not an id"})
	wantValidation(t, "SetConversationLabels with a malformed id", err, "labels")

	must(t, "DeleteLabel", f.engine.DeleteLabel(ctx, root, vip.ID))
	_, err = f.engine.SetConversationLabels(ctx, grace.Actor(), c.ID, []string{vip.ID})
	wantValidation(t, "SetConversationLabels with a deleted label", err, "labels")
	wantErr(t, "DeleteLabel by an agent", f.engine.DeleteLabel(ctx, grace, plain.ID), kustomer.ErrForbidden)
	_, err = f.engine.UpdateLabel(ctx, root, plain.ID, kustomer.LabelInput{Name: "Refunds", Color: "red"})
	must(t, "UpdateLabel", err)

	log, err := f.engine.AuditLog(ctx, root, kustomer.AuditQuery{Area: kustomer.AuditLabels})
	must(t, "AuditLog", err)
	var gotLog []string
	for _, e := range log {
		gotLog = append(gotLog, e.Action+" "+e.TargetName)
	}
	if wantLog := []string{"updated Refund", "deleted VIP customer", "created Refund", "created VIP customer"}; !slices.Equal(gotLog, wantLog) {
		t.Errorf("audit = %q, want %q", gotLog, wantLog)
	}
}
