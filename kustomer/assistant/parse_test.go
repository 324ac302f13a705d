package assistant_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer/assistant"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must be one of the problems, word for word
	}{
		{"unknown step type", `
- id: t
  steps:
    - {id: a, type: wave, text: hi}`,
			[]string{`assistant "t": step "a": unknown type "wave" (message, text, buttons, attribute, deflection, condition, hours, transfer or end)`}},
		{"missing step type", `
- id: t
  steps:
    - {id: a, text: hi}`,
			[]string{`assistant "t": step "a": type is required (message, text, buttons, attribute, deflection, condition, hours, transfer or end)`}},
		{"missing and unknown next", `
- id: t
  steps:
    - {id: a, type: message, text: hi, next: b}
    - {id: b, type: text, text: "why?"}
    - {id: c, type: message, text: hi, next: nope}`,
			[]string{
				`assistant "t": step "b": next is required`,
				`assistant "t": step "c": next "nope" is not a step`,
			}},
		{"unknown branch references", `
- id: t
  schedule: {timeZone: UTC, weekly: {mon: ["09:00-17:00"]}}
  steps:
    - {id: a, type: condition, attribute: vipBool, op: set, then: x1, else: x2}
    - {id: b, type: hours, open: x3, closed: x4}
    - {id: c, type: deflection, text: read, articles: [{title: T, url: "https://e.com/a"}], helped: x5, notHelped: x6}
    - {id: d, type: buttons, text: pick, options: [{label: A, payload: a, next: x7}]}`,
			[]string{
				`assistant "t": step "a": then "x1" is not a step`,
				`assistant "t": step "a": else "x2" is not a step`,
				`assistant "t": step "b": open "x3" is not a step`,
				`assistant "t": step "b": closed "x4" is not a step`,
				`assistant "t": step "c": helped "x5" is not a step`,
				`assistant "t": step "c": notHelped "x6" is not a step`,
				`assistant "t": step "d": options[0].next "x7" is not a step`,
			}},
		{"missing branch references", `
- id: t
  schedule: {timeZone: UTC, weekly: {mon: ["09:00-17:00"]}}
  steps:
    - {id: a, type: condition, attribute: vipBool, op: set}
    - {id: b, type: hours}
    - {id: c, type: deflection, text: read, articles: [{title: T, url: "https://e.com/a"}]}
    - {id: d, type: buttons, text: pick, options: [{label: A, payload: a}]}`,
			[]string{
				`assistant "t": step "a": then is required`,
				`assistant "t": step "a": else is required`,
				`assistant "t": step "b": open is required`,
				`assistant "t": step "b": closed is required`,
				`assistant "t": step "c": helped is required`,
				`assistant "t": step "c": notHelped is required`,
				`assistant "t": step "d": options[0]: next is required (on the option or the step)`,
			}},
		{"undefined attributes", `
- id: t
  steps:
    - {id: a, type: attribute, attribute: fooStr, next: b}
    - {id: b, type: text, text: hi, attribute: barTxt, next: c}
    - {id: c, type: condition, attribute: bazNum, op: set, then: d, else: d}
    - {id: d, type: buttons, text: pick, options: [{label: A, payload: a, next: e, set: {quxBool: "true"}}]}
    - {id: e, type: attribute, next: e2}
    - {id: e2, type: end}`,
			[]string{
				`assistant "t": step "a": attribute "fooStr" is not defined under attributes.conversation`,
				`assistant "t": step "b": attribute "barTxt" is not defined under attributes.conversation`,
				`assistant "t": step "c": attribute "bazNum" is not defined under attributes.conversation`,
				`assistant "t": step "d": options[0]: set: attribute "quxBool" is not defined under attributes.conversation`,
				`assistant "t": step "e": attribute is required`,
			}},
		{"attribute type mismatches", `
- id: t
  steps:
    - {id: a, type: text, text: "size?", attribute: teamSizeNum, next: b}
    - {id: b, type: buttons, text: pick, options: [{label: A, payload: a, next: c, set: {teamSizeNum: lots, vipBool: maybe}}]}
    - {id: c, type: attribute, attribute: vipBool, inputType: email, next: d}
    - {id: d, type: end}`,
			[]string{
				`assistant "t": step "a": a text question can only fill a Str or Txt attribute ("teamSizeNum" is Num): use an attribute question`,
				`assistant "t": step "b": options[0]: set: teamSizeNum "lots" must be a number`,
				`assistant "t": step "b": options[0]: set: vipBool "maybe" must be true or false`,
				`assistant "t": step "c": inputType email needs a Str attribute ("vipBool" is Bool)`,
			}},
		{"unknown skill", `
- id: t
  steps:
    - {id: a, type: transfer, skill: astrology}`,
			[]string{`assistant "t": step "a": skill "astrology" is not defined under skills`}},
		{"duplicate ids", `
- id: t
  steps:
    - {id: a, type: message, text: hi, next: a2}
    - {id: a, type: end}
    - {id: a2, type: end}
- id: t
  steps:
    - {id: a, type: end}`,
			[]string{
				`assistant "t": step "a": defined twice`,
				`assistant "t": defined twice`,
			}},
		{"bad ids", `
- id: "t t"
  steps:
    - {id: "a/b", type: end}`,
			[]string{
				`assistants[0]: id "t t" must be 1 to 64 letters, digits, dashes or underscores`,
				`assistants[0]: steps[0]: id "a/b" must be 1 to 64 letters, digits, dashes or underscores`,
			}},
		{"start does not exist", `
- id: t
  start: nope
  steps:
    - {id: a, type: end}`,
			[]string{`assistant "t": start "nope" is not a step`}},
		{"no steps", `
- id: t
  steps: []`,
			[]string{`assistant "t": no steps`}},
		{"unreachable steps", `
- id: t
  start: a
  steps:
    - {id: orphan, type: message, text: hi, next: a}
    - {id: a, type: end}
    - {id: island, type: end}`,
			[]string{
				`assistant "t": step "orphan": not reachable from start "a"`,
				`assistant "t": step "island": not reachable from start "a"`,
			}},
		{"loop of automatic steps", `
- id: t
  schedule: {timeZone: UTC, weekly: {mon: ["09:00-17:00"]}}
  steps:
    - {id: a, type: message, text: hi, next: b}
    - {id: b, type: condition, attribute: vipBool, op: set, then: c, else: z}
    - {id: c, type: hours, open: a, closed: z}
    - {id: z, type: end}`,
			[]string{`assistant "t": steps "a", "b", "c" loop without waiting for the customer: add a question to the loop`}},
		{"message looping to itself", `
- id: t
  steps:
    - {id: a, type: message, text: hi, next: a}`,
			[]string{`assistant "t": steps "a" loop without waiting for the customer: add a question to the loop`}},
		{"loop through a skipped question", `
- id: t
  steps:
    - {id: a, type: attribute, attribute: companyStr, skipIfSet: true, next: b}
    - {id: b, type: message, text: thanks, next: a}`,
			[]string{`assistant "t": steps "a", "b" loop without waiting for the customer: add a question to the loop`}},
		{"button options without label or payload", `
- id: t
  steps:
    - id: a
      type: buttons
      text: pick
      next: z
      options:
        - {payload: x}
        - {label: B}
        - {label: b, payload: x}
    - {id: z, type: end}
    - {id: e, type: buttons, text: none, next: z}`,
			[]string{
				`assistant "t": step "a": options[0]: label is required`,
				`assistant "t": step "a": options[1]: payload is required`,
				`assistant "t": step "a": options[2]: label "b" is used twice`,
				`assistant "t": step "a": options[2]: payload "x" is used twice`,
				`assistant "t": step "e": options: a button question needs at least one option`,
			}},
		{"invalid schedule", `
- id: t
  schedule:
    timeZone: Mars/Olympus_Mons
    weekly:
      monday: ["9-17", "17:00-09:00", "08:00-24:30"]
      funday: ["09:00-17:00"]
    holidays: ["25/12/2026"]
  steps:
    - {id: a, type: hours, open: z, closed: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": schedule: timeZone "Mars/Olympus_Mons" is not a known time zone`,
				`assistant "t": schedule: weekly.monday: "9-17" is not an interval like 09:00-17:00`,
				`assistant "t": schedule: weekly.monday: "17:00-09:00" ends before it starts (split intervals that pass midnight)`,
				`assistant "t": schedule: weekly.monday: "08:00-24:30" is not an interval like 09:00-17:00`,
				`assistant "t": schedule: weekly: "funday" is not a weekday (monday … sunday)`,
				`assistant "t": schedule: holidays: "25/12/2026" is not a date like 2026-12-25`,
			}},
		{"schedule without time zone or hours", `
- id: t
  schedule: {weekly: {}}
  steps:
    - {id: a, type: end}`,
			[]string{
				`assistant "t": schedule: timeZone is required (an IANA name like Europe/Berlin)`,
				`assistant "t": schedule: weekly: no opening hours (list intervals like monday: ["09:00-17:00"])`,
			}},
		{"hours step without schedule", `
- id: t
  steps:
    - {id: a, type: hours, open: z, closed: z}
    - {id: z, type: end}`,
			[]string{`assistant "t": step "a": an hours step needs the assistant's schedule`}},
		{"bad conditions", `
- id: t
  steps:
    - {id: a, type: condition, attribute: companyStr, op: gt, value: x, then: b, else: b}
    - {id: b, type: condition, attribute: teamSizeNum, op: eq, value: many, then: c, else: c}
    - {id: c, type: condition, attribute: teamSizeNum, op: eq, then: d, else: d}
    - {id: d, type: condition, attribute: teamSizeNum, op: set, value: "3", then: e, else: e}
    - {id: e, type: condition, attribute: teamSizeNum, op: about, value: "3", then: f, else: f}
    - {id: f, type: condition, attribute: teamSizeNum, then: z, else: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": step "a": op gt compares Num and At attributes only ("companyStr" is Str)`,
				`assistant "t": step "b": value "many" for teamSizeNum must be a number`,
				`assistant "t": step "c": op eq needs a value (use set or unset to test for presence)`,
				`assistant "t": step "d": op set takes no value`,
				`assistant "t": step "e": unknown op "about" (set, unset, eq, ne, gt or lt)`,
				`assistant "t": step "f": op is required (set, unset, eq, ne, gt or lt)`,
			}},
		{"fields a type does not use", `
- id: t
  steps:
    - {id: a, type: message, text: hi, next: z, then: z, skill: sales}
    - {id: z, type: end, options: [{label: A, payload: a}]}`,
			[]string{
				`assistant "t": step "a": then is not used by a message step`,
				`assistant "t": step "a": skill is not used by a message step`,
				`assistant "t": step "z": options is not used by an end step`,
			}},
		{"missing texts", `
- id: t
  steps:
    - {id: a, type: message, next: b}
    - {id: b, type: text, next: c}
    - {id: c, type: buttons, options: [{label: A, payload: a, next: d}]}
    - {id: d, type: deflection, articles: [{title: T, url: "https://e.com"}], helped: z, notHelped: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": step "a": text is required`,
				`assistant "t": step "b": text is required`,
				`assistant "t": step "c": text is required`,
				`assistant "t": step "d": text is required`,
			}},
		{"bad deflection articles", `
- id: t
  steps:
    - id: a
      type: deflection
      text: read
      helped: z
      notHelped: z
      helpedLabel: Yes
      notHelpedLabel: "yes "
      articles:
        - {id: x, url: "https://e.com/x"}
        - {id: x, title: T, url: "javascript:alert(1)"}
        - {title: U}
    - {id: b, type: deflection, text: none, helped: z, notHelped: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": step "a": articles[0]: title is required`,
				`assistant "t": step "a": articles[1]: url "javascript:alert(1)" must be an http(s) URL or a path starting with /`,
				`assistant "t": step "a": articles[1]: id "x" is used twice`,
				`assistant "t": step "a": articles[2]: url is required`,
				`assistant "t": step "a": helpedLabel and notHelpedLabel must differ`,
				`assistant "t": step "b": articles: a deflection needs at least one article`,
				`assistant "t": step "b": not reachable from start "a"`,
			}},
		{"attempt limits", `
- id: t
  steps:
    - {id: a, type: text, text: hi, next: b, maxAttempts: 2}
    - {id: b, type: attribute, attribute: companyStr, next: c, failed: z}
    - {id: c, type: attribute, attribute: companyStr, next: z, maxAttempts: -1}
    - {id: d, type: text, text: hi, skipIfSet: true, next: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": step "a": maxAttempts needs failed, the step after the last bad answer`,
				`assistant "t": step "b": failed needs maxAttempts`,
				`assistant "t": step "c": maxAttempts must not be negative`,
				`assistant "t": step "d": skipIfSet needs an attribute`,
			}},
		{"bad avatar and input type", `
- id: t
  avatarUrl: "ftp://e.com/a.png"
  steps:
    - {id: a, type: attribute, attribute: companyStr, inputType: color, next: z}
    - {id: z, type: end}`,
			[]string{
				`assistant "t": avatarUrl "ftp://e.com/a.png" must be an http(s) URL or a path starting with /`,
				`assistant "t": step "a": inputType "color": only email may be set (the others follow the attribute's type)`,
			}},
		{"text too long", `
- id: t
  steps:
    - {id: a, type: end, text: "` + strings.Repeat("x", 8001) + `"}`,
			[]string{`assistant "t": step "a": text must be at most 8000 characters (it has 8001)`}},
		{"texts per language are checked in every language", `
- id: t
  steps:
    - id: a
      type: buttons
      text: {en: pick, es: "` + strings.Repeat("x", 8001) + `"}
      next: d
      options:
        - {label: {en: Monthly, es: Mensual}, payload: m}
        - {label: {en: Yearly, es: Anual}, payload: y}
        - {label: " anual", payload: a}
        - {label: {es: Trimestral}, payload: q}
    - id: d
      type: deflection
      text: read
      articles: [{title: {es: Precios}, url: /pricing}]
      helpedLabel: {en: Solved, es: Sí}
      notHelpedLabel: {en: Not solved, es: "sí "}
      helped: z
      notHelped: z
    - {id: z, type: end}`,
			[]string{
				`assistant "t": step "a": text in es must be at most 8000 characters (it has 8001)`,
				`assistant "t": step "a": options[2]: label " anual" is used twice in es`,
				`assistant "t": step "d": helpedLabel and notHelpedLabel must differ in es`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := assistant.Parse(decode(t, tt.yaml), testDefs(t), testSkills)
			if err == nil {
				t.Fatalf("Parse succeeded (%d assistants), want problems", len(m))
			}
			var perr *assistant.ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("error %T, want *assistant.ParseError: %v", err, err)
			}
			if m != nil {
				t.Errorf("Parse returned assistants with an error")
			}
			for _, w := range tt.want {
				found := false
				for _, p := range perr.Problems {
					found = found || p == w
				}
				if !found {
					t.Errorf("missing problem:\n  %s\ngot:\n  %s", w, strings.Join(perr.Problems, "\n  "))
				}
			}
			for _, p := range perr.Problems {
				if !strings.HasPrefix(p, `assistant "`) && !strings.HasPrefix(p, "assistants[") {
					t.Errorf("problem does not name its assistant: %s", p)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("Error() lacks %q", p)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	src := `
- id: t
  steps:
    - {id: ask, type: text, text: "Anything else?", next: check}
    - {id: check, type: condition, attribute: companyStr, op: set, then: done, else: ask}
    - {id: done, type: transfer}
- id: u
  name: Helper
  steps:
    - id: d
      type: deflection
      text: read
      articles: [{title: T, url: /help/t}]
      helped: z
      notHelped: z
    - {id: z, type: end}`
	list := decode(t, src)
	before := decode(t, src)
	m, err := assistant.Parse(list, testDefs(t), nil)
	if err != nil {
		t.Fatalf("a loop through a question is fine, and a transfer needs no skill: %v", err)
	}
	if !reflect.DeepEqual(list, before) {
		t.Errorf("Parse modified its input:\n got %+v\nwant %+v", list, before)
	}
	if got := m["t"].Start; got != "ask" {
		t.Errorf("default start = %q, want the first step", got)
	}
	if got, want := m["u"].PublicName, "Helper"; got != want {
		t.Errorf("default public name = %q, want %q", got, want)
	}
	if got := m["t"].Name; got != "t" {
		t.Errorf("default name = %q, want the id", got)
	}
	d, ok := m["u"].Step("d")
	if !ok || d.Articles[0].ID != "/help/t" {
		t.Errorf("deflection defaults not filled: %+v", d)
	}
	if _, ok := m["u"].Step("nope"); ok {
		t.Error("Step found a step that does not exist")
	}
}

func TestParseSkills(t *testing.T) {
	src := `
- id: t
  steps:
    - {id: a, type: transfer, skill: sales}`
	if _, err := assistant.Parse(decode(t, src), testDefs(t), nil); err == nil {
		t.Error("a nil skills func must accept no skill")
	}
	if _, err := assistant.Parse(decode(t, src), testDefs(t), testSkills); err != nil {
		t.Errorf("known skill rejected: %v", err)
	}
}

func TestDecodeRejectsUnknownFields(t *testing.T) {
	var list []assistant.Assistant
	err := yamlStrict(`[{id: t, steps: [{id: a, type: end, colour: red}]}]`, &list)
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown field accepted with KnownFields: %v", err)
	}
}
