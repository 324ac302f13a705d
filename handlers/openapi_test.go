package handlers

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI loads and validates the embedded document. It is OpenAPI
// 3.1: kin-openapi loads it and, for 3.1 documents, validates requests
// and answers with its JSON Schema 2020-12 validator (type arrays for
// null, unevaluatedProperties).
func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

var echoParam = regexp.MustCompile(`:([^/]+)`)

// TestOpenAPIDocument: the document is valid OpenAPI, describes exactly
// the routes registered under /api/v1 (method and path, both ways), and is
// served at /api/v1/openapi.json.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	e := newEnv(t)

	const prefix = "/api/v1"
	registered := map[string]bool{}
	for _, r := range e.srv.echo.Routes() {
		if !strings.HasPrefix(r.Path, prefix+"/") || !slices.Contains(openAPIMethods, r.Method) {
			continue // echo's not-found routes, and other prefixes
		}
		registered[r.Method+" "+echoParam.ReplaceAllString(strings.TrimPrefix(r.Path, prefix), "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = true
			if op.OperationID == "" {
				t.Errorf("%s %s: no operationId", method, path)
			}
			if _, ok := op.Responses.Map()["400"]; !ok && op.RequestBody != nil {
				t.Errorf("%s %s takes a body but documents no 400", method, path)
			}
		}
	}
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s (under %s) is not in openapi.json", r, prefix)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("openapi.json documents %s (under %s), which routes.go does not register", d, prefix)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d routes found under %s: is the walk of echo's routes right?", len(registered), prefix)
	}

	res := e.client().get(prefix + "/openapi.json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET openapi.json: %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	if string(res.Body) != string(openAPIDocument) {
		t.Errorf("GET openapi.json served %d bytes, not the embedded document (%d bytes)", len(res.Body), len(openAPIDocument))
	}
}

var openAPIMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
