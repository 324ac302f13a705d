package cloudtest

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specGz is Kustomer's "Core Resources" OpenAPI 3.0 export of the v1 REST
// API, gzip-compressed, byte for byte as published in the public repository
// LarisLab/kustomer-client, file openapi.json, commit 1d997b72 (the copy
// handoff's CONTRACT.md describes; sha256 of the uncompressed file
// 92258c5f2333da977e454fa3e7dd1b4f8780c4a17656413ebc914decabc6dbf7).
// The export covers 78 paths and 133 operations; it does not cover
// outbound webhooks (see webhooks.go) or the v2.1 chat API.
//
//go:embed testdata/openapi.json.gz
var specGz []byte

// spec is the loaded, adapted export with its routers. It is read-only
// after loadSpec, so every Fake of the process shares it.
type spec struct {
	doc *openapi3.T
	// first routes the paths with a literal prefix before a variable in
	// one segment (/customers/email={email}); rest routes everything. See
	// findRoute.
	first, rest routers.Router
	formats     []openapi3.SchemaValidationOption
}

var (
	specOnce sync.Once
	specVal  *spec
	specErr  error
)

// loadSpec loads the export once per process: it is 4 MB of JSON.
func loadSpec() (*spec, error) {
	specOnce.Do(func() { specVal, specErr = newSpec() })
	return specVal, specErr
}

// newSpec parses the export and adapts it to a local server. Every
// adaptation is numbered here, with why. Only 4 loosens the export, where
// no real request could meet it.
func newSpec() (*spec, error) {
	zr, err := gzip.NewReader(bytes.NewReader(specGz))
	if err != nil {
		return nil, fmt.Errorf("cloudtest: gunzip openapi.json: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("cloudtest: gunzip openapi.json: %w", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("cloudtest: load openapi.json: %w", err)
	}

	// 1. The export's server is https://api.kustomerapp.com/v1; the fake
	// listens on 127.0.0.1 and takes any host, under /v1.
	doc.Servers = openapi3.Servers{{URL: "/v1"}}

	// 2. Kustomer's own string formats, and the standard ones kin-openapi
	// does not check by itself (it only knows date, date-time and byte).
	formats := stringFormats()
	doc.SetStringFormatValidators(formats)

	// 3. and 4. Request schemas the export gets wrong.
	walkOperations(doc, func(method string, op *openapi3.Operation) {
		rb := op.RequestBody
		if rb == nil || rb.Value == nil {
			return
		}
		// 3. No request body in the export says required, so a POST or PUT
		// without a body would pass, even to operations whose schema
		// requires properties (a message's channel and app). Creates and
		// updates carry a body.
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
			rb.Value.Required = true
		}
		// 4. custom allows no attribute at all: see fixCustom.
		for _, mt := range rb.Value.Content {
			if mt.Schema != nil {
				fixCustom(mt.Schema.Value, map[*openapi3.Schema]bool{})
			}
		}
	})

	s := &spec{doc: doc, formats: doc.GetSchemaValidationOptions()}

	// 5. gorillamux tries paths with as many variables in descending
	// lexical order, so /customers/{id} ('{' sorts after letters) would
	// catch /customers/email=a@b.example as id "email=a@b.example" (and
	// /conversations/{id} the externalId= look-up). Such a path means the
	// look-up: the fake routes with a first router that holds only the
	// paths with a literal prefix in a templated segment, then the rest.
	// (The legacy router would not do either: it runs doc.Validate, which
	// the export fails, e.g. POST /companies has an array without items.)
	firstDoc := *doc
	firstDoc.Paths = openapi3.NewPaths()
	for path, item := range doc.Paths.Map() {
		if hasPrefixedVariable(path) {
			firstDoc.Paths.Set(path, item)
		}
	}
	if s.first, err = gorillamux.NewRouter(&firstDoc); err != nil {
		return nil, fmt.Errorf("cloudtest: router: %w", err)
	}
	if s.rest, err = gorillamux.NewRouter(doc); err != nil {
		return nil, fmt.Errorf("cloudtest: router: %w", err)
	}
	return s, nil
}

// findRoute finds the operation of r and its path parameters, unescaped
// (gorillamux matches the escaped path and hands the values on as they
// are; kin-openapi validates them as given).
func (s *spec) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := s.first.FindRoute(r)
	if errors.Is(err, routers.ErrPathNotFound) {
		route, params, err = s.rest.FindRoute(r)
	}
	if err != nil {
		return nil, nil, err
	}
	for k, v := range params {
		u, err := url.PathUnescape(v)
		if err != nil {
			return nil, nil, fmt.Errorf("path parameter %s: %w", k, err)
		}
		params[k] = u
	}
	return route, params, nil
}

var prefixedVariable = regexp.MustCompile(`/[^/{}]+\{[^/{}]+\}`)

func hasPrefixedVariable(path string) bool { return prefixedVariable.MatchString(path) }

func walkOperations(doc *openapi3.T, fn func(method string, op *openapi3.Operation)) {
	for _, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			fn(method, op)
		}
	}
}

// fixCustom rewrites every `custom` property of a request schema. The
// export writes it as {"type":"object","maxProperties":100,
// "additionalProperties":false} with no properties: no object but {}
// satisfies that, while the same export documents custom attributes
// (fooStr, fooNum, …) as the way to set them. Kustomer checks them against
// the organization's klass, which the export cannot know. The fake keeps
// maxProperties and lets each attribute be what the naming convention
// allows: a string, a number, a boolean or null. (OpenAPI 3.0 has no
// patternProperties, so the suffix itself cannot be tied to a type here.)
func fixCustom(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	for name, p := range s.Properties {
		if p == nil || p.Value == nil {
			continue
		}
		if name == "custom" && unsatisfiableObject(p.Value) {
			p.Value.AdditionalProperties = openapi3.AdditionalProperties{Schema: openapi3.NewSchemaRef("", customValue())}
		}
		fixCustom(p.Value, seen)
	}
	if s.Items != nil {
		fixCustom(s.Items.Value, seen)
	}
	for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf, s.AllOf} {
		for _, r := range list {
			if r != nil {
				fixCustom(r.Value, seen)
			}
		}
	}
}

// unsatisfiableObject reports an object schema that only {} satisfies.
func unsatisfiableObject(s *openapi3.Schema) bool {
	ap := s.AdditionalProperties
	return s.Type.Is(openapi3.TypeObject) && len(s.Properties) == 0 &&
		ap.Has != nil && !*ap.Has && ap.Schema == nil
}

// customValue is the schema of one custom attribute's value.
func customValue() *openapi3.Schema {
	s := &openapi3.Schema{
		Nullable: true,
		AnyOf: openapi3.SchemaRefs{
			openapi3.NewSchemaRef("", openapi3.NewStringSchema()),
			openapi3.NewSchemaRef("", openapi3.NewFloat64Schema()),
			openapi3.NewSchemaRef("", openapi3.NewBoolSchema()),
		},
	}
	return s
}

var (
	objectIDRe   = regexp.MustCompile(`^[0-9a-f]{24}$`)
	emailRe      = regexp.MustCompile(openapi3.FormatOfStringForEmail)
	phoneRe      = regexp.MustCompile(`^\+?[0-9][0-9 ().\-]{2,30}$`)
	whatsappRe   = regexp.MustCompile(`^(whatsapp:)?\+?[0-9]{6,20}$`)
	domainRe     = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	dateTimeRe   = regexp.MustCompile(openapi3.FormatOfStringDateTime)
	dateMathRe   = regexp.MustCompile(`^now([+-][0-9]+[smhdwMy])*(/[smhdwMy])?$`)
	errNotObject = errors.New("not an object id: 24 lowercase hexadecimal digits")
)

// stringFormats checks the formats the export uses besides date-time:
// object-id (293 uses), email-relaxed, email, phone-number,
// whatsapp-number, uri, url, domain-name, date-time-math and send-at.
// Kustomer does not publish its own definitions; these accept what its
// documentation shows and refuse what cannot be meant.
func stringFormats() map[string]openapi3.StringFormatValidator {
	re := func(re *regexp.Regexp, what string) openapi3.StringFormatValidator {
		return openapi3.NewCallbackValidator(func(v string) error {
			if !re.MatchString(v) {
				return fmt.Errorf("not %s", what)
			}
			return nil
		})
	}
	absURL := func(schemes ...string) openapi3.StringFormatValidator {
		return openapi3.NewCallbackValidator(func(v string) error {
			u, err := url.Parse(v)
			if err != nil || u.Scheme == "" || (len(schemes) > 0 && u.Host == "") {
				return errors.New("not an absolute URL")
			}
			if len(schemes) > 0 && !slices.Contains(schemes, strings.ToLower(u.Scheme)) {
				return fmt.Errorf("not an %s URL", strings.Join(schemes, " or "))
			}
			return nil
		})
	}
	dateTimeOrMath := openapi3.NewCallbackValidator(func(v string) error {
		if dateTimeRe.MatchString(v) || dateMathRe.MatchString(v) {
			return nil
		}
		return errors.New("not a date-time or date math (now+1d)")
	})
	return map[string]openapi3.StringFormatValidator{
		"object-id": openapi3.NewCallbackValidator(func(v string) error {
			if !objectIDRe.MatchString(v) {
				return errNotObject
			}
			return nil
		}),
		"email":           re(emailRe, "an email address"),
		"email-relaxed":   re(emailRe, "an email address"),
		"phone-number":    re(phoneRe, "a phone number"),
		"whatsapp-number": re(whatsappRe, "a WhatsApp number"),
		"domain-name":     re(domainRe, "a domain name"),
		"uri":             absURL(),
		"url":             absURL("http", "https"),
		"date-time-math":  dateTimeOrMath,
		"send-at":         dateTimeOrMath,
	}
}
