package kustomer_test

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// formConfig has one form with a field of every type and role.
const formConfig = `
attributes:
  conversation:
    - {name: topicStr}
    - {name: companyStr}
    - {name: teamSizeNum}
    - {name: newsletterBool}
    - {name: termsBool}
    - {name: siteUrl}
    - {name: detailsTxt}
forms:
  - id: contact
    fields:
      - {name: name, label: Name, type: text, role: name}
      - {name: email, label: Email, type: email, role: email, required: true}
      - {name: message, label: Message, type: textarea, role: message}
      - name: topic
        label: Topic
        type: select
        attribute: topicStr
        options: [{value: sales, label: Sales}, {value: support}]
      - {name: company, label: Company, type: text, attribute: companyStr, maxLength: 10}
      - {name: teamSize, label: Team size, type: number, attribute: teamSizeNum}
      - {name: newsletter, label: Newsletter, type: checkbox, attribute: newsletterBool}
      - {name: terms, label: Terms, type: checkbox, attribute: termsBool, required: true}
      - {name: site, label: Website, type: url, attribute: siteUrl}
      - {name: details, label: Details, type: textarea, attribute: detailsTxt}
`

func parseConfig(t testing.TB, yaml string) *kustomer.Config {
	t.Helper()
	cfg, err := kustomer.ParseConfig(strings.NewReader(yaml))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

func contactForm(t testing.TB) *kustomer.Form {
	t.Helper()
	f, ok := parseConfig(t, formConfig).Form("contact")
	if !ok {
		t.Fatalf("form contact not found")
	}
	return f
}

// validValues is a complete, valid submission of contactForm.
func validValues() url.Values {
	return url.Values{
		"name":       {"  Ada Lovelace "},
		"email":      {"Ada@Example.COM"},
		"message":    {"Hello,\r\nI need a quote.\r\n"},
		"topic":      {"sales"},
		"company":    {"Analytical"},
		"teamSize":   {"12"},
		"newsletter": {"on"},
		"terms":      {"on"},
		"site":       {"https://example.com"},
		"details":    {"  indented\r\nnotes"},
	}
}

func TestFormParseValid(t *testing.T) {
	f := contactForm(t)
	sub, err := f.Parse(validValues())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := kustomer.Submission{
		Name:    "Ada Lovelace",
		Email:   "ada@example.com",
		Message: "Hello,\nI need a quote.\n",
		Attributes: kustomer.Attributes{
			"topicStr":       "sales",
			"companyStr":     "Analytical",
			"teamSizeNum":    12.0,
			"newsletterBool": true,
			"termsBool":      true,
			"siteUrl":        "https://example.com",
			"detailsTxt":     "  indented\nnotes",
		},
	}
	if !reflect.DeepEqual(sub, want) {
		t.Errorf("Parse = %#v\nwant    %#v", sub, want)
	}
}

func TestFormParseOptionalLeftEmpty(t *testing.T) {
	f := contactForm(t)
	sub, err := f.Parse(url.Values{"email": {"ada@example.com"}, "message": {"hi"}, "terms": {"on"}, "topic": {""}, "teamSize": {"  "}})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	// An unchecked checkbox sends nothing and means false.
	want := kustomer.Attributes{"newsletterBool": false, "termsBool": true}
	if !reflect.DeepEqual(sub.Attributes, want) {
		t.Errorf("attributes = %#v, want %#v", sub.Attributes, want)
	}
	if sub.Name != "" {
		t.Errorf("name = %q, want empty", sub.Name)
	}
}

func TestFormParseErrors(t *testing.T) {
	f := contactForm(t)
	tests := []struct {
		name   string
		change func(v url.Values)
		fields []string
	}{
		{"required email missing", func(v url.Values) { v.Del("email") }, []string{"email"}},
		{"required message blank", func(v url.Values) { v.Set("message", " \r\n\t") }, []string{"message"}},
		{"required checkbox unchecked", func(v url.Values) { v.Del("terms") }, []string{"terms"}},
		{"bad email", func(v url.Values) { v.Set("email", "not-an-email") }, []string{"email"}},
		{"email with a display name", func(v url.Values) { v.Set("email", "Ada <ada@example.com>") }, []string{"email"}},
		{"email without a dot in the domain", func(v url.Values) { v.Set("email", "ada@localhost") }, []string{"email"}},
		{"email too long", func(v url.Values) { v.Set("email", strings.Repeat("a", 250)+"@example.com") }, []string{"email"}},
		{"over-long text", func(v url.Values) { v.Set("company", "Analytical Engines") }, []string{"company"}},
		{"over-long message", func(v url.Values) { v.Set("message", strings.Repeat("m", kustomer.MaxBodyLen+1)) }, []string{"message"}},
		{"select value not in options", func(v url.Values) { v.Set("topic", "Sales") }, []string{"topic"}},
		{"select value with surrounding space", func(v url.Values) { v.Set("topic", "support ") }, nil},
		{"number not a number", func(v url.Values) { v.Set("teamSize", "abc") }, []string{"teamSize"}},
		{"number NaN", func(v url.Values) { v.Set("teamSize", "NaN") }, []string{"teamSize"}},
		{"checkbox nonsense", func(v url.Values) { v.Set("newsletter", "maybe") }, []string{"newsletter"}},
		{"url not http", func(v url.Values) { v.Set("site", "javascript:alert(1)") }, []string{"site"}},
		{"duplicate values", func(v url.Values) { v["topic"] = []string{"sales", "support"} }, []string{"topic"}},
		{"duplicate required values", func(v url.Values) { v["email"] = []string{"a@example.com", "b@example.com"} }, []string{"email"}},
		{"invalid UTF-8", func(v url.Values) { v.Set("name", "Ada \xff") }, []string{"name"}},
		{"invalid UTF-8 in a textarea", func(v url.Values) { v.Set("details", "\xc3\x28") }, []string{"details"}},
		{"every problem at once", func(v url.Values) {
			v.Del("email")
			v.Set("message", "")
			v.Set("topic", "other")
			v.Set("teamSize", "many")
			v.Set("company", strings.Repeat("c", 11))
			v["site"] = []string{"https://a.example", "https://b.example"}
		}, []string{"company", "email", "message", "site", "teamSize", "topic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validValues()
			tt.change(v)
			sub, err := f.Parse(v)
			if tt.fields == nil {
				if err != nil {
					t.Errorf("Parse: %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse = %+v, want errors on %v", sub, tt.fields)
			}
			if got := fieldsOf(t, err); !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("errors on %q, want %q (%v)", got, tt.fields, err)
			}
			if !reflect.DeepEqual(sub, kustomer.Submission{}) {
				t.Errorf("a rejected Parse returned a submission: %+v", sub)
			}
		})
	}
}

func TestFormParseMessages(t *testing.T) {
	f := contactForm(t)
	v := validValues()
	v.Del("email")
	v.Set("company", "Analytical Engines")
	_, err := f.Parse(v)
	var ve *kustomer.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	// Messages are sentences shown beside their field (the page puts the
	// label before them in the summary), saying what to do.
	if got := ve.Fields["email"]; got != "This field is required." {
		t.Errorf("email message = %q", got)
	}
	if got := ve.Fields["company"]; got != "Must be at most 10 characters (it has 18)." {
		t.Errorf("company message = %q, want the limit and the length", got)
	}
}

func TestFormDefaults(t *testing.T) {
	f := contactForm(t)
	if f.Title.String() != "contact" || f.SubmitLabel.String() != "" || f.Language != "" {
		t.Errorf("Title %q SubmitLabel %q, want defaults", f.Title, f.SubmitLabel)
	}
	lengths := map[string]int{"name": 200, "email": 254, "message": kustomer.MaxBodyLen, "company": 10, "details": kustomer.MaxTxtLen}
	for _, fl := range f.Fields {
		if want, ok := lengths[fl.Name]; ok && fl.MaxLength != want {
			t.Errorf("field %s MaxLength = %d, want %d", fl.Name, fl.MaxLength, want)
		}
		if fl.Role == kustomer.RoleMessage && !fl.Required {
			t.Errorf("the message field is not required")
		}
		if fl.Name == "topic" && fl.Options[1].Label.String() != "support" {
			t.Errorf("option without a label: label %q, want its value", fl.Options[1].Label)
		}
	}
}
