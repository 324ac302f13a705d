package kustomer_test

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/handoff/handoff/kustomer"
)

// fuzzDef picks one of testDefs' attributes by number.
func fuzzDef(defs kustomer.AttributeDefs, kind uint8) kustomer.AttributeDef {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	return defs[names[int(kind)%len(names)]]
}

// checkCanonical fails the test unless v, a value def accepted, has the Go
// type of def's attribute type and validates again to itself.
func checkCanonical(t *testing.T, defs kustomer.AttributeDefs, def kustomer.AttributeDef, v any) {
	t.Helper()
	switch def.Type {
	case kustomer.TypeNum:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("%s: accepted %#v, want a finite float64", def.Name, v)
		}
	case kustomer.TypeBool:
		if _, ok := v.(bool); !ok {
			t.Fatalf("%s: accepted %#v, want a bool", def.Name, v)
		}
	default:
		s, ok := v.(string)
		if !ok || !utf8.ValidString(s) || s == "" {
			t.Fatalf("%s: accepted %#v, want a non-empty UTF-8 string", def.Name, v)
		}
		if def.Type == kustomer.TypeStr && (utf8.RuneCountInString(s) > kustomer.MaxStrLen || strings.ContainsAny(s, "\r\n")) {
			t.Fatalf("%s: accepted %q, longer than %d or on several lines", def.Name, s, kustomer.MaxStrLen)
		}
		// Text as typed into a form normalises to the same value.
		again, err := def.ParseString(s)
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("%s: ParseString(%q) = %#v, %v; want the value itself", def.Name, s, again, err)
		}
	}
	out, err := defs.Validate(kustomer.Attributes{def.Name: v}, "")
	if err != nil {
		t.Fatalf("%s: accepted %#v, which then fails validation: %v", def.Name, v, err)
	}
	if !reflect.DeepEqual(out[def.Name], v) {
		t.Fatalf("%s: %#v validates to %#v, want itself", def.Name, v, out[def.Name])
	}
}

// FuzzAttributeParseString checks that parsing form text never panics and
// yields either an error or a canonical value that validates to itself.
func FuzzAttributeParseString(f *testing.F) {
	defs := testDefs(f)
	for kind := range uint8(len(defs)) {
		for _, s := range []string{
			"", " ", "sales", "  padded  ", "two\nlines", strings.Repeat("é", 256), strings.Repeat("é", 257),
			"42", "-1.5e2", "NaN", "Inf", "1e400", "abc", "true", "on", "no", "maybe",
			"2026-01-31T09:30:00Z", "2026-01-31T09:30:00.123456789+02:00", "9999-12-31T23:30:00-01:00", "0000-01-01T00:30:00+01:00",
			"https://example.com/a?b#c", "ftp://x", "javascript:alert(1)", "http://[::1", "\xff",
		} {
			f.Add(kind, s)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, s string) {
		def := fuzzDef(defs, kind)
		v, err := def.ParseString(s)
		if err != nil {
			if v != nil {
				t.Fatalf("%s.ParseString(%q) = %#v with error %v", def.Name, s, v, err)
			}
			return
		}
		if v == nil {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%s.ParseString(%q) = nil: only blank text leaves an attribute unset", def.Name, s)
			}
			return
		}
		checkCanonical(t, defs, def, v)
	})
}

// FuzzAttributeValidate checks that validating JSON-decoded values of any
// type never panics, reports problems under the attribute's key, and
// accepts only canonical values that validate to themselves.
func FuzzAttributeValidate(f *testing.F) {
	defs := testDefs(f)
	for kind := range uint8(len(defs)) {
		f.Add(kind, uint8(0), "sales", 0.0, false)
		f.Add(kind, uint8(0), "2026-01-31T09:30:00+02:00", 0.0, false)
		f.Add(kind, uint8(0), "https://example.com", 0.0, false)
		f.Add(kind, uint8(1), "", 12.5, false)
		f.Add(kind, uint8(1), "", math.Inf(1), false)
		f.Add(kind, uint8(1), "", math.NaN(), false)
		f.Add(kind, uint8(2), "", 0.0, true)
		f.Add(kind, uint8(3), "", 0.0, false)
	}
	f.Fuzz(func(t *testing.T, kind, which uint8, s string, num float64, b bool) {
		def := fuzzDef(defs, kind)
		var v any
		switch which % 4 {
		case 0:
			v = s
		case 1:
			v = num
		case 2:
			v = b
		case 3:
			v = nil
		}
		out, err := defs.Validate(kustomer.Attributes{def.Name: v}, "customAttributes.")
		if err != nil {
			var ve *kustomer.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields["customAttributes."+def.Name] == "" {
				t.Fatalf("Validate(%s=%#v): error %v, want one *ValidationError on customAttributes.%s", def.Name, v, err, def.Name)
			}
			return
		}
		got, ok := out[def.Name]
		if !ok {
			t.Fatalf("Validate(%s=%#v) dropped the attribute", def.Name, v)
		}
		if got == nil {
			return // cleared
		}
		checkCanonical(t, defs, def, got)
	})
}

// FuzzFormParse checks that parsing any submission never panics, that a
// nil error means every required field was present and carried into the
// submission, and that what is kept validates as attributes.
func FuzzFormParse(f *testing.F) {
	form := contactForm(f)
	defs := parseConfig(f, formConfig).ConversationAttributes()
	f.Add(validValues().Encode())
	f.Add("email=ada%40example.com&message=hi&terms=on")
	f.Add("email=ada%40example.com&message=hi")
	f.Add("email=ada%40example.com&message=%20&terms=on")
	f.Add("email=a&email=b&message=hi&terms=on")
	f.Add("email=ada%40example.com&message=hi&terms=on&teamSize=NaN&topic=other&site=ftp://x")
	f.Add("email=ada%40example.com&message=%ff&terms=on")
	f.Add("email=ada%40example.com&message=hi&terms=false&newsletter=off")
	f.Add("email=%20ADA%40EXAMPLE.COM%20&message=hi%0D%0A&terms=yes&company=%E2%9C%93")
	f.Add("")
	f.Add("%zz&;=&&==")
	f.Fuzz(func(t *testing.T, raw string) {
		values, _ := url.ParseQuery(raw) // keep whatever parsed
		sub, err := form.Parse(values)
		if err != nil {
			var ve *kustomer.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("Parse: error %v (%T), want a *ValidationError with fields", err, err)
			}
			for k := range ve.Fields {
				if !slices.ContainsFunc(form.Fields, func(fl *kustomer.Field) bool { return fl.Name == k }) {
					t.Fatalf("Parse: error on %q, which is not a field", k)
				}
			}
			return
		}
		for _, fl := range form.Fields {
			if !fl.Required {
				continue
			}
			if len(values[fl.Name]) != 1 || strings.TrimSpace(values.Get(fl.Name)) == "" {
				t.Fatalf("Parse accepted %q without the required field %q", raw, fl.Name)
			}
			switch {
			case fl.Role == kustomer.RoleMessage && strings.TrimSpace(sub.Message) == "",
				fl.Role == kustomer.RoleEmail && sub.Email == "",
				fl.Role == kustomer.RoleName && sub.Name == "",
				fl.Attribute != "" && sub.Attributes[fl.Attribute] == nil:
				t.Fatalf("Parse of %q dropped the required field %q: %+v", raw, fl.Name, sub)
			}
		}
		if n := utf8.RuneCountInString(sub.Message); n > kustomer.MaxBodyLen || !utf8.ValidString(sub.Message) {
			t.Fatalf("Parse kept a message of %d characters (valid UTF-8: %v)", n, utf8.ValidString(sub.Message))
		}
		if sub.Email != "" && sub.Email != strings.ToLower(sub.Email) {
			t.Fatalf("Parse kept email %q, want it lowercased", sub.Email)
		}
		out, err := defs.Validate(sub.Attributes, "")
		if err != nil || !reflect.DeepEqual(out, sub.Attributes) {
			t.Fatalf("Parse kept attributes %#v that validate to %#v, %v", sub.Attributes, out, err)
		}
	})
}
