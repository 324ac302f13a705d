package kustomer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// testDefs defines one attribute of every type.
func testDefs(t testing.TB) kustomer.AttributeDefs {
	t.Helper()
	defs := kustomer.AttributeDefs{}
	for _, name := range []string{"topicStr", "notesTxt", "teamSizeNum", "newsletterBool", "dueAt", "siteUrl"} {
		typ, err := kustomer.AttributeTypeOf(name)
		if err != nil {
			t.Fatalf("AttributeTypeOf(%q): %v", name, err)
		}
		defs[name] = kustomer.AttributeDef{Name: name, Type: typ}
	}
	return defs
}

// fieldsOf returns the sorted keys of a *ValidationError, or fails the test.
func fieldsOf(t testing.TB, err error) []string {
	t.Helper()
	var ve *kustomer.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *kustomer.ValidationError", err, err)
	}
	keys := make([]string, 0, len(ve.Fields))
	for k := range ve.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestAttributeTypeOf(t *testing.T) {
	tests := []struct {
		name string
		want kustomer.AttributeType
	}{
		{"topicStr", kustomer.TypeStr},
		{"notesTxt", kustomer.TypeTxt},
		{"teamSizeNum", kustomer.TypeNum},
		{"newsletterBool", kustomer.TypeBool},
		{"dueAt", kustomer.TypeAt},
		{"siteUrl", kustomer.TypeURL},
		{"aStr", kustomer.TypeStr},
		{"x2At", kustomer.TypeAt},
		{"flagStrBool", kustomer.TypeBool}, // only the last suffix counts
		{"startAtStr", kustomer.TypeStr},
		{"urlUrl", kustomer.TypeURL},
		{"n" + strings.Repeat("x", 60) + "Num", kustomer.TypeNum}, // 64 characters, the longest allowed
	}
	for _, tt := range tests {
		got, err := kustomer.AttributeTypeOf(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("AttributeTypeOf(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "topic", "Str", "TopicStr", "topicstr", "topicSTR", "topic_Str", "topic-Str", "topic Str",
		"topicStrX", "1topicStr", "tópicStr", "topicString", "topicAT", "topicURL", "topicDate",
		"n" + strings.Repeat("x", 61) + "Num", // 65 characters
	} {
		if got, err := kustomer.AttributeTypeOf(bad); err == nil {
			t.Errorf("AttributeTypeOf(%q) = %q, want an error", bad, got)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("AttributeTypeOf(%q): error %q does not name the attribute", bad, err)
		}
	}
}

func TestAttributeValidate(t *testing.T) {
	defs := testDefs(t)
	const bad = "error"
	tests := []struct {
		name  string
		attr  string
		value any
		want  any // the normalised value, or bad
	}{
		{"Str", "topicStr", "sales", "sales"},
		{"Str trimmed", "topicStr", "  sales \t", "sales"},
		{"Str 256 characters", "topicStr", strings.Repeat("é", 256), strings.Repeat("é", 256)},
		{"Str 256 characters plus space", "topicStr", " " + strings.Repeat("a", 256) + " ", strings.Repeat("a", 256)},
		{"Str 257 characters", "topicStr", strings.Repeat("é", 257), bad},
		{"Str with a newline", "topicStr", "two\nlines", bad},
		{"Str with a carriage return", "topicStr", "two\rlines", bad},
		{"Str with a trailing newline", "topicStr", "one line\n", "one line"},
		{"Str invalid UTF-8", "topicStr", "bad \xff", bad},
		{"Str number", "topicStr", 42.0, bad},
		{"Str bool", "topicStr", true, bad},
		{"Str empty clears", "topicStr", "", nil},
		{"Str blank clears", "topicStr", "   ", nil},
		{"Str object", "topicStr", map[string]any{"a": 1.0}, bad},

		{"Txt", "notesTxt", "line one\nline two\n", "line one\nline two\n"},
		{"Txt 10000", "notesTxt", strings.Repeat("t", kustomer.MaxTxtLen), strings.Repeat("t", kustomer.MaxTxtLen)},
		{"Txt 10001", "notesTxt", strings.Repeat("t", kustomer.MaxTxtLen+1), bad},
		{"Txt blank clears", "notesTxt", "\n \n", nil},
		{"Txt number", "notesTxt", 1.0, bad},

		{"Num float", "teamSizeNum", 12.5, 12.5},
		{"Num zero", "teamSizeNum", 0.0, 0.0},
		{"Num int", "teamSizeNum", 7, 7.0},
		{"Num int64", "teamSizeNum", int64(-3), -3.0},
		{"Num json.Number", "teamSizeNum", json.Number("1e3"), 1000.0},
		{"Num json.Number not a number", "teamSizeNum", json.Number("abc"), bad},
		{"Num NaN", "teamSizeNum", math.NaN(), bad},
		{"Num +Inf", "teamSizeNum", math.Inf(1), bad},
		{"Num -Inf", "teamSizeNum", math.Inf(-1), bad},
		{"Num string", "teamSizeNum", "5", bad},
		{"Num bool", "teamSizeNum", true, bad},
		{"Num max float", "teamSizeNum", math.MaxFloat64, math.MaxFloat64},

		{"Bool true", "newsletterBool", true, true},
		{"Bool false", "newsletterBool", false, false},
		{"Bool string", "newsletterBool", "true", bad},
		{"Bool number", "newsletterBool", 1.0, bad},

		{"At UTC", "dueAt", "2026-01-31T09:30:00Z", "2026-01-31T09:30:00.000Z"},
		{"At offset to UTC", "dueAt", "2026-01-31T09:30:00+02:00", "2026-01-31T07:30:00.000Z"},
		{"At nanoseconds to millis", "dueAt", "2026-01-31T09:30:00.123456789-05:30", "2026-01-31T15:00:00.123Z"},
		{"At across a day", "dueAt", "2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"},
		{"At trimmed", "dueAt", " 2026-01-31T09:30:00Z ", "2026-01-31T09:30:00.000Z"},
		{"At date only", "dueAt", "2026-01-31", bad},
		{"At no zone", "dueAt", "2026-01-31T09:30:00", bad},
		{"At words", "dueAt", "tomorrow", bad},
		{"At bad month", "dueAt", "2026-13-01T00:00:00Z", bad},
		{"At past year 9999 in UTC", "dueAt", "9999-12-31T23:30:00-01:00", bad},
		{"At before year 0 in UTC", "dueAt", "0000-01-01T00:30:00+01:00", bad},
		{"At number", "dueAt", 1700000000.0, bad},
		{"At empty clears", "dueAt", "", nil},

		{"Url https", "siteUrl", "https://www.example.com/a?b=c#d", "https://www.example.com/a?b=c#d"},
		{"Url http trimmed", "siteUrl", "  http://example.com ", "http://example.com"},
		{"Url ftp", "siteUrl", "ftp://example.com/file", bad},
		{"Url javascript", "siteUrl", "javascript:alert(1)", bad},
		{"Url mailto", "siteUrl", "mailto:ada@example.com", bad},
		{"Url relative", "siteUrl", "/pricing", bad},
		{"Url no host", "siteUrl", "https://", bad},
		{"Url scheme-relative", "siteUrl", "//example.com/x", bad},
		{"Url too long", "siteUrl", "https://example.com/" + strings.Repeat("a", kustomer.MaxURLLen), bad},
		{"Url unparsable", "siteUrl", "http://[::1", bad},
		{"Url number", "siteUrl", 3.0, bad},
		{"Url empty clears", "siteUrl", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := defs.Validate(kustomer.Attributes{tt.attr: tt.value}, "customAttributes.")
			if tt.want == bad {
				if err == nil {
					t.Fatalf("Validate(%s=%#v) = %#v, want an error", tt.attr, tt.value, out)
				}
				if got := fieldsOf(t, err); !reflect.DeepEqual(got, []string{"customAttributes." + tt.attr}) {
					t.Errorf("error names %q, want [customAttributes.%s]", got, tt.attr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%s=%#v): %v", tt.attr, tt.value, err)
			}
			got, present := out[tt.attr]
			if !present {
				t.Fatalf("Validate(%s=%#v) dropped the attribute; a nil value must be kept to clear it", tt.attr, tt.value)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s=%#v) = %#v (%T), want %#v (%T)", tt.attr, tt.value, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestAttributeValidateNilClears(t *testing.T) {
	defs := testDefs(t)
	in := kustomer.Attributes{}
	for name := range defs {
		in[name] = nil
	}
	out, err := defs.Validate(in, "")
	if err != nil {
		t.Fatalf("Validate(all nil): %v", err)
	}
	if len(out) != len(defs) {
		t.Errorf("Validate(all nil) kept %d of %d attributes", len(out), len(defs))
	}
	for name, v := range out {
		if v != nil {
			t.Errorf("%s = %#v, want nil", name, v)
		}
	}
	out, err = defs.Validate(nil, "")
	if err != nil || len(out) != 0 {
		t.Errorf("Validate(nil) = %v, %v; want empty, nil", out, err)
	}
}

func TestAttributeValidateReportsEveryKey(t *testing.T) {
	defs := testDefs(t)
	_, err := defs.Validate(kustomer.Attributes{
		"topicStr":       1.0,
		"notesTxt":       "fine",
		"teamSizeNum":    "many",
		"newsletterBool": "yes",
		"dueAt":          "soon",
		"siteUrl":        "ftp://x.y",
		"unknownStr":     "x",
		"NotAName":       "x",
	}, "customAttributes.")
	want := []string{
		"customAttributes.NotAName", "customAttributes.dueAt", "customAttributes.newsletterBool", "customAttributes.siteUrl",
		"customAttributes.teamSizeNum", "customAttributes.topicStr", "customAttributes.unknownStr",
	}
	if got := fieldsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("error names %q, want %q", got, want)
	}
	if !strings.Contains(err.Error(), "unknownStr") {
		t.Errorf("error %q does not name the undefined attribute", err)
	}
}

func TestAttributeValidateTooMany(t *testing.T) {
	defs := kustomer.AttributeDefs{}
	in := kustomer.Attributes{}
	for i := range kustomer.MaxAttributes + 1 {
		name := fmt.Sprintf("a%dStr", i)
		defs[name] = kustomer.AttributeDef{Name: name, Type: kustomer.TypeStr}
		in[name] = "x"
	}
	_, err := defs.Validate(in, "customAttributes.")
	if got := fieldsOf(t, err); !reflect.DeepEqual(got, []string{"customAttributes"}) {
		t.Errorf("error names %q, want [customAttributes]", got)
	}
	delete(in, "a0Str")
	if out, err := defs.Validate(in, "customAttributes."); err != nil || len(out) != kustomer.MaxAttributes {
		t.Errorf("exactly %d attributes: %d kept, err %v", kustomer.MaxAttributes, len(out), err)
	}
}

func TestAttributeParseString(t *testing.T) {
	defs := testDefs(t)
	const bad = "error"
	tests := []struct {
		attr, in string
		want     any
	}{
		{"newsletterBool", "true", true},
		{"newsletterBool", "TRUE", true},
		{"newsletterBool", " on ", true},
		{"newsletterBool", "yes", true},
		{"newsletterBool", "1", true},
		{"newsletterBool", "false", false},
		{"newsletterBool", "Off", false},
		{"newsletterBool", "no", false},
		{"newsletterBool", "0", false},
		{"newsletterBool", "", nil},
		{"newsletterBool", "maybe", bad},
		{"newsletterBool", "2", bad},
		{"teamSizeNum", "42", 42.0},
		{"teamSizeNum", " -1.5e2 ", -150.0},
		{"teamSizeNum", "", nil},
		{"teamSizeNum", "abc", bad},
		{"teamSizeNum", "NaN", bad},
		{"teamSizeNum", "Inf", bad},
		{"teamSizeNum", "-Infinity", bad},
		{"teamSizeNum", "1e400", bad},
		{"teamSizeNum", "12 people", bad},
		{"topicStr", " sales ", "sales"},
		{"topicStr", "a\r\nb", bad},
		{"notesTxt", "  keep\n  indentation  ", "  keep\n  indentation  "},
		{"dueAt", "2026-06-01T12:00:00.5+00:00", "2026-06-01T12:00:00.500Z"},
		{"siteUrl", "HTTPS://Example.com", "HTTPS://Example.com"},
		{"topicStr", "\xc3\x28", bad},
		{"notesTxt", "\xc3\x28", bad},
	}
	for _, tt := range tests {
		got, err := defs[tt.attr].ParseString(tt.in)
		switch {
		case tt.want == bad && err == nil:
			t.Errorf("%s.ParseString(%q) = %#v, want an error", tt.attr, tt.in, got)
		case tt.want != bad && err != nil:
			t.Errorf("%s.ParseString(%q): %v", tt.attr, tt.in, err)
		case tt.want != bad && !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s.ParseString(%q) = %#v, want %#v", tt.attr, tt.in, got, tt.want)
		}
	}
	if _, err := (kustomer.AttributeDef{Name: "oddStr", Type: "Odd"}).ParseString("x"); err == nil {
		t.Errorf("ParseString of an unknown type: nil error")
	}
}

func TestValidationErrorMessage(t *testing.T) {
	ve := &kustomer.ValidationError{}
	if ve.OrNil() != nil {
		t.Errorf("empty ValidationError.OrNil() != nil")
	}
	ve.Add("b", "second")
	ve.Add("a", "first")
	ve.Add("a", "ignored")
	if got, want := ve.Error(), "invalid input: a: first; b: second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if err := ve.OrNil(); err == nil {
		t.Errorf("OrNil() = nil with problems")
	}
	conflict := error(&kustomer.ConflictError{Code: "x", Reason: "taken"})
	if !errors.Is(fmt.Errorf("wrapped: %w", conflict), kustomer.ErrConflict) {
		t.Errorf("ConflictError is not ErrConflict")
	}
}
