package assistant_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
)

// spanish stands in for the catalogs: it says every sentence in "es" as its
// id and data, and has no other language.
func spanish(lang, id string, data map[string]any) string {
	if lang != "es" {
		return ""
	}
	s := "es:" + id
	for _, k := range slices.Sorted(maps.Keys(data)) {
		s += fmt.Sprintf(" %s=%v", k, data[k])
	}
	return s
}

// TestBuiltInSentences: the assistant's own sentences (re-ask reasons, the
// default question) come from the translator in the conversation's
// language; without a translator, or in a language it lacks, they are
// English.
func TestBuiltInSentences(t *testing.T) {
	es := assistant.Locale{Lang: "es", Words: spanish}
	de := assistant.Locale{Lang: "de", Words: spanish}
	long := func(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	for _, tt := range []struct {
		attr, input string
		inputType   string
		es, en      string
	}{
		{"teamSizeNum", "abc", "", "es:invalid_number Name=Team size", "Team size must be a number."},
		{"vipBool", "maybe", "", "es:invalid_yes_no Name=VIP", "VIP must be true or false."},
		{"renewalAt", "next spring", "", "es:invalid_datetime Name=Renewal date", "Renewal date must be a date and time like 2026-01-31T09:30:00Z."},
		{"siteUrl", "example dot com", "", "es:invalid_url Name=Website", "Website must be an absolute http or https URL."},
		{"siteUrl", long("https://e.com/", 2050), "", "es:too_long Length=2050 Name=Website Number=2048", "Website must be at most 2048 characters (it has 2050)."},
		{"companyStr", "Acme\nInc", "", "es:invalid_line Name=Company", "Company must be a single line."},
		{"companyStr", strings.Repeat("x", 300), "", "es:too_long Length=300 Name=Company Number=256", "Company must be at most 256 characters (it has 300)."},
		{"notesTxt", strings.Repeat("x", 10001), "", "es:too_long Length=10001 Name=Notes Number=10000", "Notes must be at most 10000 characters (it has 10001)."},
		{"contactStr", "dana@", "email", "es:please_email", "Please enter an email address like name@example.com."},
		{"companyStr", "  ", "", "es:please_answer", "Please type your answer."},
	} {
		t.Run(tt.attr+" "+tt.input[:min(len(tt.input), 20)], func(t *testing.T) {
			src := `
- id: t
  steps:
    - {id: q, type: attribute, attribute: ` + tt.attr + `, next: z}
    - {id: z, type: end}`
			if tt.inputType != "" {
				src = strings.Replace(src, "next: z}", "inputType: "+tt.inputType+", next: z}", 1)
			}
			a := parseOne(t, src)
			name := testDefs(t)[tt.attr].DisplayName
			for _, c := range []struct {
				name     string
				loc      assistant.Locale
				reason   string
				question string
			}{
				{"es", es, tt.es, "es:question Name=" + name},
				{"no translator", fallback, tt.en, ""},
				{"a language the translator lacks", de, tt.en, ""},
			} {
				res, err := a.Reply(c.loc, assistant.State{Step: "q"}, nil, assistant.Input{Text: tt.input}, wednesdayMorningNY)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Say) != 2 || res.Say[0].Text != c.reason || (c.question != "" && res.Say[1].Text != c.question) {
					t.Errorf("%s: said %q, want %q then the question %q", c.name, texts(res.Say), c.reason, c.question)
				}
			}
		})
	}

	// The default question in English sits mid-sentence; acronyms stay.
	for attr, want := range map[string]string{"teamSizeNum": "What is your team size?", "vipBool": "What is your VIP?"} {
		a := parseOne(t, `
- id: t
  steps:
    - {id: q, type: attribute, attribute: `+attr+`, next: z}
    - {id: z, type: end}`)
		if got := texts(a.Begin(fallback, nil, "", wednesdayMorningNY).Say); !slices.Equal(got, []string{want}) {
			t.Errorf("default question %q, want %q", got, want)
		}
	}

	a := parseOne(t, `
- id: t
  steps:
    - {id: pick, type: buttons, text: Pick, options: [{label: A, payload: a, next: why}]}
    - {id: why, type: text, text: "Why?", next: d}
    - {id: d, type: deflection, text: Read, articles: [{title: FAQ, url: /faq}], helped: z, notHelped: z}
    - {id: z, type: end}`)
	for _, tt := range []struct {
		loc        assistant.Locale
		choose     string
		answer     string
		helped     string
		notHelped  string
		typedHelps []string
	}{
		{es, "es:please_choose", "es:please_answer", "es:helped", "es:not_helped", []string{"ES:HELPED", "That helped"}},
		{fallback, "Please choose one of the options.", "Please type your answer.", "That helped", "I still need help", []string{"that helped"}},
	} {
		res, _ := a.Reply(tt.loc, assistant.State{Step: "pick"}, nil, assistant.Input{Text: "B"}, wednesdayMorningNY)
		if got := texts(res.Say); len(got) != 2 || got[0] != tt.choose {
			t.Errorf("%q: a typed label that is none: %q, want %q first", tt.loc.Lang, got, tt.choose)
		}
		res, _ = a.Reply(tt.loc, assistant.State{Step: "why"}, nil, assistant.Input{Text: " "}, wednesdayMorningNY)
		if got := texts(res.Say); len(got) != 2 || got[0] != tt.answer {
			t.Errorf("%q: an empty answer: %q, want %q first", tt.loc.Lang, got, tt.answer)
		}
		q, _ := a.Pending(tt.loc, assistant.State{Step: "d"})
		if len(q.Buttons) != 2 || q.Buttons[0].Label != tt.helped || q.Buttons[1].Label != tt.notHelped {
			t.Errorf("%q: deflection answers %+v, want %q and %q", tt.loc.Lang, q.Buttons, tt.helped, tt.notHelped)
		}
		for _, typed := range append(tt.typedHelps, tt.notHelped) {
			res, _ = a.Reply(tt.loc, assistant.State{Step: "d"}, nil, assistant.Input{Text: typed}, wednesdayMorningNY)
			if want := typed != tt.notHelped; res.State.Helped != want {
				t.Errorf("%q: typed %q: helped %v, want %v", tt.loc.Lang, typed, res.State.Helped, want)
			}
		}
	}
}

// TestRunnerSpeaksTheConversationsLanguage: the Runner gives its translator
// and the language the Engine passes to every run.
func TestRunnerSpeaksTheConversationsLanguage(t *testing.T) {
	m, err := assistant.Parse(decode(t, `
- id: t
  steps:
    - {id: hi, type: message, text: {en: Hello, es: Hola}, next: q}
    - {id: q, type: attribute, attribute: teamSizeNum, next: z}
    - {id: z, type: end}`), testDefs(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := assistant.NewRunner(m)
	r.Words = spanish
	said := func(turn kustomer.AssistantTurn) []string {
		var out []string
		for _, s := range turn.Say {
			out = append(out, s.Text)
		}
		return out
	}
	begin, err := r.Begin("t", "es", nil, "many", wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := said(begin), []string{"Hola", "es:invalid_number Name=Team size", "es:question Name=Team size"}; !slices.Equal(got, want) {
		t.Errorf("Begin in es said %q, want %q", got, want)
	}
	reply, err := r.Reply("t", begin.State, nil, kustomer.AssistantInput{Lang: "es", Text: "lots"}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := said(reply), []string{"es:invalid_number Name=Team size", "es:question Name=Team size"}; !slices.Equal(got, want) {
		t.Errorf("Reply in es said %q, want %q", got, want)
	}
	begin, _ = r.Begin("t", "", nil, "many", wednesdayMorningNY)
	if got, want := said(begin), []string{"Hello", "Team size must be a number.", "What is your team size?"}; !slices.Equal(got, want) {
		t.Errorf("Begin in English said %q, want %q", got, want)
	}
}
