// Package handlers is handoff's HTTP layer: every route, request parsing and
// validation, the central error handler, and the websocket pumps.
package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/session"
)

// Engine is what the handlers need of kustomer.Engine.
type Engine interface {
	Config() *kustomer.Config
	CreateConversation(ctx context.Context, in kustomer.CreateConversationInput) (kustomer.Conversation, bool, error)
	Conversation(ctx context.Context, actor kustomer.Actor, id string) (kustomer.Conversation, error)
	ConversationHead(ctx context.Context, actor kustomer.Actor, id string) (kustomer.Conversation, error)
	DescribeConversation(ctx context.Context, actor kustomer.Actor, id string, attrs kustomer.Attributes) (kustomer.Conversation, error)
	GetConversations(ctx context.Context, actor kustomer.Actor, customerID string, page, pageSize int) (kustomer.ConversationPage, error)
	SendMessage(ctx context.Context, actor kustomer.Actor, in kustomer.SendMessageInput) (kustomer.Message, bool, error)
	GetMessages(ctx context.Context, actor kustomer.Actor, conversationID string, q kustomer.MessageQuery) ([]kustomer.Message, error)
	MarkRead(ctx context.Context, actor kustomer.Actor, conversationID string, seq int64) error
	SetAgentNote(ctx context.Context, actor kustomer.Actor, conversationID, text string) (kustomer.AgentNote, bool, error)
	AgentNotes(ctx context.Context, actor kustomer.Actor, conversationID string) ([]kustomer.AgentNote, error)
	RelayPending(ctx context.Context, conversationID string) (map[string]bool, error)
	// Outbound webhooks (admins and the organization API).
	CreateWebhook(ctx context.Context, by kustomer.Actor, in kustomer.WebhookInput) (kustomer.Webhook, error)
	UpdateWebhook(ctx context.Context, by kustomer.Actor, id string, in kustomer.WebhookInput) (kustomer.Webhook, error)
	RotateWebhookSecret(ctx context.Context, by kustomer.Actor, id string) (kustomer.Webhook, error)
	DeleteWebhook(ctx context.Context, by kustomer.Actor, id string) error
	Webhook(ctx context.Context, id string) (kustomer.Webhook, error)
	Webhooks(ctx context.Context) ([]kustomer.Webhook, error)
	WebhookAttempts(ctx context.Context, id string, limit int) ([]kustomer.WebhookAttempt, error)
	WebhookDeliveries(ctx context.Context, id string, state kustomer.OutboxState, limit int) ([]kustomer.OutboxItem, error)
	ResendWebhookDelivery(ctx context.Context, by kustomer.Actor, webhookID, deliveryID string) error
	ResendFailedWebhookDeliveries(ctx context.Context, by kustomer.Actor, webhookID string) (int, error)
	UnreadByParticipant(ctx context.Context, actor kustomer.Actor, c kustomer.Conversation) (map[string]int, error)
	Transfer(ctx context.Context, actor kustomer.Actor, conversationID string, in kustomer.TransferInput) (kustomer.Conversation, error)
	AcceptSuggestion(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	SetTTR(ctx context.Context, actor kustomer.Actor, conversationID, ttrType string, value int64) (kustomer.Conversation, error)
	SetManualETTR(ctx context.Context, actor kustomer.Actor, conversationID string, when *time.Time) (kustomer.Conversation, error)
	MarkMessagesRead(ctx context.Context, actor kustomer.Actor, conversationID string, ids []string) (int64, error)
	UnreadCounts(ctx context.Context, actor kustomer.Actor) (int, map[string]int, error)
	Seen(ctx context.Context, actor kustomer.Actor, c kustomer.Conversation) (int64, error)
	EndConversation(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	SetTyping(ctx context.Context, actor kustomer.Actor, conversationID string, typing bool) error
	SubscribeFunc(ctx context.Context, actor kustomer.Actor, conversationID string, notify func()) (kustomer.QueuedSubscription, error)
	Ping(ctx context.Context) error

	// Attachments.
	UploadAttachment(ctx context.Context, actor kustomer.Actor, conversationID, name string, r io.Reader) (kustomer.Attachment, error)
	Attachment(ctx context.Context, actor kustomer.Actor, id string) (kustomer.StoredAttachment, error)
	CopyAttachment(ctx context.Context, a kustomer.StoredAttachment, w io.Writer) (int64, error)

	// Agent side.
	Join(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	TransferToAgent(ctx context.Context, actor kustomer.Actor, conversationID, agentID string) (kustomer.Conversation, error)
	TransferToSkill(ctx context.Context, actor kustomer.Actor, conversationID, skill string) (kustomer.Conversation, error)
	Unassign(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	ReopenConversation(ctx context.Context, actor kustomer.Actor, conversationID string) (kustomer.Conversation, error)
	RateConversation(ctx context.Context, actor kustomer.Actor, conversationID string, rating int, comment string) (kustomer.Conversation, error)
	Inbox(ctx context.Context, actor kustomer.Actor, f kustomer.ConversationFilter, page, pageSize int) (kustomer.ConversationPage, error)
	SearchConversations(ctx context.Context, actor kustomer.Actor, f kustomer.ConversationFilter, query string, page, pageSize int) (kustomer.ConversationPage, error)
	Customer(ctx context.Context, actor kustomer.Actor, id string) (kustomer.Customer, error)
	DescribeCustomer(ctx context.Context, actor kustomer.Actor, id string, in kustomer.DescribeCustomerInput) (kustomer.Customer, error)
	SubscribeAll(ctx context.Context, actor kustomer.Actor) (kustomer.Subscription, error)
	SubscribeAllFunc(ctx context.Context, actor kustomer.Actor, notify func()) (kustomer.QueuedSubscription, error)

	// Accounts.
	Authenticate(ctx context.Context, email, password string) (kustomer.Agent, error)
	Agent(ctx context.Context, id string) (kustomer.Agent, error)
	Agents(ctx context.Context) ([]kustomer.Agent, error)
	CreateAgent(ctx context.Context, by kustomer.Actor, in kustomer.NewAgentInput) (kustomer.Agent, error)
	UpdateAgent(ctx context.Context, by kustomer.Actor, id string, in kustomer.UpdateAgentInput) (kustomer.Agent, error)
	StartAgentSession(ctx context.Context, agentID string) (kustomer.AgentSession, error)
	AgentBySession(ctx context.Context, agentID, sessionID string) (kustomer.Agent, error)
	EndAgentSession(ctx context.Context, agentID, sessionID string) error
	EndAgentSessions(ctx context.Context, by kustomer.Actor, agentID string) error
	ChangePassword(ctx context.Context, agentID, sessionID, current, next string) error

	// Presence and assignment.
	SetAgentStatus(ctx context.Context, agentID string, status kustomer.AgentStatus, auto bool) (kustomer.Agent, error)
	TouchAgent(ctx context.Context, agentID string)
	AnyoneAvailable(ctx context.Context) (bool, error)
	AgentCounts(ctx context.Context, a kustomer.Agent) (kustomer.AgentCounts, error)
	ConsoleNotice(ctx context.Context, ev kustomer.Event) (*kustomer.Notice, error)

	// Forms and their assistants.
	FormAssistant(ctx context.Context, formID string) (string, bool, error)
	SetFormAssistant(ctx context.Context, by kustomer.Agent, formID, assistantID string) error
	FormAudit(ctx context.Context, limit int) ([]kustomer.FormAuditEntry, error)
	AuditLog(ctx context.Context, by kustomer.Agent, q kustomer.AuditQuery) ([]kustomer.AuditEntry, error)
	Report(ctx context.Context, by kustomer.Agent, q kustomer.ReportQuery) (kustomer.Report, error)

	// Labels.
	Labels(ctx context.Context) ([]kustomer.Label, error)
	Label(ctx context.Context, id string) (kustomer.Label, error)
	CreateLabel(ctx context.Context, by kustomer.Agent, in kustomer.LabelInput) (kustomer.Label, error)
	UpdateLabel(ctx context.Context, by kustomer.Agent, id string, in kustomer.LabelInput) (kustomer.Label, error)
	DeleteLabel(ctx context.Context, by kustomer.Agent, id string) error
	SetConversationLabels(ctx context.Context, actor kustomer.Actor, conversationID string, labelIDs []string) (kustomer.Conversation, error)

	// Saved replies.
	SavedReplies(ctx context.Context, by kustomer.Agent) ([]kustomer.SavedReply, error)
	SavedReply(ctx context.Context, by kustomer.Agent, id string) (kustomer.SavedReply, error)
	CreateSavedReply(ctx context.Context, by kustomer.Agent, in kustomer.SavedReplyInput) (kustomer.SavedReply, error)
	UpdateSavedReply(ctx context.Context, by kustomer.Agent, id string, in kustomer.SavedReplyInput) (kustomer.SavedReply, error)
	DeleteSavedReply(ctx context.Context, by kustomer.Agent, id string) error
	AssistantIDs() []string
	FormOrigins(ctx context.Context, formID string) ([]string, bool, error)
	SetFormOrigins(ctx context.Context, by kustomer.Agent, formID string, origins []string) error
	ResetFormOrigins(ctx context.Context, by kustomer.Agent, formID string) error
	UseOnce(ctx context.Context, key string, expires time.Time) error

	// Email.
	RequestEmailLink(ctx context.Context, conversationID, customerID string) error
	StopFollowUps(ctx context.Context, customerID string) error
	RequestTranscript(ctx context.Context, actor kustomer.Actor, conversationID string) error
	OutboxItems(ctx context.Context, state kustomer.OutboxState, limit int) ([]kustomer.OutboxItem, error)
}

// Options configure the handlers.
type Options struct {
	// BaseURL is the public URL of the site, e.g. https://chat.example.com.
	BaseURL *url.URL
	// FrameOrigins may frame every form besides each form's own allowed
	// origins: the demo host page of `make run`, on whatever port it got.
	FrameOrigins []string
	// APIToken authenticates the organization API; empty disables it.
	APIToken string
	Logger   *slog.Logger
	// Shutdown is closed when the server begins to shut down; open sockets
	// then close with "going away" so their clients resume elsewhere.
	Shutdown <-chan struct{}
	// Metrics records request and socket metrics; nil records nothing.
	Metrics *Metrics
	// MetricsHandler serves /metrics on the public listener when set.
	MetricsHandler http.Handler
	// Limits are the abuse limits of forms that set none; unset values
	// are kustomer.DefaultLimits.
	Limits kustomer.Limits
	// TrustedProxies are the networks whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; without them the connection's
	// address is the client's.
	TrustedProxies []netip.Prefix
	// MailFiles, when set, are the emails written instead of sent (no
	// SMTP server): admins list them at /admin/mail.
	MailFiles MailFiles
	// KustomerWebhook, when set, answers POST /webhooks/kustomer (the
	// relay to a Kustomer organization).
	KustomerWebhook http.Handler
	// Relay is on when the engine relays customers' messages (Kustomer
	// mode): the chat says a message is being passed on until it arrives.
	Relay bool
	// ReadyDetail, when set, adds what it returns to /readyz (the relay's
	// state); it does not decide readiness.
	ReadyDetail func(ctx context.Context) any
	// AwayAfter is how long the console waits without the agent's
	// activity before setting them away; 0 is kustomer.AwayAfter.
	AwayAfter time.Duration
}

// awayAfter is Options.AwayAfter or its default.
func (s *Server) awayAfter() time.Duration {
	if s.opts.AwayAfter > 0 {
		return s.opts.AwayAfter
	}
	return kustomer.AwayAfter
}

// Server holds the handlers' dependencies.
type Server struct {
	engine   Engine
	sessions *session.Manager
	opts     Options
	log      *slog.Logger
	sockets  socketTunables
	echo     *echo.Echo
	open     sync.WaitGroup // open websockets
	signins  *throttle
	limiter  *buckets // hand-off and send rate limits
	uploads  uploadBudget
	// agentSockets closes the sockets of agent sessions that end.
	agentSockets agentSockets
	// writeBuffers lends websocket write buffers to sockets while they
	// write.
	writeBuffers sync.Pool
	// closing is done once Options.Shutdown is closed: sockets close on it
	// with context.AfterFunc, holding no goroutine each to wait.
	closing context.Context
}

// New returns the server; it is an http.Handler serving every route.
func New(engine Engine, sessions *session.Manager, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Limits = opts.Limits.Over(kustomer.DefaultLimits)
	s := &Server{engine: engine, sessions: sessions, opts: opts, log: opts.Logger, sockets: defaultSocketTunables(), signins: newThrottle(), limiter: newBuckets(), uploads: defaultUploadBudget}
	s.agentSockets.srv = s
	s.closing = context.Background()
	if opts.Shutdown != nil {
		closing, cancel := context.WithCancel(context.Background())
		go func() {
			<-opts.Shutdown
			cancel()
		}()
		s.closing = closing
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	s.routes(e)
	s.echo = e
	return s
}

// ServeHTTP implements http.Handler. HEAD is answered as GET without the
// body (echo routes GET only).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		s.echo.ServeHTTP(headWriter{w}, get)
		return
	}
	s.echo.ServeHTTP(w, r)
}

// Wait blocks until every open websocket has closed (they close when
// Options.Shutdown is closed) or ctx is done.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.open.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// render writes a component with status, into a buffer first so that a
// failing template never sends half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderBuffers lends the buffers pages and messages are rendered into: a
// 100-message page is tens of kilobytes, which a new buffer would grow to
// (and the collector clear) again on every view.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putRenderBuffer returns buf to renderBuffers, unless an unusually long
// page or message grew it.
func putRenderBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 256<<10 {
		return
	}
	buf.Reset()
	renderBuffers.Put(buf)
}

// customer returns the acting customer of the request, if any.
func (s *Server) customer(c echo.Context) (kustomer.Actor, bool) {
	id := s.sessions.CustomerID(c.Request())
	if id == "" {
		return kustomer.Actor{}, false
	}
	return kustomer.CustomerActor(id), true
}

// requireCustomer is customer for routes that need a session: without one
// the visitor owns no conversation, so access is forbidden.
func (s *Server) requireCustomer(c echo.Context) (kustomer.Actor, error) {
	a, ok := s.customer(c)
	if !ok {
		return a, kustomer.ErrForbidden
	}
	return a, nil
}

// formTitle is form id's title in language lang ("" for the fallback),
// or "Conversation" for a form that is gone.
func (s *Server) formTitle(id, lang string) string {
	if f, ok := s.engine.Config().Form(id); ok {
		return f.Title.In(lang)
	}
	return "Conversation"
}

// noStore marks a response as private to the visitor.
func noStore(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }

// noStoreMiddleware marks every response of a route group private, errors
// included.
func noStoreMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		return next(c)
	}
}
