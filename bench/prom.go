package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// promSample is one sample of a Prometheus text exposition.
type promSample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// parseProm reads the Prometheus text format (comments skipped, no
// timestamps needed).
func parseProm(text []byte) ([]promSample, error) {
	var out []promSample
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		s, err := parsePromLine(l)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", line, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parsePromLine(l string) (promSample, error) {
	s := promSample{Labels: map[string]string{}}
	i := strings.IndexAny(l, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value in %q", l)
	}
	s.Name = l[:i]
	rest := l[i:]
	if rest[0] == '{' {
		j := 1
		for {
			for j < len(rest) && (rest[j] == ' ' || rest[j] == ',') {
				j++
			}
			if j >= len(rest) {
				return s, fmt.Errorf("unterminated labels in %q", l)
			}
			if rest[j] == '}' {
				j++
				break
			}
			eq := strings.IndexByte(rest[j:], '=')
			if eq < 0 || j+eq+1 >= len(rest) || rest[j+eq+1] != '"' {
				return s, fmt.Errorf("bad label in %q", l)
			}
			name := rest[j : j+eq]
			k := j + eq + 2
			var val strings.Builder
			for ; k < len(rest) && rest[k] != '"'; k++ {
				if rest[k] == '\\' && k+1 < len(rest) {
					k++
					switch rest[k] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[k])
					}
					continue
				}
				val.WriteByte(rest[k])
			}
			if k >= len(rest) {
				return s, fmt.Errorf("unterminated label value in %q", l)
			}
			s.Labels[name] = val.String()
			j = k + 1
		}
		rest = rest[j:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value in %q", l)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value of %q: %w", l, err)
	}
	s.Value = v
	return s, nil
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// promValue sums the samples named name whose labels include match; ok is
// false when none matched.
func promValue(samples []promSample, name string, match map[string]string) (float64, bool) {
	var sum float64
	ok := false
	for _, s := range samples {
		if s.Name == name && labelsMatch(s.Labels, match) {
			sum += s.Value
			ok = true
		}
	}
	return sum, ok
}

// bucket is one cumulative histogram bucket: Count observations ≤ LE.
type bucket struct {
	LE    float64 `json:"le"`
	Count float64 `json:"count"`
}

// promHistogram returns the cumulative buckets of histogram name, summed
// over every series whose labels include match, in ascending le order
// (+Inf last).
func promHistogram(samples []promSample, name string, match map[string]string) []bucket {
	byLE := map[float64]float64{}
	for _, s := range samples {
		if s.Name != name+"_bucket" || !labelsMatch(s.Labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			continue
		}
		byLE[le] += s.Value
	}
	out := make([]bucket, 0, len(byLE))
	for le, c := range byLE {
		out = append(out, bucket{LE: le, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LE < out[j].LE })
	return out
}

// histDelta subtracts an earlier scrape's buckets from a later one's,
// leaving the observations made in between. Buckets missing before count
// as empty.
func histDelta(after, before []bucket) []bucket {
	prev := map[float64]float64{}
	for _, b := range before {
		prev[b.LE] = b.Count
	}
	out := make([]bucket, len(after))
	for i, b := range after {
		out[i] = bucket{LE: b.LE, Count: b.Count - prev[b.LE]}
	}
	return out
}

// histQuantile estimates the q-quantile (0..1) of cumulative buckets the
// way Prometheus' histogram_quantile does: find the bucket holding rank
// q×total and interpolate linearly between its bounds (the first bucket's
// lower bound is 0). A rank in the +Inf bucket returns the highest finite
// bound. ok is false when there are no observations.
func histQuantile(buckets []bucket, q float64) (float64, bool) {
	if len(buckets) == 0 {
		return 0, false
	}
	total := buckets[len(buckets)-1].Count
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.Count >= rank && b.Count > below {
			if math.IsInf(b.LE, 1) {
				return lower, true
			}
			return lower + (b.LE-lower)*(rank-below)/(b.Count-below), true
		}
		lower, below = b.LE, b.Count
	}
	return lower, true
}

// histStats is a histogram's observations between two scrapes: how many,
// their mean (from _sum and _count) and interpolated percentiles, in ms.
type histStats struct {
	Count  float64  `json:"count"`
	MeanMS *float64 `json:"meanMs,omitempty"`
	P50MS  *float64 `json:"p50Ms,omitempty"`
	P99MS  *float64 `json:"p99Ms,omitempty"`
}

// histBetween computes histStats for histogram name (in seconds) over the
// series matching match, between the scrapes before and after.
func histBetween(before, after []promSample, name string, match map[string]string) histStats {
	d := histDelta(promHistogram(after, name, match), promHistogram(before, name, match))
	var h histStats
	if len(d) == 0 {
		return h
	}
	h.Count = d[len(d)-1].Count
	if h.Count <= 0 {
		return h
	}
	sa, _ := promValue(after, name+"_sum", match)
	sb, _ := promValue(before, name+"_sum", match)
	h.MeanMS = fp((sa - sb) / h.Count * 1000)
	if q, ok := histQuantile(d, 0.5); ok {
		h.P50MS = fp(q * 1000)
	}
	if q, ok := histQuantile(d, 0.99); ok {
		h.P99MS = fp(q * 1000)
	}
	return h
}
