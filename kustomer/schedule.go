package kustomer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	// Time zones resolve the same on hosts and images without zoneinfo.
	_ "time/tzdata"
)

// Schedule is business hours: an assistant's (its hours steps check them)
// or a form's (its pages tell customers when to expect an answer).
type Schedule struct {
	// TimeZone is an IANA name such as "Europe/Berlin".
	TimeZone string `yaml:"timeZone"`
	// Weekly maps a weekday ("monday" or "mon", any case) to its opening
	// intervals, each "HH:MM-HH:MM" in TimeZone; the end is exclusive and
	// may be "24:00". A day not listed is closed.
	Weekly map[string][]string `yaml:"weekly"`
	// Holidays are dates ("2026-12-25") closed all day.
	Holidays []string `yaml:"holidays"`

	loc      *time.Location
	week     [7][]span // indexed by time.Weekday
	holidays map[string]bool
}

// span is an opening interval in minutes after midnight, [from, to).
type span struct{ from, to int }

// weekday reads a day name: "monday" or "mon", any case.
func weekday(name string) (time.Weekday, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if name == full || name == full[:3] {
			return d, true
		}
	}
	return 0, false
}

const dateLayout = "2006-01-02"

// Compile checks the schedule and prepares it for Open, returning every
// problem found.
func (s *Schedule) Compile() []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if s.TimeZone == "" {
		bad("timeZone is required (an IANA name like Europe/Berlin)")
	} else if loc, err := time.LoadLocation(s.TimeZone); err != nil {
		bad("timeZone %q is not a known time zone", s.TimeZone)
	} else {
		s.loc = loc
	}
	s.week = [7][]span{}
	seenDay := map[time.Weekday]string{}
	n, weeklyBad := 0, false
	for _, key := range slices.Sorted(maps.Keys(s.Weekly)) {
		list := s.Weekly[key]
		d, ok := weekday(key)
		if !ok {
			bad("weekly: %q is not a weekday (monday … sunday)", key)
			weeklyBad = true
			continue
		}
		if prev, dup := seenDay[d]; dup {
			bad("weekly: %q and %q name the same day", prev, key)
		}
		seenDay[d] = key
		for _, iv := range list {
			sp, err := parseSpan(iv)
			if err != nil {
				bad("weekly.%s: %v", key, err)
				weeklyBad = true
				continue
			}
			s.week[d] = append(s.week[d], sp)
			n++
		}
	}
	if n == 0 && !weeklyBad {
		bad("weekly: no opening hours (list intervals like monday: [\"09:00-17:00\"])")
	}
	s.holidays = make(map[string]bool, len(s.Holidays))
	for _, h := range s.Holidays {
		d, err := time.Parse(dateLayout, strings.TrimSpace(h))
		if err != nil {
			bad("holidays: %q is not a date like 2026-12-25", h)
			continue
		}
		s.holidays[d.Format(dateLayout)] = true
	}
	return problems
}

// parseSpan reads "HH:MM-HH:MM".
func parseSpan(s string) (span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return span{}, fmt.Errorf("%q is not an interval like 09:00-17:00", s)
	}
	f, err1 := parseClock(strings.TrimSpace(from))
	t, err2 := parseClock(strings.TrimSpace(to))
	if err1 != nil || err2 != nil {
		return span{}, fmt.Errorf("%q is not an interval like 09:00-17:00", s)
	}
	if t <= f {
		return span{}, fmt.Errorf("%q ends before it starts (split intervals that pass midnight)", s)
	}
	return span{f, t}, nil
}

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Location is the schedule's time zone (UTC before Compile).
func (s *Schedule) Location() *time.Location {
	if s == nil || s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// NextOpen is when the business hours next begin after now (now itself
// when they are open), looking two weeks ahead; false when they never do
// in that time.
func (s *Schedule) NextOpen(now time.Time) (time.Time, bool) {
	if s.Open(now) {
		return now, true
	}
	if s == nil || s.loc == nil {
		return time.Time{}, false
	}
	t := now.In(s.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
	for i := 0; i < 15; i++ {
		d := day.AddDate(0, 0, i)
		if s.holidays[d.Format(dateLayout)] {
			continue
		}
		for _, sp := range s.week[d.Weekday()] {
			start := d.Add(time.Duration(sp.from) * time.Minute)
			if start.After(now) {
				return start, true
			}
		}
	}
	return time.Time{}, false
}

// Open reports whether now falls within the business hours. It must only be
// called on a compiled schedule.
func (s *Schedule) Open(now time.Time) bool {
	if s == nil || s.loc == nil {
		return false
	}
	t := now.In(s.loc)
	if s.holidays[t.Format(dateLayout)] {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, sp := range s.week[t.Weekday()] {
		if m >= sp.from && m < sp.to {
			return true
		}
	}
	return false
}
