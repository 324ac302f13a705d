package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// transcripts claims the queued transcript emails.
func (e *env) transcripts(t testing.TB) []kustomer.OutboxItem {
	t.Helper()
	items, err := e.store.ClaimOutbox(context.Background(), kustomer.OutboxTranscript, time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestTranscriptRequests: the ended chat's button and the rating card's
// checkbox queue a transcript for the customer (refused while the chat is
// open), and the console's button for the agent.
func TestTranscriptRequests(t *testing.T) {
	e := newEnv(t)
	cust := e.client()
	id := cust.handoff(t)
	res := cust.postForm("/conversations/"+id+"/transcript", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find(`[data-testid="transcript-notice"]`).Text(), "once the conversation has ended") {
		t.Fatalf("before the end: %d\n%s", res.StatusCode, res.Body)
	}
	if n := len(e.transcripts(t)); n != 0 {
		t.Fatalf("%d transcripts queued before the end", n)
	}

	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	if res := agent.postForm("/agent/conversations/"+id+"/transcript", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("agent: %d\n%s", res.StatusCode, res.Body)
	}
	if !strings.Contains(agent.get("/agent/conversations/"+id).doc(t).Text(), "A transcript is on its way to the customer.") {
		t.Error("the console does not say the transcript was queued")
	}
	if res := agent.postForm("/agent/conversations/"+id+"/end", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end: %d", res.StatusCode)
	}

	d := cust.get("/conversations/" + id).doc(t)
	if d.Find(`[data-testid="transcript-request"]`).Length() != 1 || d.Find(`[data-testid="rating-transcript"]`).Length() != 1 {
		t.Fatal("the ended chat lacks the transcript button or the rating card's checkbox")
	}
	res = cust.postForm("/conversations/"+id+"/transcript", nil)
	if res.StatusCode != http.StatusOK || res.doc(t).Find(`[data-testid="transcript-notice"]`).Text() != "A transcript is on its way to your email address." {
		t.Fatalf("after the end: %d\n%s", res.StatusCode, res.Body)
	}
	res = cust.postForm("/conversations/"+id+"/rating", url.Values{"rating": {"5"}, "transcript": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rating with a transcript: %d\n%s", res.StatusCode, res.Body)
	}
	// The agent's, then the customer's (twice, with no new message: once).
	if got := e.transcripts(t); len(got) != 2 || got[0].ConversationID != id || got[1].ConversationID != id {
		t.Errorf("transcripts queued: %+v, want 2", got)
	}
	if res := e.client().postForm("/conversations/"+id+"/transcript", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("another visitor: %d, want 403", res.StatusCode)
	}
}
