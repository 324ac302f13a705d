package cloud

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// Engine is what the receiver changes: the local mirror of a conversation.
type Engine interface {
	Conversation(ctx context.Context, actor kustomer.Actor, id string) (kustomer.Conversation, error)
	SendMessage(ctx context.Context, actor kustomer.Actor, in kustomer.SendMessageInput) (kustomer.Message, bool, error)
	EndConversation(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	ReopenConversation(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	Join(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	Unassign(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	UseOnce(ctx context.Context, key string, expires time.Time) error
}

// Receiver answers POST /webhooks/kustomer: Kustomer's outbound webhook.
// It verifies the signature before reading anything else, applies agents'
// replies and conversation changes to the local mirror, and deduplicates
// by event id (deliveries come at least once and in any order).
type Receiver struct {
	Engine Engine
	Refs   kustomer.ExternalRefs
	// Secret is the webhook's signing token.
	Secret []byte
	// AgentName is the name customers read on agents' replies.
	AgentName string
	Now       func() time.Time
	Log       *slog.Logger
	// Observe, when set, is told each delivery's outcome: verified,
	// refused (bad or missing signature), duplicate, ignored (not about a
	// relayed conversation, or older than what was applied), invalid (not
	// JSON), failed.
	Observe func(outcome string)
}

// MaxWebhookBody bounds a delivery's body.
const MaxWebhookBody = 1 << 20

// The system actor that applies Kustomer's changes locally.
var kustomerActor = kustomer.Actor{Type: kustomer.AuthorSystem, ID: "kustomer", Name: "Kustomer"}

// delivery is a webhook body (CONTRACT: {id, name, org, partition, data,
// changes}).
type delivery struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Data    Resource        `json:"data"`
	Changes json.RawMessage `json:"changes"`
}

func (rc *Receiver) now() time.Time {
	if rc.Now == nil {
		return time.Now().UTC()
	}
	return rc.Now().UTC()
}

func (rc *Receiver) observe(outcome string) {
	if rc.Observe != nil {
		rc.Observe(outcome)
	}
}

func (rc *Receiver) log() *slog.Logger {
	if rc.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rc.Log
}

// Verify reports whether sig (lowercase hex) is the HMAC-SHA256 of body
// under secret, compared in constant time.
func Verify(secret, body []byte, sig string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha256.Size || len(secret) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

func answer(w http.ResponseWriter, status int, outcome string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"outcome": outcome})
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			answer(w, http.StatusRequestEntityTooLarge, "too_large")
			return
		}
		answer(w, http.StatusBadRequest, "unreadable")
		return
	}
	if !Verify(rc.Secret, body, r.Header.Get("X-Kustomer-Webhook-Signature")) {
		rc.observe("refused")
		rc.log().WarnContext(r.Context(), "kustomer webhook refused: bad or missing signature", "event", r.Header.Get("X-Kustomer-Webhook-Event"))
		answer(w, http.StatusUnauthorized, "bad_signature")
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil || d.ID == "" || d.Name == "" {
		rc.observe("invalid")
		answer(w, http.StatusBadRequest, "invalid_body")
		return
	}
	ctx := r.Context()
	outcome, err := rc.apply(ctx, d)
	if err != nil {
		rc.observe("failed")
		rc.log().ErrorContext(ctx, "kustomer webhook", "event", d.Name, "event_id", d.ID, "err", err)
		// Kustomer delivers again: every change applies once however
		// often it comes.
		answer(w, http.StatusInternalServerError, "failed")
		return
	}
	// Applied (or found needless): remember the id, so a replay is known
	// for what it is.
	if err := rc.Engine.UseOnce(ctx, "kustomer-webhook:"+d.ID, rc.now().Add(48*time.Hour)); errors.Is(err, kustomer.ErrAlreadyUsed) {
		outcome = "duplicate"
	}
	rc.observe(outcome)
	answer(w, http.StatusOK, outcome)
}

// apply maps one delivery onto the local mirror; it returns the outcome
// (verified: applied; ignored: nothing to do).
func (rc *Receiver) apply(ctx context.Context, d delivery) (string, error) {
	switch d.Name {
	case "kustomer.message.create":
		return rc.messageCreated(ctx, d.Data)
	case "kustomer.conversation.update", "kustomer.conversation.create":
		return rc.conversationUpdated(ctx, d.Data)
	}
	return "ignored", nil
}

// local returns the local id of a Kustomer conversation, "" when handoff
// does not relay it.
func (rc *Receiver) local(ctx context.Context, remoteID string) (string, error) {
	if remoteID == "" {
		return "", nil
	}
	ref, err := rc.Refs.RemoteRef(ctx, System, KindConversation, remoteID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return "", nil
	}
	return ref.LocalID, err
}

// messageCreated adds an agent's reply (direction out) to the local
// thread, once: its Kustomer id is the message's clientMessageId.
func (rc *Receiver) messageCreated(ctx context.Context, msg Resource) (string, error) {
	var direction, text, app string
	msg.Attr("direction", &direction)
	msg.Attr("preview", &text)
	msg.Attr("app", &app)
	if direction != "out" || strings.TrimSpace(text) == "" || app == RelayApp {
		// The customer's own messages, and what handoff recorded (its
		// assistant's), echoed back.
		return "ignored", nil
	}
	id, err := rc.local(ctx, msg.Related("conversation"))
	if err != nil || id == "" {
		return "ignored", err
	}
	_, _, err = rc.Engine.SendMessage(ctx, rc.agent(msg.Related("createdBy")), kustomer.SendMessageInput{
		ConversationID: id, Body: text, ClientMessageID: "kustomer-" + msg.ID,
	})
	var conflict *kustomer.ConflictError
	if errors.As(err, &conflict) && conflict.Code == "conversation_ended" {
		return "ignored", nil // a reply after the end is kept in Kustomer
	}
	if err != nil {
		return "", err
	}
	return "verified", nil
}

// conversationUpdated applies a conversation's ended state and assignee,
// by the update's own time: one older than the last applied changes
// nothing.
func (rc *Receiver) conversationUpdated(ctx context.Context, conv Resource) (string, error) {
	id, err := rc.local(ctx, conv.ID)
	if err != nil || id == "" {
		return "ignored", err
	}
	var updated time.Time
	if !conv.Attr("updatedAt", &updated) || updated.IsZero() {
		return "ignored", nil
	}
	newer, err := rc.Refs.AdvanceExternalRef(ctx, System, KindConversation, id, updated.UnixMilli())
	if err != nil || !newer {
		return "ignored", err
	}
	c, err := rc.Engine.Conversation(ctx, kustomerActor, id)
	if err != nil {
		return "", err
	}
	var ended bool
	if conv.Attr("ended", &ended) {
		switch {
		case ended && !c.Ended:
			c, err = rc.Engine.EndConversation(ctx, kustomerActor, id)
		case !ended && c.Ended:
			c, err = rc.Engine.ReopenConversation(ctx, kustomerActor, id)
		}
		if err != nil {
			return "", err
		}
	}
	// The agent assigned in Kustomer joins the chat (the customer reads
	// the agents' name); nobody assigned puts it back in the queue.
	var assigned []string
	if conv.Attr("assignedUsers", &assigned) && !c.Ended {
		switch {
		case len(assigned) > 0 && c.AssigneeID != "kustomer:"+assigned[0]:
			_, err = rc.Engine.Join(ctx, rc.agent(assigned[0]), id)
		case len(assigned) == 0 && strings.HasPrefix(c.AssigneeID, "kustomer:"):
			_, err = rc.Engine.Unassign(ctx, kustomerActor, id)
		}
		if err != nil {
			return "", err
		}
	}
	return "verified", nil
}

// agent is the local actor of a Kustomer user, named as customers read
// the team.
func (rc *Receiver) agent(userID string) kustomer.Actor {
	name := rc.AgentName
	if name == "" {
		name = "Support"
	}
	return kustomer.Actor{Type: kustomer.AuthorAgent, ID: "kustomer:" + userID, Name: name}
}
