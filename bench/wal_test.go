package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWALSamplerKeepsPeak grows and then empties a file while it is
// sampled: the peak is the largest size, not the last.
func TestWALSamplerKeepsPeak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "handoff.db-wal")
	w := sampleWAL(path, time.Millisecond)
	defer w.stop()
	if err := os.WriteFile(path, make([]byte, 3<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.peak.Load() < 3<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("peak %d bytes, want the file's 3 MB", w.peak.Load())
		}
		time.Sleep(time.Millisecond) // the sampler looks every millisecond
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	w.stop()
	w.stop()
	if got := w.peakMB(); got != 3 {
		t.Errorf("peak = %v MB after the file was emptied, want 3", got)
	}
}
