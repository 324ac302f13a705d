package kustomer

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the operator's definition of attributes and forms, read from
// handoff.yaml.
type Config struct {
	Attributes struct {
		Conversation []AttributeDef `yaml:"conversation"`
		Customer     []AttributeDef `yaml:"customer"`
	} `yaml:"attributes"`
	Skills []Skill `yaml:"skills"`
	Forms  []*Form `yaml:"forms"`
	// Assistants are read and checked by package assistant.
	Assistants yaml.Node `yaml:"assistants"`
	// Attachments.Types lists media types, as content sniffing names them
	// (for example application/zip), accepted in attachments besides the
	// built-in ones.
	Attachments struct {
		Types []string `yaml:"types"`
	} `yaml:"attachments"`

	conversationAttrs AttributeDefs
	customerAttrs     AttributeDefs
	forms             map[string]*Form
	skills            map[string]Skill
}

// Skill returns the skill with the given id.
func (c *Config) Skill(id string) (Skill, bool) {
	s, ok := c.skills[id]
	return s, ok
}

// AutoAssigns reports whether any form or skill assigns conversations
// automatically.
func (c *Config) AutoAssigns() bool {
	for _, f := range c.Forms {
		if f.AutoAssign {
			return true
		}
	}
	for _, s := range c.Skills {
		if s.AutoAssign {
			return true
		}
	}
	return false
}

// ConversationAttributes returns the attributes defined on conversations.
func (c *Config) ConversationAttributes() AttributeDefs { return c.conversationAttrs }

// CustomerAttributes returns the attributes defined on customers.
func (c *Config) CustomerAttributes() AttributeDefs { return c.customerAttrs }

// Form returns the form with the given id.
func (c *Config) Form(id string) (*Form, bool) {
	f, ok := c.forms[id]
	return f, ok
}

// TTRTarget is form id's time-to-respond target (NORMAL): the form's, or
// DefaultTTRTarget.
func (c *Config) TTRTarget(formID string) time.Duration {
	if f, ok := c.Form(formID); ok && f.TTRTarget > 0 {
		return f.TTRTarget
	}
	return DefaultTTRTarget
}

var formIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
var fieldNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)

// ParseConfig reads and checks a configuration. Every problem found is
// reported, each naming the form, field or attribute it concerns.
func ParseConfig(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	defs := func(kind string, list []AttributeDef) AttributeDefs {
		m := make(AttributeDefs, len(list))
		for i := range list {
			d := &list[i]
			t, err := AttributeTypeOf(d.Name)
			if err != nil {
				bad("attributes.%s: %v", kind, err)
				continue
			}
			if _, dup := m[d.Name]; dup {
				bad("attributes.%s: %q is defined twice", kind, d.Name)
			}
			d.Type = t
			if d.DisplayName == "" {
				d.DisplayName = d.Name
			}
			m[d.Name] = *d
		}
		return m
	}
	c.conversationAttrs = defs("conversation", c.Attributes.Conversation)
	c.customerAttrs = defs("customer", c.Attributes.Customer)

	c.skills = make(map[string]Skill, len(c.Skills))
	for i, sk := range c.Skills {
		if !formIDRE.MatchString(sk.ID) {
			bad("skills[%d]: id %q must be lowercase letters, digits and dashes", i, sk.ID)
			continue
		}
		if _, dup := c.skills[sk.ID]; dup {
			bad("skill %q: defined twice", sk.ID)
		}
		if sk.Name == "" {
			sk.Name = sk.ID
			c.Skills[i].Name = sk.ID
		}
		c.skills[sk.ID] = sk
	}

	c.forms = make(map[string]*Form, len(c.Forms))
	if len(c.Forms) == 0 {
		bad("forms: at least one form must be defined")
	}
	for i, f := range c.Forms {
		where := fmt.Sprintf("forms[%d]", i)
		if f == nil {
			bad("%s: empty form", where)
			continue
		}
		if !formIDRE.MatchString(f.ID) {
			bad("%s: id %q must be lowercase letters, digits and dashes", where, f.ID)
		} else {
			where = fmt.Sprintf("form %q", f.ID)
		}
		if _, dup := c.forms[f.ID]; dup {
			bad("%s: defined twice", where)
		}
		c.forms[f.ID] = f
		for _, p := range f.check(c.conversationAttrs) {
			bad("%s: %s", where, p)
		}
	}
	for i, t := range c.Attachments.Types {
		mt, params, err := mime.ParseMediaType(t)
		if err != nil || len(params) > 0 || !strings.Contains(mt, "/") || mt != t {
			bad("attachments.types[%d]: %q must be a lowercase media type like application/zip", i, t)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid config:\n  %s", strings.Join(problems, "\n  "))
	}
	return &c, nil
}
