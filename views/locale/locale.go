// Package locale gives the customer's pages their words in the visitor's
// language: message catalogs (messages/*.yaml, one per language, with
// CLDR plural forms) read through go-i18n, and the choice of a language
// from a form's setting, a ?lang= parameter and the browser's
// Accept-Language.
package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

//go:embed messages/*.yaml
var files embed.FS

// Auto is the form setting that follows the visitor's browser.
const Auto = "auto"

var (
	bundle = i18n.NewBundle(language.English)
	// supported are the catalogs' languages, English first (the fallback
	// of the matcher and of every missing message).
	supported []language.Tag
	matcher   language.Matcher
	english   *Localizer
)

func init() {
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	names, err := fs.Glob(files, "messages/*.yaml")
	if err != nil {
		panic(err)
	}
	supported = []language.Tag{language.English}
	for _, name := range names {
		mf, err := bundle.LoadMessageFileFS(files, name)
		if err != nil {
			panic(fmt.Sprintf("locale: %s: %v", name, err))
		}
		if mf.Tag != language.English {
			supported = append(supported, mf.Tag)
		}
	}
	matcher = language.NewMatcher(supported)
	shared = make(map[language.Tag]*Localizer, len(supported))
	for _, t := range supported {
		shared[t] = newLocalizer(t)
	}
	english = shared[language.English]
}

// shared are the localizers of the shipped languages, made once: each
// keeps the sentences it has looked up.
var shared map[language.Tag]*Localizer

// Languages are the tags of the shipped catalogs, English first.
func Languages() []string {
	out := make([]string, len(supported))
	for i, t := range supported {
		out[i] = t.String()
	}
	return out
}

// Valid reports whether s names a shipped language exactly ("es", not
// "es-MX"; see Match for those).
func Valid(s string) bool {
	t, err := language.Parse(s)
	if err != nil {
		return false
	}
	for _, l := range supported {
		if l == t {
			return true
		}
	}
	return false
}

// Match returns the shipped language closest to s (a tag such as "es-MX"
// or "fr_CA"), and whether there was one at all.
func Match(s string) (string, bool) {
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return "", false
	}
	_, i, conf := matcher.Match(t)
	if conf == language.No {
		return "", false
	}
	return supported[i].String(), true
}

// Choose picks the page's language: the visitor's explicit choice (a
// ?lang= value) when it is one we ship, else the form's setting when it is
// a fixed language, else the best match for the browser's Accept-Language
// header, else English.
func Choose(explicit, setting, acceptLanguage string) *Localizer {
	if l, ok := Match(explicit); ok && explicit != "" {
		return New(language.Make(l))
	}
	if setting != "" && setting != Auto {
		if l, ok := Match(setting); ok {
			return New(language.Make(l))
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No {
				return New(supported[i])
			}
		}
	}
	return english
}

// English is the localizer of the fallback language.
func English() *Localizer { return english }

// Localizer speaks one language. A nil *Localizer speaks English.
type Localizer struct {
	tag language.Tag
	l   *i18n.Localizer
	// plain keeps the sentences without placeholders (T) already looked
	// up, id → text: a lookup matches languages and parses a template, and
	// a page of 100 messages makes hundreds.
	plain sync.Map
}

// New returns the localizer of tag, which should be one of Languages
// (messages missing from its catalog come out in English).
func New(tag language.Tag) *Localizer {
	if l, ok := shared[tag]; ok {
		return l
	}
	return newLocalizer(tag)
}

func newLocalizer(tag language.Tag) *Localizer {
	return &Localizer{tag: tag, l: i18n.NewLocalizer(bundle, tag.String(), "en")}
}

func (l *Localizer) or() *Localizer {
	if l == nil {
		return english
	}
	return l
}

// Lang is the language's tag, for <html lang>.
func (l *Localizer) Lang() string { return l.or().tag.String() }

// Dir is the language's writing direction, for <html dir>: "rtl" or "ltr".
func (l *Localizer) Dir() string {
	base, _ := l.or().tag.Base()
	switch base.String() {
	case "ar", "he", "fa", "ur":
		return "rtl"
	}
	return "ltr"
}

// T is message id.
func (l *Localizer) T(id string) string {
	l = l.or()
	if s, ok := l.plain.Load(id); ok {
		return s.(string)
	}
	s := l.localize(id, nil, nil)
	if s != id {
		// Only sentences of a catalog: ids made from other data (an
		// error's code) cannot grow the map.
		l.plain.Store(id, s)
	}
	return s
}

// Tf is message id with its {{.Name}} placeholders filled from data.
func (l *Localizer) Tf(id string, data map[string]any) string { return l.localize(id, data, nil) }

// Tn is message id in the plural form for n, with {{.Count}} set to n and
// the other placeholders filled from data.
func (l *Localizer) Tn(id string, n int, data map[string]any) string {
	d := map[string]any{"Count": n}
	for k, v := range data {
		d[k] = v
	}
	return l.localize(id, d, n)
}

// months are the catalogs' keys of the months, January first.
var months = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// DateTime writes t as a date and a 24-hour time in zone loc (UTC when
// nil), the way l's language writes them, with the zone's abbreviation:
// "29 Nov 2026, 14:05 CET", "29. Nov. 2026, 14:05 CET". For the text a
// browser's script cannot reformat (an email).
func (l *Localizer) DateTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return l.Tf("date.format", map[string]any{
		"Day": t.Day(), "Month": l.T("date.month." + months[t.Month()-1]), "Year": t.Year(),
		"Time": t.Format("15:04"), "Zone": t.Format("MST"),
	})
}

func (l *Localizer) localize(id string, data map[string]any, count any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count}
	s, err := l.or().l.Localize(cfg)
	if err != nil || s == "" {
		// A message broken in this catalog comes out in English; one
		// missing from every catalog as its id. The catalog tests catch
		// both; the page still shows something.
		if s, err = english.l.Localize(cfg); err != nil || s == "" {
			return id
		}
	}
	return s
}

// AssistantWords is sentence id of the catalogs' assistant section in the
// shipped language closest to lang, with data's placeholders filled: the
// conversational assistants' translator (assistant.Words). It is "" for a
// sentence no catalog has.
func AssistantWords(lang, id string, data map[string]any) string {
	key := "assistant." + id
	if s := Choose(lang, "", "").Tf(key, data); s != key {
		return s
	}
	return ""
}

// messageFiles lists the catalogs by language, for tests.
func messageFiles() (map[string]string, error) {
	names, err := fs.Glob(files, "messages/*.yaml")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range names {
		out[strings.TrimSuffix(path.Base(name), ".yaml")] = name
	}
	return out, nil
}
