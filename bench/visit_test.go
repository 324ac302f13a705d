package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMeasureVisits checks the visit model against a server whose page
// links an immutable file and a revalidated one: the repeat visit asks for
// the page and revalidates the second (304, no body), and skips the first.
func TestMeasureVisits(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<link href="/static/a.123.css"><script src="/static/b.js"></script><script src="/static/b.js"></script>`))
	})
	mux.HandleFunc("/static/a.123.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(make([]byte, 1000))
	})
	mux.HandleFunc("/static/b.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("ETag", `"b1"`)
		if r.Header.Get("If-None-Match") == `"b1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(make([]byte, 500))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(target{base: srv.URL}, newTransport(2))
	first, repeat, err := measureVisits(context.Background(), b, "/page")
	if err != nil {
		t.Fatal(err)
	}
	if first.Requests != 3 || first.Bytes < 1500 {
		t.Errorf("first visit %+v, want 3 requests and the files' bytes", first)
	}
	if repeat.Requests != 2 || repeat.Bytes >= 1000 {
		t.Errorf("repeat visit %+v, want the page and one revalidation", repeat)
	}
}
