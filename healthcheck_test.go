package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHealthcheck: `handoff healthcheck` passes against the real server,
// found by HANDOFF_ADDR with a wildcard host as a container sets it, and
// fails on another answer, on nobody listening and on a bad address.
func TestHealthcheck(t *testing.T) {
	srv := startServer(t)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(name string) string { return env[name] }
	for _, addr := range []string{"0.0.0.0:" + port, "[::]:" + port, ":" + port, "127.0.0.1:" + port} {
		env["HANDOFF_ADDR"] = addr
		if err := runHealthcheck(nil, getenv); err != nil {
			t.Errorf("HANDOFF_ADDR=%s: %v", addr, err)
		}
	}
	env["HANDOFF_ADDR"] = "127.0.0.1:1"
	if err := runHealthcheck([]string{"--addr", "127.0.0.1:" + port}, getenv); err != nil {
		t.Errorf("--addr overriding HANDOFF_ADDR: %v", err)
	}

	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			t.Errorf("probe asked for %s, want /healthz", r.URL.Path)
		}
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()
	env["HANDOFF_ADDR"] = unhealthy.Listener.Addr().String()
	if err := runHealthcheck(nil, getenv); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503: err %v, want one naming the status", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	env["HANDOFF_ADDR"] = closed
	if err := runHealthcheck(nil, getenv); err == nil {
		t.Errorf("nobody listening on %s: no error", closed)
	}

	for _, addr := range []string{"localhost", "127.0.0.1:0"} {
		env["HANDOFF_ADDR"] = addr
		if err := runHealthcheck(nil, getenv); err == nil || !strings.Contains(err.Error(), "HANDOFF_ADDR") {
			t.Errorf("HANDOFF_ADDR=%s: err %v, want one naming HANDOFF_ADDR", addr, err)
		}
	}
}

// TestHealthcheckTimeout: a server that does not answer fails the probe
// after its 2 seconds.
func TestHealthcheckTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	start := time.Now()
	err := runHealthcheck(nil, func(string) string { return slow.Listener.Addr().String() })
	if err == nil {
		t.Fatal("a server that never answers passed the probe")
	}
	if took := time.Since(start); took < healthcheckTimeout || took > healthcheckTimeout+3*time.Second {
		t.Errorf("the probe gave up after %v, want about %v", took, healthcheckTimeout)
	}
}
