package assistant

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/handoff/handoff/kustomer"
)

// Words says one of the assistant's own sentences in language lang (a tag
// such as "es"): id names the sentence (a key of english) and data fills
// its placeholders, {{.Name}} (an attribute's display name), {{.Number}}
// and {{.Length}}. It returns "" for a sentence or a language it does not
// have; the sentence is then said in English.
type Words func(lang, id string, data map[string]any) string

// english holds the assistant's own sentences in English, by id; the
// message catalogs' assistant section has the same ids.
var english = map[string]string{
	"please_answer":    "Please type your answer.",
	"please_choose":    "Please choose one of the options.",
	"please_email":     "Please enter an email address like name@example.com.",
	"invalid_number":   "{{.Name}} must be a number.",
	"invalid_yes_no":   "{{.Name}} must be true or false.",
	"invalid_datetime": "{{.Name}} must be a date and time like 2026-01-31T09:30:00Z.",
	"invalid_url":      "{{.Name}} must be an absolute http or https URL.",
	"invalid_line":     "{{.Name}} must be a single line.",
	"invalid_text":     "{{.Name}} is not valid UTF-8 text.",
	"too_long":         "{{.Name}} must be at most {{.Number}} characters (it has {{.Length}}).",
	"helped":           "That helped",
	"not_helped":       "I still need help",
	"question":         "What is your {{.Name}}?",
}

// Sentences lists the ids of the assistant's own sentences, sorted: what a
// Words should say in every language.
func Sentences() []string { return slices.Sorted(maps.Keys(english)) }

// word is sentence id in the run's language, else in English.
func (r *run) word(id string, data map[string]any) string {
	if r.loc.Words != nil {
		if s := r.loc.Words(r.loc.Lang, id, data); s != "" {
			return s
		}
	}
	return englishWord(id, data)
}

// englishWord is sentence id in English with its placeholders filled.
func englishWord(id string, data map[string]any) string {
	s := english[id]
	for k, v := range data {
		s = strings.ReplaceAll(s, "{{."+k+"}}", fmt.Sprint(v))
	}
	return s
}

// displayName is how the customer's sentences name an attribute.
func displayName(def kustomer.AttributeDef) string {
	if def.DisplayName != "" {
		return def.DisplayName
	}
	return def.Name
}

// defaultQuestion asks for the attribute of an attribute step without text.
// In English the name sits mid-sentence ("What is your team size?"), so its
// first letter is lowered unless it starts an acronym; other languages
// name it as written.
func (r *run) defaultQuestion(def kustomer.AttributeDef) string {
	name := displayName(def)
	if isEnglish(r.loc.Lang) {
		r1, n := utf8.DecodeRuneInString(name)
		r2, _ := utf8.DecodeRuneInString(name[n:])
		if !unicode.IsUpper(r2) {
			name = string(unicode.ToLower(r1)) + name[n:]
		}
	}
	return r.word("question", map[string]any{"Name": name})
}

// isEnglish reports whether lang is English or unset.
func isEnglish(lang string) bool {
	if lang == "" {
		return true
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return false
	}
	base, _ := tag.Base()
	return base.String() == "en"
}

// reason says why raw is no value of attribute def, such as "Team size must
// be a number."
func (r *run) reason(def kustomer.AttributeDef, raw string) string {
	data := map[string]any{"Name": displayName(def)}
	tooLong := func(limit, n int) string {
		data["Number"], data["Length"] = limit, n
		return r.word("too_long", data)
	}
	switch def.Type {
	case kustomer.TypeNum:
		return r.word("invalid_number", data)
	case kustomer.TypeBool:
		return r.word("invalid_yes_no", data)
	case kustomer.TypeAt:
		return r.word("invalid_datetime", data)
	case kustomer.TypeURL:
		if n := len(strings.TrimSpace(raw)); n > kustomer.MaxURLLen {
			return tooLong(kustomer.MaxURLLen, n)
		}
		return r.word("invalid_url", data)
	}
	if !utf8.ValidString(raw) {
		return r.word("invalid_text", data)
	}
	limit, s := kustomer.MaxTxtLen, raw
	if def.Type == kustomer.TypeStr {
		limit, s = kustomer.MaxStrLen, strings.TrimSpace(raw)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return tooLong(limit, n)
	}
	return r.word("invalid_line", data)
}
