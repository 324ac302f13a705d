package kustomertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// PGCluster is a throwaway PostgreSQL cluster a test starts for itself
// (initdb and pg_ctl from Debian's packages) on a free port, so that it can
// stop and restart it without touching the machine's shared server.
type PGCluster struct {
	t      testing.TB
	bin    string
	dir    string
	port   int
	runAs  []string // runuser prefix when the test runs as root
	logDir string
}

// StartPGCluster initialises and starts a cluster with trust
// authentication; it is stopped when the test ends. Without PostgreSQL's
// server binaries the test is skipped, or fails under CI.
func StartPGCluster(t testing.TB) *PGCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)")
		}
		t.Skip("PostgreSQL's initdb is not installed")
	}
	sort.Strings(bins)
	c := &PGCluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	base, err := os.MkdirTemp("", "handoff-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	c.dir = filepath.Join(base, "data")
	c.logDir = base
	// initdb refuses to run as root: run the cluster as postgres then.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run("initdb", "-D", c.dir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	c.Start()
	t.Cleanup(func() {
		// Stopped already when the test stopped it last.
		argv := append(append(append([]string(nil), c.runAs...), filepath.Join(c.bin, "pg_ctl")), "-D", c.dir, "stop", "-m", "immediate")
		_ = exec.Command(argv[0], argv[1:]...).Run() // stopped already is fine
	})
	return c
}

// URL is the cluster's connection URL for database postgres.
func (c *PGCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the (stopped) cluster and waits until it accepts
// connections.
func (c *PGCluster) Start() {
	c.t.Helper()
	c.ctl("start", "-w", "-t", "30", "-l", filepath.Join(c.logDir, "postgres.log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.logDir))
}

// Stop stops the cluster at once (immediate mode: connections are cut as in
// a crash).
func (c *PGCluster) Stop() {
	c.t.Helper()
	c.ctl("stop", "-w", "-m", "immediate")
}

// Restart stops the cluster and starts it again.
func (c *PGCluster) Restart() {
	c.t.Helper()
	c.Stop()
	c.Start()
}

func (c *PGCluster) ctl(args ...string) {
	c.t.Helper()
	c.run("pg_ctl", append([]string{"-D", c.dir}, args...)...)
}

func (c *PGCluster) run(name string, args ...string) {
	c.t.Helper()
	argv := append(append(append([]string(nil), c.runAs...), filepath.Join(c.bin, name)), args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.logDir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.logDir, "postgres.log"))
		c.t.Fatalf("%s %v: %v\n%s\n%s", name, args, err, out, log)
	}
}
