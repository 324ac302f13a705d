package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const nginxPath = "/usr/sbin/nginx"

// startNginx runs Debian's nginx in front of the upstreams (host:port, one
// or more instances, balanced round-robin) with the
// README's proxy configuration, docs/nginx/handoff-proxy.conf, and returns
// its address. Without nginx the test is skipped, or fails under CI or
// HANDOFF_REQUIRE_NGINX=1.
func startNginx(t *testing.T, upstreams ...string) string {
	t.Helper()
	if _, err := os.Stat(nginxPath); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("HANDOFF_REQUIRE_NGINX") == "1" {
			t.Fatalf("proxy tests need nginx at %s (apt-get install nginx): %v", nginxPath, err)
		}
		t.Skipf("nginx not found at %s; set HANDOFF_REQUIRE_NGINX=1 to make this a failure", nginxPath)
	}
	snippet, err := filepath.Abs("docs/nginx/handoff-proxy.conf")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var servers string
	for _, u := range upstreams {
		servers += "        server " + u + ";\n"
	}
	conf := fmt.Sprintf(`
worker_processes 1;
error_log %[1]s/error.log warn;
pid %[1]s/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }
    upstream handoff {
%[2]s        keepalive 8;
    }
    server {
        listen %[3]s;
        include %[4]s;
    }
}
`, dir, servers, addr, snippet)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginxPath, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off; master_process on;")
	out, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM: the master stops its workers before it exits.
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			o, _ := os.ReadFile(filepath.Join(dir, "output.log"))
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", o, log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientFrom is a browser-like client whose connections leave from the
// loopback address local (127.0.0.2, 127.0.0.3, …), so that nginx sees
// visitors with different addresses.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestBehindNginx runs handoff behind Debian's nginx with the README's
// configuration and HANDOFF_TRUSTED_PROXIES: sign-in throttles and abuse
// limits see each visitor's own address, not the proxy's, and the chat's
// websocket works through the proxy.
func TestBehindNginx(t *testing.T) {
	const admin, password = "admin@example.com", "correct horse battery"
	srv := startRun(t, t.TempDir(), map[string]string{
		"HANDOFF_TRUSTED_PROXIES": "127.0.0.1/32",
		"HANDOFF_ADMIN_EMAIL":     admin,
		"HANDOFF_ADMIN_PASSWORD":  password,
		"HANDOFF_ADMIN_NAME":      "Ada Admin",
	})
	proxy := "http://" + startNginx(t, strings.TrimPrefix(srv.base, "http://"))

	attacker, agent := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	signIn := func(c *http.Client, email, pw string) int {
		t.Helper()
		res, err := c.PostForm(proxy+"/agent/sign-in", url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// 20 failures under random emails lock out the attacker's address...
	for i := range 20 {
		if code := signIn(attacker, fmt.Sprintf("guess%d@example.com", i), "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d", i, code)
		}
	}
	if code := signIn(attacker, "guess-more@example.com", "wrong password!"); code != http.StatusTooManyRequests {
		t.Errorf("the attacker's address behind the proxy is not throttled: %d", code)
	}
	// ...and no one else behind the same proxy.
	if code := signIn(agent, admin, password); code != http.StatusSeeOther {
		t.Errorf("an agent behind the same proxy could not sign in: %d, want 303", code)
	}

	// Hand-offs are limited per visitor address.
	handoff := func(c *http.Client) *http.Response {
		t.Helper()
		res, err := c.PostForm(proxy+"/forms/contact", url.Values{
			"name": {"Dana"}, "email": {"dana@example.com"}, "topic": {"billing"}, "message": {"Hello through the proxy"},
		})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	var chat string
	for i := range 3 {
		res := handoff(attacker)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("hand-off %d: %d", i, res.StatusCode)
		}
		chat = res.Header.Get("Location")
	}
	if res := handoff(attacker); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("4th hand-off from one visitor: %d, want 429 with Retry-After", res.StatusCode)
	}
	if res := handoff(clientFrom("127.0.0.4")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another visitor behind the proxy was limited: %d", res.StatusCode)
	}

	// The chat's websocket through nginx, with the page's own Origin.
	u, _ := url.Parse(proxy + chat + "/ws")
	h := http.Header{"Origin": {proxy}}
	for _, c := range attacker.Jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	u.Scheme = "ws"
	dialer := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext, HandshakeTimeout: 5 * time.Second}
	conn, res, err := dialer.Dial(u.String(), h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("websocket through nginx: %v (status %d)", err, status)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteJSON(map[string]any{"type": "hello", "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "send", "clientMessageId": "through-nginx", "body": "Sent over the proxied socket"}); err != nil {
		t.Fatal(err)
	}
	for {
		var f struct{ Type, ClientMessageID string }
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("reading the proxied socket: %v", err)
		}
		if f.Type == "ack" && f.ClientMessageID == "through-nginx" {
			break
		}
	}
	// An https Origin is not this http site's, even through the proxy.
	h.Set("Origin", strings.Replace(proxy, "http://", "https://", 1))
	if _, res, err := dialer.Dial(u.String(), h); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("an https Origin on the http site was accepted through the proxy")
	}
}
