package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// parseVmRSS reads the resident set size, in bytes, from the text of
// /proc/PID/status ("VmRSS:    12345 kB").
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "VmRSS" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS: unexpected %q", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS line (a kernel thread or an exited process)")
}

// parseLoadAvg reads the one-minute load average from the text of
// /proc/loadavg.
func parseLoadAvg(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("empty loadavg")
	}
	return strconv.ParseFloat(f[0], 64)
}

// loadAvg is the machine's one-minute load average, or -1 when unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, err := parseLoadAvg(b)
	if err != nil {
		return -1
	}
	return v
}

// parseProcStatCPU reads the machine's busy and total CPU time, in clock
// ticks, from the "cpu" line of /proc/stat.
func parseProcStatCPU(b []byte) (busy, total uint64, err error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		if i+1 >= len(f) {
			break
		}
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, err
		}
	}
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + v[3] + v[4], nil
}

// parseOwnCPU reads a process's CPU time, its own and its reaped
// children's (utime+stime+cutime+cstime), in clock ticks, from the text of
// /proc/PID/stat.
func parseOwnCPU(b []byte) (uint64, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime, stime, cutime, cstime are fields
	// 14 to 17.
	if len(f) < 15 {
		return 0, errors.New("short /proc/PID/stat")
	}
	var sum uint64
	for _, x := range f[11:15] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, err
		}
		sum += uint64(max(n, 0))
	}
	return sum, nil
}

// clockTicks is USER_HZ, the unit of /proc CPU times: 100 on Linux.
const clockTicks = 100

// procCPU is a process's own CPU time (all its threads) in clock ticks.
func procCPU(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	u, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, err
	}
	st, err := strconv.ParseUint(f[12], 10, 64)
	return u + st, err
}

// cpuUse is how many CPUs the server under test and the load generator
// each kept busy during a phase.
type cpuUse struct {
	Server   float64 `json:"serverCPUs"`
	Bench    float64 `json:"benchCPUs"`
	Postgres float64 `json:"postgresCPUs,omitempty"` // the PostgreSQL backends serving the servers' database
	Seconds  float64 `json:"seconds"`                // how long it was measured
}

// serverMicrosPer is the servers' CPU time, in µs, per one of n things
// done while it was measured; nil when unmeasured.
func (u *cpuUse) serverMicrosPer(n int64) *float64 {
	if u == nil || u.Seconds <= 0 || n <= 0 {
		return nil
	}
	return fp(u.Server * u.Seconds / float64(n) * 1e6)
}

// startCPU starts measuring the CPU the servers srvs (together) and this
// process use; the returned function ends the measurement.
func startCPU(srvs ...*proc) func() cpuUse {
	start := time.Now()
	serverCPU := func() (uint64, error) {
		var sum uint64
		for _, p := range srvs {
			n, err := procCPU(p.cmd.Process.Pid)
			if err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, nil
	}
	s0, err0 := serverCPU()
	b0, err1 := procCPU(os.Getpid())
	return func() cpuUse {
		el := time.Since(start).Seconds()
		s1, err2 := serverCPU()
		b1, err3 := procCPU(os.Getpid())
		if err := errors.Join(err0, err1, err2, err3); err != nil || el <= 0 {
			return cpuUse{}
		}
		return cpuUse{Server: float64(s1-s0) / clockTicks / el, Bench: float64(b1-b0) / clockTicks / el, Seconds: el}
	}
}

// cpuSample is a reading of the machine's CPU time and of the part this
// process and its reaped children (the servers it started and stopped)
// used.
type cpuSample struct{ busy, total, own uint64 }

func readCPU() (cpuSample, error) {
	var c cpuSample
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c, err
	}
	if c.busy, c.total, err = parseProcStatCPU(b); err != nil {
		return c, err
	}
	if b, err = os.ReadFile("/proc/self/stat"); err != nil {
		return c, err
	}
	c.own, err = parseOwnCPU(b)
	return c, err
}

// otherCPUShare is the share of the machine's CPU capacity that other
// processes used between two samples, when every server started in between
// has been stopped (and so reaped).
func otherCPUShare(a, b cpuSample) float64 {
	total := float64(b.total - a.total)
	if total <= 0 {
		return 0
	}
	other := float64(b.busy-a.busy) - float64(b.own-a.own)
	return max(other, 0) / total
}

// readRSS is the resident set size of process pid, in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// parseMaxOpenFiles reads the soft "Max open files" limit from the text of
// /proc/PID/limits; -1 means unlimited.
func parseMaxOpenFiles(limits []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(limits))
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "Max open files") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(l, "Max open files"))
		if len(f) < 2 {
			return 0, fmt.Errorf("max open files: unexpected %q", l)
		}
		if f[0] == "unlimited" {
			return -1, nil
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("no Max open files line")
}

// raiseNoFile raises this process's soft open-files limit to its hard limit
// (children started afterwards inherit it) and returns the new soft limit.
func raiseNoFile() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// proc is a server under test running as its own process, so that its
// memory can be measured alone.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string // 127.0.0.1:port
	log  *os.File
	done chan struct{}
	err  error       // the exit status, once done is closed
	wal  *walSampler // the handoff server's SQLite WAL; nil for the bare servers
	// metricsAddr is the handoff server's metrics and profiles listener
	// when the bench profiles it; "" when /metrics is on addr.
	metricsAddr string
}

// base is the server's origin, http://127.0.0.1:port.
func (p *proc) base() string { return "http://" + p.addr }

// metricsBase is where the server serves /metrics.
func (p *proc) metricsBase() string {
	if p.metricsAddr != "" {
		return "http://" + p.metricsAddr
	}
	return p.base()
}

// startProc starts bin with args and env added to this process's
// environment, logging to logPath, and waits until GET readyPath answers
// 200.
func startProc(ctx context.Context, name, bin string, args, env []string, dir, addr, logPath, readyPath string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, addr: addr, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx, readyPath, 20*time.Second); err != nil {
		_ = p.stop()
		return nil, fmt.Errorf("%s not ready (log %s): %w", name, logPath, err)
	}
	return p, nil
}

func (p *proc) waitReady(ctx context.Context, path string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base()+path, nil)
		res, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("no 200 from %s: %w (last error %v)", path, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rss is the process's resident set size in bytes.
func (p *proc) rss() (int64, error) { return readRSS(p.cmd.Process.Pid) }

// maxOpenFiles is the process's soft open-files limit.
func (p *proc) maxOpenFiles() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseMaxOpenFiles(b)
}

// stop asks the process to shut down (SIGTERM), waits up to 25 s, then
// kills it. It returns the exit error of a process that did not exit
// cleanly.
func (p *proc) stop() error {
	defer p.log.Close()
	if p.wal != nil {
		p.wal.stop()
	}
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(25 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 25 s after SIGTERM; killed", p.name)
	}
}
