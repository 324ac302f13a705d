package kustomer_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

func TestParseConfig(t *testing.T) {
	cfg := parseConfig(t, formConfig)
	if _, ok := cfg.Form("contact"); !ok {
		t.Errorf("Form(contact) not found")
	}
	if _, ok := cfg.Form("nope"); ok {
		t.Errorf("Form(nope) found")
	}
	attrs := cfg.ConversationAttributes()
	if len(attrs) != 7 {
		t.Errorf("%d conversation attributes, want 7", len(attrs))
	}
	for name, want := range map[string]kustomer.AttributeType{"topicStr": kustomer.TypeStr, "teamSizeNum": kustomer.TypeNum, "siteUrl": kustomer.TypeURL} {
		if got := attrs[name]; got.Type != want || got.DisplayName != name {
			t.Errorf("attribute %s = %+v, want type %s and its name as display name", name, got, want)
		}
	}
	if len(cfg.CustomerAttributes()) != 0 {
		t.Errorf("customer attributes = %v, want none", cfg.CustomerAttributes())
	}
}

func TestParseConfigErrors(t *testing.T) {
	const attrs = `
attributes:
  conversation:
    - {name: topicStr}
    - {name: newsletterBool}
    - {name: teamSizeNum}
`
	tests := []struct {
		name string
		yaml string
		want []string // every string must appear in the error
	}{
		{
			name: "unknown attribute",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message}
      - {name: budget, type: text, attribute: budgetStr}
`,
			want: []string{`form "contact"`, `field "budget"`, `budgetStr`},
		},
		{
			name: "missing message role",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: email, type: email, role: email}
`,
			want: []string{`form "contact"`, "role message", "found 0"},
		},
		{
			name: "two message roles",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: a, type: textarea, role: message}
      - {name: b, type: textarea, role: message}
`,
			want: []string{`form "contact"`, "role message", "found 2"},
		},
		{
			name: "bad origin",
			yaml: attrs + `
forms:
  - id: contact
    allowedOrigins: [https://ok.example.com, "https://www.example.com/path", "ftp://files.example.com", "*"]
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{`form "contact"`, `"https://www.example.com/path"`, `"ftp://files.example.com"`, `"*"`},
		},
		{
			name: "more origins, and an origin with userinfo, query or wildcard",
			yaml: attrs + `
forms:
  - id: contact
    allowedOrigins: ["https://me@example.com", "https://example.com?a=1", "https://*.example.com", "https://example.com#top"]
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{
				`allowedOrigins: "https://me@example.com" is not an origin like https://www.example.com`,
				`"https://example.com?a=1"`, `"https://*.example.com"`, `"https://example.com#top"`,
			},
		},
		{
			name: "too many origins",
			yaml: attrs + `
forms:
  - id: contact
    allowedOrigins: [` + manyOrigins(kustomer.MaxAllowedOrigins+1) + `]
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{`form "contact"`, "allowedOrigins: at most 20 origins", "has 21"},
		},
		{
			name: "unknown field type",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message}
      - {name: colour, type: radio, attribute: topicStr}
`,
			want: []string{`form "contact"`, `field "colour"`, `"radio"`},
		},
		{
			name: "unknown YAML key in a field",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message, colour: red}
`,
			want: []string{"colour"},
		},
		{
			name: "unknown top-level YAML key",
			yaml: attrs + `
themes: [dark]
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{"themes"},
		},
		{
			name: "bad attribute name",
			yaml: `
attributes:
  conversation:
    - {name: topic}
    - {name: okStr}
    - {name: okStr}
  customer:
    - {name: Plan_Str}
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{`attributes.conversation`, `"topic"`, `"okStr" is defined twice`, `attributes.customer`, `"Plan_Str"`},
		},
		{
			name: "bad form id, duplicate form",
			yaml: attrs + `
forms:
  - id: Contact Us
    fields:
      - {name: message, type: textarea, role: message}
  - id: sales
    fields:
      - {name: message, type: textarea, role: message}
  - id: sales
    fields:
      - {name: message, type: textarea, role: message}
`,
			want: []string{`forms[0]`, `"Contact Us"`, `form "sales": defined twice`},
		},
		{
			name: "field definitions",
			yaml: attrs + `
forms:
  - id: contact
    fields:
      - {name: message, type: textarea, role: message}
      - {name: message, type: text, role: name}
      - {name: 2bad, type: text, role: name}
      - {name: email, type: text, role: email}
      - {name: who, type: text, role: boss}
      - {name: both, type: text, role: name, attribute: topicStr}
      - {name: neither, type: text}
      - {name: pick, type: select, attribute: topicStr}
      - {name: news, type: text, attribute: newsletterBool}
      - {name: box, type: checkbox, attribute: topicStr}
      - {name: size, type: text, attribute: teamSizeNum}
      - name: sizes
        type: select
        attribute: teamSizeNum
        options: [{value: "10"}, {value: lots}]
`,
			want: []string{
				`form "contact"`,
				`field "message": defined twice`,
				`"2bad"`,
				`field "email": the email role needs type email`,
				`field "who": unknown role "boss"`,
				`field "both": set either role or attribute`,
				`field "neither": set a role`,
				`field "pick": a select needs options`,
				`field "news": a Bool attribute needs a checkbox or select`,
				`field "box": a checkbox can only fill a Bool attribute`,
				`field "size": a Num attribute needs a number or select field`,
				`field "sizes": option "lots"`,
				`at most one field may have role name`,
			},
		},
		{
			name: "no forms",
			yaml: attrs,
			want: []string{"at least one form"},
		},
		{
			name: "not YAML",
			yaml: "forms: [",
			want: []string{"parse config"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := kustomer.ParseConfig(strings.NewReader(tt.yaml))
			if err == nil {
				t.Fatalf("ParseConfig = %+v, want an error", cfg)
			}
			if cfg != nil {
				t.Errorf("ParseConfig returned a config with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// manyOrigins returns n distinct origins as a YAML flow sequence's items.
func manyOrigins(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "https://site%d.example.com", i)
	}
	return b.String()
}

func TestConfigNormalizesOrigins(t *testing.T) {
	cfg := parseConfig(t, `
forms:
  - id: contact
    allowedOrigins: ["HTTPS://Shop.Example.com:443/", "http://localhost:8080", "https://shop.example.com", "http://Example.com:80"]
    fields:
      - {name: message, type: textarea, role: message}
  - id: closed
    fields:
      - {name: message, type: textarea, role: message}
`)
	f, _ := cfg.Form("contact")
	want := []string{"https://shop.example.com", "http://localhost:8080", "http://example.com"}
	if !slices.Equal(f.AllowedOrigins, want) {
		t.Errorf("allowedOrigins = %q, want %q (normalized, without repeats, in order)", f.AllowedOrigins, want)
	}
	closed, _ := cfg.Form("closed")
	if len(closed.AllowedOrigins) != 0 {
		t.Errorf("a form without allowedOrigins has %q", closed.AllowedOrigins)
	}
	twenty := parseConfig(t, `
forms:
  - id: contact
    allowedOrigins: [`+manyOrigins(kustomer.MaxAllowedOrigins)+`, https://site0.example.com]
    fields:
      - {name: message, type: textarea, role: message}
`)
	if f, _ := twenty.Form("contact"); len(f.AllowedOrigins) != kustomer.MaxAllowedOrigins {
		t.Errorf("%d origins kept, want %d", len(f.AllowedOrigins), kustomer.MaxAllowedOrigins)
	}
}
