package kustomer

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// Text is an operator's words in handoff.yaml: one string, or one per
// language, keyed by language tag:
//
//	label: Your name
//	label: {en: Your name, es: Tu nombre, ar: اسمك}
//
// A page in a language the text does not have shows the fallback: the
// English text, else the first one given.
type Text struct {
	def string
	by  map[string]string // canonical tag → words
}

// NewText is s in every language.
func NewText(s string) Text { return Text{def: s} }

// String is the fallback text.
func (t Text) String() string { return t.def }

// In is the text in language lang (a tag such as "es" or "es-MX"): the
// exact tag, else its base language, else the fallback.
func (t Text) In(lang string) string {
	if len(t.by) == 0 || lang == "" {
		return t.def
	}
	if s, ok := t.by[lang]; ok {
		// Already canonical, as pages' languages are.
		return s
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return t.def
	}
	if s, ok := t.by[tag.String()]; ok {
		return s
	}
	if base, conf := tag.Base(); conf != language.No {
		if s, ok := t.by[base.String()]; ok {
			return s
		}
	}
	return t.def
}

// Has reports whether the text is written in lang itself (or its base
// language), not only as the fallback.
func (t Text) Has(lang string) bool {
	if len(t.by) == 0 || lang == "" {
		return false
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return false
	}
	if _, ok := t.by[tag.String()]; ok {
		return true
	}
	base, conf := tag.Base()
	_, ok := t.by[base.String()]
	return conf != language.No && ok
}

// Languages are the tags the text is written in; none for a plain string.
func (t Text) Languages() []string {
	out := make([]string, 0, len(t.by))
	for l := range t.by {
		out = append(out, l)
	}
	return out
}

// MarshalJSON writes the fallback text: a Text reaching JSON is shown to
// somebody whose language was not chosen.
func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(t.def) }

// UnmarshalYAML reads a string, or a mapping of language tags to strings.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Text{}
		return n.Decode(&t.def)
	case yaml.MappingNode:
		out := Text{by: map[string]string{}}
		first := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			tag, ok := normalizeLang(k.Value)
			if !ok || tag == "" {
				return fmt.Errorf("line %d: %q is not a language tag (want en, es, pt-BR…)", k.Line, k.Value)
			}
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: the %s text must be a string", v.Line, tag)
			}
			if _, dup := out.by[tag]; dup {
				return fmt.Errorf("line %d: %s given twice", k.Line, tag)
			}
			if strings.TrimSpace(v.Value) == "" {
				return fmt.Errorf("line %d: the %s text is empty", v.Line, tag)
			}
			out.by[tag] = v.Value
			if first == "" {
				first = tag
			}
		}
		if len(out.by) == 0 {
			return fmt.Errorf("line %d: no text in any language", n.Line)
		}
		out.def = out.by[first]
		if en, ok := out.by["en"]; ok {
			out.def = en
		}
		*t = out
		return nil
	}
	return fmt.Errorf("line %d: want a string, or one per language ({en: …, es: …})", n.Line)
}
