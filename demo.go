package main

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/handoff/handoff/views"
)

// demoHost serves the demo marketing page (HANDOFF_DEMO_ADDR): a page on an
// origin of its own that embeds handoff's forms from serverURL with the
// loader script, as a customer's site would. Its strict CSP (no inline
// scripts or styles) shows that the loader needs none.
func demoHost(serverURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := views.DemoHostView(views.DemoHostPage{ServerURL: serverURL, ChatTab: r.URL.Query().Get("chat") == "tab"}).Render(r.Context(), &buf); err != nil {
			http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+serverURL+"; connect-src "+serverURL+" "+wsOrigin(serverURL)+
			"; frame-src "+serverURL+"; style-src 'self'; img-src 'self' data:; base-uri 'none'; object-src 'none'")
		h.Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /demo.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write([]byte(demoCSS))
	})
	return mux
}

// wsOrigin is the websocket origin of an http(s) origin.
func wsOrigin(origin string) string {
	if rest, ok := strings.CutPrefix(origin, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(origin, "http://")
}

const demoCSS = `*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 Georgia, "Times New Roman", serif; color: #23303b; background: #f3efe6; }
.demo-header { display: flex; align-items: baseline; gap: 1rem; padding: 1rem 2rem; color: #f3efe6; background: #2f4a3a; }
.demo-header strong { font-size: 1.25rem; letter-spacing: 0.02em; }
.demo-tag { font: 0.8rem system-ui, sans-serif; opacity: 0.8; }
.demo-main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.1fr); gap: 2.5rem; max-width: 72rem; margin: 0 auto; padding: 2.5rem 2rem 6rem; }
.demo-copy h1 { margin-top: 0; font-size: 2.2rem; line-height: 1.15; }
.demo-note { font: 0.9rem/1.5 system-ui, sans-serif; color: #4d5b66; }
.demo-code { overflow-x: auto; padding: 0.75rem 1rem; font-size: 0.78rem; color: #e8efe9; background: #23303b; border-radius: 8px; }
.demo-embed { padding: 0.5rem; background: #fff; border-radius: 14px; box-shadow: 0 8px 30px rgb(35 48 59 / 12%); }
@media (max-width: 52rem) { .demo-main { grid-template-columns: minmax(0, 1fr); } }
`
