package assistant_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
)

// Fixed instants (New York is UTC-5 before 2026-03-08).
var (
	wednesdayMorningNY = time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC) // 10:00 in New York
	saturdayNY         = time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC)
	christmasMorningNY = time.Date(2026, 12, 25, 15, 0, 0, 0, time.UTC) // a Friday, a holiday
)

// Texts of the demo assistant, as in testdata/qualify.yaml.
const (
	demoWelcome    = "Hi, I'm Sam. Two quick questions so the right specialist can help you."
	demoTeamSize   = "How big is the team that would use it?"
	demoCompany    = "Which company are you with?"
	demoArticles   = "While I find a specialist, these often answer the first questions."
	demoThanks     = "Glad that helped! Start a new chat any time."
	demoAfterHours = "Our sales team is offline now (Monday to Friday, 9:00 to 17:00 New York time). Leave your question here and a specialist will answer first thing."
	demoTransfer   = "Thanks! A sales specialist will join this chat."
	pleaseChoose   = "Please choose one of the options."
	pleaseAnswer   = "Please type your answer."
)

// turn is one step of a scripted conversation: the input (ignored for the
// first turn, which is Begin) and what must come out.
type turn struct {
	in       assistant.Input
	say      []string
	step     string
	attempts int
	set      kustomer.Attributes
	outcome  assistant.Outcome // non-empty when the assistant must finish
	skill    string
}

// script is a conversation with one assistant.
type script struct {
	name  string
	src   string // YAML list holding one assistant; empty for the demo
	attrs kustomer.Attributes
	first string
	now   time.Time
	turns []turn
}

func (sc script) assistant(tb testing.TB) *assistant.Assistant {
	tb.Helper()
	if sc.src == "" {
		return demo(tb)
	}
	return parseOne(tb, sc.src)
}

// play runs the script and checks every turn. With restart, every turn
// parses the definition afresh and passes the state and the attributes
// through JSON, as a restarted server reading them from its store would.
func play(t *testing.T, sc script, restart bool) []assistant.Result {
	t.Helper()
	a := sc.assistant(t)
	attrs := maps.Clone(sc.attrs)
	var st assistant.State
	var results []assistant.Result
	for i, tr := range sc.turns {
		if restart {
			a = sc.assistant(t)
			st = roundTrip(t, st)
			attrs = roundTrip(t, attrs)
		}
		var res assistant.Result
		if i == 0 {
			res = a.Begin(fallback, attrs, sc.first, sc.now)
		} else {
			var err error
			if res, err = a.Reply(fallback, st, attrs, tr.in, sc.now); err != nil {
				t.Fatalf("turn %d: Reply(%+v): %v", i, tr.in, err)
			}
		}
		checkTurn(t, i, res, tr)
		results = append(results, res)
		st = res.State
		for k, v := range res.Set {
			if attrs == nil {
				attrs = kustomer.Attributes{}
			}
			attrs[k] = v
		}
	}
	return results
}

func checkTurn(t *testing.T, i int, res assistant.Result, tr turn) {
	t.Helper()
	if got := texts(res.Say); !slices.Equal(got, tr.say) {
		t.Errorf("turn %d: said %q, want %q", i, got, tr.say)
	}
	if res.State.Step != tr.step {
		t.Errorf("turn %d: step %q, want %q", i, res.State.Step, tr.step)
	}
	if res.State.Attempts != tr.attempts {
		t.Errorf("turn %d: attempts %d, want %d", i, res.State.Attempts, tr.attempts)
	}
	if !reflect.DeepEqual(res.Set, tr.set) {
		t.Errorf("turn %d: set %#v, want %#v", i, res.Set, tr.set)
	}
	if res.State.Done != (tr.outcome != "") || res.State.Outcome != tr.outcome || res.State.Skill != tr.skill {
		t.Errorf("turn %d: done=%v outcome=%q skill=%q, want outcome %q skill %q",
			i, res.State.Done, res.State.Outcome, res.State.Skill, tr.outcome, tr.skill)
	}
	wantTransfer := tr.outcome == assistant.OutcomeTransferred
	if (res.Transfer != nil) != wantTransfer || (wantTransfer && res.Transfer.Skill != tr.skill) {
		t.Errorf("turn %d: transfer %+v, want transfer=%v to %q", i, res.Transfer, wantTransfer, tr.skill)
	}
	wantEnd := tr.outcome == assistant.OutcomeEnded || tr.outcome == assistant.OutcomeHelped
	if res.End != wantEnd {
		t.Errorf("turn %d: end=%v, want %v", i, res.End, wantEnd)
	}
}

// roundTrip passes v through JSON.
func roundTrip[T any](tb testing.TB, v T) T {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// demoOpening is the demo's Begin: the welcome and the team-size buttons.
var demoOpening = turn{say: []string{demoWelcome, demoTeamSize}, step: "teamSize"}

func scripts() []script {
	click := func(step, payload string) assistant.Input { return assistant.Input{Step: step, Payload: payload} }
	typed := func(text string) assistant.Input { return assistant.Input{Text: text} }
	return []script{
		{name: "demo: an article helped", first: "We need pricing for our team", now: wednesdayMorningNY, turns: []turn{
			demoOpening,
			{in: click("teamSize", "medium"), say: []string{demoCompany}, step: "company", set: kustomer.Attributes{"teamSizeNum": 30.0}},
			{in: typed("  Acme Corp "), say: []string{demoArticles}, step: "articles", set: kustomer.Attributes{"companyStr": "Acme Corp"}},
			{in: click("articles", assistant.PayloadHelped), say: []string{demoThanks}, step: "thanks", outcome: assistant.OutcomeHelped},
		}},
		{name: "demo: not helped, sales is open", first: "Pricing?", now: wednesdayMorningNY, turns: []turn{
			demoOpening,
			{in: click("teamSize", "small"), say: []string{demoCompany}, step: "company", set: kustomer.Attributes{"teamSizeNum": 5.0}},
			{in: typed("Acme"), say: []string{demoArticles}, step: "articles", set: kustomer.Attributes{"companyStr": "Acme"}},
			{in: click("articles", assistant.PayloadNotHelped), say: []string{demoTransfer}, step: "toSales", outcome: assistant.OutcomeTransferred, skill: "sales"},
		}},
		{name: "demo: not helped on a Saturday", first: "Pricing?", now: saturdayNY, turns: []turn{
			demoOpening,
			{in: click("teamSize", "large"), say: []string{demoCompany}, step: "company", set: kustomer.Attributes{"teamSizeNum": 100.0}},
			{in: typed("Acme"), say: []string{demoArticles}, step: "articles", set: kustomer.Attributes{"companyStr": "Acme"}},
			{in: click("articles", assistant.PayloadNotHelped), say: []string{demoAfterHours, demoTransfer}, step: "toSales", outcome: assistant.OutcomeTransferred, skill: "sales"},
		}},
		{name: "demo: not helped on a holiday morning", first: "Pricing?", now: christmasMorningNY, turns: []turn{
			demoOpening,
			{in: click("teamSize", "small"), say: []string{demoCompany}, step: "company", set: kustomer.Attributes{"teamSizeNum": 5.0}},
			{in: typed("Acme"), say: []string{demoArticles}, step: "articles", set: kustomer.Attributes{"companyStr": "Acme"}},
			{in: typed("that is not what I asked"), say: []string{demoAfterHours, demoTransfer}, step: "toSales", outcome: assistant.OutcomeTransferred, skill: "sales"},
		}},
		{name: "demo: the form gave the company, a label is typed, a bad answer is re-asked",
			attrs: kustomer.Attributes{"companyStr": "Initech"}, first: "Hello", now: wednesdayMorningNY, turns: []turn{
				demoOpening,
				{in: typed("a few"), say: []string{pleaseChoose, demoTeamSize}, step: "teamSize", attempts: 1},
				{in: click("teamSize", "huge"), say: []string{pleaseChoose, demoTeamSize}, step: "teamSize", attempts: 2},
				{in: typed(" 11-50 PEOPLE "), say: []string{demoArticles}, step: "articles", set: kustomer.Attributes{"teamSizeNum": 30.0}},
				{in: assistant.Input{}, say: []string{pleaseChoose, demoArticles}, step: "articles", attempts: 1},
				{in: typed("That helped"), say: []string{demoThanks}, step: "thanks", outcome: assistant.OutcomeHelped},
			}},
		{name: "text question fills a Txt attribute", first: "first", src: `
- id: t
  steps:
    - {id: hi, type: message, text: Hello, next: ask}
    - {id: ask, type: buttons, text: "Go on?", options: [{label: Yes, payload: y}], next: notes}
    - {id: notes, type: text, text: "Any notes?", attribute: notesTxt, next: bye}
    - {id: bye, type: end, text: Bye}`, turns: []turn{
			{say: []string{"Hello", "Go on?"}, step: "ask"},
			{in: click("ask", "y"), say: []string{"Any notes?"}, step: "notes"},
			{in: typed("   "), say: []string{pleaseAnswer, "Any notes?"}, step: "notes", attempts: 1},
			{in: typed("line one\nline two"), say: []string{"Bye"}, step: "bye", set: kustomer.Attributes{"notesTxt": "line one\nline two"}, outcome: assistant.OutcomeEnded},
		}},
		{name: "text question without attribute; Str re-asks a second line", src: `
- id: t
  steps:
    - {id: go, type: buttons, text: "Start?", options: [{label: Yes, payload: y, next: why}]}
    - {id: why, type: text, text: "Why?", next: co}
    - {id: co, type: text, text: "Company?", attribute: companyStr, next: end}
    - {id: end, type: end}`, turns: []turn{
			{say: []string{"Start?"}, step: "go"},
			{in: click("go", "y"), say: []string{"Why?"}, step: "why"},
			{in: typed("because"), say: []string{"Company?"}, step: "co"},
			{in: typed("Acme\nInc"), say: []string{"Company must be a single line.", "Company?"}, step: "co", attempts: 1},
			{in: typed("Acme Inc"), say: nil, step: "end", set: kustomer.Attributes{"companyStr": "Acme Inc"}, outcome: assistant.OutcomeEnded},
		}},
		{name: "attribute questions of every type re-ask with the reason", src: `
- id: t
  schedule: {timeZone: Europe/Berlin, weekly: {mon: ["09:00-17:00"]}}
  steps:
    - {id: go, type: buttons, text: "Start?", options: [{label: Yes, payload: y, next: size}]}
    - {id: size, type: attribute, attribute: teamSizeNum, next: site}
    - {id: site, type: attribute, attribute: siteUrl, text: "Your website?", next: renew}
    - {id: renew, type: attribute, attribute: renewalAt, text: "Renewal?", next: vip}
    - {id: vip, type: attribute, attribute: vipBool, text: "VIP?", next: mail}
    - {id: mail, type: attribute, attribute: contactStr, inputType: email, text: "Email?", next: done}
    - {id: done, type: transfer, text: Over to a human}`, turns: []turn{
			{say: []string{"Start?"}, step: "go"},
			{in: click("go", "y"), say: []string{"What is your team size?"}, step: "size"},
			{in: typed("abc"), say: []string{"Team size must be a number.", "What is your team size?"}, step: "size", attempts: 1},
			{in: typed("1e400"), say: []string{"Team size must be a number.", "What is your team size?"}, step: "size", attempts: 2},
			{in: typed(" 12 "), say: []string{"Your website?"}, step: "site", set: kustomer.Attributes{"teamSizeNum": 12.0}},
			{in: typed("example dot com"), say: []string{"Website must be an absolute http or https URL.", "Your website?"}, step: "site", attempts: 1},
			{in: typed("https://example.com"), say: []string{"Renewal?"}, step: "renew", set: kustomer.Attributes{"siteUrl": "https://example.com"}},
			{in: typed("next spring"), say: []string{"Renewal date must be a date and time like 2026-01-31T09:30:00Z.", "Renewal?"}, step: "renew", attempts: 1},
			// A datetime input sends local time: read in the schedule's zone.
			{in: typed("2026-07-01T09:30"), say: []string{"VIP?"}, step: "vip", set: kustomer.Attributes{"renewalAt": "2026-07-01T07:30:00.000Z"}},
			{in: typed("maybe"), say: []string{"VIP must be true or false.", "VIP?"}, step: "vip", attempts: 1},
			{in: assistant.Input{Payload: "true"}, say: []string{"Email?"}, step: "mail", set: kustomer.Attributes{"vipBool": true}},
			{in: typed("dana@"), say: []string{"Please enter an email address like name@example.com.", "Email?"}, step: "mail", attempts: 1},
			{in: typed("dana@example.com"), say: []string{"Over to a human"}, step: "done", set: kustomer.Attributes{"contactStr": "dana@example.com"}, outcome: assistant.OutcomeTransferred},
		}},
		{name: "condition and skipIfSet see attributes set earlier in the same reply", src: `
- id: t
  steps:
    - id: size
      type: buttons
      text: Size?
      options:
        - {label: Big, payload: big, next: co, set: {teamSizeNum: "100", companyStr: "Big Co"}}
        - {label: Small, payload: small, next: co, set: {teamSizeNum: "3"}}
    - {id: co, type: attribute, attribute: companyStr, skipIfSet: true, text: "Company?", next: big}
    - {id: big, type: condition, attribute: teamSizeNum, op: gt, value: "50", then: vip, else: std}
    - {id: vip, type: transfer, skill: sales}
    - {id: std, type: end, text: Thanks}`, turns: []turn{
			{say: []string{"Size?"}, step: "size"},
			{in: click("size", "big"), say: nil, step: "vip", set: kustomer.Attributes{"teamSizeNum": 100.0, "companyStr": "Big Co"}, outcome: assistant.OutcomeTransferred, skill: "sales"},
		}},
		{name: "too many bad answers go to failed", src: `
- id: t
  steps:
    - {id: go, type: buttons, text: "Start?", options: [{label: Yes, payload: y, next: size}]}
    - {id: size, type: attribute, attribute: teamSizeNum, text: "Size?", next: ok, maxAttempts: 2, failed: human}
    - {id: ok, type: end}
    - {id: human, type: transfer, skill: billing, text: Let me get someone}`, turns: []turn{
			{say: []string{"Start?"}, step: "go"},
			{in: click("go", "y"), say: []string{"Size?"}, step: "size"},
			{in: typed("many"), say: []string{"Team size must be a number.", "Size?"}, step: "size", attempts: 1},
			{in: typed("lots"), say: []string{"Let me get someone"}, step: "human", outcome: assistant.OutcomeTransferred, skill: "billing"},
		}},
		{name: "a loop through a question waits every time", first: "x", src: `
- id: t
  steps:
    - {id: q, type: buttons, text: "Again?", options: [{label: Again, payload: a, next: m}, {label: Stop, payload: s, next: z}]}
    - {id: m, type: message, text: Once more, next: q}
    - {id: z, type: end, text: Done}`, turns: []turn{
			{say: []string{"Again?"}, step: "q"},
			{in: click("q", "a"), say: []string{"Once more", "Again?"}, step: "q"},
			{in: click("q", "a"), say: []string{"Once more", "Again?"}, step: "q"},
			{in: click("q", "s"), say: []string{"Done"}, step: "z", outcome: assistant.OutcomeEnded},
		}},
		{name: "an assistant that transfers at once", first: "hi", src: `
- id: t
  steps:
    - {id: go, type: transfer}`, turns: []turn{
			{say: nil, step: "go", outcome: assistant.OutcomeTransferred},
		}},
	}
}

func TestDialogs(t *testing.T) {
	for _, sc := range scripts() {
		t.Run(sc.name, func(t *testing.T) { play(t, sc, false) })
	}
}

// TestStateSurvivesRestarts replays every script with the state and the
// attributes stored as JSON and the definition parsed again between turns:
// the outcome is the same.
func TestStateSurvivesRestarts(t *testing.T) {
	for _, sc := range scripts() {
		t.Run(sc.name, func(t *testing.T) {
			want := play(t, sc, false)
			got := play(t, sc, true)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("results differ after restarts:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestStateJSON(t *testing.T) {
	st := assistant.State{Step: "toSales", Attempts: 2, Done: true, Outcome: assistant.OutcomeTransferred, Skill: "sales", Helped: true, Turn: 7}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"step":"toSales","attempts":2,"done":true,"outcome":"transferred","skill":"sales","helped":true,"turn":7}`
	if string(data) != want {
		t.Errorf("JSON %s, want %s", data, want)
	}
	if got := roundTrip(t, st); got != st {
		t.Errorf("round trip %+v, want %+v", got, st)
	}
}

func TestBeginFirstMessage(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		attrs kustomer.Attributes
		first string
		want  turn
	}{
		{"answers a first text question without asking it", `
- id: t
  steps:
    - {id: hi, type: message, text: Hello, next: why}
    - {id: why, type: text, text: "How can we help?", attribute: notesTxt, next: more}
    - {id: more, type: text, text: "Anything else?", next: z}
    - {id: z, type: end}`, nil, "My order is late",
			turn{say: []string{"Hello", "Anything else?"}, step: "more", set: kustomer.Attributes{"notesTxt": "My order is late"}}},
		{"answers a first attribute question", `
- id: t
  steps:
    - {id: size, type: attribute, attribute: teamSizeNum, next: z}
    - {id: z, type: transfer, skill: sales}`, nil, "25",
			turn{say: nil, step: "z", set: kustomer.Attributes{"teamSizeNum": 25.0}, outcome: assistant.OutcomeTransferred, skill: "sales"}},
		{"a bad first answer is re-asked with the reason", `
- id: t
  steps:
    - {id: size, type: attribute, attribute: teamSizeNum, next: z}
    - {id: z, type: end}`, nil, "Do you have a plan for agencies?",
			turn{say: []string{"Team size must be a number.", "What is your team size?"}, step: "size", attempts: 1}},
		{"does not answer a first button question", `
- id: t
  steps:
    - {id: pick, type: buttons, text: Pick one, options: [{label: A, payload: a, next: why}]}
    - {id: why, type: text, text: "Why?", next: z}
    - {id: z, type: end}`, nil, "A",
			turn{say: []string{"Pick one"}, step: "pick"}},
		{"does not answer a first deflection", `
- id: t
  steps:
    - {id: d, type: deflection, text: Read this, articles: [{title: FAQ, url: /faq}], helped: z, notHelped: z}
    - {id: z, type: end}`, nil, "That helped",
			turn{say: []string{"Read this"}, step: "d"}},
		{"a skipped question is not the first question", `
- id: t
  steps:
    - {id: co, type: attribute, attribute: companyStr, skipIfSet: true, next: why}
    - {id: why, type: text, text: "Why?", attribute: notesTxt, next: z}
    - {id: z, type: end, text: Bye}`, kustomer.Attributes{"companyStr": "Acme"}, "Because",
			turn{say: []string{"Bye"}, step: "z", set: kustomer.Attributes{"notesTxt": "Because"}, outcome: assistant.OutcomeEnded}},
		{"an empty first message answers nothing", `
- id: t
  steps:
    - {id: why, type: text, text: "Why?", next: z}
    - {id: z, type: end}`, nil, "  ",
			turn{say: []string{"Why?"}, step: "why"}},
		{"a branch before the first question", `
- id: t
  steps:
    - {id: c, type: condition, attribute: vipBool, op: eq, value: "true", then: vip, else: why}
    - {id: vip, type: transfer, skill: sales, text: Straight to sales}
    - {id: why, type: text, text: "Why?", next: z}
    - {id: z, type: end}`, kustomer.Attributes{"vipBool": true}, "hi",
			turn{say: []string{"Straight to sales"}, step: "vip", outcome: assistant.OutcomeTransferred, skill: "sales"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := parseOne(t, tt.src)
			before := maps.Clone(tt.attrs)
			res := a.Begin(fallback, tt.attrs, tt.first, wednesdayMorningNY)
			checkTurn(t, 0, res, tt.want)
			if !reflect.DeepEqual(tt.attrs, before) {
				t.Errorf("Begin modified the caller's attributes: %v", tt.attrs)
			}
		})
	}
}

func TestSayCarriesWhatThePageRenders(t *testing.T) {
	a := demo(t)
	res := a.Begin(fallback, nil, "hi", wednesdayMorningNY)
	if len(res.Say) != 2 {
		t.Fatalf("said %q", texts(res.Say))
	}
	if w := res.Say[0]; w.Question || w.Buttons != nil || w.Step != "welcome" {
		t.Errorf("welcome message: %+v", w)
	}
	q := res.Say[1]
	wantButtons := []assistant.Button{{Label: "1-10 people", Payload: "small"}, {Label: "11-50 people", Payload: "medium"}, {Label: "More than 50", Payload: "large"}}
	if !q.Question || q.Step != "teamSize" || !reflect.DeepEqual(q.Buttons, wantButtons) {
		t.Errorf("button question: %+v", q)
	}
	if p, ok := a.Pending(fallback, res.State); !ok || !reflect.DeepEqual(p, q) {
		t.Errorf("Pending = %+v, %v; want the question %+v", p, ok, q)
	}

	res, err := a.Reply(fallback, res.State, nil, assistant.Input{Step: "teamSize", Payload: "small"}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	if q := res.Say[0]; q.Attribute != "companyStr" || q.InputType != assistant.InputText || !q.Question {
		t.Errorf("attribute question: %+v", q)
	}

	res, err = a.Reply(fallback, res.State, res.Set, assistant.Input{Text: "Acme"}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Say[0]
	wantArticles := []assistant.ArticleLink{
		{ID: "pricing", Title: "Plans and pricing", URL: "https://example.com/pricing"},
		{ID: "security", Title: "Security and compliance", URL: "https://example.com/security"},
	}
	wantAnswers := []assistant.Button{{Label: "That helped", Payload: assistant.PayloadHelped}, {Label: "I still need help", Payload: assistant.PayloadNotHelped}}
	if !reflect.DeepEqual(d.Articles, wantArticles) || !reflect.DeepEqual(d.Buttons, wantAnswers) || !d.Question {
		t.Errorf("deflection: %+v", d)
	}
	if res.LastDeflection != nil {
		t.Errorf("lastDeflection before the deflection was answered: %+v", res.LastDeflection)
	}

	res, err = a.Reply(fallback, res.State, nil, assistant.Input{Step: "articles", Payload: assistant.PayloadNotHelped, Visited: []string{"security"}}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	want := &assistant.Deflection{Articles: []assistant.DeflectionArticle{
		{ID: "pricing", Version: 1, Title: "Plans and pricing", URL: "https://example.com/pricing", Visited: false},
		{ID: "security", Version: 1, Title: "Security and compliance", URL: "https://example.com/security", Visited: true},
	}}
	if !reflect.DeepEqual(res.LastDeflection, want) {
		t.Errorf("lastDeflection %+v, want %+v", res.LastDeflection, want)
	}
	data, _ := json.Marshal(res.LastDeflection)
	if !strings.Contains(string(data), `"visited":true`) || !strings.HasPrefix(string(data), `{"articles":[`) {
		t.Errorf("lastDeflection JSON %s is not shaped like the SDK's", data)
	}
	if _, ok := a.Pending(fallback, res.State); ok {
		t.Error("Pending after the assistant finished")
	}

	// Said messages never share memory with the definition.
	q2, _ := a.Pending(fallback, assistant.State{Step: "teamSize"})
	q2.Buttons[0].Label = "changed"
	if q3, _ := a.Pending(fallback, assistant.State{Step: "teamSize"}); q3.Buttons[0].Label != "1-10 people" {
		t.Error("changing a Say changed the assistant")
	}
}

func TestInputTypes(t *testing.T) {
	a := parseOne(t, `
- id: t
  steps:
    - {id: go, type: buttons, text: Go, options: [{label: Go, payload: go, next: a}]}
    - {id: a, type: attribute, attribute: companyStr, next: b}
    - {id: b, type: attribute, attribute: teamSizeNum, next: c}
    - {id: c, type: attribute, attribute: siteUrl, next: d}
    - {id: d, type: attribute, attribute: renewalAt, next: e}
    - {id: e, type: attribute, attribute: vipBool, next: f}
    - {id: f, type: attribute, attribute: contactStr, inputType: email, next: g}
    - {id: g, type: attribute, attribute: notesTxt, next: z}
    - {id: z, type: end}`)
	for step, want := range map[string]string{
		"a": assistant.InputText, "b": assistant.InputNumber, "c": assistant.InputURL,
		"d": assistant.InputDatetime, "e": assistant.InputCheckbox, "f": assistant.InputEmail, "g": assistant.InputText,
	} {
		q, ok := a.Pending(fallback, assistant.State{Step: step})
		if !ok || q.InputType != want || q.Attribute == "" {
			t.Errorf("step %s: %+v, want input type %s", step, q, want)
		}
	}
}

func TestStaleInput(t *testing.T) {
	a := demo(t)
	attrs := kustomer.Attributes{}
	begin := a.Begin(fallback, attrs, "hi", wednesdayMorningNY)
	click := assistant.Input{Step: "teamSize", Payload: "medium", Text: "11-50 people"}

	first, err := a.Reply(fallback, begin.State, attrs, click, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	// The second click of a double click reaches the stored new state.
	res, err := a.Reply(fallback, first.State, first.Set, click, wednesdayMorningNY)
	if !errors.Is(err, assistant.ErrStale) {
		t.Fatalf("double click: err %v, want ErrStale", err)
	}
	if res.State != first.State || res.Say != nil || res.Set != nil {
		t.Errorf("a stale input changed something: %+v", res)
	}

	done := assistant.State{Step: "toSales", Done: true, Outcome: assistant.OutcomeTransferred, Skill: "sales"}
	for _, in := range []assistant.Input{{Text: "hello?"}, {Step: "toSales", Payload: "x"}} {
		if _, err := a.Reply(fallback, done, attrs, in, wednesdayMorningNY); !errors.Is(err, assistant.ErrStale) {
			t.Errorf("input %+v after the assistant finished: err %v, want ErrStale", in, err)
		}
	}

	// Typed text carries no step and answers whatever is asked now.
	if _, err := a.Reply(fallback, first.State, first.Set, assistant.Input{Text: "Acme"}, wednesdayMorningNY); err != nil {
		t.Errorf("typed answer: %v", err)
	}
}

func TestTurnCountsInputs(t *testing.T) {
	a := demo(t)
	st := a.Begin(fallback, nil, "hi", wednesdayMorningNY).State
	if st.Turn != 0 {
		t.Errorf("turn after Begin = %d", st.Turn)
	}
	for i, in := range []assistant.Input{{Text: "??"}, {Payload: "small"}} {
		res, err := a.Reply(fallback, st, nil, in, wednesdayMorningNY)
		if err != nil {
			t.Fatal(err)
		}
		if res.State.Turn != i+1 {
			t.Errorf("turn after reply %d = %d", i+1, res.State.Turn)
		}
		st = res.State
	}
}

func TestChangedDefinitionHandsOff(t *testing.T) {
	a := demo(t)
	res, err := a.Reply(fallback, assistant.State{Step: "removedStep", Turn: 3}, nil, assistant.Input{Text: "hi"}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	if res.Transfer == nil || res.Transfer.Skill != "" || !res.State.Done || res.State.Outcome != assistant.OutcomeTransferred {
		t.Errorf("a state at a step that no longer exists: %+v, want a transfer to the general queue", res)
	}

	// A state resting on a step that is no longer a question runs on from it.
	res, err = a.Reply(fallback, assistant.State{Step: "hours"}, nil, assistant.Input{Text: "hi"}, saturdayNY)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(res.Say); !slices.Equal(got, []string{demoAfterHours, demoTransfer}) {
		t.Errorf("said %q", got)
	}

	var unparsed assistant.Assistant
	if res := unparsed.Begin(fallback, nil, "hi", wednesdayMorningNY); res.Transfer == nil || !res.State.Done {
		t.Errorf("an unparsed assistant must hand off, got %+v", res)
	}
}

func TestConditionOps(t *testing.T) {
	tests := []struct {
		attr, op, value string
		attrs           kustomer.Attributes
		want            bool
	}{
		{"companyStr", "set", "", kustomer.Attributes{"companyStr": "Acme"}, true},
		{"companyStr", "set", "", kustomer.Attributes{"companyStr": "  "}, false},
		{"companyStr", "set", "", kustomer.Attributes{"companyStr": nil}, false},
		{"companyStr", "set", "", nil, false},
		{"companyStr", "unset", "", nil, true},
		{"companyStr", "unset", "", kustomer.Attributes{"companyStr": "Acme"}, false},
		{"vipBool", "set", "", kustomer.Attributes{"vipBool": false}, true},
		{"companyStr", "eq", "Acme", kustomer.Attributes{"companyStr": "Acme"}, true},
		{"companyStr", "eq", "Acme", kustomer.Attributes{"companyStr": "acme"}, false},
		{"companyStr", "ne", "Acme", kustomer.Attributes{"companyStr": "Initech"}, true},
		{"companyStr", "eq", "Acme", nil, false},
		{"companyStr", "ne", "Acme", nil, true},
		{"teamSizeNum", "eq", "30", kustomer.Attributes{"teamSizeNum": 30.0}, true},
		{"teamSizeNum", "eq", "30", kustomer.Attributes{"teamSizeNum": 30}, true},
		{"teamSizeNum", "eq", "30", kustomer.Attributes{"teamSizeNum": json.Number("30")}, true},
		{"teamSizeNum", "gt", "50", kustomer.Attributes{"teamSizeNum": 100.0}, true},
		{"teamSizeNum", "gt", "50", kustomer.Attributes{"teamSizeNum": 50.0}, false},
		{"teamSizeNum", "lt", "50", kustomer.Attributes{"teamSizeNum": 5.0}, true},
		{"teamSizeNum", "lt", "50", kustomer.Attributes{"teamSizeNum": 50.0}, false},
		{"teamSizeNum", "lt", "50", nil, false},
		{"teamSizeNum", "gt", "50", kustomer.Attributes{"teamSizeNum": "lots"}, false},
		{"teamSizeNum", "ne", "50", kustomer.Attributes{"teamSizeNum": "lots"}, true},
		{"vipBool", "eq", "true", kustomer.Attributes{"vipBool": true}, true},
		{"vipBool", "eq", "yes", kustomer.Attributes{"vipBool": false}, false},
		{"vipBool", "ne", "true", kustomer.Attributes{"vipBool": false}, true},
		{"renewalAt", "gt", "2026-06-01T00:00:00Z", kustomer.Attributes{"renewalAt": "2026-07-01T07:30:00.000Z"}, true},
		{"renewalAt", "lt", "2026-06-01T02:00:00+02:00", kustomer.Attributes{"renewalAt": "2026-05-31T23:59:00.000Z"}, true},
		{"renewalAt", "eq", "2026-06-01T02:00:00+02:00", kustomer.Attributes{"renewalAt": "2026-06-01T00:00:00.000Z"}, true},
		{"siteUrl", "eq", "https://acme.example", kustomer.Attributes{"siteUrl": "https://acme.example"}, true},
	}
	for _, tt := range tests {
		name := tt.attr + " " + tt.op + " " + tt.value
		t.Run(name, func(t *testing.T) {
			value := ""
			if tt.value != "" {
				value = `, value: "` + tt.value + `"`
			}
			a := parseOne(t, `
- id: t
  steps:
    - {id: c, type: condition, attribute: `+tt.attr+`, op: `+tt.op+value+`, then: yes, else: no}
    - {id: "yes", type: end, text: then}
    - {id: "no", type: end, text: else}`)
			res := a.Begin(fallback, tt.attrs, "", wednesdayMorningNY)
			want := "else"
			if tt.want {
				want = "then"
			}
			if got := texts(res.Say); !slices.Equal(got, []string{want}) {
				t.Errorf("with %v went to %q, want %q", tt.attrs, got, want)
			}
		})
	}
}

func TestBusinessHours(t *testing.T) {
	a := parseOne(t, `
- id: t
  schedule:
    timeZone: Europe/Berlin
    weekly:
      Monday: ["09:00-12:00", "13:00-17:00"]
      tue: ["09:00-17:00"]
      wed: ["09:00-17:00"]
      thu: ["09:00-17:00"]
      fri: ["09:00-24:00"]
      sat: ["10:00-12:00"]
    holidays: ["2026-05-01"]
  steps:
    - {id: h, type: hours, open: o, closed: c}
    - {id: o, type: end, text: open}
    - {id: c, type: end, text: closed}`)
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"Monday 09:30 Berlin (CET, UTC+1)", time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), true},
		{"Monday 08:59 Berlin", time.Date(2026, 3, 2, 7, 59, 0, 0, time.UTC), false},
		{"Monday 12:30 Berlin: lunch break", time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC), false},
		{"Monday 17:00 Berlin: the end is exclusive", time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC), false},
		{"Monday 16:59 Berlin", time.Date(2026, 3, 2, 15, 59, 0, 0, time.UTC), true},
		{"Monday 09:30 Berlin in summer time (UTC+2)", time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC), true},
		{"Monday 08:30 Berlin in summer time", time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC), false},
		{"Monday 00:30 in Los Angeles is 09:30 in Berlin", time.Date(2026, 3, 2, 0, 30, 0, 0, la), true},
		{"Monday 17:30 in Tokyo is 09:30 in Berlin", time.Date(2026, 3, 2, 17, 30, 0, 0, tokyo), true},
		{"Monday 09:30 in Tokyo is Monday 01:30 in Berlin", time.Date(2026, 3, 2, 9, 30, 0, 0, tokyo), false},
		{"Sunday noon Berlin", time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), false},
		{"Friday 23:30 Berlin: open until midnight", time.Date(2026, 3, 6, 22, 30, 0, 0, time.UTC), true},
		{"Friday 23:30 UTC is Saturday 00:30 Berlin", time.Date(2026, 3, 6, 23, 30, 0, 0, time.UTC), false},
		{"Saturday 10:30 Berlin", time.Date(2026, 3, 7, 9, 30, 0, 0, time.UTC), true},
		{"holiday: Friday 1 May 10:00 Berlin", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), false},
		{"Thursday 30 April 10:00 Berlin", time.Date(2026, 4, 30, 8, 0, 0, 0, time.UTC), true},
		{"holiday: Friday 1 May 23:30 Berlin", time.Date(2026, 5, 1, 21, 30, 0, 0, time.UTC), false},
		{"Saturday 2 May 10:30 Berlin, after the holiday", time.Date(2026, 5, 2, 8, 30, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := "closed"
			if tt.want {
				want = "open"
			}
			if got := texts(a.Begin(fallback, nil, "", tt.now).Say); !slices.Equal(got, []string{want}) {
				t.Errorf("at %v: %q, want %q", tt.now, got, want)
			}
			if got := a.Schedule.Open(tt.now); got != tt.want {
				t.Errorf("Schedule.Open(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

// TestTextsInTheConversationsLanguage: texts written per language are said
// in the conversation's language (a regional tag finds its base language),
// else in the fallback; a label typed in either chooses its option.
func TestTextsInTheConversationsLanguage(t *testing.T) {
	a := parseOne(t, `
- id: t
  steps:
    - {id: hi, type: message, text: {en: Hello, es: Hola}, next: plan}
    - id: plan
      type: buttons
      text: {en: "Which plan?", es: "¿Qué plan?"}
      options:
        - {label: {en: Monthly, es: Mensual}, payload: m, next: read}
        - {label: {en: Yearly, es: Anual}, payload: y, next: read}
    - id: read
      type: deflection
      text: {en: Read this, es: Lee esto}
      articles: [{id: p, title: {en: Pricing, es: Precios}, url: /pricing}]
      helpedLabel: {en: Solved, es: Resuelto}
      notHelpedLabel: {en: Not solved, es: Sin resolver}
      helped: bye
      notHelped: bye
    - {id: bye, type: end, text: {en: Bye, es: Adiós}}`)
	spanish := []string{"Hola", "¿Qué plan?"}
	english := []string{"Hello", "Which plan?"}
	for _, tt := range []struct {
		lang    string
		say     []string
		buttons []string
	}{
		{"es", spanish, []string{"Mensual", "Anual"}},
		{"es-MX", spanish, []string{"Mensual", "Anual"}},
		{"de", english, []string{"Monthly", "Yearly"}},
		{"", english, []string{"Monthly", "Yearly"}},
	} {
		loc := assistant.Locale{Lang: tt.lang}
		res := a.Begin(loc, nil, "hi", wednesdayMorningNY)
		if got := texts(res.Say); !slices.Equal(got, tt.say) {
			t.Errorf("%q: said %q, want %q", tt.lang, got, tt.say)
		}
		var labels []string
		for _, b := range res.Say[len(res.Say)-1].Buttons {
			labels = append(labels, b.Label)
		}
		if !slices.Equal(labels, tt.buttons) {
			t.Errorf("%q: buttons %q, want %q", tt.lang, labels, tt.buttons)
		}
		if p, _ := a.Pending(loc, res.State); !reflect.DeepEqual(p, res.Say[len(res.Say)-1]) {
			t.Errorf("%q: Pending %+v, want the question as said", tt.lang, p)
		}
	}

	es := assistant.Locale{Lang: "es"}
	st := a.Begin(es, nil, "hi", wednesdayMorningNY).State
	for _, typed := range []string{" anual ", "Yearly"} {
		res, err := a.Reply(es, st, nil, assistant.Input{Text: typed}, wednesdayMorningNY)
		if err != nil {
			t.Fatal(err)
		}
		if res.State.Step != "read" {
			t.Fatalf("typed %q: at %q, want the yearly plan chosen", typed, res.State.Step)
		}
		d := res.Say[0]
		wantButtons := []assistant.Button{{Label: "Resuelto", Payload: assistant.PayloadHelped}, {Label: "Sin resolver", Payload: assistant.PayloadNotHelped}}
		if d.Text != "Lee esto" || len(d.Articles) != 1 || d.Articles[0].Title != "Precios" || !reflect.DeepEqual(d.Buttons, wantButtons) {
			t.Errorf("deflection in Spanish: %+v", d)
		}
	}
	res, err := a.Reply(es, st, nil, assistant.Input{Payload: "y"}, wednesdayMorningNY)
	if err != nil {
		t.Fatal(err)
	}
	st = res.State
	for _, tt := range []struct {
		typed   string
		outcome assistant.Outcome
	}{
		{"resuelto", assistant.OutcomeHelped},
		{"Solved", assistant.OutcomeHelped},
		{"Sin resolver", assistant.OutcomeEnded},
	} {
		res, err := a.Reply(es, st, nil, assistant.Input{Text: tt.typed}, wednesdayMorningNY)
		if err != nil {
			t.Fatal(err)
		}
		if res.State.Outcome != tt.outcome || !slices.Equal(texts(res.Say), []string{"Adiós"}) {
			t.Errorf("typed %q: outcome %q, said %q; want %q and Adiós", tt.typed, res.State.Outcome, texts(res.Say), tt.outcome)
		}
		if res.LastDeflection == nil || res.LastDeflection.Articles[0].Title != "Precios" || res.LastDeflection.Articles[0].Lang != "es" ||
			res.LastDeflection.Articles[0].Version != 1 {
			t.Errorf("typed %q: lastDeflection %+v, want the Spanish title, lang es, version 1", tt.typed, res.LastDeflection)
		}
	}
}
