// Command bench is handoff's load generator. It runs the scenarios of
// DESIGN.md §10 (handoff, chat, idle, history) against the real server,
// built from this repository and started as its own process on 127.0.0.1,
// and the postgres scenario against two instances sharing one PostgreSQL
// database, next to bare references measured in the same run (a
// gorilla/websocket relay, a SQLite transaction loop, a net/http form
// handler, a pgx transaction loop and NOTIFY→LISTEN round trip), and prints
// one table of ratios, also written as JSON for later comparison.
//
// Each row sets a figure of the server beside the same figure of its
// reference: RATIO is handoff ÷ reference (for rates higher is better, for
// latencies and memory lower is better), and TARGET is the target,
// on the ratio (×) or on the figure itself. The server and the generator
// share the machine; the notes under the table say what else ran (other
// processes' CPU share) and where the server spent its time (its own
// Prometheus histograms, its CPU use). The JSON keeps every sample summary.
//
//	go run ./bench                  # every scenario, ≤ 6 minutes
//	go run ./bench -quick           # small counts: a smoke run
//	go run ./bench -scenarios chat  # a subset
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Params are the counts and durations of a run.
type Params struct {
	Concurrency       int           `json:"concurrency"`       // virtual customers in the handoff scenario
	HandoffMax        int           `json:"handoffMax"`        // hand-offs in the peak run, at most
	HandoffTime       time.Duration `json:"handoffTimeNs"`     // the peak run's time limit
	HalfTime          time.Duration `json:"halfTimeNs"`        // the run at half the peak rate
	BareTime          time.Duration `json:"bareTimeNs"`        // the bare form handler's peak run
	SQLTime           time.Duration `json:"sqlTimeNs"`         // each bare SQLite loop
	GroupSize         int           `json:"groupSize"`         // messages per transaction, group-commit reference
	SetupConcurrency  int           `json:"setupConcurrency"`  // hand-offs in parallel when preparing a scenario
	ChatConversations int           `json:"chatConversations"` // conversations in the chat throughput run
	ChatTime          time.Duration `json:"chatTimeNs"`
	CustomerRate      float64       `json:"customerRate"` // socket sends per second per customer, under the server's limit
	RelayTime         time.Duration `json:"relayTimeNs"`  // the relay's closed-loop run
	Rooms             int           `json:"rooms"`        // conversations in the chat latency run
	RoomRate          float64       `json:"roomRate"`     // messages per second per room
	RoomTime          time.Duration `json:"roomTimeNs"`
	NotifyTime        time.Duration `json:"notifyTimeNs"` // the bare NOTIFY→LISTEN run, at Rooms × RoomRate
	IdleSockets       int           `json:"idleSockets"`
	IdleConversations int           `json:"idleConversations"`
	HistoryMessages   int           `json:"historyMessages"`
	HistoryConvs      int           `json:"historyConversations"`
	HistoryRequests   int           `json:"historyRequests"`
	HistoryWorkers    int           `json:"historyConcurrency"`
}

func fullParams() Params {
	return Params{
		Concurrency: 16, HandoffMax: 3000, HandoffTime: 20 * time.Second, HalfTime: 10 * time.Second,
		BareTime: 10 * time.Second, SQLTime: 2 * time.Second, GroupSize: 16, SetupConcurrency: 16,
		ChatConversations: 200, ChatTime: 15 * time.Second, CustomerRate: 4.5, RelayTime: 5 * time.Second,
		Rooms: 1000, RoomRate: 1, RoomTime: 20 * time.Second, NotifyTime: 5 * time.Second,
		IdleSockets: 10000, IdleConversations: 1000,
		HistoryMessages: 100, HistoryConvs: 100, HistoryRequests: 2000, HistoryWorkers: 4,
	}
}

func quickParams() Params {
	p := fullParams()
	p.Concurrency, p.HandoffMax, p.HandoffTime, p.HalfTime, p.BareTime = 8, 200, 4*time.Second, 2*time.Second, 3*time.Second
	p.SQLTime = 300 * time.Millisecond
	p.ChatConversations, p.ChatTime, p.RelayTime = 20, 3*time.Second, time.Second
	p.Rooms, p.RoomTime, p.NotifyTime = 50, 4*time.Second, time.Second
	p.IdleSockets, p.IdleConversations = 500, 50
	p.HistoryRequests = 100
	return p
}

var allScenarios = []string{"handoff", "chat", "idle", "history", "postgres"}

// apiToken is the organization API token the server under test is started
// with.
const apiToken = "bench-api-token-0123456789abcdef"

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenarios := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run: "+strings.Join(allScenarios, ", "))
	quick := fs.Bool("quick", false, "small counts and short runs: a smoke test of the generator")
	out := fs.String("out", "", "directory for latest.json and the timestamped copy (default: bench/results in the repository)")
	repo := fs.String("repo", ".", "the handoff repository to build and run")
	budget := fs.Duration("budget", 330*time.Second, "stop starting new phases after this long")
	pgURL := fs.String("postgres", envOr("HANDOFF_BENCH_POSTGRES_URL", defaultPostgresURL),
		"PostgreSQL server for the postgres scenario: a URL of a database to connect to; it creates and drops its own databases there (HANDOFF_BENCH_POSTGRES_URL)")
	keep := fs.Bool("keep", false, "keep the temporary directory (server logs and databases)")
	profile := fs.String("profile", "", "write CPU profiles and execution traces of the server's measured runs to this directory (the server then serves /metrics and its profiles on a loopback listener of its own)")
	// Hidden: the bench binary re-executes itself to run a bare reference
	// server in its own process.
	serve := fs.String("serve", "", "")
	addr := fs.String("addr", "", "")
	db := fs.String("db", "", "")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench [-quick] [-scenarios list] [-out dir]")
		fs.VisitAll(func(f *flag.Flag) {
			switch {
			case f.Usage == "":
			case f.DefValue == "" || f.DefValue == "false":
				fmt.Fprintf(stderr, "  -%s\t%s\n", f.Name, f.Usage)
			default:
				fmt.Fprintf(stderr, "  -%s\t%s (default %s)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *serve != "" {
		return serveMode(*serve, *addr, *db, stderr)
	}
	if *out == "" {
		*out = filepath.Join(*repo, "bench", "results")
	}
	var chosen []string
	for _, s := range strings.Split(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(allScenarios, s) {
			fmt.Fprintf(stderr, "bench: unknown scenario %q (want %s)\n", s, strings.Join(allScenarios, ", "))
			return 2
		}
		chosen = append(chosen, s)
	}
	p := fullParams()
	if *quick {
		p = quickParams()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := runBench(ctx, chosen, p, *repo, *pgURL, *budget, *keep, *profile, stderr)
	if rep != nil {
		fmt.Fprintln(stdout)
		if err := renderTable(stdout, rep.Rows); err != nil {
			fmt.Fprintln(stderr, "bench: print the table:", err)
		}
		for _, n := range rep.Notes {
			fmt.Fprintln(stdout, "note:", n)
		}
		fmt.Fprintf(stdout, "%d passed, %d failed; wall time %.0f s\n", rep.Passed, rep.Failed, rep.WallSeconds)
		paths, werr := writeReport(*out, rep)
		if werr != nil {
			fmt.Fprintln(stderr, "bench: write report:", werr)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", strings.Join(paths, " and "))
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// envOr is the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// serveMode runs a bare reference server until SIGTERM.
func serveMode(mode, addr, db string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		fmt.Fprintln(stderr, "bench -serve: -addr must be 127.0.0.1:port")
		return 2
	}
	var err error
	switch mode {
	case "relay":
		err = serveRelay(ctx, addr, "")
	case "prelay":
		err = serveRelay(ctx, addr, db)
	case "form":
		err = serveForm(ctx, addr, db)
	default:
		err = fmt.Errorf("unknown -serve %q", mode)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench -serve:", err)
		return 1
	}
	return 0
}

// env is what scenarios share: parameters, paths, where progress goes and
// where results accumulate.
type env struct {
	p       Params
	repo    string
	tmp     string
	bin     string // the handoff server, built for this run
	self    string // this binary, re-executed for the bare servers
	log     io.Writer
	rep     *Report
	bareSQL *bareSQLResult
	pgURL   string         // the PostgreSQL server of the postgres scenario
	sqlite  *sqliteFigures // the SQLite scenarios' figures, for the postgres rows
	// profile is the directory for the servers' profiles; "" for none.
	profile string
	// helperTicks is CPU time that processes outside this process tree
	// (PostgreSQL's backends) spent on the current scenario's behalf.
	helperTicks uint64
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: "+format+"\n", args...)
}

func (e *env) note(format string, args ...any) {
	e.rep.Notes = append(e.rep.Notes, fmt.Sprintf(format, args...))
}

func (e *env) add(rows ...Row) { e.rep.Rows = append(e.rep.Rows, rows...) }

func (e *env) detail(key string, v any) { e.rep.Details[key] = v }

// startHandoff starts the server under test on a free port with a fresh
// data directory named name, and samples the size of its SQLite WAL.
func (e *env) startHandoff(ctx context.Context, name string) (*proc, error) {
	return e.startServer(ctx, name, nil)
}

// startServer starts the server under test like startHandoff, with extra
// environment variables (a PostgreSQL URL, shared session keys) added.
func (e *env) startServer(ctx context.Context, name string, extraEnv []string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.tmp, "data", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := []string{"--addr", addr, "--data-dir", dir, "--config", filepath.Join(e.repo, "handoff.yaml"), "--log-format", "json"}
	// The load comes from one address by design: the abuse limits, which
	// would refuse it, are off.
	// The bench reads each server's own /metrics on the address it serves.
	metrics, metricsAddr := "public", ""
	if e.profile != "" {
		if metricsAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		metrics = metricsAddr
	}
	env := []string{"HANDOFF_API_TOKEN=" + apiToken, "HANDOFF_HANDOFF_RATE=off", "HANDOFF_SEND_RATE=off", "HANDOFF_METRICS_ADDR=" + metrics}
	env = append(env, extraEnv...)
	p, err := startProc(ctx, "handoff ("+name+")", e.bin, args, env, e.repo, addr, filepath.Join(e.tmp, name+".log"), "/readyz")
	if err != nil {
		return nil, err
	}
	p.metricsAddr = metricsAddr
	// Until the server stops: its WAL's peak is a figure of the scenario.
	p.wal = sampleWAL(filepath.Join(dir, "handoff.db-wal"), 5*time.Millisecond)
	return p, nil
}

// startBare starts a bare reference server (relay or form) as its own
// process.
func (e *env) startBare(ctx context.Context, mode, name, db string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", mode, "-addr", addr}
	if db != "" {
		args = append(args, "-db", db)
	}
	return startProc(ctx, "bare "+mode+" ("+name+")", e.self, args, nil, e.repo, addr, filepath.Join(e.tmp, name+".log"), "/readyz")
}

// stopProc stops p and notes an unclean exit.
func (e *env) stopProc(p *proc) {
	if p == nil {
		return
	}
	if err := p.stop(); err != nil {
		e.note("%s exited uncleanly: %v (log in %s)", p.name, err, p.log.Name())
	}
}

// runBench builds the server, runs the chosen scenarios and returns the
// report.
func runBench(ctx context.Context, chosen []string, p Params, repo, pgURL string, budget time.Duration, keep bool, profile string, log io.Writer) (*Report, error) {
	started := time.Now()
	rep := &Report{Started: started, Params: p, Scenarios: chosen, Details: map[string]any{}}
	repo, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(repo, "go.mod")); err != nil || !strings.Contains(string(b), "module github.com/handoff/handoff") {
		return nil, fmt.Errorf("%s is not the handoff repository (run from its root or pass -repo)", repo)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	nofile, err := raiseNoFile()
	if err != nil {
		return nil, fmt.Errorf("raise the open-files limit: %w", err)
	}
	tmp, err := os.MkdirTemp("", "handoff-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{p: p, repo: repo, tmp: tmp, self: self, log: log, rep: rep, pgURL: pgURL}
	if profile != "" {
		if e.profile, err = filepath.Abs(profile); err == nil {
			err = os.MkdirAll(e.profile, 0o755)
		}
		if err != nil {
			return nil, err
		}
	}
	defer func() {
		if keep {
			fmt.Fprintln(log, "bench: kept", tmp)
		} else {
			os.RemoveAll(tmp)
		}
	}()
	rep.Host = map[string]any{"cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(), "openFilesLimit": nofile}
	// The server measured is the working tree as built now: record which.
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "HEAD").Output(); err == nil {
		rep.Host["commit"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--", ".", ":!bench").Output(); err == nil {
		rep.Host["uncommittedFiles"] = strings.Count(string(out), "\n")
	}
	if p.IdleSockets+1000 > int(nofile) {
		e.note("the open-files limit is %d: fewer than the %d idle sockets can be held", nofile, p.IdleSockets)
	}

	e.bin = filepath.Join(tmp, "bin", "handoff")
	e.logf("building the server (go build -o %s .)", e.bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}

	bctx, cancel := context.WithTimeout(ctx, budget-time.Since(started))
	defer cancel()
	var errs []error
	loads := map[string][]float64{"before": {loadAvg()}}
	others := map[string]float64{}
	rep.Details["loadAverage"] = loads
	rep.Details["otherProcessesCPUShare"] = others
	for _, name := range chosen {
		if bctx.Err() != nil {
			e.note("scenario %s skipped: the %v budget was spent", name, budget)
			continue
		}
		e.logf("scenario %s", name)
		t0 := time.Now()
		load0 := loadAvg()
		cpu0, cpuErr := readCPU()
		e.helperTicks = 0
		var err error
		switch name {
		case "handoff":
			err = scenarioHandoff(bctx, e)
		case "chat":
			err = scenarioChat(bctx, e)
		case "idle":
			err = scenarioIdle(bctx, e)
		case "history":
			err = scenarioHistory(bctx, e)
		case "postgres":
			err = scenarioPostgres(bctx, e)
		}
		e.logf("scenario %s took %.1f s", name, time.Since(t0).Seconds())
		// Other work on the machine takes CPU from the server and the
		// generator alike: say so next to the figures.
		loads[name] = []float64{load0, loadAvg()}
		if cpu1, err := readCPU(); err == nil && cpuErr == nil {
			cpu1.own += e.helperTicks
			share := otherCPUShare(cpu0, cpu1)
			others[name] = share
			if share > 0.10 {
				e.note("scenario %s: other processes on this machine used %.0f%% of its CPU meanwhile; its figures are noisy", name, share*100)
			}
		}
		if err != nil {
			e.note("scenario %s stopped: %v", name, err)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			keep = true
		}
	}
	rep.WallSeconds = time.Since(started).Seconds()
	rep.tally()
	return rep, errors.Join(errs...)
}
