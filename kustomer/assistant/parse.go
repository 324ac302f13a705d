package assistant

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/handoff/handoff/kustomer"
)

// ParseError lists every problem Parse found, each naming the assistant and
// the step it concerns.
type ParseError struct {
	Problems []string
}

// Error lists the problems one per line.
func (e *ParseError) Error() string {
	return "invalid assistants:\n  " + strings.Join(e.Problems, "\n  ")
}

// idRE is the shape of assistant and step ids: they travel in payloads, URLs
// and form fields. Assistant ids match what kustomer accepts as assistantId.
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Parse checks assistant definitions against the conversation attribute
// definitions and the skills (skills reports whether a skill id exists; nil
// accepts none) and returns the assistants by id, ready to run. Every problem
// is reported in one *ParseError. The definitions in list are copied, never
// modified.
func Parse(list []Assistant, convAttrs kustomer.AttributeDefs, skills func(id string) bool) (map[string]*Assistant, error) {
	if skills == nil {
		skills = func(string) bool { return false }
	}
	var problems []string
	out := make(map[string]*Assistant, len(list))
	for i := range list {
		a := cloneAssistant(&list[i])
		where := fmt.Sprintf("assistants[%d]", i)
		if !idRE.MatchString(a.ID) {
			problems = append(problems, fmt.Sprintf("%s: id %q must be 1 to 64 letters, digits, dashes or underscores", where, a.ID))
		} else {
			where = fmt.Sprintf("assistant %q", a.ID)
		}
		if _, dup := out[a.ID]; dup {
			problems = append(problems, where+": defined twice")
		} else {
			out[a.ID] = a
		}
		for _, p := range a.check(convAttrs, skills) {
			problems = append(problems, where+": "+p)
		}
	}
	if len(problems) > 0 {
		return nil, &ParseError{Problems: problems}
	}
	return out, nil
}

// cloneAssistant deep-copies a definition so Parse never shares or changes
// the caller's slices and maps.
func cloneAssistant(src *Assistant) *Assistant {
	a := *src
	a.steps = nil
	if src.Schedule != nil {
		s := *src.Schedule
		s.Weekly = make(map[string][]string, len(src.Schedule.Weekly))
		for k, v := range src.Schedule.Weekly {
			s.Weekly[k] = slices.Clone(v)
		}
		s.Holidays = slices.Clone(src.Schedule.Holidays)
		a.Schedule = &s
	}
	a.Steps = slices.Clone(src.Steps)
	for i := range a.Steps {
		st := &a.Steps[i]
		st.Articles = slices.Clone(st.Articles)
		st.Options = slices.Clone(st.Options)
		for j := range st.Options {
			st.Options[j].Set = maps.Clone(st.Options[j].Set)
		}
	}
	return &a
}

// edge is a reference from one step to another, named by the field that
// holds it.
type edge struct{ field, to string }

// edges lists every step a step may lead to (empty references included).
func (s *Step) edges() []edge {
	var es []edge
	add := func(field, to string) { es = append(es, edge{field, to}) }
	switch s.Type {
	case StepMessage, StepText, StepAttribute:
		add("next", s.Next)
	case StepButtons:
		for i, o := range s.Options {
			if o.Next != "" {
				add(fmt.Sprintf("options[%d].next", i), o.Next)
			} else {
				add(fmt.Sprintf("options[%d].next", i), s.Next)
			}
		}
	case StepDeflection:
		add("helped", s.Helped)
		add("notHelped", s.NotHelped)
	case StepCondition:
		add("then", s.Then)
		add("else", s.Else)
	case StepHours:
		add("open", s.Open)
		add("closed", s.Closed)
	}
	if s.Failed != "" {
		add("failed", s.Failed)
	}
	return es
}

// autoEdges lists the steps a step may pass to without waiting for the
// customer: a loop of these would spin forever.
func (s *Step) autoEdges() []string {
	switch s.Type {
	case StepMessage:
		return []string{s.Next}
	case StepCondition:
		return []string{s.Then, s.Else}
	case StepHours:
		return []string{s.Open, s.Closed}
	case StepText, StepAttribute:
		if s.SkipIfSet {
			return []string{s.Next}
		}
	}
	return nil
}

// usedFields says which optional fields each step type reads.
var usedFields = map[StepType][]string{
	StepMessage:    {"text", "next"},
	StepText:       {"text", "next", "attribute", "skipIfSet", "maxAttempts", "failed"},
	StepButtons:    {"text", "next", "options", "maxAttempts", "failed"},
	StepAttribute:  {"text", "next", "attribute", "skipIfSet", "inputType", "maxAttempts", "failed"},
	StepDeflection: {"text", "articles", "helped", "notHelped", "helpedLabel", "notHelpedLabel"},
	StepCondition:  {"attribute", "op", "value", "then", "else"},
	StepHours:      {"open", "closed"},
	StepTransfer:   {"text", "skill"},
	StepEnd:        {"text"},
}

// setFields lists the fields of s that hold a value, in declaration order.
func (s *Step) setFields() []string {
	var fs []string
	add := func(name string, set bool) {
		if set {
			fs = append(fs, name)
		}
	}
	add("text", s.Text.String() != "")
	add("next", s.Next != "")
	add("attribute", s.Attribute != "")
	add("skipIfSet", s.SkipIfSet)
	add("inputType", s.InputType != "")
	add("maxAttempts", s.MaxAttempts != 0)
	add("failed", s.Failed != "")
	add("options", len(s.Options) > 0)
	add("articles", len(s.Articles) > 0)
	add("helped", s.Helped != "")
	add("notHelped", s.NotHelped != "")
	add("helpedLabel", s.HelpedLabel.String() != "")
	add("notHelpedLabel", s.NotHelpedLabel.String() != "")
	add("op", s.Op != "")
	add("value", s.Value != "")
	add("then", s.Then != "")
	add("else", s.Else != "")
	add("open", s.Open != "")
	add("closed", s.Closed != "")
	add("skill", s.Skill != "")
	return fs
}

// check validates a cloned assistant, fills in defaults and builds its step
// index. It returns every problem found.
func (a *Assistant) check(defs kustomer.AttributeDefs, skills func(string) bool) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if a.Name == "" {
		a.Name = a.ID
	}
	if a.PublicName == "" {
		a.PublicName = a.Name
	}
	if a.AvatarURL != "" && !validLink(a.AvatarURL) {
		bad("avatarUrl %q must be an http(s) URL or a path starting with /", a.AvatarURL)
	}
	if a.Schedule != nil {
		for _, p := range a.Schedule.Compile() {
			bad("schedule: %s", p)
		}
	}
	if len(a.Steps) == 0 {
		bad("no steps")
		return problems
	}

	a.steps = make(map[string]*Step, len(a.Steps))
	for i := range a.Steps {
		s := &a.Steps[i]
		if !idRE.MatchString(s.ID) {
			bad("steps[%d]: id %q must be 1 to 64 letters, digits, dashes or underscores", i, s.ID)
			continue
		}
		if _, dup := a.steps[s.ID]; dup {
			bad("step %q: defined twice", s.ID)
			continue
		}
		a.steps[s.ID] = s
	}
	if a.Start == "" {
		a.Start = a.Steps[0].ID
	}
	if _, ok := a.steps[a.Start]; !ok {
		bad("start %q is not a step", a.Start)
	}

	for i := range a.Steps {
		s := &a.Steps[i]
		where := fmt.Sprintf("step %q", s.ID)
		if !idRE.MatchString(s.ID) {
			where = fmt.Sprintf("steps[%d]", i)
		}
		for _, p := range a.checkStep(s, defs, skills) {
			bad("%s: %s", where, p)
		}
	}

	// Reachability: every step must be reachable from start.
	if _, ok := a.steps[a.Start]; ok {
		seen := map[string]bool{a.Start: true}
		queue := []string{a.Start}
		for len(queue) > 0 {
			s := a.steps[queue[0]]
			queue = queue[1:]
			for _, e := range s.edges() {
				if _, ok := a.steps[e.to]; ok && !seen[e.to] {
					seen[e.to] = true
					queue = append(queue, e.to)
				}
			}
		}
		for _, s := range a.Steps {
			if _, ok := a.steps[s.ID]; ok && !seen[s.ID] {
				seen[s.ID] = true // report a duplicated id once
				bad("step %q: not reachable from start %q", s.ID, a.Start)
			}
		}
	}

	for _, loop := range a.autoLoops() {
		quoted := make([]string, len(loop))
		for i, id := range loop {
			quoted[i] = fmt.Sprintf("%q", id)
		}
		bad("steps %s loop without waiting for the customer: add a question to the loop", strings.Join(quoted, ", "))
	}
	return problems
}

// checkStep validates one step and normalises its attribute references.
func (a *Assistant) checkStep(s *Step, defs kustomer.AttributeDefs, skills func(string) bool) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad("%s is required", field)
		}
	}
	// attribute resolves s.Attribute; ok is false when it is not defined.
	attribute := func() bool {
		if s.Attribute == "" {
			bad("attribute is required")
			return false
		}
		def, ok := defs[s.Attribute]
		if !ok {
			bad("attribute %q is not defined under attributes.conversation", s.Attribute)
			return false
		}
		s.attr = def
		return true
	}

	used, known := usedFields[s.Type]
	switch {
	case s.Type == "":
		bad("type is required (message, text, buttons, attribute, deflection, condition, hours, transfer or end)")
		return problems
	case !known:
		bad("unknown type %q (message, text, buttons, attribute, deflection, condition, hours, transfer or end)", s.Type)
		return problems
	}
	for _, f := range s.setFields() {
		if !slices.Contains(used, f) {
			bad("%s is not used by %s %s step", f, aOrAn(string(s.Type)), s.Type)
		}
	}
	for _, l := range languages(s.Text) {
		t := s.Text.In(l)
		if l != "" && t == s.Text.String() {
			continue // the fallback, checked first
		}
		if n := utf8.RuneCountInString(t); n > kustomer.MaxBodyLen {
			bad("text%s must be at most %d characters (it has %d)", inLanguage(l), kustomer.MaxBodyLen, n)
		}
	}

	switch s.Type {
	case StepMessage:
		need("text", s.Text.String())
		need("next", s.Next)
	case StepText:
		need("text", s.Text.String())
		need("next", s.Next)
		if s.Attribute != "" && attribute() && s.attr.Type != kustomer.TypeStr && s.attr.Type != kustomer.TypeTxt {
			bad("a text question can only fill a Str or Txt attribute (%q is %s): use an attribute question", s.Attribute, s.attr.Type)
		}
		if s.SkipIfSet && s.Attribute == "" {
			bad("skipIfSet needs an attribute")
		}
	case StepAttribute:
		need("next", s.Next)
		if attribute() {
			switch s.InputType {
			case "":
			case InputEmail:
				if s.attr.Type != kustomer.TypeStr {
					bad("inputType email needs a Str attribute (%q is %s)", s.Attribute, s.attr.Type)
				}
			default:
				bad("inputType %q: only email may be set (the others follow the attribute's type)", s.InputType)
			}
		}
	case StepButtons:
		need("text", s.Text.String())
		if len(s.Options) == 0 {
			bad("options: a button question needs at least one option")
		}
		payloads := map[string]bool{}
		for i := range s.Options {
			o := &s.Options[i]
			where := fmt.Sprintf("options[%d]", i)
			need(where+": label", o.Label.String())
			switch {
			case o.Payload == "":
				bad("%s: payload is required", where)
			case payloads[o.Payload]:
				bad("%s: payload %q is used twice", where, o.Payload)
			case len(o.Payload) > kustomer.MaxPayloadBytes/2:
				bad("%s: payload must be at most %d bytes", where, kustomer.MaxPayloadBytes/2)
			}
			payloads[o.Payload] = true
			if o.Next == "" && s.Next == "" {
				bad("%s: next is required (on the option or the step)", where)
			}
			o.set = make(kustomer.Attributes, len(o.Set))
			for _, name := range slices.Sorted(maps.Keys(o.Set)) {
				def, ok := defs[name]
				if !ok {
					bad("%s: set: attribute %q is not defined under attributes.conversation", where, name)
					continue
				}
				v, err := def.ParseString(o.Set[name])
				if err != nil {
					bad("%s: set: %s %q %v", where, name, o.Set[name], err)
					continue
				}
				o.set[name] = v
			}
		}
		for _, p := range duplicateLabels(s.Options) {
			bad("%s", p)
		}
	case StepDeflection:
		need("text", s.Text.String())
		need("helped", s.Helped)
		need("notHelped", s.NotHelped)
		if len(s.Articles) == 0 {
			bad("articles: a deflection needs at least one article")
		}
		ids := map[string]bool{}
		for i := range s.Articles {
			ar := &s.Articles[i]
			where := fmt.Sprintf("articles[%d]", i)
			need(where+": title", ar.Title.String())
			if ar.URL == "" {
				bad("%s: url is required", where)
			} else if !validLink(ar.URL) {
				bad("%s: url %q must be an http(s) URL or a path starting with /", where, ar.URL)
			}
			if ar.ID == "" {
				ar.ID = ar.URL
			}
			if ids[ar.ID] {
				bad("%s: id %q is used twice", where, ar.ID)
			}
			ids[ar.ID] = true
		}
		if l, ok := sameAnswers(s); ok {
			bad("helpedLabel and notHelpedLabel must differ%s", inLanguage(l))
		}
	case StepCondition:
		need("then", s.Then)
		need("else", s.Else)
		ok := attribute()
		switch s.Op {
		case "":
			bad("op is required (set, unset, eq, ne, gt or lt)")
		case OpSet, OpUnset:
			if s.Value != "" {
				bad("op %s takes no value", s.Op)
			}
		case OpEq, OpNe, OpGt, OpLt:
			if !ok {
				break
			}
			if (s.Op == OpGt || s.Op == OpLt) && s.attr.Type != kustomer.TypeNum && s.attr.Type != kustomer.TypeAt {
				bad("op %s compares Num and At attributes only (%q is %s)", s.Op, s.Attribute, s.attr.Type)
				break
			}
			v, err := s.attr.ParseString(s.Value)
			switch {
			case err != nil:
				bad("value %q for %s %v", s.Value, s.Attribute, err)
			case v == nil:
				bad("op %s needs a value (use set or unset to test for presence)", s.Op)
			default:
				s.value = v
			}
		default:
			bad("unknown op %q (set, unset, eq, ne, gt or lt)", s.Op)
		}
	case StepHours:
		need("open", s.Open)
		need("closed", s.Closed)
		if a.Schedule == nil {
			bad("an hours step needs the assistant's schedule")
		}
	case StepTransfer:
		if s.Skill != "" && !skills(s.Skill) {
			bad("skill %q is not defined under skills", s.Skill)
		}
	case StepEnd:
	}

	if s.Type.isQuestion() && s.Type != StepDeflection {
		switch {
		case s.MaxAttempts < 0:
			bad("maxAttempts must not be negative")
		case s.MaxAttempts > 0 && s.Failed == "":
			bad("maxAttempts needs failed, the step after the last bad answer")
		case s.MaxAttempts == 0 && s.Failed != "":
			bad("failed needs maxAttempts")
		}
	}

	for _, e := range s.edges() {
		if e.to == "" {
			continue
		}
		if _, ok := a.steps[e.to]; !ok {
			bad("%s %q is not a step", e.field, e.to)
		}
	}
	return problems
}

// autoLoops finds the loops of steps that pass control on without waiting
// for the customer (strongly connected components of the automatic edges),
// each listed in definition order.
func (a *Assistant) autoLoops() [][]string {
	order := map[string]int{}
	for i, s := range a.Steps {
		if _, ok := order[s.ID]; !ok {
			order[s.ID] = i
		}
	}
	succ := func(id string) []string {
		var out []string
		for _, to := range a.steps[id].autoEdges() {
			if _, ok := a.steps[to]; ok {
				out = append(out, to)
			}
		}
		return out
	}
	// Tarjan's algorithm; assistants are small, so recursion is fine.
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var loops [][]string
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range succ(v) {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || slices.Contains(succ(v), v) {
			slices.SortFunc(comp, func(x, y string) int { return order[x] - order[y] })
			loops = append(loops, comp)
		}
	}
	for _, s := range a.Steps {
		if _, ok := a.steps[s.ID]; ok {
			if _, seen := index[s.ID]; !seen {
				visit(s.ID)
			}
		}
	}
	slices.SortFunc(loops, func(x, y []string) int { return order[x[0]] - order[y[0]] })
	return loops
}

// languages lists the languages texts are written in, sorted, after "" for
// the fallback texts.
func languages(texts ...kustomer.Text) []string {
	set := map[string]bool{}
	for _, t := range texts {
		for _, l := range t.Languages() {
			set[l] = true
		}
	}
	return append([]string{""}, slices.Sorted(maps.Keys(set))...)
}

// inLanguage names language l in a problem: nothing for the fallback.
func inLanguage(l string) string {
	if l == "" {
		return ""
	}
	return " in " + l
}

// sameLabel reports whether two labels read the same to a customer.
func sameLabel(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// duplicateLabels reports the options whose label repeats an earlier one's
// in some language (each option once): a typed label must choose one
// option.
func duplicateLabels(opts []ButtonOption) []string {
	labels := make([]kustomer.Text, len(opts))
	for i, o := range opts {
		labels[i] = o.Label
	}
	var problems []string
	reported := map[int]bool{}
	for _, l := range languages(labels...) {
		for i := range opts {
			li := opts[i].Label.In(l)
			if reported[i] || strings.TrimSpace(li) == "" {
				continue
			}
			for j := range i {
				if sameLabel(li, opts[j].Label.In(l)) {
					problems = append(problems, fmt.Sprintf("options[%d]: label %q is used twice%s", i, li, inLanguage(l)))
					reported[i] = true
					break
				}
			}
		}
	}
	return problems
}

// sameAnswers reports the first language in which a deflection's two
// answers read the same. An unset label is the built-in one, known here
// only in English, the fallback.
func sameAnswers(s *Step) (lang string, same bool) {
	for _, l := range languages(s.HelpedLabel, s.NotHelpedLabel) {
		h, n := s.HelpedLabel.In(l), s.NotHelpedLabel.In(l)
		if l == "" {
			h, n = cmp.Or(h, english["helped"]), cmp.Or(n, english["not_helped"])
		}
		if h != "" && n != "" && sameLabel(h, n) {
			return l, true
		}
	}
	return "", false
}

// validLink reports whether s is an absolute http(s) URL or a root-relative
// path.
func validLink(s string) bool {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		_, err := url.Parse(s)
		return err == nil
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// aOrAn is the indefinite article for word.
func aOrAn(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
