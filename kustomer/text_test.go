package kustomer

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestTextYAML(t *testing.T) {
	var doc struct {
		Plain  Text `yaml:"plain"`
		Multi  Text `yaml:"multi"`
		NoEn   Text `yaml:"noEn"`
		Absent Text `yaml:"absent"`
	}
	src := `
plain: Your name
multi: {en: Your name, es: Tu nombre, pt-br: Seu nome, ar: اسمك}
noEn: {fr: Votre nom, de: Ihr Name}
`
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		t          Text
		lang, want string
	}{
		{doc.Plain, "es", "Your name"},
		{doc.Multi, "es", "Tu nombre"},
		{doc.Multi, "es-MX", "Tu nombre"}, // the base language
		{doc.Multi, "pt-BR", "Seu nome"},  // the tag as written, canonical
		{doc.Multi, "pt", "Your name"},    // no base text: the fallback
		{doc.Multi, "de", "Your name"},    // English is the fallback
		{doc.Multi, "", "Your name"},
		{doc.Multi, "not a tag!", "Your name"},
		{doc.NoEn, "ar", "Votre nom"}, // without English, the first given
		{doc.Absent, "en", ""},
	} {
		if got := tt.t.In(tt.lang); got != tt.want {
			t.Errorf("%v.In(%q) = %q, want %q", tt.t.Languages(), tt.lang, got, tt.want)
		}
	}
	if b, err := doc.Multi.MarshalJSON(); err != nil || string(b) != `"Your name"` {
		t.Errorf("JSON: %s %v", b, err)
	}
	for _, bad := range []struct{ src, want string }{
		{`x: {english!: Name}`, "not a language tag"},
		{`x: {en: Name, EN: Nom}`, "given twice"},
		{`x: {en: ""}`, "empty"},
		{`x: {en: [a, b]}`, "must be a string"},
		{`x: {}`, "no text"},
		{`x: [a, b]`, "want a string"},
	} {
		var d struct {
			X Text `yaml:"x"`
		}
		err := yaml.Unmarshal([]byte(bad.src), &d)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want an error saying %q", bad.src, err, bad.want)
		}
	}
}

func TestFormLanguageSetting(t *testing.T) {
	for _, tt := range []struct {
		lang, want string
		ok         bool
	}{
		{"", "", true}, {"auto", "auto", true}, {"es", "es", true}, {"pt-br", "pt-BR", true}, {"Spanish!", "", false},
	} {
		f := &Form{ID: "f", Language: tt.lang, Fields: []*Field{{Name: "message", Type: FieldTextarea, Role: RoleMessage}}}
		problems := f.check(nil)
		if (len(problems) == 0) != tt.ok || (tt.ok && f.Language != tt.want) {
			t.Errorf("language %q: %q, problems %v", tt.lang, f.Language, problems)
		}
	}
}

func TestFormExpectation(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	week := []string{"09:00-17:00"}
	f := &Form{ID: "f", TTRTarget: 5 * time.Minute, Fields: []*Field{{Name: "message", Type: FieldTextarea, Role: RoleMessage}},
		Hours: &Schedule{TimeZone: "America/New_York", Weekly: map[string][]string{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week},
			Holidays: []string{"2026-12-25"}}}
	if p := f.check(nil); len(p) != 0 {
		t.Fatal(p)
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		want Expectation
	}{
		{"open", time.Date(2026, 12, 2, 10, 0, 0, 0, ny), Expectation{Within: 5 * time.Minute}},
		{"Friday evening", time.Date(2026, 12, 4, 18, 0, 0, 0, ny), Expectation{Back: time.Date(2026, 12, 7, 9, 0, 0, 0, ny)}},
		{"early morning", time.Date(2026, 12, 2, 7, 30, 0, 0, ny), Expectation{Back: time.Date(2026, 12, 2, 9, 0, 0, 0, ny)}},
		{"before a holiday", time.Date(2026, 12, 24, 17, 30, 0, 0, ny), Expectation{Back: time.Date(2026, 12, 28, 9, 0, 0, 0, ny)}},
	} {
		got, ok := f.ExpectAt(tt.now)
		if !ok || got.Within != tt.want.Within || !got.Back.Equal(tt.want.Back) {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, ok, tt.want)
		}
	}
	f.Hours = &Schedule{TimeZone: "Nowhere/Special", Weekly: map[string][]string{"mon": week}}
	if p := f.check(nil); len(p) == 0 || !strings.Contains(strings.Join(p, " "), "hours: timeZone") {
		t.Errorf("bad hours: problems %v", p)
	}
}
