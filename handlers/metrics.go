package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoff/handoff/kustomer"
)

// Metrics are the Prometheus collectors of a server. A nil *Metrics records
// nothing.
type Metrics struct {
	requests   *prometheus.HistogramVec
	handoffs   *prometheus.CounterVec
	messages   *prometheus.CounterVec
	sockets    *prometheus.GaugeVec
	storeTx    *prometheus.HistogramVec
	limited    *prometheus.CounterVec
	honeypot   *prometheus.CounterVec
	brokerLag  prometheus.Histogram
	reconnects prometheus.Counter
	ckpt       *prometheus.HistogramVec
	ckptErrs   *prometheus.CounterVec
	emails     *prometheus.CounterVec
	attBytes   prometheus.Counter
	hooks      *prometheus.CounterVec
	hookTries  *prometheus.CounterVec
	hooksOff   prometheus.Counter
	kRequests  *prometheus.CounterVec
	kWebhooks  *prometheus.CounterVec
	signIns    *prometheus.CounterVec
}

var _ kustomer.Observer = (*Metrics)(nil)

// NewMetrics registers handoff's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "handoff_http_request_duration_seconds",
			Help: "HTTP requests by route, method and status, with their latency.",
			// Fine between 0.5 and 10 ms, where pages and API calls
			// fall: a median read from these buckets is within a
			// third of a step of the truth, not a whole 2.5× step.
			// Every bound of the coarser list before stays, for the
			// dashboards and alerts that name one.
			Buckets: []float64{.0005, .00075, .001, .0015, .002, .0025, .003, .004, .005, .0075, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_handoffs_total",
			Help: "Conversations created, by form.",
		}, []string{"form"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_messages_stored_total",
			Help: "Messages stored, by direction (in: from customers) and author type.",
		}, []string{"direction", "author"}),
		attBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "handoff_attachment_bytes_stored_total",
			Help: "Bytes of uploaded files stored.",
		}),
		sockets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "handoff_open_sockets",
			Help: "Open websockets, by kind (customer, agent, inbox).",
		}, []string{"kind"}),
		storeTx: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "handoff_store_transaction_seconds",
			Help:    "Store write transactions by operation, with their latency.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"op"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_rate_limited_total",
			Help: "Requests and socket frames refused for going over a rate limit, by route.",
		}, []string{"route"}),
		honeypot: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_honeypot_total",
			Help: "Form submissions that filled the bot trap and were dropped, by form.",
		}, []string{"form"}),
		brokerLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "handoff_broker_lag_seconds",
			Help:    "Time from an event's publish on one instance to its local publish on another (PostgreSQL broker).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "handoff_broker_reconnects_total",
			Help: "Times the PostgreSQL broker's listening connection was lost and made again (local subscribers then resume).",
		}),
		ckpt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "handoff_sqlite_checkpoint_seconds",
			Help:    "SQLite WAL checkpoints by mode (passive: in the background; restart: the last frames copied while writes wait, so that the WAL starts over; truncate: the backstop, writes wait), with their duration.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"mode"}),
		ckptErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_sqlite_checkpoint_errors_total",
			Help: "SQLite WAL checkpoints that failed or could not finish (readers held the WAL), by mode.",
		}, []string{"mode"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_emails_total",
			Help: "Outbox emails by kind and outcome: sent, retried (a temporary failure), parked (given up, shown to admins), skipped (no longer needed when due).",
		}, []string{"kind", "outcome"}),
	}
	m.hooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_outbox_deliveries_total",
		Help: "Outbox rows of webhooks and of the Kustomer relay settled, by kind (webhook.event: handed to the endpoints; webhook.delivery: posted to one; relay: sent to Kustomer) and outcome: sent, skipped (nothing to send), retried, parked (given up).",
	}, []string{"kind", "outcome"})
	m.hookTries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_webhook_attempts_total",
		Help: "Webhook deliveries tried, by outcome: ok (2xx), failed (another status), refused (no answer).",
	}, []string{"outcome"})
	m.hooksOff = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "handoff_webhook_endpoints_disabled_total",
		Help: "Webhook endpoints disabled because their deliveries kept failing.",
	})
	for _, outcome := range []string{"ok", "failed", "refused"} {
		m.hookTries.WithLabelValues(outcome)
	}
	m.kRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_kustomer_requests_total",
		Help: "Requests to Kustomer's API (relay mode), by operation and HTTP status (error: no answer).",
	}, []string{"op", "status"})
	m.kWebhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_kustomer_webhooks_total",
		Help: "Kustomer webhook deliveries received (relay mode), by outcome: verified, refused (bad signature), duplicate, ignored, invalid, failed.",
	}, []string{"outcome"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_signin_failures_total",
		Help: "Agents' sign-ins refused, by reason: bad_credentials, disabled (the account), throttled (too many failures from the address or for the account).",
	}, []string{"reason"})
	for _, r := range []string{"bad_credentials", "disabled", "throttled"} {
		m.signIns.WithLabelValues(r)
	}
	reg.MustRegister(m.hooks, m.hookTries, m.hooksOff, m.kRequests, m.kWebhooks, m.signIns)
	for _, mode := range []string{"passive", "truncate"} {
		m.ckpt.WithLabelValues(mode)
		m.ckptErrs.WithLabelValues(mode)
	}
	reg.MustRegister(m.requests, m.handoffs, m.messages, m.attBytes, m.sockets, m.storeTx, m.ckpt, m.ckptErrs, m.limited, m.honeypot, m.emails)
	return m
}

// EmailOutcome counts one outbox email's delivery outcome.
func (m *Metrics) EmailOutcome(kind kustomer.OutboxKind, outcome string) {
	if m != nil {
		m.emails.WithLabelValues(string(kind), outcome).Inc()
	}
}

// WebhookOutcome counts one webhook or relay outbox row's outcome.
func (m *Metrics) WebhookOutcome(kind kustomer.OutboxKind, outcome string) {
	if m != nil {
		m.hooks.WithLabelValues(string(kind), outcome).Inc()
	}
}

func (m *Metrics) signInFailed(reason string) {
	if m != nil {
		m.signIns.WithLabelValues(reason).Inc()
	}
}

// KustomerRequest counts one request to Kustomer's API.
func (m *Metrics) KustomerRequest(op, status string) {
	if m != nil {
		m.kRequests.WithLabelValues(op, status).Inc()
	}
}

// KustomerWebhook counts one webhook delivery from Kustomer.
func (m *Metrics) KustomerWebhook(outcome string) {
	if m != nil {
		m.kWebhooks.WithLabelValues(outcome).Inc()
	}
}

// WebhookAttempt counts one delivery attempt's outcome.
func (m *Metrics) WebhookAttempt(outcome string) {
	if m != nil {
		m.hookTries.WithLabelValues(outcome).Inc()
	}
}

// WebhookDisabled counts an endpoint disabled for its failures.
func (m *Metrics) WebhookDisabled() {
	if m != nil {
		m.hooksOff.Inc()
	}
}

// RegisterBroker exposes the PostgreSQL broker's lag and reconnections;
// only instances that run the broker have them.
func (m *Metrics) RegisterBroker(reg prometheus.Registerer) {
	reg.MustRegister(m.brokerLag, m.reconnects)
}

// BrokerLag records one event's publish-to-local-publish time.
func (m *Metrics) BrokerLag(d time.Duration) {
	if m != nil {
		m.brokerLag.Observe(d.Seconds())
	}
}

// BrokerReconnected counts a reconnection of the broker's listener.
func (m *Metrics) BrokerReconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// RegisterHub exposes the hub's event counters.
func (m *Metrics) RegisterHub(reg prometheus.Registerer, stats func() (published, dropped uint64)) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "handoff_events_published_total", Help: "Live events published."},
			func() float64 { p, _ := stats(); return float64(p) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "handoff_subscribers_dropped_total", Help: "Subscribers dropped for falling behind (their sockets resume)."},
			func() float64 { _, d := stats(); return float64(d) }),
	)
}

// RegisterSQLite exposes the size of the SQLite write-ahead log, read from
// walBytes at each scrape.
func (m *Metrics) RegisterSQLite(reg prometheus.Registerer, walBytes func() int64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "handoff_sqlite_wal_bytes", Help: "Size of the SQLite write-ahead log file."},
		func() float64 { return float64(walBytes()) }))
}

func (m *Metrics) observeRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *Metrics) socketOpened(kind string) {
	if m != nil {
		m.sockets.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) socketClosed(kind string) {
	if m != nil {
		m.sockets.WithLabelValues(kind).Dec()
	}
}

// ConversationCreated implements kustomer.Observer.
func (m *Metrics) ConversationCreated(formID string) {
	if m != nil {
		m.handoffs.WithLabelValues(formID).Inc()
	}
}

// MessageStored implements kustomer.Observer.
func (m *Metrics) MessageStored(msg kustomer.Message) {
	if m != nil {
		m.messages.WithLabelValues(string(msg.Direction), string(msg.SentBy.Type)).Inc()
	}
}

// AttachmentStored implements kustomer.Observer.
func (m *Metrics) AttachmentStored(size int64) {
	if m != nil {
		m.attBytes.Add(float64(size))
	}
}

// ObserveTx records a store transaction's latency.
func (m *Metrics) ObserveTx(op string, d time.Duration) {
	if m != nil {
		m.storeTx.WithLabelValues(op).Observe(d.Seconds())
	}
}

func (m *Metrics) rateLimited(route string) {
	if m != nil {
		m.limited.WithLabelValues(route).Inc()
	}
}

func (m *Metrics) honeypotFilled(form string) {
	if m != nil {
		m.honeypot.WithLabelValues(form).Inc()
	}
}

// ObserveCheckpoint records a SQLite WAL checkpoint's duration and failure.
func (m *Metrics) ObserveCheckpoint(mode string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.ckpt.WithLabelValues(mode).Observe(d.Seconds())
	if err != nil {
		m.ckptErrs.WithLabelValues(mode).Inc()
	}
}

// RegisterOutbox exposes the outbox rows waiting (pending) and given up
// (parked) by kind, counted by counts at each scrape.
func (m *Metrics) RegisterOutbox(reg prometheus.Registerer, counts func(ctx context.Context) ([]kustomer.OutboxCount, error)) {
	reg.MustRegister(outboxCollector{counts: counts, desc: prometheus.NewDesc("handoff_outbox_rows",
		"Outbox rows (emails queued) not yet delivered, by kind and state: pending (waiting or being retried) or parked (given up, shown to admins).",
		[]string{"kind", "state"}, nil)})
}

type outboxCollector struct {
	counts func(ctx context.Context) ([]kustomer.OutboxCount, error)
	desc   *prometheus.Desc
}

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n.N), string(n.Kind), string(n.State))
	}
}
