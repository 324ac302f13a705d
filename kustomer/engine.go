package kustomer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"golang.org/x/text/language"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Engine performs the conversation operations. Every change is persisted in
// the Store first and published on the Broker only after it is committed, so
// a subscriber never sees an event it could not read back.
type Engine struct {
	store  Store
	broker Broker
	config *Config
	log    *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// PasswordCost is the bcrypt cost of new password hashes (0: the
	// library's default); tests lower it.
	PasswordCost int
	// Observer is told what was stored, for metrics.
	Observer Observer
	// Assistants runs the conversational assistants; nil runs none (an
	// assistant id is then only recorded).
	Assistants AssistantRunner
	// FollowUpDelay is how long after an agent's or the API's reply the
	// customer is emailed if they have not read it; 0 sends no follow-ups.
	// Each such reply writes an OutboxFollowUp row due then, in its own
	// transaction; replies while one waits share it.
	FollowUpDelay time.Duration
	// AllowLoopbackWebhooks lets webhook endpoints be on this machine, over
	// plain http too: for development, where the site itself is.
	AllowLoopbackWebhooks bool
	// Relay sends what customers do (hand-offs, messages, attributes, the
	// end of a chat) to the system agents answer in (a Kustomer
	// organization), through OutboxRelay rows written with each change.
	Relay bool

	wakeMu sync.Mutex
	wakes  []chan struct{}
	// hooksOn caches, until hooksUntil (Unix nanoseconds; 0: unknown),
	// whether an endpoint is enabled, so that a site without webhooks wakes
	// no dispatcher on every change. One caller reads it again at a time
	// (hooksBusy), the others go on with what is known; hooksGen counts
	// this engine's changes of endpoints, so that a read that began before
	// one is not taken as known.
	hooksOn    atomic.Bool
	hooksUntil atomic.Int64
	hooksBusy  atomic.Bool
	// router is the state of load-sharing assignment (routing.go).
	router   router
	hooksGen atomic.Uint64

	// formAssistants and formOrigins keep the operators' form settings
	// for settingsTTL.
	formAssistants settingsCache[map[string]string]
	formOrigins    settingsCache[storedOrigins]
	// available caches AnyoneAvailable, read on every form view.
	available settingsCache[bool]
}

// storedOrigins is a form's list of allowed origins as stored, if one is.
type storedOrigins struct {
	list []string
	ok   bool
}

// NewEngine returns an Engine over the given store, broker and configuration.
func NewEngine(store Store, broker Broker, cfg *Config, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, broker: broker, config: cfg, log: log, Now: time.Now, Observer: noObserver{}}
}

// Config returns the configuration the engine validates against.
func (e *Engine) Config() *Config { return e.config }

// now returns the current time at the millisecond precision the stores keep.
func (e *Engine) now() time.Time { return e.Now().UTC().Truncate(time.Millisecond) }

func (e *Engine) publish(ctx context.Context, ev Event) {
	if ev.Type == EventMessageCreated && ev.Message != nil {
		e.Observer.MessageStored(*ev.Message)
	}
	if ev.Memo == nil {
		ev.Memo = &Memo{}
	}
	switch ev.Type {
	case EventMessageCreated, EventConversationCreated, EventConversationUpdated:
		// The change may have recorded webhook events or relay rows.
		if e.Relay || e.webhooksEnabled(ctx) {
			e.wakeWebhooks()
		}
	}
	if (ev.Type == EventConversationCreated || ev.Type == EventConversationUpdated) && e.config.AutoAssigns() {
		// A conversation may wait for an agent now, or one have room.
		e.wakeAssigner()
	}
	// The change is already committed; a failed publish loses only the live
	// push, which subscribers recover by resuming from their last seq.
	if err := e.broker.Publish(context.WithoutCancel(ctx), ev); err != nil {
		e.log.WarnContext(ctx, "publish event", "type", ev.Type, "conversation_id", ev.ConversationID, "err", err)
	}
}

// CreateConversation starts a conversation whose first message is in.Message,
// for the customer in.CustomerID (a new customer when empty or unknown). It
// is idempotent by in.ClientMessageID: a retry returns the conversation the
// first call created, with created=false.
func (e *Engine) CreateConversation(ctx context.Context, in CreateConversationInput) (Conversation, bool, error) {
	verr := &ValidationError{}
	body := normalizeBody(in.Message)
	checkBody(verr, "message", body, true)
	checkClientID(verr, in.ClientMessageID)
	if in.FormID != "" {
		if _, ok := e.config.Form(in.FormID); !ok {
			verr.Add("formId", fmt.Sprintf("%q is not a defined form", in.FormID))
		}
	}
	if utf8.RuneCountInString(in.CustomerName) > MaxAuthorNameLen {
		verr.Add("name", fmt.Sprintf("must be at most %d characters", MaxAuthorNameLen))
	}
	if in.CustomerEmail != "" {
		if code, msg := checkEmail(in.CustomerEmail); msg != "" {
			verr.AddProblem("email", code, emailParams(code), msg)
		}
	}
	if in.AssistantID != "" && !assistantIDRE.MatchString(in.AssistantID) {
		verr.Add("assistantId", "must be letters, digits, dashes or underscores")
	} else if in.AssistantID != "" && e.Assistants != nil {
		if _, _, ok := e.Assistants.Profile(in.AssistantID); !ok {
			verr.Add("assistantId", fmt.Sprintf("%q is not a defined assistant", in.AssistantID))
		}
	}
	attrs, err := e.config.ConversationAttributes().Validate(in.CustomAttributes, "customAttributes.")
	if ve, ok := err.(*ValidationError); ok {
		for k, v := range ve.Fields {
			verr.Add(k, v)
		}
	}
	lang, ok := normalizeLang(in.Lang)
	if !ok {
		verr.Add("lang", "must be a language tag such as en, es or pt-BR")
	}
	if err := verr.OrNil(); err != nil {
		return Conversation{}, false, err
	}
	for k, v := range attrs {
		if v == nil {
			delete(attrs, k)
		}
	}

	now := e.now()
	customerID := in.CustomerID
	if customerID != "" {
		if _, err := e.store.Customer(ctx, customerID); err != nil {
			if !isNotFound(err) {
				return Conversation{}, false, err
			}
			customerID = "" // a session that outlived its customer starts afresh
		}
	}
	if customerID == "" {
		customerID = NewID()
	}
	cust := Customer{ID: customerID, Name: strings.TrimSpace(in.CustomerName), CreatedAt: now, UpdatedAt: now}
	if in.CustomerEmail != "" {
		cust.Emails = []string{strings.ToLower(in.CustomerEmail)}
	}
	conv := Conversation{
		ID:                NewID(),
		CustomerID:        customerID,
		FormID:            in.FormID,
		AssistantID:       in.AssistantID,
		CreatedAt:         now,
		UpdatedAt:         now,
		LastMessageAt:     now,
		Preview:           preview(body),
		IsInAssistantMode: in.AssistantID != "",
		CustomAttributes:  attrs,
		Context:           in.Context,
		Lang:              lang,
		TTR:               TTR{Type: TTRNormal, Seconds: int64(e.config.TTRTarget(in.FormID) / time.Second)},
	}
	first := Message{
		ID:              NewID(),
		ConversationID:  conv.ID,
		Body:            body,
		Direction:       DirectionIn,
		CreatedAt:       now,
		SentBy:          Author{Type: AuthorCustomer, ID: customerID, DisplayName: cust.Name},
		ClientMessageID: in.ClientMessageID,
	}
	hooks := append([]OutboxItem{hookItem(WebhookConversationCreated, conv.ID, first.ID, false, now, nil)}, messageHooks(first)...)
	hooks = append(hooks, e.relayItem(RelayOp{Op: RelayCreate, ConversationID: conv.ID, MessageID: first.ID}, now)...)
	c, m, created, err := e.store.CreateConversation(ctx, NewConversation{Customer: cust, Conversation: conv, First: first, ClientRef: in.ClientMessageID, Outbox: hooks})
	if err != nil {
		return Conversation{}, false, err
	}
	if !created {
		// A retry of a submission that already succeeded: it must come from
		// the same customer, or from a client that has none yet.
		if in.CustomerID != "" && c.CustomerID != in.CustomerID {
			return Conversation{}, false, &ConflictError{Code: "client_message_id_reused", Reason: "this clientMessageId was already used"}
		}
		return c, false, nil
	}
	e.Observer.ConversationCreated(c.FormID)
	e.publish(ctx, Event{Type: EventConversationCreated, ConversationID: c.ID, Conversation: &c})
	e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &m})
	if c.IsInAssistantMode && e.Assistants != nil {
		c = e.beginAssistant(ctx, c, body)
	}
	return c, true, nil
}

// Conversation returns a conversation the actor may see.
func (e *Engine) Conversation(ctx context.Context, actor Actor, id string) (Conversation, error) {
	return e.conversationBy(ctx, actor, id, e.store.Conversation)
}

// ConversationHead is Conversation for callers that need only its head
// (see Store.ConversationHead), with the same check of the actor's access.
func (e *Engine) ConversationHead(ctx context.Context, actor Actor, id string) (Conversation, error) {
	return e.conversationBy(ctx, actor, id, e.store.ConversationHead)
}

// conversationBy reads conversation id with read when the actor may see it.
func (e *Engine) conversationBy(ctx context.Context, actor Actor, id string, read func(context.Context, string) (Conversation, error)) (Conversation, error) {
	if !ValidID(id) {
		return Conversation{}, fmt.Errorf("conversation %q: %w", id, ErrNotFound)
	}
	c, err := read(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	if actor.IsCustomer() && c.CustomerID != actor.ID {
		return Conversation{}, fmt.Errorf("conversation %s: %w", id, ErrForbidden)
	}
	return c, nil
}

// DescribeConversation sets custom attributes on a conversation (null clears
// one). Every attribute must be defined and of the right type.
func (e *Engine) DescribeConversation(ctx context.Context, actor Actor, id string, attrs Attributes) (Conversation, error) {
	if _, err := e.Conversation(ctx, actor, id); err != nil {
		return Conversation{}, err
	}
	norm, err := e.config.ConversationAttributes().Validate(attrs, "customAttributes.")
	if err != nil {
		return Conversation{}, err
	}
	at := e.now()
	outbox := []OutboxItem{updatedHook(id, at, map[string]any{"customAttributes": norm})}
	if actor.IsCustomer() {
		outbox = append(outbox, e.relayItem(RelayOp{Op: RelayAttributes, ConversationID: id, Attrs: norm}, at)...)
	}
	c, err := e.store.UpdateConversationAttributes(ctx, id, norm, at, outbox...)
	if err != nil {
		return Conversation{}, err
	}
	e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: id, Conversation: &c})
	return c, nil
}

// Customer returns a customer the actor may see.
func (e *Engine) Customer(ctx context.Context, actor Actor, id string) (Customer, error) {
	if actor.IsCustomer() && actor.ID != id {
		return Customer{}, fmt.Errorf("customer %s: %w", id, ErrForbidden)
	}
	return e.store.Customer(ctx, id)
}

// DescribeCustomer updates a customer's name, emails, phones and custom
// attributes.
func (e *Engine) DescribeCustomer(ctx context.Context, actor Actor, id string, in DescribeCustomerInput) (Customer, error) {
	if _, err := e.Customer(ctx, actor, id); err != nil {
		return Customer{}, err
	}
	verr := &ValidationError{}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		in.Name = &n
		if utf8.RuneCountInString(n) > MaxAuthorNameLen {
			verr.Add("name", fmt.Sprintf("must be at most %d characters", MaxAuthorNameLen))
		}
	}
	if len(in.Emails) > 10 {
		verr.Add("attributes.emails", "at most 10 email addresses")
	}
	for i, em := range in.Emails {
		if _, msg := checkEmail(em); msg != "" {
			verr.Add(fmt.Sprintf("attributes.emails[%d]", i), msg)
		}
		in.Emails[i] = strings.ToLower(em)
	}
	if len(in.Phones) > 10 {
		verr.Add("attributes.phones", "at most 10 phone numbers")
	}
	for i, p := range in.Phones {
		if !validPhone(p) {
			verr.Add(fmt.Sprintf("attributes.phones[%d]", i), "enter a phone number of digits, spaces, +, -, ( and )")
		}
	}
	if len(in.Socials) > 10 {
		verr.Add("attributes.socials", "at most 10 social accounts")
	}
	for i, so := range in.Socials {
		so.Username, so.Type = strings.TrimSpace(so.Username), strings.ToLower(strings.TrimSpace(so.Type))
		in.Socials[i] = so
		switch {
		case so.Username == "" || utf8.RuneCountInString(so.Username) > 100 || !utf8.ValidString(so.Username):
			verr.Add(fmt.Sprintf("attributes.socials[%d].username", i), "must be 1 to 100 characters")
		case !validSocialType(so.Type):
			verr.Add(fmt.Sprintf("attributes.socials[%d].type", i), "must name the network in 1 to 32 lowercase letters, digits or -, such as twitter")
		}
	}
	norm, err := e.config.CustomerAttributes().Validate(in.CustomAttributes, "customAttributes.")
	if ve, ok := err.(*ValidationError); ok {
		for k, v := range ve.Fields {
			verr.Add(k, v)
		}
	}
	if err := verr.OrNil(); err != nil {
		return Customer{}, err
	}
	in.CustomAttributes = norm
	return e.store.UpdateCustomer(ctx, id, in, e.now())
}

// validSocialType reports whether t names a social network as a short
// lowercase word ("twitter", "facebook", "linked-in").
func validSocialType(t string) bool {
	if t == "" || len(t) > 32 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// GetConversations lists the conversations of one customer (or, for the
// organization with customerID empty, of everyone), newest activity first.
// page is 1-based; pageSize defaults to 100.
func (e *Engine) GetConversations(ctx context.Context, actor Actor, customerID string, page, pageSize int) (ConversationPage, error) {
	if actor.IsCustomer() && actor.ID != customerID {
		return ConversationPage{}, fmt.Errorf("conversations of %s: %w", customerID, ErrForbidden)
	}
	// Customers see summaries; the organization gets every field.
	customer := actor.IsCustomer()
	return e.listConversations(ctx, ConversationFilter{CustomerID: customerID, Summary: customer}, page, pageSize)
}

// listConversations pages through conversations matching f.
func (e *Engine) listConversations(ctx context.Context, f ConversationFilter, page, pageSize int) (ConversationPage, error) {
	verr := &ValidationError{}
	if page == 0 {
		page = 1
	}
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if page < 1 || page > maxPage {
		verr.Add("page", fmt.Sprintf("must be between 1 and %d", maxPage))
	}
	if pageSize < 1 || pageSize > MaxPageSize {
		verr.Add("pageSize", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	if err := verr.OrNil(); err != nil {
		return ConversationPage{}, err
	}
	convs, total, err := e.store.Conversations(ctx, f, (page-1)*pageSize, pageSize)
	if err != nil {
		return ConversationPage{}, err
	}
	if convs == nil {
		convs = []Conversation{}
	}
	p := Pages{Current: page, First: 1}
	if page*pageSize < total {
		n := page + 1
		p.Next = &n
	}
	if page > 1 {
		n := page - 1
		p.Previous = &n
	}
	return ConversationPage{Conversations: convs, Pages: p, Total: total}, nil
}

// SendMessage stores a message from the actor and publishes it. A customer's
// message goes in; the organization's goes out. It is idempotent by
// ClientMessageID: a retry returns the stored message with created=false.
func (e *Engine) SendMessage(ctx context.Context, actor Actor, in SendMessageInput) (Message, bool, error) {
	// A customer's plain send is checked by the write itself: whether the
	// conversation is theirs, open, and not the assistant's to answer. Only
	// when the assistant answers it is it read and sent again, that way.
	guarded := actor.IsCustomer() && len(in.Attachments) == 0 && in.InitAssistant == nil
	m, created, err := e.sendMessage(ctx, actor, in, guarded)
	if guarded && errors.Is(err, ErrAssistantMode) {
		return e.sendMessage(ctx, actor, in, false)
	}
	return m, created, err
}

// sendMessage is SendMessage; guarded, it does not read the conversation
// first (see NewMessage.OwnerID).
func (e *Engine) sendMessage(ctx context.Context, actor Actor, in SendMessageInput, guarded bool) (Message, bool, error) {
	verr := &ValidationError{}
	body := normalizeBody(in.Body)
	checkBody(verr, "body", body, len(in.Payload) == 0 && len(in.Attachments) == 0)
	checkClientID(verr, in.ClientMessageID)
	if len(in.Payload) > 0 {
		if len(in.Payload) > MaxPayloadBytes {
			verr.Add("payload", fmt.Sprintf("must be at most %d bytes of JSON", MaxPayloadBytes))
		} else if !json.Valid(in.Payload) {
			verr.Add("payload", "must be valid JSON")
		}
	}
	if len(in.Attachments) > MaxMessageAttachments {
		verr.Add("attachments", fmt.Sprintf("must be at most %d files", MaxMessageAttachments))
	}
	lang, ok := normalizeLang(in.Lang)
	if !ok {
		verr.Add("lang", "must be a language tag such as en, es or pt-BR")
	}
	if in.Private && actor.IsCustomer() {
		verr.Add("private", "only agents write private notes")
	}
	e.checkClientState(verr, actor, in)
	checkQuickReplies(verr, actor, in, body)
	name := strings.TrimSpace(in.AuthorName)
	if name == "" {
		name = actor.Name
	}
	if utf8.RuneCountInString(name) > MaxAuthorNameLen {
		verr.Add("authorName", fmt.Sprintf("must be at most %d characters", MaxAuthorNameLen))
	}
	switch actor.Type {
	case AuthorCustomer, AuthorAgent, AuthorAssistant, AuthorSystem:
	default:
		verr.Add("authorType", "must be agent or assistant")
	}
	if err := verr.OrNil(); err != nil {
		return Message{}, false, err
	}
	// A customer's send that is not guarded reads the conversation first:
	// whether it is theirs and whether the assistant answers it (its head;
	// all of it only when an assistant is or may become part of it). An
	// agent's needs only its id (and the files' owner, when it has some):
	// the write itself refuses a conversation that does not exist or has
	// ended, so reading it first would cost every reply a round trip to
	// the database for nothing.
	c := Conversation{ID: in.ConversationID}
	var err error
	if !guarded && (actor.IsCustomer() || len(in.Attachments) > 0) {
		c, err = e.ConversationHead(ctx, actor, in.ConversationID)
		if err == nil && actor.IsCustomer() && (c.IsInAssistantMode || in.InitAssistant != nil) {
			c, err = e.Conversation(ctx, actor, in.ConversationID)
		}
	} else if !ValidID(in.ConversationID) {
		err = fmt.Errorf("conversation %q: %w", in.ConversationID, ErrNotFound)
	}
	if err != nil {
		return Message{}, false, err
	}
	atts, err := e.messageAttachments(ctx, actor, c, in.Attachments)
	if err != nil {
		return Message{}, false, err
	}
	dir := DirectionOut
	if actor.IsCustomer() {
		dir = DirectionIn
		if name == "" {
			if cu, err := e.store.Customer(ctx, actor.ID); err == nil {
				name = cu.Name
			}
		}
	}
	m := Message{
		ID:              NewID(),
		ConversationID:  c.ID,
		Body:            body,
		Payload:         rawJSON(in.Payload),
		Direction:       dir,
		CreatedAt:       e.now(),
		Attachments:     atts,
		SentBy:          Author{Type: actor.Type, ID: actor.ID, DisplayName: name, AvatarURL: in.AvatarURL},
		ClientMessageID: in.ClientMessageID,
		Lang:            lang,
	}
	m.Private = in.Private
	if len(in.QuickReplies) > 0 {
		m.Meta = quickRepliesMeta(m.ID, body, in.QuickReplies)
	}
	// The assistant a client started runs from the conversation's first
	// send, on a conversation nobody has answered yet, where its form
	// lets the client choose it.
	start := ""
	if in.InitAssistant != nil && actor.IsCustomer() {
		if !e.formAllowsAssistant(c.FormID, in.InitAssistant.Assistant) {
			return Message{}, false, &ValidationError{Fields: map[string]string{"initAssistantPayload.assistant": fmt.Sprintf("this conversation's form does not let clients choose the assistant %q", in.InitAssistant.Assistant)}}
		}
		if c.AssistantID == "" && c.FirstResponseAt == nil && !c.Ended && e.Assistants != nil {
			start = in.InitAssistant.Assistant
		}
	}
	// While the assistant talks, the customer's message is its input: the
	// turn is decided first so that the message can carry lastDeflection.
	var turn *AssistantTurn
	if actor.IsCustomer() && c.IsInAssistantMode && !c.Ended && e.Assistants != nil {
		ain := assistantInput(body, in.Payload)
		ain.Lang = c.Lang
		t, err := e.Assistants.Reply(c.AssistantID, c.AssistantState, c.CustomAttributes, ain, e.now())
		switch {
		case err == nil:
			turn = &t
			if len(t.LastDeflection) > 0 {
				m.Meta, _ = json.Marshal(map[string]json.RawMessage{"lastDeflection": t.LastDeflection})
			}
		case !errors.Is(err, ErrStaleAnswer):
			e.log.ErrorContext(ctx, "assistant reply", "conversation_id", c.ID, "assistant_id", c.AssistantID, "err", err)
		}
	}
	if actor.IsCustomer() && (in.ClientAssistantMode != nil || in.ClientDeflection != nil) {
		m.Meta = withClientState(m.Meta, in.ClientAssistantMode, in.ClientDeflection)
	}
	pv := preview(body)
	if pv == "" && len(atts) > 0 {
		pv = preview("📎 " + atts[0].Name)
	}
	if in.Private {
		pv = "" // a note never shows in the customer's list
	}
	nm := NewMessage{Message: m, Preview: pv}
	if guarded {
		nm.OwnerID = actor.ID
	}
	if dir == DirectionOut && !m.Private && actor.Type != AuthorSystem && e.FollowUpDelay > 0 {
		nm.Outbox = []OutboxItem{FollowUpItem(c.ID, m.ID, m.CreatedAt, e.FollowUpDelay)}
	}
	nm.Outbox = append(nm.Outbox, messageHooks(m)...)
	if dir == DirectionIn {
		nm.Outbox = append(nm.Outbox, e.relayItem(RelayOp{Op: RelayMessage, ConversationID: c.ID, MessageID: m.ID}, m.CreatedAt)...)
	}
	msg, created, err := e.store.AppendMessage(ctx, nm)
	if err != nil {
		return Message{}, false, err
	}
	if !created {
		if msg.Body != m.Body || msg.SentBy.Type != actor.Type || msg.SentBy.ID != actor.ID || !jsonEqual(msg.Payload, m.Payload) || msg.Private != m.Private ||
			!slices.EqualFunc(msg.Attachments, m.Attachments, func(a, b Attachment) bool { return a.ID == b.ID }) {
			return Message{}, false, &ConflictError{Code: "client_message_id_reused", Reason: "this clientMessageId was already used for a different message"}
		}
		return msg, false, nil
	}
	e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &msg})
	if turn != nil {
		if _, err := e.applyAssistantTurn(ctx, c, c.AssistantState, *turn); err != nil {
			e.log.ErrorContext(ctx, "assistant turn", "conversation_id", c.ID, "err", err)
		}
	}
	if start != "" {
		e.startAssistant(ctx, c, start, body)
	}
	return msg, true, nil
}

// GetMessages returns a window of the conversation's messages in seq order.
func (e *Engine) GetMessages(ctx context.Context, actor Actor, conversationID string, q MessageQuery) ([]Message, error) {
	verr := &ValidationError{}
	if q.AfterSeq < 0 {
		verr.Add("afterSeq", "must be 0 or more")
	}
	if q.BeforeSeq < 0 {
		verr.Add("beforeSeq", "must be 0 or more")
	}
	if q.Max == 0 {
		q.Max = DefaultMaxMessage
	}
	if q.Max < 1 || q.Max > MaxMessages {
		verr.Add("max", fmt.Sprintf("must be between 1 and %d", MaxMessages))
	}
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	if _, err := e.ConversationHead(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	// Agents' notes never reach a customer.
	q.IncludePrivate = !actor.IsCustomer() && q.Private != PublicOnly
	if actor.IsCustomer() {
		q.Private = AnyPrivate
	}
	msgs, err := e.store.Messages(ctx, conversationID, q)
	if err != nil {
		return nil, err
	}
	if msgs == nil {
		msgs = []Message{}
	}
	return msgs, nil
}

// MarkRead records that the actor has read the conversation up to seq.
func (e *Engine) MarkRead(ctx context.Context, actor Actor, conversationID string, seq int64) error {
	c, err := e.Conversation(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	if seq < 0 || seq > c.LastSeq {
		return &ValidationError{Fields: map[string]string{"seq": fmt.Sprintf("must be between 0 and %d", c.LastSeq)}}
	}
	reader := ReaderCustomer
	if !actor.IsCustomer() {
		reader = string(actor.Type) + ":" + actor.ID
	}
	if err := e.store.MarkRead(ctx, conversationID, reader, seq); err != nil {
		return err
	}
	e.publish(ctx, Event{Type: EventRead, ConversationID: conversationID, Read: &Read{Reader: reader, Seq: seq}})
	return nil
}

// UnreadByParticipant is the agent side's numberOfunreadMessages: how
// many messages each participant of conversation c has not read, by user
// id: the customer (the organization's messages), and each agent who has
// read it or answers it (the customer's). Only the organization asks.
func (e *Engine) UnreadByParticipant(ctx context.Context, actor Actor, c Conversation) (map[string]int, error) {
	if actor.IsCustomer() {
		return nil, fmt.Errorf("unread by participant: %w", ErrForbidden)
	}
	var also []string
	if c.AssigneeID != "" {
		also = append(also, string(AuthorAgent)+":"+c.AssigneeID)
	}
	byReader, err := e.store.UnreadByReader(ctx, c.ID, also...)
	if err != nil {
		return nil, err
	}
	out := map[string]int{c.CustomerID: c.CustomerUnread}
	for reader, n := range byReader {
		if id, ok := strings.CutPrefix(reader, string(AuthorAgent)+":"); ok {
			out[id] = n
		}
	}
	return out, nil
}

// maxUnreadConversations bounds the conversations UnreadCounts reads.
const maxUnreadConversations = 10_000

// UnreadCounts is the SDK's getUnreadCount for a customer: the messages
// sent to them they have not read, in all and by conversation (those with
// any).
func (e *Engine) UnreadCounts(ctx context.Context, actor Actor) (int, map[string]int, error) {
	if !actor.IsCustomer() {
		return 0, nil, fmt.Errorf("unread counts: %w", ErrForbidden)
	}
	total, per := 0, map[string]int{}
	for offset := 0; offset < maxUnreadConversations; offset += MaxPageSize {
		list, n, err := e.store.Conversations(ctx, ConversationFilter{CustomerID: actor.ID, Summary: true}, offset, MaxPageSize)
		if err != nil {
			return 0, nil, err
		}
		for _, c := range list {
			if c.CustomerUnread > 0 {
				per[c.ID] = c.CustomerUnread
				total += c.CustomerUnread
			}
		}
		if offset+len(list) >= n || len(list) == 0 {
			break
		}
	}
	return total, per, nil
}

// MaxReadIDs bounds the messages one markRead names.
const MaxReadIDs = 100

// MarkMessagesRead is the SDK's markRead: the actor has read the messages
// with these ids, so the conversation up to the latest of them. An id that
// is not a message the actor can see in the conversation is refused,
// naming it. It returns the read position.
func (e *Engine) MarkMessagesRead(ctx context.Context, actor Actor, conversationID string, ids []string) (int64, error) {
	verr := &ValidationError{}
	switch {
	case len(ids) == 0:
		verr.Add("messageIds", "must name at least one message")
	case len(ids) > MaxReadIDs:
		verr.Add("messageIds", fmt.Sprintf("must name at most %d messages", MaxReadIDs))
	}
	var valid []string
	for i, id := range ids {
		if ValidID(id) {
			valid = append(valid, id)
		} else if len(ids) <= MaxReadIDs {
			verr.Add(fmt.Sprintf("messageIds[%d]", i), "is not a message id")
		}
	}
	if len(valid) == 0 || len(ids) > MaxReadIDs {
		return 0, verr
	}
	msgs, err := e.GetMessages(ctx, actor, conversationID, MessageQuery{IDs: valid, Max: len(valid)})
	if err != nil {
		return 0, err
	}
	seqs := make(map[string]int64, len(msgs))
	var seq int64
	for _, m := range msgs {
		seqs[m.ID] = m.Seq
		seq = max(seq, m.Seq)
	}
	for i, id := range ids {
		if _, ok := seqs[id]; !ok && ValidID(id) {
			verr.Add(fmt.Sprintf("messageIds[%d]", i), "is not a message of this conversation")
		}
	}
	if err := verr.OrNil(); err != nil {
		return 0, err
	}
	return seq, e.MarkRead(ctx, actor, conversationID, seq)
}

// Seen is how far the other side of conversation c (as the caller read
// it for actor) has read: for a customer, the furthest any agent has read;
// for an agent, the customer's position.
func (e *Engine) Seen(ctx context.Context, actor Actor, c Conversation) (int64, error) {
	if actor.IsCustomer() && c.CustomerID != actor.ID {
		return 0, fmt.Errorf("conversation %s: %w", c.ID, ErrForbidden)
	}
	pos, err := e.store.ReadPositions(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	return SeenBy(actor, pos), nil
}

// SeenBy is how far the other side has read, from read positions by
// reader: agents' for a customer, the customer's for anybody else.
func SeenBy(actor Actor, positions map[string]int64) int64 {
	if !actor.IsCustomer() {
		return positions[ReaderCustomer]
	}
	var seen int64
	for reader, seq := range positions {
		if strings.HasPrefix(reader, string(AuthorAgent)+":") {
			seen = max(seen, seq)
		}
	}
	return seen
}

// EndConversation ends a conversation, with a system message saying so.
// Ending an ended one is a no-op.
func (e *Engine) EndConversation(ctx context.Context, actor Actor, conversationID string) (Conversation, error) {
	cur, err := e.Conversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	if actor.IsCustomer() {
		if f, ok := e.config.Form(cur.FormID); !ok || !f.AllowCustomerEnd {
			return Conversation{}, &ForbiddenError{Code: "customer_end_not_allowed", Reason: "this conversation can only be ended by the team answering it"}
		}
	}
	at := e.now()
	by := Author{Type: actor.Type, ID: actor.ID, DisplayName: actor.Name}
	event := e.systemEvent(conversationID, actor, at, SystemEvent{Code: "ended", Events: []TypedEvent{closeEvent(actor)}}, "The conversation has ended.")
	event = withHooks(event, endChanges(by, at))
	if actor.IsCustomer() {
		event.Outbox = append(event.Outbox, e.relayItem(RelayOp{Op: RelayEnd, ConversationID: conversationID}, at)...)
	}
	c, m, changed, err := e.store.EndConversation(ctx, conversationID, by, at, event)
	if err != nil {
		return Conversation{}, err
	}
	if changed {
		e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &m})
		e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
	}
	return c, nil
}

// SetTyping publishes an ephemeral typing indicator.
func (e *Engine) SetTyping(ctx context.Context, actor Actor, conversationID string, typing bool) error {
	if _, err := e.Conversation(ctx, actor, conversationID); err != nil {
		return err
	}
	e.publish(ctx, Event{Type: EventTyping, ConversationID: conversationID, Typing: &Typing{Author: Author{Type: actor.Type, ID: actor.ID, DisplayName: actor.Name}, Typing: typing}})
	return nil
}

// Subscribe returns the live events of a conversation the actor may see.
// Subscribe before reading history so that nothing falls between the two.
// Events are not filtered by actor: agents' private notes are published to
// every subscriber, so a transport serving a customer must drop messages
// with Private set.
func (e *Engine) Subscribe(ctx context.Context, actor Actor, conversationID string) (Subscription, error) {
	if _, err := e.ConversationHead(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	return e.broker.Subscribe(conversationID), nil
}

// SubscribeFunc is Subscribe for a subscriber told by notify when events
// wait (see Broker.SubscribeFunc): a socket that starts its writer only
// while there is something to write.
func (e *Engine) SubscribeFunc(ctx context.Context, actor Actor, conversationID string, notify func()) (QueuedSubscription, error) {
	if _, err := e.ConversationHead(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	return e.broker.SubscribeFunc(conversationID, notify), nil
}

// Ping reports whether the store is reachable.
func (e *Engine) Ping(ctx context.Context) error { return e.store.Ping(ctx) }

// normalizeBody turns CRLF into LF and trims trailing white space.
func normalizeBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

func checkBody(verr *ValidationError, field, body string, required bool) {
	switch {
	case !utf8.ValidString(body):
		verr.Add(field, "must be valid UTF-8 text")
	case required && strings.TrimSpace(body) == "":
		verr.AddProblem(field, "empty", nil, "must not be empty")
	case utf8.RuneCountInString(body) > MaxBodyLen:
		n := utf8.RuneCountInString(body)
		verr.AddProblem(field, "too_long", map[string]int{"max": MaxBodyLen, "length": n},
			fmt.Sprintf("must be at most %d characters (it has %d)", MaxBodyLen, n))
	case strings.ContainsRune(body, 0):
		verr.Add(field, "must not contain NUL characters")
	}
}

func checkClientID(verr *ValidationError, id string) {
	if len(id) > MaxClientIDLen {
		verr.Add("clientMessageId", fmt.Sprintf("must be at most %d characters", MaxClientIDLen))
		return
	}
	for _, r := range id {
		if r <= ' ' || r > '~' {
			verr.Add("clientMessageId", "must be printable ASCII without spaces")
			return
		}
	}
}

// preview is the start of a message body, on one line, for conversation lists.
func preview(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= previewLen {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:previewLen-1])) + "…"
}

func validPhone(p string) bool {
	digits := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() .", r):
		default:
			return false
		}
	}
	return digits >= 3 && len(p) <= 32
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// MaxLangLen bounds a language tag (BCP 47 allows long ones; none that a
// page would speak is near it).
const MaxLangLen = 35

// normalizeLang returns tag in its canonical form ("pt-br" → "pt-BR"), ""
// for none, and false when it is not a language tag.
func normalizeLang(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return "", true
	}
	if len(tag) > MaxLangLen {
		return "", false
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", false
	}
	return t.String(), true
}
