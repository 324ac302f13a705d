// Package pgbroker carries live events between handoff instances that share
// one PostgreSQL database, with LISTEN/NOTIFY.
//
// Every instance keeps its in-process kustomer.Hub for its own sockets. An
// event published here goes to the local hub at once and is announced to
// the other instances by a NOTIFY that carries ids and seqs only; they read
// the content back from the store and publish it to their own hubs. NOTIFY
// is sent on a connection of its own, after the change committed (the
// Engine publishes only then), and many events share one NOTIFY: a
// transaction that notifies takes a global lock at commit, so notifying
// inside the hot write transactions would serialise them.
//
// Each instance LISTENs on one dedicated connection. When it drops, the
// broker reconnects with backoff, LISTENs again, and only then drops every
// local subscriber: their sockets close and their clients resume from their
// last seq, reading from the store whatever was announced while the broker
// was away.
package pgbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/handoff/handoff/kustomer"
)

// DefaultChannel is the NOTIFY channel every instance listens on. NOTIFY
// reaches the sessions of one database only.
const DefaultChannel = "handoff_events"

var channelRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// maxPayload keeps a NOTIFY payload under PostgreSQL's 8,000-byte limit.
const maxPayload = 7000

// Store is what the broker reads back from the shared store.
type Store interface {
	Conversation(ctx context.Context, id string) (kustomer.Conversation, error)
	Messages(ctx context.Context, conversationID string, q kustomer.MessageQuery) ([]kustomer.Message, error)
	Agent(ctx context.Context, id string) (kustomer.Agent, error)
}

// Observer is told how the broker fares; nil methods are not called.
type Observer struct {
	// Lag is the time from the publishing instance's publish to this
	// instance's local publish, for every event received.
	Lag func(time.Duration)
	// Reconnected is called each time the listening connection is back
	// after a loss.
	Reconnected func()
	// Notified is called for every NOTIFY sent, with the events it carried.
	Notified func(events int)
}

// Broker implements kustomer.Broker across instances.
type Broker struct {
	url      string
	channel  string
	local    *kustomer.Hub
	store    Store
	log      *slog.Logger
	obs      Observer
	instance string

	queue    chan note
	overflow chan struct{} // signalled when the queue overflowed
	cancel   context.CancelFunc
	done     sync.WaitGroup

	// workers deliver received notes side by side, each the notes of the
	// conversations that hash to it, in the order they were announced.
	workers []chan []note
}

// deliverers is how many conversations' announcements are read back from
// the store at once: reading them one after the other would make every
// conversation wait for the store's answers about all the others.
const deliverers = 8

// note is one event as announced: ids and seqs, never content.
type note struct {
	Type   kustomer.EventType `json:"t"`
	Conv   string             `json:"c,omitempty"`
	Seq    int64              `json:"s,omitempty"`
	At     int64              `json:"at"` // publish time, Unix microseconds
	Agent  string             `json:"a,omitempty"`
	Typing *kustomer.Typing   `json:"ty,omitempty"`
	Reader string             `json:"r,omitempty"`
	Msg    string             `json:"m,omitempty"` // a relayed message's id
}

// payload is one NOTIFY: the sending instance and its events, or a resync
// request when the sender lost some.
type payload struct {
	Instance string `json:"i"`
	Notes    []note `json:"n,omitempty"`
	Resync   bool   `json:"resync,omitempty"`
}

// Options configure a Broker.
type Options struct {
	Logger   *slog.Logger
	Observer Observer
	// Channel is the NOTIFY channel (a plain identifier); default
	// DefaultChannel.
	Channel string
	// QueueSize bounds the events waiting to be announced; past it the
	// other instances are told to resync instead. Default 65,536.
	QueueSize int
}

// New connects to PostgreSQL at url, LISTENs, and returns a broker that
// publishes to local and reads content from store. Close stops it.
func New(ctx context.Context, url string, local *kustomer.Hub, store Store, opts Options) (*Broker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Channel == "" {
		opts.Channel = DefaultChannel
	}
	if !channelRE.MatchString(opts.Channel) {
		return nil, fmt.Errorf("pgbroker: channel %q: want letters, digits and _", opts.Channel)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1 << 16
	}
	id := make([]byte, 8)
	rand.Read(id)
	b := &Broker{
		url: url, channel: opts.Channel, local: local, store: store, log: opts.Logger, obs: opts.Observer,
		instance: hex.EncodeToString(id), queue: make(chan note, opts.QueueSize),
		overflow: make(chan struct{}, 1),
	}
	// The first connection is made here so that a wrong URL fails start-up.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("pgbroker: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+b.channel); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("pgbroker: listen: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.workers = make([]chan []note, deliverers)
	b.done.Add(2 + len(b.workers))
	for i := range b.workers {
		b.workers[i] = make(chan []note, 256)
		go b.deliverer(rctx, b.workers[i])
	}
	go b.listen(rctx, conn)
	go b.notify(rctx)
	return b, nil
}

// Close stops listening and notifying; events still queued are dropped
// (the other instances resync when they notice this one's sockets moved).
func (b *Broker) Close() {
	b.cancel()
	b.done.Wait()
}

// Subscribe implements kustomer.Broker: subscriptions are local.
func (b *Broker) Subscribe(conversationID string) kustomer.Subscription {
	return b.local.Subscribe(conversationID)
}

// SubscribeFunc implements kustomer.Broker: subscriptions are local.
func (b *Broker) SubscribeFunc(conversationID string, notify func()) kustomer.QueuedSubscription {
	return b.local.SubscribeFunc(conversationID, notify)
}

// Publish implements kustomer.Broker: the local hub gets the event now,
// the other instances an announcement soon after. It never blocks.
func (b *Broker) Publish(ctx context.Context, ev kustomer.Event) error {
	err := b.local.Publish(ctx, ev)
	n, ok := noteOf(ev)
	if !ok {
		return err
	}
	select {
	case b.queue <- n:
	default:
		// The announcements cannot keep up: the other instances will be
		// told to resync rather than miss events silently.
		select {
		case b.overflow <- struct{}{}:
		default:
		}
	}
	return err
}

func noteOf(ev kustomer.Event) (note, bool) {
	n := note{Type: ev.Type, Conv: ev.ConversationID, At: time.Now().UnixMicro()}
	switch ev.Type {
	case kustomer.EventMessageCreated:
		if ev.Message == nil {
			return n, false
		}
		n.Seq = ev.Message.Seq
	case kustomer.EventConversationCreated, kustomer.EventConversationUpdated:
	case kustomer.EventTyping:
		if ev.Typing == nil {
			return n, false
		}
		n.Typing = ev.Typing
	case kustomer.EventRead:
		if ev.Read == nil {
			return n, false
		}
		n.Reader, n.Seq = ev.Read.Reader, ev.Read.Seq
	case kustomer.EventAgentUpdated:
		if ev.Agent == nil {
			return n, false
		}
		n.Agent, n.Conv = ev.Agent.ID, ""
	case kustomer.EventMessageRelayed:
		if ev.Message == nil {
			return n, false
		}
		n.Msg = ev.Message.ID
	default:
		return n, false
	}
	return n, true
}

// notify sends queued announcements, as many as fit in one NOTIFY each
// time, on a connection of its own.
func (b *Broker) notify(ctx context.Context) {
	defer b.done.Done()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	var pending []byte // a payload that could not be sent yet
	var carry *note    // a note that did not fit in the last payload
	backoff := newBackoff()
	for {
		if pending == nil {
			p := payload{Instance: b.instance}
			if carry != nil {
				p.Notes = []note{*carry}
			} else {
				select {
				case <-ctx.Done():
					return
				case <-b.overflow:
					p.Resync = true
					b.log.WarnContext(ctx, "pgbroker: announcements fell behind; telling the other instances to resync")
				case n := <-b.queue:
					p.Notes = []note{n}
				}
			}
			if !p.Resync {
				carry = b.fill(&p)
			}
			pending, _ = json.Marshal(p)
		}
		if conn == nil {
			c, err := pgx.Connect(ctx, b.url)
			if err != nil {
				if !backoff.wait(ctx) {
					return
				}
				continue
			}
			conn = c
		}
		if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", b.channel, string(pending)); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.WarnContext(ctx, "pgbroker: notify failed; reconnecting", "err", err)
			conn.Close(context.Background())
			conn = nil
			if !backoff.wait(ctx) {
				return
			}
			continue
		}
		backoff.reset()
		if b.obs.Notified != nil {
			var p payload
			_ = json.Unmarshal(pending, &p)
			b.obs.Notified(len(p.Notes))
		}
		pending = nil
	}
}

// fill adds queued notes to p while its encoding stays under maxPayload,
// and returns the first note that did not fit, if any.
func (b *Broker) fill(p *payload) *note {
	size := 64 // the envelope
	for _, n := range p.Notes {
		size += noteSize(n)
	}
	for {
		select {
		case n := <-b.queue:
			s := noteSize(n)
			if size+s > maxPayload {
				return &n
			}
			p.Notes = append(p.Notes, n)
			size += s
		default:
			return nil
		}
	}
}

func noteSize(n note) int {
	enc, _ := json.Marshal(n)
	return len(enc) + 1
}

// listen receives the other instances' announcements on conn, reconnecting
// when it drops.
func (b *Broker) listen(ctx context.Context, conn *pgx.Conn) {
	defer b.done.Done()
	backoff := newBackoff()
	for {
		err := b.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		b.log.WarnContext(ctx, "pgbroker: lost the listening connection; reconnecting", "err", err)
		for {
			if !backoff.wait(ctx) {
				return
			}
			c, err := pgx.Connect(ctx, b.url)
			if err == nil {
				if _, err = c.Exec(ctx, "LISTEN "+b.channel); err == nil {
					conn = c
					break
				}
				c.Close(context.Background())
			}
			b.log.WarnContext(ctx, "pgbroker: reconnect failed", "err", err)
		}
		backoff.reset()
		// Listening again, and only now: whatever was announced while the
		// connection was down is in the store. Every local subscriber
		// resumes from its last seq.
		b.local.DropAll()
		if b.obs.Reconnected != nil {
			b.obs.Reconnected()
		}
		b.log.InfoContext(ctx, "pgbroker: listening again; local subscribers resume from the store")
	}
}

func (b *Broker) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var p payload
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			b.log.WarnContext(ctx, "pgbroker: unreadable announcement", "err", err)
			continue
		}
		if p.Instance == b.instance {
			continue
		}
		if p.Resync {
			b.local.DropAll()
			continue
		}
		if !b.dispatch(ctx, p.Notes) {
			return ctx.Err()
		}
	}
}

// dispatch hands notes to the deliverers, each note to the one its
// conversation (or agent) hashes to, so that one conversation's events
// stay in order; false when ctx ended first. A deliverer whose queue is
// full holds the listener back (and PostgreSQL queues the notifications)
// rather than drop anything.
func (b *Broker) dispatch(ctx context.Context, notes []note) bool {
	parts := make([][]note, len(b.workers))
	for _, n := range notes {
		key := n.Conv
		if key == "" {
			key = n.Agent
		}
		i := shard(key, len(b.workers))
		parts[i] = append(parts[i], n)
	}
	for i, part := range parts {
		if len(part) == 0 {
			continue
		}
		select {
		case b.workers[i] <- part:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// shard is FNV-1a of key, modulo n.
func shard(key string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// deliverer delivers the notes queued for it, those that arrived together
// in one go.
func (b *Broker) deliverer(ctx context.Context, queue chan []note) {
	defer b.done.Done()
	var notes []note
	for {
		select {
		case <-ctx.Done():
			return
		case part := <-queue:
			notes = append(notes[:0], part...)
		}
	more:
		for len(notes) < 1024 {
			select {
			case part := <-queue:
				notes = append(notes, part...)
			default:
				break more
			}
		}
		b.deliver(ctx, notes)
	}
}

// deliver reads each announced event's content from the store and
// publishes it locally. Messages of one conversation are read in one query.
func (b *Broker) deliver(ctx context.Context, notes []note) {
	type window struct{ min, max int64 }
	windows := map[string]*window{}
	for _, n := range notes {
		if n.Type != kustomer.EventMessageCreated {
			continue
		}
		w := windows[n.Conv]
		if w == nil {
			windows[n.Conv] = &window{n.Seq, n.Seq}
			continue
		}
		w.min, w.max = min(w.min, n.Seq), max(w.max, n.Seq)
	}
	msgs := map[string]map[int64]kustomer.Message{}
	for conv, w := range windows {
		got, err := b.store.Messages(ctx, conv, kustomer.MessageQuery{AfterSeq: w.min - 1, BeforeSeq: w.max + 1, Max: int(min(w.max-w.min+1, kustomer.MaxMessages)), IncludePrivate: true})
		if err != nil {
			b.log.WarnContext(ctx, "pgbroker: read announced messages", "conversation_id", conv, "err", err)
			continue
		}
		bySeq := make(map[int64]kustomer.Message, len(got))
		for _, m := range got {
			bySeq[m.Seq] = m
		}
		msgs[conv] = bySeq
	}
	for _, n := range notes {
		ev := kustomer.Event{Type: n.Type, ConversationID: n.Conv, Memo: &kustomer.Memo{}}
		switch n.Type {
		case kustomer.EventMessageCreated:
			m, ok := msgs[n.Conv][n.Seq]
			if !ok {
				// Not readable (yet, or any more): the subscribers' gap
				// fill reads it when the next message arrives.
				continue
			}
			ev.Message = &m
		case kustomer.EventConversationCreated, kustomer.EventConversationUpdated:
			c, err := b.store.Conversation(ctx, n.Conv)
			if err != nil {
				b.log.WarnContext(ctx, "pgbroker: read announced conversation", "conversation_id", n.Conv, "err", err)
				continue
			}
			ev.Conversation = &c
		case kustomer.EventTyping:
			ev.Typing = n.Typing
		case kustomer.EventMessageRelayed:
			ev.Message = &kustomer.Message{ID: n.Msg, ConversationID: n.Conv}
		case kustomer.EventRead:
			ev.Read = &kustomer.Read{Reader: n.Reader, Seq: n.Seq}
		case kustomer.EventAgentUpdated:
			a, err := b.store.Agent(ctx, n.Agent)
			if err != nil {
				b.log.WarnContext(ctx, "pgbroker: read announced agent", "agent_id", n.Agent, "err", err)
				continue
			}
			ev.ConversationID = kustomer.AllConversations
			ev.Agent = &a
		default:
			continue
		}
		if err := b.local.Publish(ctx, ev); err != nil {
			b.log.WarnContext(ctx, "pgbroker: publish locally", "type", ev.Type, "err", err)
		}
		if b.obs.Lag != nil {
			b.obs.Lag(time.Since(time.UnixMicro(n.At)))
		}
	}
}

// backoff waits 100 ms, doubling to 5 s, between reconnection attempts.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 100 * time.Millisecond} }
func (b *backoff) reset()  { b.d = 100 * time.Millisecond }

// wait sleeps the current delay and doubles it; false when ctx ended.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.d)
	defer t.Stop()
	b.d = min(2*b.d, 5*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
