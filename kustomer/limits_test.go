package kustomer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

func TestFormLimits(t *testing.T) {
	cfg := parseConfig(t, `
forms:
  - id: newsletter
    limits: {handoffRate: 2/h, handoffBurst: 1}
    fields:
      - {name: message, label: Message, type: textarea, role: message, required: true}
  - id: plain
    fields:
      - {name: message, label: Message, type: textarea, role: message, required: true}
`)
	server := kustomer.Limits{HandoffRate: kustomer.Rate{N: 10, Per: time.Minute}, HandoffBurst: 5, SendRate: kustomer.Rate{Off: true}, SendBurst: 7}
	f, _ := cfg.Form("newsletter")
	got := f.Limits.Over(server)
	want := kustomer.Limits{HandoffRate: kustomer.Rate{N: 2, Per: time.Hour}, HandoffBurst: 1, SendRate: kustomer.Rate{Off: true}, SendBurst: 7}
	if got != want {
		t.Errorf("newsletter limits %+v, want %+v", got, want)
	}
	p, _ := cfg.Form("plain")
	if got := p.Limits.Over(server); got != server {
		t.Errorf("plain form limits %+v, want the server's %+v", got, server)
	}

	_, err := kustomer.ParseConfig(strings.NewReader(`
forms:
  - id: bad
    limits: {handoffRate: lots, sendBurst: -2}
    fields:
      - {name: message, label: Message, type: textarea, role: message, required: true}
`))
	if err == nil || !strings.Contains(err.Error(), `"lots" is not a rate`) {
		t.Errorf("bad rate: %v", err)
	}
}
