// Command handoff serves web forms that hand customers off to a live chat.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/handoff/handoff/handlers"
	"github.com/handoff/handoff/handlers/notify"
	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
	"github.com/handoff/handoff/kustomer/cloud"
	"github.com/handoff/handoff/kustomer/mail"
	"github.com/handoff/handoff/kustomer/pgbroker"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/kustomer/webhook"
	"github.com/handoff/handoff/session"
	"github.com/handoff/handoff/views/locale"
)

// defaultMetricsAddr is where /metrics and the profiles are served unless
// HANDOFF_METRICS_ADDR says otherwise: this machine only.
const defaultMetricsAddr = "127.0.0.1:9464"

// demoConfig is handoff.yaml as shipped: the configuration of a binary
// started without one.
//
//go:embed handoff.yaml
var demoConfig []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "handoff:", err)
		os.Exit(1)
	}
}

// config is the validated start-up configuration.
type config struct {
	addr        string
	dataDir     string
	databaseURL string // PostgreSQL; empty: SQLite in dataDir. It holds credentials: never log it (dbTarget)
	configPath  string
	// configGiven: HANDOFF_CONFIG or --config named the file; otherwise a
	// missing ./handoff.yaml means the embedded demo configuration.
	configGiven bool
	// warnings are said once the log exists (secrets given as flags).
	warnings    []string
	baseURL     string
	sessionKeys string
	apiToken    string
	logFormat   string
	logLevel    slog.Level
	adminEmail  string
	adminPass   string
	adminName   string
	metricsAddr string
	demoAddr    string
	// trustedProxies are the networks whose forwarding headers are
	// believed.
	trustedProxies []netip.Prefix
	// limits are the abuse limits of forms that set none.
	limits kustomer.Limits
	// smtp is HANDOFF_SMTP_URL parsed; nil writes emails as .eml files
	// in the data directory. It holds a password: never log it.
	smtp          *mail.SMTPConfig
	mailFrom      string
	followUpDelay time.Duration // 0: no follow-up emails
	mailRetryMin  time.Duration // the first retry's wait after a failed send
	awayAfter     time.Duration // the console's wait without activity before "away"
	// webhookRetryMin is the first retry's wait after a failed webhook
	// delivery.
	webhookRetryMin time.Duration
	// backend is "embedded" (the default) or "kustomer": relay to a
	// Kustomer organization (kustomer holds its settings).
	backend  string
	kustomer kustomerConfig
}

// kustomerConfig is the relay to a Kustomer organization. The key and the
// secret are secrets: never log them.
type kustomerConfig struct {
	apiURL, apiKey, webhookSecret, agentName string
}

// parseConfig reads environment variables, overridden by flags, and checks
// every setting, naming the one that is wrong.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	// A secret comes from its variable or from the file NAME_FILE names
	// (Docker and systemd credentials); the first problem is reported
	// after the flags are parsed.
	var secretErr error
	secret := func(name string) string {
		v, err := secretSetting(getenv, name)
		if err != nil && secretErr == nil {
			secretErr = err
		}
		return v
	}
	fs := flag.NewFlagSet("handoff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("HANDOFF_ADDR", "127.0.0.1:8080"), "listen address (HANDOFF_ADDR)")
	fs.StringVar(&c.dataDir, "data-dir", env("HANDOFF_DATA_DIR", "./data"), "directory for the SQLite file and development keys (HANDOFF_DATA_DIR)")
	fs.StringVar(&c.databaseURL, "database-url", secret("HANDOFF_DATABASE_URL"), "PostgreSQL URL, postgres://user:password@host:5432/db?sslmode=…; empty keeps SQLite in the data directory (HANDOFF_DATABASE_URL or HANDOFF_DATABASE_URL_FILE; a secret, never logged)")
	fs.StringVar(&c.configPath, "config", env("HANDOFF_CONFIG", "./handoff.yaml"), "forms and attributes file (HANDOFF_CONFIG)")
	fs.StringVar(&c.baseURL, "base-url", env("HANDOFF_BASE_URL", ""), "public URL of the site, e.g. https://chat.example.com (HANDOFF_BASE_URL)")
	fs.StringVar(&c.sessionKeys, "session-keys", secret("HANDOFF_SESSION_KEYS"), "session key pairs authHex:encHex, comma separated, newest first (HANDOFF_SESSION_KEYS or HANDOFF_SESSION_KEYS_FILE)")
	fs.StringVar(&c.apiToken, "api-token", secret("HANDOFF_API_TOKEN"), "bearer token of the organization API; empty disables it (HANDOFF_API_TOKEN or HANDOFF_API_TOKEN_FILE)")
	logLevel := fs.String("log-level", env("HANDOFF_LOG_LEVEL", "info"), "least severe log lines written: debug, info, warn or error (HANDOFF_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("HANDOFF_LOG_FORMAT", "text"), "log format: text or json (HANDOFF_LOG_FORMAT)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", env("HANDOFF_METRICS_ADDR", defaultMetricsAddr), "where /metrics and /debug/pprof are served: a host:port (by default on loopback only), public (/metrics on the site's own listener, without profiles) or off (HANDOFF_METRICS_ADDR)")
	fs.StringVar(&c.demoAddr, "demo-addr", env("HANDOFF_DEMO_ADDR", ""), "also serve a demo host page embedding the forms on this address, e.g. 127.0.0.1:8081 (HANDOFF_DEMO_ADDR)")
	fs.StringVar(&c.adminEmail, "admin-email", env("HANDOFF_ADMIN_EMAIL", ""), "email of the first admin, created when no admin exists (HANDOFF_ADMIN_EMAIL)")
	fs.StringVar(&c.adminPass, "admin-password", secret("HANDOFF_ADMIN_PASSWORD"), "password of the first admin, at least 12 characters (HANDOFF_ADMIN_PASSWORD or HANDOFF_ADMIN_PASSWORD_FILE)")
	proxies := fs.String("trusted-proxies", env("HANDOFF_TRUSTED_PROXIES", ""), "networks of reverse proxies whose X-Forwarded-For/-Proto are believed, comma separated CIDRs, e.g. 127.0.0.1/32,10.0.0.0/8 (HANDOFF_TRUSTED_PROXIES)")
	def := kustomer.DefaultLimits
	handoffRate := fs.String("handoff-rate", env("HANDOFF_HANDOFF_RATE", def.HandoffRate.String()), "hand-offs per client address and per customer session, per form: N/s, N/m, N/h, N/30s or off (HANDOFF_HANDOFF_RATE)")
	handoffBurst := fs.String("handoff-burst", env("HANDOFF_HANDOFF_BURST", strconv.Itoa(def.HandoffBurst)), "hand-offs allowed at once before the rate applies (HANDOFF_HANDOFF_BURST)")
	sendRate := fs.String("send-rate", env("HANDOFF_SEND_RATE", def.SendRate.String()), "messages a customer may send, summed over their sockets and requests: N/s, N/m, … or off (HANDOFF_SEND_RATE)")
	sendBurst := fs.String("send-burst", env("HANDOFF_SEND_BURST", strconv.Itoa(def.SendBurst)), "messages a customer may send at once before the rate applies (HANDOFF_SEND_BURST)")
	smtpURL := fs.String("smtp-url", secret("HANDOFF_SMTP_URL"), "SMTP server for outgoing email, smtp://user:password@host:587 (STARTTLS) or smtps://…:465 (implicit TLS); empty writes emails as .eml files under the data directory (HANDOFF_SMTP_URL or HANDOFF_SMTP_URL_FILE; a secret, never logged)")
	fs.StringVar(&c.mailFrom, "mail-from", env("HANDOFF_MAIL_FROM", ""), "From address of outgoing email, e.g. \"Support <support@example.com>\"; required with HANDOFF_SMTP_URL (HANDOFF_MAIL_FROM)")
	followUpDelay := fs.String("followup-delay", env("HANDOFF_FOLLOWUP_DELAY", "2m"), "how long a reply waits unread before the customer is emailed, e.g. 2m; off sends no follow-ups (HANDOFF_FOLLOWUP_DELAY)")
	awayAfter := fs.String("away-after", env("HANDOFF_AWAY_AFTER", kustomer.AwayAfter.String()), "how long the agent console waits without the agent's keyboard, mouse or touch before setting them away (HANDOFF_AWAY_AFTER)")
	mailRetryMin := fs.String("mail-retry-min", env("HANDOFF_MAIL_RETRY_MIN", "30s"), "wait before retrying an email the SMTP server refused for now; it doubles per attempt, up to an hour (HANDOFF_MAIL_RETRY_MIN)")
	webhookRetryMin := fs.String("webhook-retry-min", env("HANDOFF_WEBHOOK_RETRY_MIN", "5s"), "wait before retrying a webhook delivery that failed; it doubles per attempt, up to an hour, for a day (HANDOFF_WEBHOOK_RETRY_MIN)")
	fs.StringVar(&c.backend, "backend", env("HANDOFF_BACKEND", "embedded"), "who answers: embedded (handoff's own console) or kustomer (relay to a Kustomer organization; see KUSTOMER_API_URL) (HANDOFF_BACKEND)")
	fs.StringVar(&c.adminName, "admin-name", env("HANDOFF_ADMIN_NAME", ""), "display name of the first admin, the name customers read (HANDOFF_ADMIN_NAME)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if secretErr != nil {
		return c, secretErr
	}
	c.configGiven = getenv("HANDOFF_CONFIG") != ""
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "config":
			c.configGiven = true
		case "database-url", "session-keys", "api-token", "admin-password", "smtp-url":
			// Said once the log exists; the value never is.
			c.warnings = append(c.warnings, fmt.Sprintf("--%s was given on the command line, where other users of this machine can read it (ps); use the variable or its _FILE instead", f.Name))
		}
	})
	var err error
	if c.trustedProxies, err = handlers.ParseTrustedProxies(*proxies); err != nil {
		return c, fmt.Errorf("HANDOFF_TRUSTED_PROXIES %q: want CIDRs like 10.0.0.0/8, comma separated: %v", *proxies, err)
	}
	if c.limits.HandoffRate, err = kustomer.ParseRate(*handoffRate); err != nil {
		return c, fmt.Errorf("HANDOFF_HANDOFF_RATE: %v", err)
	}
	if c.limits.SendRate, err = kustomer.ParseRate(*sendRate); err != nil {
		return c, fmt.Errorf("HANDOFF_SEND_RATE: %v", err)
	}
	for _, b := range []struct {
		name string
		v    string
		dst  *int
	}{{"HANDOFF_HANDOFF_BURST", *handoffBurst, &c.limits.HandoffBurst}, {"HANDOFF_SEND_BURST", *sendBurst, &c.limits.SendBurst}} {
		n, err := strconv.Atoi(b.v)
		if err != nil || n < 1 || n > 10_000 {
			return c, fmt.Errorf("%s %q: want a whole number from 1 to 10000", b.name, b.v)
		}
		*b.dst = n
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *smtpURL != "" {
		// mail.ParseSMTPURL's errors never repeat the URL, which holds a password.
		sc, err := mail.ParseSMTPURL(*smtpURL)
		if err != nil {
			return c, fmt.Errorf("HANDOFF_SMTP_URL: %v", err)
		}
		c.smtp = &sc
		if c.mailFrom == "" {
			return c, errors.New("HANDOFF_SMTP_URL needs HANDOFF_MAIL_FROM, the From address of the emails")
		}
	}
	if c.mailFrom == "" {
		c.mailFrom = "handoff <handoff@localhost>"
	}
	if _, err := netmail.ParseAddress(c.mailFrom); err != nil {
		return c, fmt.Errorf("HANDOFF_MAIL_FROM %q: want an address like support@example.com or \"Support <support@example.com>\"", c.mailFrom)
	}
	if *followUpDelay != "off" {
		d, err := time.ParseDuration(*followUpDelay)
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			return c, fmt.Errorf("HANDOFF_FOLLOWUP_DELAY %q: want a duration like 2m (up to 168h), or off", *followUpDelay)
		}
		c.followUpDelay = d
	}
	c.awayAfter, err = time.ParseDuration(*awayAfter)
	if err != nil || c.awayAfter < time.Second || c.awayAfter > 24*time.Hour {
		return c, fmt.Errorf("HANDOFF_AWAY_AFTER %q: want a duration like 10m (1s to 24h)", *awayAfter)
	}
	c.mailRetryMin, err = time.ParseDuration(*mailRetryMin)
	if err != nil || c.mailRetryMin <= 0 || c.mailRetryMin > time.Hour {
		return c, fmt.Errorf("HANDOFF_MAIL_RETRY_MIN %q: want a duration like 30s (up to 1h)", *mailRetryMin)
	}
	c.webhookRetryMin, err = time.ParseDuration(*webhookRetryMin)
	if err != nil || c.webhookRetryMin <= 0 || c.webhookRetryMin > time.Hour {
		return c, fmt.Errorf("HANDOFF_WEBHOOK_RETRY_MIN %q: want a duration like 5s (up to 1h)", *webhookRetryMin)
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("HANDOFF_ADDR %q: want host:port", c.addr)
	}
	if c.metricsAddr != "public" && c.metricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.metricsAddr); err != nil {
			return c, fmt.Errorf("HANDOFF_METRICS_ADDR %q: want host:port, public or off", c.metricsAddr)
		}
	}
	if c.demoAddr != "" {
		if _, _, err := net.SplitHostPort(c.demoAddr); err != nil {
			return c, fmt.Errorf("HANDOFF_DEMO_ADDR %q: want host:port", c.demoAddr)
		}
	}
	if c.dataDir == "" {
		return c, errors.New("HANDOFF_DATA_DIR must not be empty")
	}
	if c.databaseURL != "" {
		// The value holds a password: errors name the setting, not it.
		u, err := url.Parse(c.databaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return c, errors.New("HANDOFF_DATABASE_URL: want a URL like postgres://user:password@host:5432/handoff")
		}
		if c.sessionKeys == "" {
			return c, errors.New("HANDOFF_DATABASE_URL needs HANDOFF_SESSION_KEYS: instances sharing a database must share session keys, " +
				"and the development keys are generated per data directory, so a customer's session would not be valid on another instance")
		}
	}
	if c.baseURL != "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return c, fmt.Errorf("HANDOFF_BASE_URL %q: want an origin like https://chat.example.com", c.baseURL)
		}
		c.baseURL = u.Scheme + "://" + u.Host
	}
	if c.apiToken != "" && len(c.apiToken) < 16 {
		return c, errors.New("HANDOFF_API_TOKEN must be at least 16 characters")
	}
	c.adminName = strings.TrimSpace(c.adminName)
	if (c.adminEmail == "") != (c.adminPass == "") || (c.adminEmail == "") != (c.adminName == "") {
		var missing []string
		for _, s := range []struct{ name, value string }{
			{"HANDOFF_ADMIN_EMAIL", c.adminEmail}, {"HANDOFF_ADMIN_PASSWORD", c.adminPass}, {"HANDOFF_ADMIN_NAME", c.adminName},
		} {
			if s.value == "" {
				missing = append(missing, s.name)
			}
		}
		return c, fmt.Errorf("HANDOFF_ADMIN_EMAIL, HANDOFF_ADMIN_PASSWORD and HANDOFF_ADMIN_NAME go together: set all three or none (missing %s)", strings.Join(missing, ", "))
	}
	switch c.backend {
	case "embedded":
	case "kustomer":
		k, err := parseKustomer(getenv)
		if err != nil {
			return c, err
		}
		c.kustomer = k
	default:
		return c, fmt.Errorf("HANDOFF_BACKEND %q: want embedded or kustomer", c.backend)
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return c, fmt.Errorf("HANDOFF_LOG_LEVEL %q: want debug, info, warn or error", *logLevel)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("HANDOFF_LOG_FORMAT %q: want text or json", c.logFormat)
	}
	return c, nil
}

// parseKustomer reads the relay's settings; the key and the secret may come
// from files (KUSTOMER_API_KEY_FILE, KUSTOMER_WEBHOOK_SECRET_FILE).
func parseKustomer(getenv func(string) string) (kustomerConfig, error) {
	k := kustomerConfig{apiURL: getenv("KUSTOMER_API_URL"), agentName: strings.TrimSpace(getenv("KUSTOMER_AGENT_NAME"))}
	if k.apiURL == "" {
		return k, errors.New("HANDOFF_BACKEND=kustomer needs KUSTOMER_API_URL, the organization's API, e.g. https://example.api.kustomerapp.com")
	}
	if _, err := cloud.ParseAPIURL(k.apiURL); err != nil {
		return k, fmt.Errorf("KUSTOMER_API_URL %q: %v", k.apiURL, err)
	}
	var err error
	if k.apiKey, err = secretSetting(getenv, "KUSTOMER_API_KEY"); err != nil {
		return k, err
	}
	if k.webhookSecret, err = secretSetting(getenv, "KUSTOMER_WEBHOOK_SECRET"); err != nil {
		return k, err
	}
	if k.apiKey == "" {
		return k, errors.New("HANDOFF_BACKEND=kustomer needs KUSTOMER_API_KEY or KUSTOMER_API_KEY_FILE")
	}
	return k, nil
}

// secretSetting reads a secret from name, or from the file name_FILE
// names (trailing new lines dropped); both set is an error. The value is
// never part of an error.
func secretSetting(getenv func(string) string, name string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	if v != "" && file != "" {
		return "", fmt.Errorf("set %s or %s_FILE, not both", name, name)
	}
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %v", name, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s_FILE %s is empty", name, file)
	}
	return s, nil
}

// run starts the server and blocks until ctx is cancelled, then shuts down
// gracefully: open sockets get a going-away close and in-flight requests
// finish.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "kustomer":
			return runKustomer(ctx, args[1:], getenv, stdout)
		case "version", "--version", "-version":
			if len(args) > 1 {
				return fmt.Errorf("%s takes no arguments", args[0])
			}
			fmt.Fprintln(stdout, readBuildInfo())
			return nil
		case "backup":
			return runBackup(ctx, args[1:], getenv, stdout, stderr)
		case "healthcheck":
			return runHealthcheck(args[1:], getenv)
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Lines logged while serving a request carry its request_id.
	hopts := &slog.HandlerOptions{Level: cfg.logLevel}
	var log *slog.Logger
	if cfg.logFormat == "json" {
		log = slog.New(kustomer.ContextHandler{Handler: slog.NewJSONHandler(stdout, hopts)})
	} else {
		log = slog.New(kustomer.ContextHandler{Handler: slog.NewTextHandler(stdout, hopts)})
	}

	log.Info("starting", "version", readBuildInfo().String())
	for _, w := range cfg.warnings {
		log.Warn(w)
	}
	doc, err := os.ReadFile(cfg.configPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !cfg.configGiven:
		// A binary on its own (go install) starts with the demo forms.
		doc, cfg.configPath = demoConfig, "(embedded demo handoff.yaml)"
		log.Warn("no ./handoff.yaml: using the embedded demo configuration; set HANDOFF_CONFIG to your own forms", "config", cfg.configPath)
	case err != nil:
		return fmt.Errorf("HANDOFF_CONFIG: %w", err)
	default:
		log.Info("configuration", "config", cfg.configPath)
	}
	forms, err := kustomer.ParseConfig(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("HANDOFF_CONFIG %s: %w", cfg.configPath, err)
	}
	assistants, err := assistant.Load(doc, forms)
	if err != nil {
		return fmt.Errorf("HANDOFF_CONFIG %s: %w", cfg.configPath, err)
	}
	// The assistants say their own sentences from the pages' catalogs.
	assistants.Words = locale.AssistantWords

	var keys []session.KeyPair
	if cfg.sessionKeys != "" {
		if keys, err = session.ParseKeys(cfg.sessionKeys); err != nil {
			return fmt.Errorf("HANDOFF_SESSION_KEYS: %w", err)
		}
	} else {
		var created bool
		if keys, created, err = session.DevKeys(cfg.dataDir); err != nil {
			return fmt.Errorf("HANDOFF_DATA_DIR: %w", err)
		}
		log.Warn("HANDOFF_SESSION_KEYS is not set: using development session keys kept in the data directory; set it in production",
			"generated", created, "path", filepath.Join(cfg.dataDir, "session-keys"))
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("HANDOFF_ADDR: %w", err)
	}
	defer ln.Close()
	if cfg.baseURL == "" {
		cfg.baseURL = "http://" + ln.Addr().String()
	}
	base, _ := url.Parse(cfg.baseURL)
	secure := base.Scheme == "https"
	if !secure {
		log.Warn("HANDOFF_BASE_URL is not https: session cookies are sent without Secure; serve over https in production", "base_url", cfg.baseURL)
	}
	if cfg.apiToken == "" {
		log.Info("HANDOFF_API_TOKEN is not set: the organization API is disabled")
	}
	sessions, err := session.New(session.Options{Keys: keys, Secure: secure})
	if err != nil {
		return fmt.Errorf("HANDOFF_SESSION_KEYS: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := handlers.NewMetrics(reg)
	bi := readBuildInfo()
	buildGauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "handoff_build_info",
		Help: "The running binary: its version, commit and Go version (always 1)."}, []string{"version", "commit", "goversion"})
	buildGauge.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	reg.MustRegister(buildGauge)
	storeName, db := "sqlite", filepath.Join(cfg.dataDir, "handoff.db")
	var store *sqlstore.Store
	if cfg.databaseURL != "" {
		storeName, db = "postgres", dbTarget(cfg.databaseURL)
		if store, err = sqlstore.OpenPostgres(ctx, cfg.databaseURL, sqlstore.PostgresOptions{}); err != nil {
			return fmt.Errorf("HANDOFF_DATABASE_URL: %w", err)
		}
	} else {
		if store, err = sqlstore.OpenSQLiteWith(ctx, db, sqlstore.SQLiteOptions{Logger: log, ObserveCheckpoint: metrics.ObserveCheckpoint}); err != nil {
			return fmt.Errorf("HANDOFF_DATA_DIR: %w", err)
		}
		metrics.RegisterSQLite(reg, store.WALBytes)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close the store", "err", err)
		}
	}()
	store.ObserveTx = metrics.ObserveTx
	metrics.RegisterOutbox(reg, store.OutboxCounts)
	hub := kustomer.NewHub()
	defer hub.Close()
	metrics.RegisterHub(reg, hub.Stats)
	// Sockets subscribe to this instance's hub; with PostgreSQL the broker
	// also carries every event to the other instances and theirs here.
	var broker kustomer.Broker = hub
	if cfg.databaseURL != "" {
		pb, err := pgbroker.New(ctx, cfg.databaseURL, hub, store, pgbroker.Options{Logger: log,
			Observer: pgbroker.Observer{Lag: metrics.BrokerLag, Reconnected: metrics.BrokerReconnected}})
		if err != nil {
			return fmt.Errorf("HANDOFF_DATABASE_URL: %w", err)
		}
		defer pb.Close()
		metrics.RegisterBroker(reg)
		broker = pb
	}
	engine := kustomer.NewEngine(store, broker, forms, log)
	engine.Observer = metrics
	engine.Assistants = assistants
	// Uploads never sent expire; the cleaner stops before the store closes.
	cleanCtx, stopCleaning := context.WithCancel(ctx)
	cleaned := make(chan struct{})
	go func() { defer close(cleaned); engine.CleanUnsentAttachments(cleanCtx, time.Hour) }()
	defer func() { stopCleaning(); <-cleaned }()
	// Assignment: agents whose consoles are gone go offline, waiting
	// conversations go to online agents where forms or skills say so.
	assigned := make(chan struct{})
	go func() { defer close(assigned); engine.RunAssignment(cleanCtx, 5*time.Second) }()
	defer func() { stopCleaning(); <-assigned }()
	if _, err := engine.EnsureAdmin(ctx, kustomer.NewAgentInput{Email: cfg.adminEmail, Name: cfg.adminName, Password: cfg.adminPass}); err != nil {
		var verr *kustomer.ValidationError
		if errors.As(err, &verr) {
			return adminConfigError(verr)
		}
		return err
	}
	engine.FollowUpDelay = cfg.followUpDelay
	formTitle := func(id string) string {
		if f, ok := forms.Form(id); ok {
			return f.Title.String()
		}
		return ""
	}
	stopMail := startMail(ctx, cfg, store, sessions, base, formTitle, metrics, log)
	defer stopMail()
	// Webhooks may reach this machine only in development (plain http).
	engine.AllowLoopbackWebhooks = !secure
	stopWebhooks := startWebhooks(ctx, cfg, engine, store, metrics, log)
	defer stopWebhooks()
	var (
		relayWebhook http.Handler
		relayStatus  func(context.Context) any
	)
	if cfg.backend == "kustomer" {
		receiver, status, stop, err := startRelay(ctx, cfg, engine, store, formTitle, metrics, log)
		if err != nil {
			return err
		}
		defer stop()
		relayWebhook, relayStatus = receiver, status
	}
	if agents, err := engine.Agents(ctx); err == nil && len(agents) == 0 {
		log.Warn("no agent account exists: set HANDOFF_ADMIN_EMAIL, HANDOFF_ADMIN_PASSWORD and HANDOFF_ADMIN_NAME to create the first admin, then sign in at /agent")
	}

	shutdown := make(chan struct{})
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	// The demo host page listens first: its own origin, whatever port it
	// got, may frame every form (make run on other ports keeps working).
	var dln net.Listener
	if cfg.demoAddr != "" {
		dln, err = net.Listen("tcp", cfg.demoAddr)
		if err != nil {
			return fmt.Errorf("HANDOFF_DEMO_ADDR: %w", err)
		}
		defer dln.Close()
	}
	opts := handlers.Options{BaseURL: base, APIToken: cfg.apiToken, Logger: log, Shutdown: shutdown, Metrics: metrics,
		Limits: cfg.limits, TrustedProxies: cfg.trustedProxies, KustomerWebhook: relayWebhook, ReadyDetail: relayStatus, Relay: engine.Relay,
		AwayAfter: cfg.awayAfter}
	if dln != nil {
		opts.FrameOrigins = []string{"http://" + dln.Addr().String()}
	}
	if cfg.smtp == nil {
		opts.MailFiles = mailFiles{mailDir(cfg)}
	}
	switch cfg.metricsAddr {
	case "public":
		opts.MetricsHandler = metricsHandler
		log.Warn("HANDOFF_METRICS_ADDR=public: /metrics is served to anyone who reaches the site")
	case "off":
	default:
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil && cfg.metricsAddr == defaultMetricsAddr && getenv("HANDOFF_METRICS_ADDR") == "" {
			// The default port is taken (another instance on this
			// machine): serve on, without metrics here.
			log.Warn("metrics not served: the default HANDOFF_METRICS_ADDR is taken; set another", "addr", cfg.metricsAddr, "err", err)
			break
		}
		if err != nil {
			return fmt.Errorf("HANDOFF_METRICS_ADDR: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		// Profiles for operators, on the private listener only.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go serveLogged(msrv, mln, "metrics", log)
		defer msrv.Close()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	h := handlers.New(engine, sessions, opts)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(shutdown) })

	if dln != nil {
		dsrv := &http.Server{Handler: demoHost(demoServerURL(cfg.baseURL)), ReadHeaderTimeout: 10 * time.Second}
		go serveLogged(dsrv, dln, "demo host page", log)
		defer dsrv.Close()
		log.Info("demo host page listening", "url", "http://"+dln.Addr().String(), "embeds_from", demoServerURL(cfg.baseURL),
			"allowed_to_embed", "every form, while the demo page runs")
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.baseURL, "store", storeName, "db", db, "forms", formIDs(forms))
	open := []any{"console", strings.TrimSuffix(cfg.baseURL, "/") + "/agent"}
	if len(forms.Forms) > 0 {
		open = append(open, "form", strings.TrimSuffix(cfg.baseURL, "/")+"/forms/"+forms.Forms[0].ID)
	}
	if dln != nil {
		open = append(open, "demo_page", "http://"+dln.Addr().String())
	}
	log.Info("open in a browser", open...)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Shutdown does not wait for hijacked connections: wait for the sockets,
	// which close with going-away on the shutdown signal, before the store
	// closes under them.
	if err := h.Wait(sctx); err != nil {
		return fmt.Errorf("shutdown: sockets still open: %w", err)
	}
	log.Info("stopped")
	return nil
}

// serveLogged serves a side listener (metrics, demo page) and logs how it
// ended, unless by Close.
func serveLogged(srv *http.Server, ln net.Listener, what string, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listener stopped", "listener", what, "err", err)
	}
}

// startMail starts the email dispatchers (follow-ups, fresh links,
// transcripts) over SMTP, or over the .eml directory without
// HANDOFF_SMTP_URL; the returned function stops them and waits.
func startMail(ctx context.Context, cfg config, store *sqlstore.Store, sessions *session.Manager, base *url.URL, formTitle func(string) string, metrics *handlers.Metrics, log *slog.Logger) (stop func()) {
	var sender mail.Sender
	if cfg.smtp != nil {
		sender = mail.NewSMTP(*cfg.smtp)
		log.Info("email over SMTP", "host", cfg.smtp.Host, "port", cfg.smtp.Port, "implicit_tls", cfg.smtp.ImplicitTLS, "followup_delay", cfg.followUpDelay)
	} else {
		dir := mailDir(cfg)
		sender = dir
		log.Warn("HANDOFF_SMTP_URL is not set: emails are written as .eml files instead of sent; admins list them at /admin/mail", "path", dir.Path)
	}
	m := &notify.Mailer{Store: store, Links: sessions, Sender: sender, From: cfg.mailFrom, BaseURL: base, FormTitle: formTitle}
	// Follow-ups are looked for several times per delay, so that one
	// arrives close to its due time even with short delays.
	poll := time.Second
	if cfg.followUpDelay > 0 {
		poll = min(poll, max(cfg.followUpDelay/4, 20*time.Millisecond))
	}
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	dispatchers := []*kustomer.Dispatcher{
		{Kind: kustomer.OutboxFollowUp, Deliver: m.DeliverFollowUp, Poll: poll},
		{Kind: kustomer.OutboxEmailLink, Deliver: m.DeliverEmailLink, Poll: poll},
		{Kind: kustomer.OutboxTranscript, Deliver: m.DeliverTranscript, Poll: poll},
	}
	for _, d := range dispatchers {
		d.Outbox, d.Permanent, d.MinBackoff, d.Observe, d.Log = store, mail.IsPermanent, cfg.mailRetryMin, metrics.EmailOutcome, log
	}
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for _, d := range dispatchers {
			wg.Go(func() { d.Run(dctx) })
		}
		wg.Go(func() { pruneOutbox(dctx, store, log) })
		wg.Wait()
	}()
	return func() {
		cancel()
		<-done
	}
}

// startWebhooks starts the webhook dispatchers: one hands each recorded
// event to the endpoints that want it, one posts the deliveries. The
// returned function stops them and waits.
func startWebhooks(ctx context.Context, cfg config, engine *kustomer.Engine, store *sqlstore.Store, metrics *handlers.Metrics, log *slog.Logger) (stop func()) {
	wake := make(chan struct{}, 1)
	sender := &webhook.Sender{
		Store: store, Client: webhook.NewClient(engine.AllowLoopbackWebhooks), BaseURL: cfg.baseURL,
		Policy: webhook.DefaultFailurePolicy, Log: log, Wake: wake, Observe: metrics.WebhookAttempt,
		Disabled: func(w kustomer.Webhook) { metrics.WebhookDisabled() },
	}
	events := &kustomer.Dispatcher{
		Kind: kustomer.OutboxWebhookEvent, Deliver: sender.FanOut, Wake: engine.ChangeWake(), Batch: 50,
		MinBackoff: time.Second, MaxBackoff: time.Minute, MaxAge: webhook.MaxAge, Lease: time.Minute,
	}
	deliveries := &kustomer.Dispatcher{
		Kind: kustomer.OutboxWebhookDelivery, Deliver: sender.Deliver, Wake: wake, Batch: 32, Parallel: 8,
		MinBackoff: cfg.webhookRetryMin, MaxBackoff: time.Hour, MaxAge: webhook.MaxAge, Lease: 4 * webhook.Timeout,
	}
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range []*kustomer.Dispatcher{events, deliveries} {
		d.Outbox, d.Permanent, d.Observe, d.Log = store, webhook.Permanent, metrics.WebhookOutcome, log
		wg.Go(func() { d.Run(dctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// startRelay relays customers' hand-offs and messages to the Kustomer
// organization (the engine writes relay rows; a dispatcher delivers them)
// and returns the receiver of its webhook and the relay's state for
// /readyz; stop stops the dispatcher and waits.
func startRelay(ctx context.Context, cfg config, engine *kustomer.Engine, store *sqlstore.Store, formTitle func(string) string,
	metrics *handlers.Metrics, log *slog.Logger) (http.Handler, func(context.Context) any, func(), error) {
	k := cfg.kustomer
	client, err := cloud.NewClient(k.apiURL, k.apiKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("KUSTOMER_API_URL: %w", err)
	}
	client.Observe = metrics.KustomerRequest
	engine.Relay = true
	relay := &cloud.Relay{Store: store, Client: client, App: cloud.RelayApp, FormTitle: formTitle, Log: log,
		Relayed: func(ctx context.Context, conversationID, messageID string) {
			engine.PublishRelayed(ctx, conversationID, messageID)
		}}
	d := &kustomer.Dispatcher{
		Outbox: store, Kind: kustomer.OutboxRelay, Deliver: relay.Deliver, Permanent: relay.Permanent, Wait: cloud.Wait, Wake: engine.ChangeWake(),
		Parallel: 4, Batch: 16, MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, MaxAge: 7 * 24 * time.Hour, Lease: time.Minute,
		Observe: metrics.WebhookOutcome, Log: log,
	}
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(dctx) }()
	if k.webhookSecret == "" {
		log.Warn("KUSTOMER_WEBHOOK_SECRET is not set: agents' replies from Kustomer are refused until it is; run handoff kustomer setup")
	}
	receiver := &cloud.Receiver{Engine: engine, Refs: store, Secret: []byte(k.webhookSecret), AgentName: k.agentName, Log: log, Observe: metrics.KustomerWebhook}
	log.Info("relaying to Kustomer", "api", client.Host(), "webhook", strings.TrimSuffix(cfg.baseURL, "/")+"/webhooks/kustomer")
	return receiver, relay.Status, func() { cancel(); <-done }, nil
}

// outboxKept is how long delivered outbox rows are kept (their keys keep
// a repeated request from sending the same email again) before pruning.
const outboxKept = 7 * 24 * time.Hour

// pruneOutbox deletes old delivered outbox rows every hour until ctx ends.
func pruneOutbox(ctx context.Context, store *sqlstore.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		for {
			n, err := store.PruneWebhookAttempts(ctx, time.Now().Add(-outboxKept), 1000)
			if err != nil && ctx.Err() == nil {
				log.Error("webhook log prune", "err", err)
			}
			if err != nil || n < 1000 {
				break
			}
		}
		for {
			n, err := store.PruneOutbox(ctx, time.Now().Add(-outboxKept), 1000)
			if err != nil && ctx.Err() == nil {
				log.Error("outbox prune", "err", err)
			}
			if err != nil || n < 1000 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// mailDir is where emails are written without HANDOFF_SMTP_URL.
func mailDir(cfg config) mail.Dir { return mail.Dir{Path: filepath.Join(cfg.dataDir, "mail")} }

// mailFiles shows the written emails on the admins' email page.
type mailFiles struct{ mail.Dir }

func (d mailFiles) Names() ([]handlers.MailFileInfo, error) {
	files, err := d.Files()
	out := make([]handlers.MailFileInfo, 0, len(files))
	for _, f := range files {
		out = append(out, handlers.MailFileInfo{Name: f.Name, ModTime: f.ModTime})
	}
	return out, err
}

// dbTarget names the host and database of a PostgreSQL URL for the logs,
// leaving out the credentials and parameters.
func dbTarget(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "?"
	}
	return u.Host + u.Path
}

// adminConfigError names the setting behind each field the first admin's
// account refused.
func adminConfigError(verr *kustomer.ValidationError) error {
	settings := map[string]string{"email": "HANDOFF_ADMIN_EMAIL", "password": "HANDOFF_ADMIN_PASSWORD", "name": "HANDOFF_ADMIN_NAME"}
	fields := make([]string, 0, len(verr.Fields))
	for f := range verr.Fields {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		name := settings[f]
		if name == "" {
			name = f
		}
		parts = append(parts, name+" "+verr.Fields[f])
	}
	return fmt.Errorf("first admin: %s", strings.Join(parts, "; "))
}

// demoServerURL is where the demo host page loads handoff from: the base
// URL, except that a loopback IP becomes localhost, so that the demo page
// (on 127.0.0.1) and handoff are different sites, as on the web.
func demoServerURL(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return baseURL
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
		u.Host = net.JoinHostPort("localhost", u.Port())
	}
	return u.Scheme + "://" + u.Host
}

func formIDs(c *kustomer.Config) string {
	ids := make([]string, len(c.Forms))
	for i, f := range c.Forms {
		ids[i] = f.ID
	}
	return strings.Join(ids, ",")
}
