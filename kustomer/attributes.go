package kustomer

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AttributeType is the type of a custom attribute, named by the suffix of the
// attribute's name as in Kustomer: "topicStr" is a Str, "teamSizeNum" a Num.
type AttributeType string

// The attribute types handoff supports.
const (
	TypeStr  AttributeType = "Str"  // short single-line string
	TypeTxt  AttributeType = "Txt"  // long, multi-line text
	TypeNum  AttributeType = "Num"  // number
	TypeBool AttributeType = "Bool" // boolean
	TypeAt   AttributeType = "At"   // date-time, RFC 3339
	TypeURL  AttributeType = "Url"  // absolute http(s) URL
)

// Limits on attribute values.
const (
	MaxStrLen        = 256
	MaxTxtLen        = 10000
	MaxURLLen        = 2048
	MaxAttributes    = 100
	maxAttrNameLen   = 64
	attributeTimeFmt = "2006-01-02T15:04:05.000Z07:00"
)

var attrNameRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*(Str|Txt|Num|Bool|At|Url)$`)

// AttributeTypeOf returns the type named by name's suffix, or an error when the
// name is not a camelCase name ending in a known suffix.
func AttributeTypeOf(name string) (AttributeType, error) {
	if len(name) > maxAttrNameLen || !attrNameRE.MatchString(name) {
		return "", fmt.Errorf("%q is not a custom attribute name: use camelCase ending in Str, Txt, Num, Bool, At or Url", name)
	}
	for _, t := range []AttributeType{TypeBool, TypeStr, TypeTxt, TypeNum, TypeURL, TypeAt} {
		if strings.HasSuffix(name, string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("%q has no type suffix", name)
}

// AttributeDef defines one custom attribute. Only defined attributes may be
// set, by a form or through the API.
type AttributeDef struct {
	Name        string        `yaml:"name" json:"name"`
	DisplayName string        `yaml:"displayName" json:"displayName"`
	Type        AttributeType `yaml:"-" json:"type"`
}

// Attributes holds custom attribute values keyed by attribute name. Values are
// normalised by AttributeDefs.Validate: string (Str, Txt, Url, At), float64
// (Num) or bool (Bool). A nil value clears the attribute.
type Attributes map[string]any

// AttributeDefs is the set of attributes defined for one kind of object.
type AttributeDefs map[string]AttributeDef

// Validate checks every value in in against its definition and returns the
// normalised values. Every undefined or mistyped attribute is reported in one
// *ValidationError whose keys are prefix+name.
func (d AttributeDefs) Validate(in Attributes, prefix string) (Attributes, error) {
	verr := &ValidationError{}
	out := make(Attributes, len(in))
	if len(in) > MaxAttributes {
		verr.Add(strings.TrimSuffix(prefix, "."), fmt.Sprintf("at most %d custom attributes may be set at once", MaxAttributes))
		return nil, verr
	}
	for name, v := range in {
		def, ok := d[name]
		if !ok {
			verr.Add(prefix+name, fmt.Sprintf("%q is not a defined attribute", name))
			continue
		}
		nv, err := def.normalize(v)
		if err != nil {
			verr.Add(prefix+name, err.Error())
			continue
		}
		out[name] = nv
	}
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	return out, nil
}

// normalize converts a JSON-decoded value into the attribute's canonical form.
func (a AttributeDef) normalize(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case TypeStr, TypeTxt, TypeURL, TypeAt:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string (%s attribute)", a.Type)
		}
		return a.ParseString(s)
	case TypeNum:
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case int:
			f = float64(n)
		case int64:
			f = float64(n)
		case json.Number:
			var err error
			if f, err = n.Float64(); err != nil {
				return nil, fmt.Errorf("must be a number")
			}
		default:
			return nil, fmt.Errorf("must be a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a finite number")
		}
		return f, nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	}
	return nil, fmt.Errorf("has unknown type %q", a.Type)
}

// ParseString converts text (as typed into a form) into the attribute's
// canonical value. An empty string yields nil: the attribute is left unset.
func (a AttributeDef) ParseString(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("is not valid UTF-8 text")
	}
	switch a.Type {
	case TypeStr:
		s = strings.TrimSpace(s)
		if n := utf8.RuneCountInString(s); n > MaxStrLen {
			return nil, fmt.Errorf("must be at most %d characters (it has %d)", MaxStrLen, n)
		}
		if strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("must be a single line")
		}
	case TypeTxt:
		if n := utf8.RuneCountInString(s); n > MaxTxtLen {
			return nil, fmt.Errorf("must be at most %d characters (it has %d)", MaxTxtLen, n)
		}
		if strings.TrimSpace(s) == "" {
			s = ""
		}
	case TypeURL:
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		if len(s) > MaxURLLen {
			return nil, fmt.Errorf("must be at most %d characters", MaxURLLen)
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("must be an absolute http or https URL")
		}
	case TypeAt:
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		// In UTC the year may leave 0000-9999, which RFC 3339 cannot write.
		if err != nil || t.UTC().Year() < 0 || t.UTC().Year() > 9999 {
			return nil, fmt.Errorf("must be a date and time like 2026-01-31T09:30:00Z")
		}
		return t.UTC().Format(attributeTimeFmt), nil
	case TypeNum:
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number")
		}
		return f, nil
	case TypeBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "on", "yes", "1":
			return true, nil
		case "false", "off", "no", "0":
			return false, nil
		case "":
			return nil, nil
		}
		return nil, fmt.Errorf("must be true or false")
	default:
		return nil, fmt.Errorf("has unknown type %q", a.Type)
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}
