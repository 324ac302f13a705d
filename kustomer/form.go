package kustomer

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldType is the HTML input a form field renders as.
type FieldType string

// The supported field types.
const (
	FieldText     FieldType = "text"
	FieldEmail    FieldType = "email"
	FieldTextarea FieldType = "textarea"
	FieldSelect   FieldType = "select"
	FieldNumber   FieldType = "number"
	FieldCheckbox FieldType = "checkbox"
	FieldURL      FieldType = "url"
	FieldTel      FieldType = "tel"
)

// FieldRole says where a field's value goes when it is not an attribute.
type FieldRole string

// The roles a field can play.
const (
	RoleName    FieldRole = "name"    // the customer's name
	RoleEmail   FieldRole = "email"   // the customer's email
	RoleMessage FieldRole = "message" // the conversation's first message
)

// Option is one choice of a select field.
type Option struct {
	Value string `yaml:"value"`
	Label Text   `yaml:"label"`
}

// Field is one input of a form. It either plays a Role or fills an Attribute.
type Field struct {
	Name        string    `yaml:"name"`
	Label       Text      `yaml:"label"`
	Type        FieldType `yaml:"type"`
	Required    bool      `yaml:"required"`
	Placeholder Text      `yaml:"placeholder"`
	Help        Text      `yaml:"help"`
	MaxLength   int       `yaml:"maxLength"`
	Options     []Option  `yaml:"options"`
	Role        FieldRole `yaml:"role"`
	Attribute   string    `yaml:"attribute"`

	attr AttributeDef
}

// Form is a contact form whose submission becomes a conversation.
type Form struct {
	ID          string `yaml:"id"`
	Title       Text   `yaml:"title"`
	Intro       Text   `yaml:"intro"`
	SubmitLabel Text   `yaml:"submitLabel"`
	AssistantID string `yaml:"assistantId"`
	// AllowAssistantOverride lets API clients choose the assistant of a
	// conversation (createConversation's assistantId).
	AllowAssistantOverride bool `yaml:"allowAssistantOverride"`
	// AllowCustomerEnd lets customers end the conversations the form
	// starts (the SDK's endConversation); otherwise only agents do.
	AllowCustomerEnd bool `yaml:"allowCustomerEnd"`
	// AutoAssign gives the form's conversations, once they wait for an
	// agent in the general queue, to online agents (Engine.AutoAssign).
	AutoAssign bool `yaml:"autoAssign"`
	// AllowedOrigins are the origins that may frame the form and its chats,
	// as ParseOrigin normalizes them. Operators may replace the list at run
	// time: Engine.FormOrigins is the list in effect.
	AllowedOrigins []string `yaml:"allowedOrigins"`
	// Language is the language of the form's pages and of the chats it
	// starts: LanguageAuto (or empty) follows each visitor's browser, a
	// tag ("es") fixes it. A ?lang= on the page overrides both.
	Language string `yaml:"language"`
	// TTRTarget is how soon an agent should answer a waiting customer;
	// the form's pages promise it while Hours are open.
	TTRTarget time.Duration `yaml:"ttrTarget"`
	// Hours are when the form's team answers; outside them its pages say
	// when they are back. Unset: always.
	Hours *Schedule `yaml:"hours"`
	// Limits override the server's abuse limits for this form; unset
	// values keep the server's.
	Limits Limits   `yaml:"limits"`
	Fields []*Field `yaml:"fields"`
}

// LanguageAuto is the form language that follows the visitor's browser.
const LanguageAuto = "auto"

// DefaultTTRTarget is the time-to-respond target of forms that set none.
const DefaultTTRTarget = 5 * time.Minute

// Submission is a validated form submission, ready for CreateConversation.
type Submission struct {
	Name       string
	Email      string
	Message    string
	Attributes Attributes
}

// Defaults for field lengths when the form does not set maxLength.
const (
	defaultTextLen = 200
	maxEmailLen    = 254
)

// check validates the form definition and fills in defaults.
func (f *Form) check(attrs AttributeDefs) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if f.Title.String() == "" {
		f.Title = NewText(f.ID)
	}
	// An empty submitLabel is the page's "Start chat" in its language.
	if f.Language != "" && f.Language != LanguageAuto {
		if tag, ok := normalizeLang(f.Language); !ok {
			bad("language %q: want auto or a language tag such as es", f.Language)
		} else {
			f.Language = tag
		}
	}
	switch {
	case f.TTRTarget == 0:
		f.TTRTarget = DefaultTTRTarget
	case f.TTRTarget < time.Second:
		bad("ttrTarget %v: use a duration like 5m", f.TTRTarget)
	}
	if f.Hours != nil {
		for _, p := range f.Hours.Compile() {
			bad("hours: %s", p)
		}
	}
	for _, p := range f.Limits.Check() {
		bad("limits: %s", p)
	}
	origins := make([]string, 0, len(f.AllowedOrigins))
	for _, o := range f.AllowedOrigins {
		n, err := ParseOrigin(o)
		if err != nil {
			bad("allowedOrigins: %v", err)
			continue
		}
		origins = append(origins, n)
	}
	if origins, err := parseOrigins(origins); err != nil {
		bad("allowedOrigins: %v", err)
	} else {
		f.AllowedOrigins = origins
	}
	seen := map[string]bool{}
	roles := map[FieldRole]int{}
	for i, fl := range f.Fields {
		if fl == nil {
			bad("fields[%d]: empty field", i)
			continue
		}
		where := fmt.Sprintf("field %q", fl.Name)
		if !fieldNameRE.MatchString(fl.Name) {
			bad("fields[%d]: name %q must start with a letter and hold only letters, digits and _", i, fl.Name)
		}
		if seen[fl.Name] {
			bad("%s: defined twice", where)
		}
		seen[fl.Name] = true
		if fl.Label.String() == "" {
			fl.Label = NewText(fl.Name)
		}
		if fl.Type == "" {
			fl.Type = FieldText
		}
		switch fl.Type {
		case FieldText, FieldEmail, FieldTextarea, FieldSelect, FieldNumber, FieldCheckbox, FieldURL, FieldTel:
		default:
			bad("%s: unknown type %q", where, fl.Type)
		}
		if fl.Type == FieldSelect && len(fl.Options) == 0 {
			bad("%s: a select needs options", where)
		}
		for j := range fl.Options {
			if fl.Options[j].Label.String() == "" {
				fl.Options[j].Label = NewText(fl.Options[j].Value)
			}
		}
		switch {
		case fl.Role != "" && fl.Attribute != "":
			bad("%s: set either role or attribute, not both", where)
		case fl.Role != "":
			roles[fl.Role]++
			switch fl.Role {
			case RoleName:
			case RoleEmail:
				if fl.Type != FieldEmail {
					bad("%s: the email role needs type email", where)
				}
			case RoleMessage:
				if fl.Type != FieldTextarea && fl.Type != FieldText {
					bad("%s: the message role needs type textarea or text", where)
				}
				fl.Required = true
				if fl.MaxLength == 0 || fl.MaxLength > MaxBodyLen {
					fl.MaxLength = MaxBodyLen
				}
			default:
				bad("%s: unknown role %q (name, email or message)", where, fl.Role)
			}
		case fl.Attribute != "":
			def, ok := attrs[fl.Attribute]
			if !ok {
				bad("%s: attribute %q is not defined under attributes.conversation", where, fl.Attribute)
				break
			}
			fl.attr = def
			if def.Type == TypeBool && fl.Type != FieldCheckbox && fl.Type != FieldSelect {
				bad("%s: a Bool attribute needs a checkbox or select", where)
			}
			if fl.Type == FieldCheckbox && def.Type != TypeBool {
				bad("%s: a checkbox can only fill a Bool attribute", where)
			}
			if def.Type == TypeNum && fl.Type != FieldNumber && fl.Type != FieldSelect {
				bad("%s: a Num attribute needs a number or select field", where)
			}
			if def.Type == TypeStr && (fl.MaxLength == 0 || fl.MaxLength > MaxStrLen) {
				fl.MaxLength = min(MaxStrLen, max(fl.MaxLength, defaultTextLen))
			}
			for _, o := range fl.Options {
				if _, err := def.ParseString(o.Value); err != nil {
					bad("%s: option %q: %v", where, o.Value, err)
				}
			}
		default:
			bad("%s: set a role (name, email, message) or an attribute", where)
		}
		if fl.MaxLength == 0 {
			switch fl.Type {
			case FieldTextarea:
				fl.MaxLength = MaxTxtLen
			case FieldEmail:
				fl.MaxLength = maxEmailLen
			default:
				fl.MaxLength = defaultTextLen
			}
		}
	}
	if roles[RoleMessage] != 1 {
		bad("exactly one field must have role message (found %d)", roles[RoleMessage])
	}
	if roles[RoleName] > 1 || roles[RoleEmail] > 1 {
		bad("at most one field may have role name and one role email")
	}
	return problems
}

// Parse validates submitted values against the form. Problems are reported
// per field name in one *ValidationError.
func (f *Form) Parse(values url.Values) (Submission, error) {
	sub := Submission{Attributes: Attributes{}}
	verr := &ValidationError{}
	for _, fl := range f.Fields {
		raw := values.Get(fl.Name)
		if len(values[fl.Name]) > 1 {
			verr.AddProblem(fl.Name, "duplicate", nil, "This field was sent more than once.")
			continue
		}
		if !utf8.ValidString(raw) {
			verr.AddProblem(fl.Name, "invalid_text", nil, "This is not valid text.")
			continue
		}
		raw = strings.ReplaceAll(raw, "\r\n", "\n")
		v := raw
		if fl.Type != FieldTextarea {
			v = strings.TrimSpace(raw)
		}
		if fl.Type == FieldCheckbox {
			// An unchecked box sends nothing: false, unless it must be
			// checked (then it is reported as required below).
			if v == "" && !fl.Required {
				v = "false"
			} else if v == "on" {
				v = "true"
			}
		}
		if strings.TrimSpace(v) == "" {
			if fl.Required {
				verr.AddProblem(fl.Name, "required", nil, "This field is required.")
			}
			continue
		}
		if n := utf8.RuneCountInString(v); fl.MaxLength > 0 && n > fl.MaxLength {
			verr.AddProblem(fl.Name, "too_long", map[string]int{"max": fl.MaxLength, "length": n},
				fmt.Sprintf("Must be at most %d characters (it has %d).", fl.MaxLength, n))
			continue
		}
		if fl.Type == FieldSelect && !fl.hasOption(v) {
			verr.AddProblem(fl.Name, "not_an_option", nil, "Choose one of the listed options.")
			continue
		}
		if fl.Type == FieldEmail {
			if code, msg := checkEmail(v); msg != "" {
				verr.AddProblem(fl.Name, code, emailParams(code), msg)
				continue
			}
		}
		switch fl.Role {
		case RoleName:
			sub.Name = v
		case RoleEmail:
			sub.Email = strings.ToLower(v)
		case RoleMessage:
			sub.Message = v
		default:
			val, err := fl.attr.ParseString(v)
			if err != nil {
				verr.Add(fl.Name, sentenceCase(err.Error())+".")
				continue
			}
			if val != nil {
				sub.Attributes[fl.Attribute] = val
			}
		}
	}
	if err := verr.OrNil(); err != nil {
		return Submission{}, err
	}
	return sub, nil
}

func (fl *Field) hasOption(v string) bool {
	for _, o := range fl.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// emailParams are the parameters of checkEmail's problem code.
func emailParams(code string) map[string]int {
	if code == "email_too_long" {
		return map[string]int{"max": maxEmailLen}
	}
	return nil
}

// checkEmail returns a problem code and message when s is not a plain
// email address.
func checkEmail(s string) (string, string) {
	const code, msg = "email", "Enter an email address like name@example.com."
	if len(s) > maxEmailLen {
		return "email_too_long", fmt.Sprintf("An email address has at most %d characters.", maxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return code, msg
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return code, msg
	}
	return "", ""
}

// sentenceCase capitalises the first letter of s.
func sentenceCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Expectation is what a form's pages tell a customer about the answer to
// come: within Within while the team is in, or when it is back.
type Expectation struct {
	Within time.Duration // set while the hours are open
	Back   time.Time     // set while they are closed: when they open again
}

// ExpectAt is the expectation at now: open (or without hours), an answer
// within the time-to-respond target; closed, the team back at the next
// opening (none in the next two weeks: nothing to promise).
func (f *Form) ExpectAt(now time.Time) (Expectation, bool) {
	if f.Hours == nil || f.Hours.Open(now) {
		return Expectation{Within: f.TTRTarget}, f.TTRTarget > 0
	}
	back, ok := f.Hours.NextOpen(now)
	return Expectation{Back: back}, ok
}
