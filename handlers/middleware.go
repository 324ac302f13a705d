package handlers

import (
	"compress/gzip"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/static"
	"github.com/labstack/echo/v4/middleware"
	"github.com/vearutop/statigz"
	"github.com/vearutop/statigz/brotli"
)

// logRequests logs one line per request with its request id. It never logs
// query strings, bodies or cookies.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		// Every line logged while serving the request names it (see
		// kustomer.ContextHandler).
		req := c.Request()
		c.SetRequest(req.WithContext(kustomer.WithRequestID(req.Context(), c.Response().Header().Get(echo.HeaderXRequestID))))
		err := next(c)
		if err != nil {
			// Let the central handler write the response now so that the
			// status logged is the status sent.
			c.Error(err)
		}
		res := c.Response()
		s.opts.Metrics.observeRequest(c.Path(), c.Request().Method, res.Status, time.Since(start))
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", time.Since(start)),
		)
		return nil
	}
}

// contentSecurityPolicy is the default policy; pages that may be framed
// replace frame-ancestors with their form's allowed origins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// frameAncestors sets the page's frame-ancestors to 'self' and the given
// origins, or to 'none' when there are none.
func frameAncestors(c echo.Context, origins []string) {
	fa := "frame-ancestors 'none'"
	if len(origins) > 0 {
		fa = "frame-ancestors 'self'"
		for _, o := range origins {
			fa += " " + o
		}
	}
	const def = "frame-ancestors 'none'"
	csp := contentSecurityPolicy[:len(contentSecurityPolicy)-len(def)] + fa
	c.Response().Header().Set("Content-Security-Policy", csp)
}

// crossOriginProtection refuses state-changing requests that a browser sent
// from another origin (Sec-Fetch-Site / Origin checks), which needs no token
// and sets no cookie before the visitor acts.
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return &Error{Status: http.StatusForbidden, Code: "cross_origin_request",
					Title: "Cross-origin request refused", Detail: "This request came from another site and was refused."}
			}
			return next(c)
		}
	}
}

// staticHandler serves the files under /static/ the way a CDN would:
// gzip and brotli made once at start-up (statigz) and chosen by
// Accept-Encoding, an ETag, and caching by name. A fingerprinted name
// (static.Path) is kept for good (immutable); a plain name (embed.js,
// which other sites load by a stable URL) or another release's fingerprint
// for five minutes, revalidated by its ETag. Directories and unknown names
// are 404.
func staticHandler(fsys fs.ReadDirFS) http.Handler {
	files := statigz.FileServer(fsys, brotli.AddEncoding, statigz.EncodeOnInit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, current, ok := static.Resolve(strings.TrimPrefix(r.URL.Path, "/static/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		if current {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/"+name, ""
		files.ServeHTTP(w, r2)
	})
}

// compressResponses gzips the pages and the API's JSON for clients that
// accept it. It leaves out what is compressed already or must not be
// wrapped: the static files (precompressed), the websockets, uploaded
// files, /metrics (compressed by its own handler) and HEAD requests.
func compressResponses() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		Level:     gzip.DefaultCompression,
		MinLength: 512,
		Skipper: func(c echo.Context) bool {
			r := c.Request()
			p := r.URL.Path
			return r.Method == http.MethodHead || strings.HasPrefix(p, "/static/") || strings.HasSuffix(p, "/ws") ||
				strings.Contains(p, "/attachments/") || p == "/metrics" || r.Header.Get("Upgrade") != ""
		},
	})
}

// headWriter is the response to a HEAD request answered as a GET: headers
// and status pass, the body is dropped.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }
