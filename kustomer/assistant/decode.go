package assistant

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Decode reads the top-level "assistants" list of a handoff.yaml document.
// Unknown fields inside the list are errors (with their line numbers); the
// document's other keys are left to their own parser. A document without
// assistants yields none. Check the result with Parse.
func Decode(doc []byte) ([]Assistant, error) {
	var cfg struct {
		Assistants []Assistant    `yaml:"assistants"`
		Rest       map[string]any `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse assistants: %w", err)
	}
	return cfg.Assistants, nil
}
