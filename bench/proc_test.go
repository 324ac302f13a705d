package main

import (
	"os"
	"testing"
)

const sampleStatus = `Name:	handoff
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Pid:	4242
VmPeak:	 1290712 kB
VmSize:	 1290712 kB
VmHWM:	  301204 kB
VmRSS:	  287116 kB
RssAnon:	  270000 kB
Threads:	9
`

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS([]byte(sampleStatus))
	if err != nil || got != 287116*1024 {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, 287116*1024)
	}
	if _, err := parseVmRSS([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil {
		t.Error("a status without VmRSS parsed")
	}
	if _, err := parseVmRSS([]byte("VmRSS:\t12 MB\n")); err == nil {
		t.Error("an unexpected unit parsed")
	}
}

func TestReadRSSSelf(t *testing.T) {
	got, err := readRSS(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if got < 1<<20 {
		t.Errorf("own RSS = %d bytes, implausibly small", got)
	}
}

func TestParseMaxOpenFiles(t *testing.T) {
	const limits = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`
	if got, err := parseMaxOpenFiles([]byte(limits)); err != nil || got != 20000 {
		t.Errorf("parseMaxOpenFiles = %d, %v", got, err)
	}
	if got, err := parseMaxOpenFiles([]byte("Max open files            unlimited            unlimited            files\n")); err != nil || got != -1 {
		t.Errorf("unlimited = %d, %v", got, err)
	}
	if _, err := parseMaxOpenFiles([]byte("Max cpu time unlimited unlimited seconds\n")); err == nil {
		t.Error("limits without open files parsed")
	}
}

func TestParseLoadAvg(t *testing.T) {
	if got, err := parseLoadAvg([]byte("6.58 6.15 4.60 3/412 28835\n")); err != nil || got != 6.58 {
		t.Errorf("parseLoadAvg = %v, %v", got, err)
	}
	if _, err := parseLoadAvg([]byte("")); err == nil {
		t.Error("empty loadavg parsed")
	}
}

func TestOtherCPUShare(t *testing.T) {
	busy, total, err := parseProcStatCPU([]byte("cpu  100 10 50 800 20 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != 180 || total != 1000 {
		t.Fatalf("parseProcStatCPU = %d, %d, %v", busy, total, err)
	}
	if _, _, err := parseProcStatCPU([]byte("intr 1 2 3\n")); err == nil {
		t.Error("a stat without a cpu line parsed")
	}
	// A command name with spaces and parentheses must not shift the fields.
	stat := "4242 (bench (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 300 120 40 25 20 0 9 0 100 1000 200 18446744073709551615"
	own, err := parseOwnCPU([]byte(stat))
	if err != nil || own != 300+120+40+25 {
		t.Fatalf("parseOwnCPU = %d, %v; want 485", own, err)
	}
	a := cpuSample{busy: 1000, total: 4000, own: 500}
	b := cpuSample{busy: 2600, total: 6000, own: 1600}
	// 2000 ticks of capacity: 1600 busy, 1100 ours, so 500 others: 25%.
	if got := otherCPUShare(a, b); got != 0.25 {
		t.Errorf("otherCPUShare = %v, want 0.25", got)
	}
	if got := otherCPUShare(a, a); got != 0 {
		t.Errorf("no time: %v", got)
	}
}

func TestReadCPUSelf(t *testing.T) {
	c, err := readCPU()
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if c.total == 0 || c.busy > c.total {
		t.Errorf("readCPU = %+v", c)
	}
}

func TestProcCPUSelf(t *testing.T) {
	before, err := procCPU(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// Burn a little CPU: the count must not go down.
	x := 0
	for i := range 20_000_000 {
		x += i
	}
	after, err := procCPU(os.Getpid())
	if err != nil || after < before || x == 0 {
		t.Errorf("procCPU went from %d to %d (%v)", before, after, err)
	}
}
