package assistant_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
)

// TestDemoMatchesTestdata keeps Demo and testdata/qualify.yaml (the block to
// paste into handoff.yaml) the same definition.
func TestDemoMatchesTestdata(t *testing.T) {
	data, err := os.ReadFile("testdata/qualify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Assistants []assistant.Assistant `yaml:"assistants"`
	}
	if err := yamlStrict(string(data), &cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Assistants, assistant.Demo()) {
		t.Errorf("testdata/qualify.yaml and Demo() differ:\nyaml %+v\ndemo %+v", cfg.Assistants, assistant.Demo())
	}
}

func TestDemoParses(t *testing.T) {
	defs := kustomer.AttributeDefs{
		"companyStr":  {Name: "companyStr", DisplayName: "Company", Type: kustomer.TypeStr},
		"teamSizeNum": {Name: "teamSizeNum", DisplayName: "Team size", Type: kustomer.TypeNum},
	}
	m, err := assistant.Parse(assistant.Demo(), defs, func(id string) bool { return id == "sales" })
	if err != nil {
		t.Fatal(err)
	}
	a := m["qualify"]
	if a == nil || a.PublicName != "Sam from Sales" || a.Start != "welcome" {
		t.Fatalf("qualify: %+v", a)
	}
	// Without its attributes and skill the demo must not start.
	if _, err := assistant.Parse(assistant.Demo(), kustomer.AttributeDefs{}, nil); err == nil {
		t.Error("demo parsed without companyStr, teamSizeNum and the sales skill")
	}
	demo(t) // and the YAML version, through the helper every dialog test uses
}

func TestDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/qualify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := "attributes: {conversation: [{name: companyStr}]}\nforms: []\n" + string(data)
	list, err := assistant.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list, assistant.Demo()) {
		t.Errorf("Decode = %+v, want the demo", list)
	}
	if list, err := assistant.Decode([]byte("forms: []\n")); err != nil || list != nil {
		t.Errorf("a document without assistants: %v, %v", list, err)
	}
	if list, err := assistant.Decode(nil); err != nil || list != nil {
		t.Errorf("an empty document: %v, %v", list, err)
	}
	_, err = assistant.Decode([]byte("forms: []\nassistants:\n  - id: t\n    steps:\n      - {id: a, type: end, colour: red}\n"))
	if err == nil || !strings.Contains(err.Error(), "colour") || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("unknown field in an assistant: %v, want an error naming it and its line", err)
	}
}
