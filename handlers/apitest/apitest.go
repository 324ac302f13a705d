// Package apitest checks a test's traffic to /api/v1 against the API's
// OpenAPI document: every request a test sends and every answer it gets,
// so that the document cannot drift from the code. Tests of the handlers
// and of the whole server use it.
package apitest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// InvalidHeader marks a request a test sends malformed on purpose (an
// unknown field, bad JSON, a wrong content type, a value out of range):
// the checking transport strips it and checks the answer only.
const InvalidHeader = "X-Test-Invalid"

var (
	openAPIOnce   sync.Once
	openAPIDoc    *openapi3.T
	openAPIRouter routers.Router
	openAPIErr    error
)

// openAPIChecker loads the document and its router once per process.
func openAPIChecker(document []byte) (*openapi3.T, routers.Router, error) {
	openAPIOnce.Do(func() {
		openAPIDoc, openAPIErr = openapi3.NewLoader().LoadFromData(document)
		if openAPIErr != nil {
			return
		}
		// servers is "/api/v1": the router matches it on any host, so on
		// the test server's too.
		openAPIRouter, openAPIErr = gorillamux.NewRouter(openAPIDoc)
	})
	return openAPIDoc, openAPIRouter, openAPIErr
}

// openAPITransport checks every request a test client sends to /api/v1,
// and every answer it gets, against openapi.json: a mismatch fails the
// test with the method, path, status and what did not match. A request
// marked with invalidHeader is not checked; its answer is.
type openAPITransport struct {
	t        testing.TB
	base     http.RoundTripper
	document []byte
}

// NewTransport returns a transport that sends through base and checks,
// against document (the API's openapi.json), every request to /api/v1
// and its answer, failing t on a mismatch.
func NewTransport(t testing.TB, base http.RoundTripper, document []byte) http.RoundTripper {
	return &openAPITransport{t: t, base: base, document: document}
}

func (tr *openAPITransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != "/api/v1" && !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return tr.base.RoundTrip(req)
	}
	doc, router, err := openAPIChecker(tr.document)
	if err != nil {
		tr.t.Errorf("openapi.json: %v", err)
		return tr.base.RoundTrip(req)
	}
	ctx := req.Context()
	req = req.Clone(ctx)
	checkRequest := req.Header.Get(InvalidHeader) == ""
	req.Header.Del(InvalidHeader)
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	where := req.Method + " " + req.URL.RequestURI()

	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc, // the handlers check it
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
	}
	route, params, findErr := router.FindRoute(req)
	in := &openapi3filter.RequestValidationInput{PathParams: params, Route: route, Options: opts}
	if findErr == nil && checkRequest {
		vr := req.Clone(ctx)
		vr.Body = io.NopCloser(bytes.NewReader(body))
		in.Request = vr
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			tr.t.Errorf("openapi.json: request %s does not match: %s", where, shortOpenAPIError(err))
		}
	}
	if findErr != nil && checkRequest {
		tr.t.Errorf("openapi.json: request %s: %v", where, findErr)
	}

	res, err := tr.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	plain := resBody
	if res.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(resBody)); err == nil {
			plain, _ = io.ReadAll(zr)
		}
	}
	where = fmt.Sprintf("%s → %d", where, res.StatusCode)
	if findErr != nil {
		// No operation: the answer must be a documented error.
		if err := checkErrorBody(doc, res, plain); err != nil {
			tr.t.Errorf("openapi.json: answer to %s (no documented operation): %v", where, err)
		}
		return res, nil
	}
	header := res.Header.Clone()
	header.Del("Content-Encoding")
	in.Request = req.Clone(ctx)
	in.Request.Body = http.NoBody
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(plain)),
		Options:                opts,
	})
	if err != nil {
		tr.t.Errorf("openapi.json: answer to %s does not match: %s\n%s", where, shortOpenAPIError(err), shorten(string(plain), 300))
	}
	return res, nil
}

// checkErrorBody checks an answer to a path or method openapi.json does
// not describe: an error with the document's error body.
func checkErrorBody(doc *openapi3.T, res *http.Response, body []byte) error {
	if res.StatusCode < 400 {
		return errors.New("a success for an undocumented route")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return doc.Components.Schemas["Errors"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// shortOpenAPIError is kin-openapi's error without the schema it quotes.
func shortOpenAPIError(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i >= 0 {
		s = s[:i]
	}
	return shorten(strings.TrimSpace(s), 600)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
