package assistant_test

import (
	"bytes"
	"os"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
)

// testDefs are the conversation attributes the tests' assistants use.
func testDefs(tb testing.TB) kustomer.AttributeDefs {
	tb.Helper()
	defs := kustomer.AttributeDefs{}
	for name, display := range map[string]string{
		"companyStr":  "Company",
		"teamSizeNum": "Team size",
		"notesTxt":    "Notes",
		"vipBool":     "VIP",
		"renewalAt":   "Renewal date",
		"siteUrl":     "Website",
		"contactStr":  "Contact email",
	} {
		typ, err := kustomer.AttributeTypeOf(name)
		if err != nil {
			tb.Fatal(err)
		}
		defs[name] = kustomer.AttributeDef{Name: name, DisplayName: display, Type: typ}
	}
	return defs
}

// fallback speaks the definitions' fallback texts and the built-in English.
var fallback assistant.Locale

// testSkills knows the skills "sales" and "billing".
func testSkills(id string) bool { return id == "sales" || id == "billing" }

// decode reads a YAML list of assistants as the configuration loader does,
// rejecting unknown fields.
func decode(tb testing.TB, src string) []assistant.Assistant {
	tb.Helper()
	var list []assistant.Assistant
	if err := yamlStrict(src, &list); err != nil {
		tb.Fatalf("decode YAML: %v\n%s", err, src)
	}
	return list
}

// yamlStrict decodes src into v, rejecting unknown fields.
func yamlStrict(src string, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// parseOne decodes and parses one assistant, failing the test on problems.
func parseOne(tb testing.TB, src string) *assistant.Assistant {
	tb.Helper()
	list := decode(tb, src)
	m, err := assistant.Parse(list, testDefs(tb), testSkills)
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	if len(list) != 1 {
		tb.Fatalf("want one assistant, got %d", len(list))
	}
	return m[list[0].ID]
}

// demo parses testdata/qualify.yaml as handoff.yaml would hold it.
func demo(tb testing.TB) *assistant.Assistant {
	tb.Helper()
	data, err := os.ReadFile("testdata/qualify.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var cfg struct {
		Assistants []assistant.Assistant `yaml:"assistants"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		tb.Fatalf("decode testdata/qualify.yaml: %v", err)
	}
	defs := kustomer.AttributeDefs{
		"companyStr":  {Name: "companyStr", DisplayName: "Company", Type: kustomer.TypeStr},
		"teamSizeNum": {Name: "teamSizeNum", DisplayName: "Team size", Type: kustomer.TypeNum},
	}
	m, err := assistant.Parse(cfg.Assistants, defs, func(id string) bool { return id == "sales" })
	if err != nil {
		tb.Fatalf("Parse demo: %v", err)
	}
	a, ok := m["qualify"]
	if !ok {
		tb.Fatal("demo assistant qualify missing")
	}
	return a
}

// texts returns the texts of what the assistant said.
func texts(says []assistant.Say) []string {
	out := make([]string, 0, len(says))
	for _, s := range says {
		out = append(out, s.Text)
	}
	return out
}
