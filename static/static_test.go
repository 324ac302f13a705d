package static

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// embedBanner is the first line of the generated static/embed.js (the
// --banner:js of the Makefile's generate-embed target).
const embedBanner = "/* handoff embed loader: generated from static/src/embed.js by make generate; do not edit */\n"

// maxEmbedGzip is the budget of the embed loader, minified and gzipped.
const maxEmbedGzip = 5 * 1024

// TestEmbedFresh minifies src/embed.js the way make generate does and checks
// the committed embed.js is that output.
func TestEmbedFresh(t *testing.T) {
	src, err := os.ReadFile("src/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Sourcefile:        "static/src/embed.js",
	})
	for _, m := range res.Errors {
		t.Errorf("esbuild: %s (line %d)", m.Text, lineOf(m.Location))
	}
	if len(res.Errors) > 0 {
		t.FailNow()
	}
	got, err := os.ReadFile("embed.js")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(got, []byte(embedBanner))
	if !ok {
		t.Fatalf("embed.js does not start with the banner %q: run make generate", embedBanner)
	}
	if want := bytes.TrimSpace(res.Code); !bytes.Equal(bytes.TrimSpace(body), want) {
		t.Fatalf("embed.js is stale (%d bytes, fresh build %d bytes): run make generate", len(body), len(want))
	}
}

// TestEmbedSize keeps the loader within its budget, gzipped as a server or
// CDN would at best compression.
func TestEmbedSize(t *testing.T) {
	b, err := os.ReadFile("embed.js")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("embed.js: %d bytes minified, %d bytes gzipped (budget %d)", len(b), buf.Len(), maxEmbedGzip)
	if buf.Len() > maxEmbedGzip {
		t.Fatalf("embed.js is %d bytes gzipped, over the %d-byte budget", buf.Len(), maxEmbedGzip)
	}
}

// TestEmbedSourceGuards is a cheap guard on what the loader must never do:
// touch cookies or web storage, parse HTML, or set styles as a string (which
// a host page's CSP without 'unsafe-inline' styles would block). It reads
// the whole source, comments included.
func TestEmbedSourceGuards(t *testing.T) {
	src, err := os.ReadFile("src/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src)
	for _, banned := range []string{
		"document.cookie", "localStorage", "sessionStorage", "innerHTML", "outerHTML",
		"insertAdjacentHTML", "document.write", `setAttribute("style"`, "cssText", "createElement(\"style\")",
	} {
		if strings.Contains(code, banned) {
			t.Errorf("src/embed.js uses %s", banned)
		}
	}
}

// TestFSServesOnlyTheBuild checks the loader is embedded and its source is
// not.
func TestFSServesOnlyTheBuild(t *testing.T) {
	if _, err := fs.Stat(FS, "embed.js"); err != nil {
		t.Errorf("embed.js is not embedded: %v", err)
	}
	if _, err := fs.Stat(FS, "src/embed.js"); err == nil {
		t.Errorf("src/embed.js is embedded, so it would be served")
	}
}

func lineOf(l *api.Location) int {
	if l == nil {
		return 0
	}
	return l.Line
}

// TestAssetPaths checks that every file has a fingerprinted name that
// resolves back to it, that the plain name resolves too (not for good), and
// that another release's hash finds the current file.
func TestAssetPaths(t *testing.T) {
	p := Path("css/app.css")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{10}\.css$`).MatchString(p) {
		t.Fatalf("Path(css/app.css) = %q", p)
	}
	if name, current, ok := Resolve(strings.TrimPrefix(p, "/static/")); name != "css/app.css" || !current || !ok {
		t.Errorf("Resolve(%s) = %q %v %v", p, name, current, ok)
	}
	if name, current, ok := Resolve("css/app.css"); name != "css/app.css" || current || !ok {
		t.Errorf("Resolve(css/app.css) = %q %v %v", name, current, ok)
	}
	if name, current, ok := Resolve("css/app.0123456789.css"); name != "css/app.css" || current || !ok {
		t.Errorf("Resolve(an old hash) = %q %v %v", name, current, ok)
	}
	for _, bad := range []string{"css/nope.css", "src/embed.js", "css/app.xyz.css", ""} {
		if _, _, ok := Resolve(bad); ok {
			t.Errorf("Resolve(%q) found a file", bad)
		}
	}
	if got := Path("img/none.svg"); got != "/static/img/none.svg" {
		t.Errorf("Path of a missing file = %q", got)
	}
}
