package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
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

	// A byte range of the file cannot be served gzipped: the whole file is.
	res = c.getWith("/static/embed.js", "Accept-Encoding", "gzip, deflate, br", "Range", "bytes=0-9")
	checkJS(t, res)
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Content-Range") != "" {
		t.Fatalf("ranged gzip request: Content-Encoding %q, Content-Range %q", res.Header.Get("Content-Encoding"), res.Header.Get("Content-Range"))
	}
	if got := gunzip(t, res.Body); !bytes.Equal(got, want) {
		t.Errorf("ranged gzip request: body is not the whole file")
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

// The loader's source is not served, and compression is for /static/ only.
func TestStaticNotEverywhere(t *testing.T) {
	e := newEnv(t)
	c := e.rawClient(t)
	if res := c.getWith("/static/src/embed.js", "Accept-Encoding", "gzip"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/src/embed.js: status %d, want 404", res.StatusCode)
	}
	res := c.getWith("/forms/contact", "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /forms/contact: status %d", res.StatusCode)
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("GET /forms/contact: Content-Encoding %q, want none (gzip is for /static/ only)", ce)
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
