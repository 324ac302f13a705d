package kustomer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a sustained rate of events: N every Per. The zero Rate means
// "not set" (use the default); Off disables the limit.
type Rate struct {
	N   int
	Per time.Duration
	Off bool
}

// PerSecond is the rate in events per second: +Inf when off.
func (r Rate) PerSecond() float64 {
	if r.Off {
		return math.Inf(1)
	}
	if r.N <= 0 || r.Per <= 0 {
		return 0
	}
	return float64(r.N) / r.Per.Seconds()
}

// IsZero reports whether the rate is unset.
func (r Rate) IsZero() bool { return r == Rate{} }

// String formats the rate as ParseRate reads it.
func (r Rate) String() string {
	switch {
	case r.Off:
		return "off"
	case r.IsZero():
		return ""
	}
	per := r.Per.String()
	switch r.Per {
	case time.Second:
		per = "s"
	case time.Minute:
		per = "m"
	case time.Hour:
		per = "h"
	}
	return strconv.Itoa(r.N) + "/" + per
}

// ParseRate reads a rate such as "5/m" (five a minute), "5/s", "100/h",
// "3/30s" or "off".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return Rate{Off: true}, nil
	}
	bad := fmt.Errorf("%q is not a rate like 5/m, 20/s, 3/30s or off", s)
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, bad
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || count > 1_000_000 {
		return Rate{}, bad
	}
	var d time.Duration
	switch per {
	case "s", "sec", "second":
		d = time.Second
	case "m", "min", "minute":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d < time.Second || d > 24*time.Hour {
			return Rate{}, bad
		}
	}
	return Rate{N: count, Per: d}, nil
}

// UnmarshalText lets handoff.yaml and flags hold rates as text.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText formats the rate as ParseRate reads it.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Limits bound what anonymous visitors can make the server store: hand-offs
// (new conversations) per client address and per customer session, and a
// customer's sends summed over all their sockets and requests. Each is a
// token bucket: Rate sustained, Burst at once.
type Limits struct {
	HandoffRate  Rate `yaml:"handoffRate"`
	HandoffBurst int  `yaml:"handoffBurst"`
	SendRate     Rate `yaml:"sendRate"`
	SendBurst    int  `yaml:"sendBurst"`
}

// DefaultLimits are limits a person never meets and a script always does:
// five hand-offs a minute with bursts of three, and the socket's long
// standing five sends a second with bursts of twenty.
var DefaultLimits = Limits{
	HandoffRate:  Rate{N: 5, Per: time.Minute},
	HandoffBurst: 3,
	SendRate:     Rate{N: 5, Per: time.Second},
	SendBurst:    20,
}

// Over returns l with every unset value taken from def.
func (l Limits) Over(def Limits) Limits {
	if l.HandoffRate.IsZero() {
		l.HandoffRate = def.HandoffRate
	}
	if l.HandoffBurst == 0 {
		l.HandoffBurst = def.HandoffBurst
	}
	if l.SendRate.IsZero() {
		l.SendRate = def.SendRate
	}
	if l.SendBurst == 0 {
		l.SendBurst = def.SendBurst
	}
	return l
}

// Check reports what is wrong with the limits, field by field.
func (l Limits) Check() []string {
	var problems []string
	if l.HandoffBurst < 0 || l.HandoffBurst > 10_000 {
		problems = append(problems, fmt.Sprintf("handoffBurst %d: want 1 to 10000", l.HandoffBurst))
	}
	if l.SendBurst < 0 || l.SendBurst > 10_000 {
		problems = append(problems, fmt.Sprintf("sendBurst %d: want 1 to 10000", l.SendBurst))
	}
	return problems
}
