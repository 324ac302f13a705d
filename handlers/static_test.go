package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// rawClient is a client whose transport neither asks for nor undoes
// compression, so the test sees the bytes the server sent.
func (e *env) rawClient(t *testing.T) *client {
	c := e.client()
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	c.Transport = tr
	return c
}

func (c *client) getWith(path string, header ...string) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

func checkJS(t *testing.T, res response) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200\n%s", res.StatusCode, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("Content-Type %q, want JavaScript", ct)
	}
	if v := res.Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept-Encoding") {
		t.Errorf("Vary %q, want Accept-Encoding", v)
	}
}

func TestStaticEmbedGzip(t *testing.T) {
	want, err := os.ReadFile("../static/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	c := e.rawClient(t)

	res := c.getWith("/static/embed.js", "Accept-Encoding", "gzip")
	checkJS(t, res)
	if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	if got := gunzip(t, res.Body); !bytes.Equal(got, want) {
		t.Errorf("decompressed body (%d bytes) differs from static/embed.js (%d bytes)", len(got), len(want))
	}
	t.Logf("embed.js: %d bytes, %d bytes on the wire gzipped", len(want), len(res.Body))

	// Its URL is stable (other sites load it): kept five minutes, then
	// revalidated by its ETag.
	etag := res.Header.Get("ETag")
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" || etag == "" {
		t.Errorf("embed.js: Cache-Control %q, ETag %q", cc, etag)
	}
	if res := c.getWith("/static/embed.js", "Accept-Encoding", "gzip", "If-None-Match", etag); res.StatusCode != http.StatusNotModified || len(res.Body) != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and none", res.StatusCode, len(res.Body))
	}
	// A byte range of the compressed file is a range of the gzip bytes.
	full := res.Body
	res = c.getWith("/static/embed.js", "Accept-Encoding", "gzip", "Range", "bytes=0-9")
	if res.StatusCode == http.StatusPartialContent && (res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(res.Body, full[:10])) {
		t.Errorf("ranged gzip request: Content-Encoding %q, %d bytes", res.Header.Get("Content-Encoding"), len(res.Body))
	}
}

// TestStaticFingerprinted checks the assets the pages link: fingerprinted
// names cached for good, brotli or gzip made once, an ETag; another
// release's fingerprint gets the current file for five minutes.
func TestStaticFingerprinted(t *testing.T) {
	e := newEnv(t)
	c := e.rawClient(t)
	css := c.getWith("/forms/contact").doc(t).Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{10}\.css$`).MatchString(css) {
		t.Fatalf("the page links the stylesheet as %q", css)
	}
	want, err := os.ReadFile("../static/css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	br := c.getWith(css, "Accept-Encoding", "gzip, br")
	if br.StatusCode != http.StatusOK || br.Header.Get("Content-Encoding") != "br" || br.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		br.Header.Get("ETag") == "" || !strings.HasPrefix(br.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("brotli: %d, headers %v", br.StatusCode, br.Header)
	}
	got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br.Body)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the brotli body is not app.css: %v", err)
	}
	if gz := c.getWith(css, "Accept-Encoding", "gzip"); gz.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, gz.Body), want) {
		t.Errorf("gzip: Content-Encoding %q", gz.Header.Get("Content-Encoding"))
	}
	if plain := c.getWith(css); plain.Header.Get("Content-Encoding") != "" || !bytes.Equal(plain.Body, want) {
		t.Errorf("plain: Content-Encoding %q", plain.Header.Get("Content-Encoding"))
	}
	t.Logf("app.css: %d bytes; %d brotli", len(want), len(br.Body))
	old := c.getWith("/static/css/app.0123456789.css")
	if old.StatusCode != http.StatusOK || old.Header.Get("Cache-Control") != "public, max-age=300" || !bytes.Equal(old.Body, want) {
		t.Errorf("another release's fingerprint: %d, Cache-Control %q", old.StatusCode, old.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/static/css/nope.css", "/static/css/", "/static/src/embed.js"} {
		if res := c.getWith(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestStaticEmbedPlain(t *testing.T) {
	want, err := os.ReadFile("../static/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	res := e.rawClient(t).getWith("/static/embed.js")
	checkJS(t, res)
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("Content-Encoding %q without Accept-Encoding", ce)
	}
	if !bytes.Equal(res.Body, want) {
		t.Errorf("body (%d bytes) differs from static/embed.js (%d bytes)", len(res.Body), len(want))
	}
}

// The loader's source is not served; pages and the API's JSON are
// compressed for clients that accept it, and sent plain to the others.
func TestStaticNotEverywhere(t *testing.T) {
	e := newEnv(t)
	c := e.rawClient(t)
	if res := c.getWith("/static/src/embed.js", "Accept-Encoding", "gzip"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/src/embed.js: status %d, want 404", res.StatusCode)
	}
	res := c.getWith("/forms/contact", "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(string(gunzip(t, res.Body)), "<form") {
		t.Fatalf("GET /forms/contact with gzip: %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if res := c.getWith("/forms/contact"); res.Header.Get("Content-Encoding") != "" || !strings.Contains(string(res.Body), "<form") {
		t.Errorf("GET /forms/contact without Accept-Encoding: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	id := e.client().handoff(t)
	e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": strings.Repeat("A long answer. ", 60), "authorName": "Dana"})
	res = c.getWith("/api/v1/org/conversations/"+id+"/messages", "Accept-Encoding", "gzip", "Authorization", "Bearer "+testToken)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(string(gunzip(t, res.Body)), `"messages"`) {
		t.Errorf("GET the org API's messages with gzip: %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
}

func TestHeadAnswersLikeGet(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/forms/contact", "/static/embed.js", "/healthz"} {
		req, _ := http.NewRequest(http.MethodHead, e.URL+path, nil)
		res := e.client().do(req)
		if res.StatusCode != http.StatusOK || len(res.Body) != 0 || res.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: status %d, %d body bytes, Content-Type %q", path, res.StatusCode, len(res.Body), res.Header.Get("Content-Type"))
		}
	}
	req, _ := http.NewRequest(http.MethodHead, e.URL+"/forms/nope", nil)
	if res := e.client().do(req); res.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD unknown form: %d", res.StatusCode)
	}
}
