package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindChromium finds the browser by HANDOFF_CHROMIUM, else by the
// usual names on PATH, and names what it tried when it finds none.
func TestFindChromium(t *testing.T) {
	dir := t.TempDir()
	fake := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := map[string]string{}
	getenv := func(name string) string { return env[name] }
	t.Setenv("PATH", dir)

	if _, _, err := findChromium(getenv); err == nil ||
		!strings.Contains(err.Error(), "HANDOFF_CHROMIUM is not set") ||
		!strings.Contains(err.Error(), strings.Join(chromiumNames, ", ")) {
		t.Errorf("nothing on PATH: err %v, want one naming HANDOFF_CHROMIUM and every name tried", err)
	}

	chrome := fake("google-chrome-stable")
	if path, explicit, err := findChromium(getenv); err != nil || path != chrome || explicit {
		t.Errorf("google-chrome-stable on PATH: got %q %v %v, want %q", path, explicit, err, chrome)
	}
	chromium := fake("chromium")
	if path, _, err := findChromium(getenv); err != nil || path != chromium {
		t.Errorf("chromium and google-chrome-stable on PATH: got %q %v, want chromium first (%q)", path, err, chromium)
	}

	env["HANDOFF_CHROMIUM"] = chrome
	if path, explicit, err := findChromium(getenv); err != nil || path != chrome || !explicit {
		t.Errorf("HANDOFF_CHROMIUM=%s: got %q %v %v", chrome, path, explicit, err)
	}
	env["HANDOFF_CHROMIUM"] = filepath.Join(dir, "no-such-browser")
	if _, explicit, err := findChromium(getenv); err == nil || !explicit || !strings.Contains(err.Error(), "HANDOFF_CHROMIUM="+env["HANDOFF_CHROMIUM"]) {
		t.Errorf("HANDOFF_CHROMIUM naming nothing: explicit %v, err %v; want an explicit error naming it", explicit, err)
	}
}

// TestReportBrowserSkips: the banner says how many browser tests and
// accessibility checks were skipped, and nothing is said when none were.
func TestReportBrowserSkips(t *testing.T) {
	var b strings.Builder
	reportBrowserSkips(&b, 0, 0, nil)
	if b.Len() != 0 {
		t.Errorf("no skips: wrote %q, want nothing", b.String())
	}
	reportBrowserSkips(&b, 7, 2, errors.New("none of chromium… is on PATH"))
	for _, want := range []string{"7 browser tests were SKIPPED: none of chromium… is on PATH", "2 accessibility checks were SKIPPED", "HANDOFF_REQUIRE_BROWSER=1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner %q lacks %q", b.String(), want)
		}
	}
}
