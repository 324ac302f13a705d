package locale

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// pluralKeys are the CLDR forms a message may be written in.
var pluralKeys = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

// keys flattens a catalog into its message ids, each true when it is a
// plural message (a map of plural forms).
func keys(t *testing.T, name string) map[string]bool {
	t.Helper()
	b, err := files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			out[prefix] = false
			return
		}
		for k := range m {
			if pluralKeys[k] {
				out[prefix] = true
				return
			}
		}
		for k, sub := range m {
			walk(strings.TrimPrefix(prefix+"."+k, "."), sub)
		}
	}
	walk("", doc)
	return out
}

// TestCatalogsComplete fails when a catalog lacks a message English has,
// or has one English does not (left over after a rename).
func TestCatalogsComplete(t *testing.T) {
	cats, err := messageFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"en", "es", "de", "fr", "ar"} {
		if cats[want] == "" {
			t.Errorf("no catalog for %q", want)
		}
	}
	en := keys(t, cats["en"])
	if len(en) < 40 {
		t.Fatalf("English has only %d messages", len(en))
	}
	for lang, name := range cats {
		got := keys(t, name)
		var missing, extra []string
		for k, plural := range en {
			if p, ok := got[k]; !ok {
				missing = append(missing, k)
			} else if p != plural {
				t.Errorf("%s: %s is plural in one catalog and not in the other", lang, k)
			}
		}
		for k := range got {
			if _, ok := en[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%s misses %d messages English has: %v", lang, len(missing), missing)
		}
		if len(extra) > 0 {
			t.Errorf("%s has %d messages English does not: %v", lang, len(extra), extra)
		}
	}
}

// TestEveryMessageRenders renders every message in every language, plural
// ones at counts that reach every CLDR form of these languages: a missing
// plural form or a broken placeholder fails.
func TestEveryMessageRenders(t *testing.T) {
	cats, err := messageFiles()
	if err != nil {
		t.Fatal(err)
	}
	en := keys(t, cats["en"])
	for _, lang := range Languages() {
		l := i18n.NewLocalizer(bundle, lang) // no English fallback here
		for id, plural := range en {
			for _, n := range []int{0, 1, 2, 3, 5, 11, 100, 102} {
				cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any{"Count": n, "Name": "Ada", "Number": n, "Length": n + 1, "Wait": "5 s", "Form": "Contact", "Team": "Billing", "Megabytes": 5, "Type": "text/html", "Extra": "application/zip", "Day": 9, "Month": "Nov", "Year": 2026, "Time": "14:05", "Zone": "CET"}}
				if plural {
					cfg.PluralCount = n
				}
				s, tag, err := l.LocalizeWithTag(cfg)
				if err != nil {
					t.Errorf("%s: %s (count %d): %v", lang, id, n, err)
					break
				}
				if tag.String() != lang {
					t.Errorf("%s: %s came out in %s", lang, id, tag)
					break
				}
				if s == "" || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
					t.Errorf("%s: %s (count %d) = %q", lang, id, n, s)
					break
				}
			}
		}
	}
}

func TestChoose(t *testing.T) {
	for _, tt := range []struct {
		explicit, setting, accept string
		want, dir                 string
	}{
		{"", "", "", "en", "ltr"},
		{"", "auto", "de-CH,de;q=0.9,en;q=0.5", "de", "ltr"},
		{"", "auto", "ar-EG", "ar", "rtl"},
		{"", "auto", "ja, zh;q=0.8", "en", "ltr"}, // nothing we ship
		{"", "fr", "de", "fr", "ltr"},             // the form's fixed language beats the browser
		{"es", "fr", "de", "es", "ltr"},           // ?lang= beats both
		{"es-MX", "", "", "es", "ltr"},            // a regional variant
		{"klingon!", "fr", "", "fr", "ltr"},       // an unusable ?lang= is ignored
		{"", "auto", "garbage;;q=x", "en", "ltr"}, // an unreadable header too
		{"ar", "", "", "ar", "rtl"},
	} {
		l := Choose(tt.explicit, tt.setting, tt.accept)
		if l.Lang() != tt.want || l.Dir() != tt.dir {
			t.Errorf("Choose(%q, %q, %q) = %s %s, want %s %s", tt.explicit, tt.setting, tt.accept, l.Lang(), l.Dir(), tt.want, tt.dir)
		}
	}
}

func TestLocalizer(t *testing.T) {
	var nilL *Localizer
	if got := nilL.T("chat.send"); got != "Send" {
		t.Errorf("nil localizer: %q, want English", got)
	}
	de := New(language.German)
	if got := de.Tn("form.errors", 3, nil); got != "Bitte korrigieren Sie die 3 markierten Felder" {
		t.Errorf("German plural: %q", got)
	}
	if got := New(language.Arabic).Tn("form.errors", 2, nil); got != "يُرجى تصحيح الحقلين المميَّزين" {
		t.Errorf("Arabic dual: %q", got)
	}
	if got := de.T("no.such.message"); got != "no.such.message" {
		t.Errorf("missing message: %q, want its id", got)
	}
	if !Valid("es") || Valid("es-MX") || Valid("xx") {
		t.Error("Valid: want exactly the shipped tags")
	}
	if got := Languages(); !slices.Equal(got, []string{"en", "ar", "de", "es", "fr"}) {
		t.Errorf("Languages() = %v", got)
	}
}

func TestDateTime(t *testing.T) {
	at := time.Date(2026, time.March, 9, 13, 5, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lang string
		loc  *time.Location
		want string
	}{
		{"en", nil, "9 Mar 2026, 13:05 UTC"},
		{"de", berlin, "9. März 2026, 14:05 CET"},
		{"fr", berlin, "9 mars 2026, 14:05 CET"},
		{"es", time.FixedZone("", -5*3600), "9 mar 2026, 08:05 -0500"},
		{"ar", nil, "9 مارس 2026، 13:05 UTC"},
	} {
		if got := New(language.Make(tt.lang)).DateTime(at, tt.loc); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.lang, got, tt.want)
		}
	}
}

func TestAssistantWords(t *testing.T) {
	name := map[string]any{"Name": "Team size"}
	for _, tt := range []struct {
		lang, id string
		want     string
	}{
		{"es", "invalid_number", "El valor de «Team size» debe ser un número."},
		{"es-MX", "invalid_number", "El valor de «Team size» debe ser un número."},
		{"de", "question", "Bitte geben Sie Folgendes an: Team size"},
		{"", "invalid_number", "Team size must be a number."},
		{"ja", "helped", "That helped"},
		{"es", "no_such_sentence", ""},
	} {
		if got := AssistantWords(tt.lang, tt.id, name); got != tt.want {
			t.Errorf("AssistantWords(%q, %q) = %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
}
