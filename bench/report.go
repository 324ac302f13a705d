package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Units a row's figures are in; they decide how the figures print.
const (
	unitPerSec = "/s"
	unitMS     = "ms"
	unitMicros = "µs"
	unitKB     = "KB"
	unitMB     = "MB"
	unitCount  = "count"
	unitRatio  = "ratio" // a plain number, such as goroutines per socket
)

// Target kinds: a ratio or the value itself compared to a threshold.
const (
	ratioAtLeast = "ratio>="
	ratioAtMost  = "ratio<="
	valueAtLeast = "value>="
	valueAtMost  = "value<="
	valueEqual   = "value=="
)

// Target is what a row must reach to pass.
type Target struct {
	Kind      string  `json:"kind"`
	Threshold float64 `json:"threshold"`
}

func (t Target) String() string {
	switch t.Kind {
	case ratioAtLeast:
		return "≥ " + trimFloat(t.Threshold) + "×"
	case ratioAtMost:
		return "≤ " + trimFloat(t.Threshold) + "×"
	case valueAtLeast:
		return "≥ " + trimFloat(t.Threshold)
	case valueAtMost:
		return "≤ " + trimFloat(t.Threshold)
	case valueEqual:
		return "= " + trimFloat(t.Threshold)
	}
	return t.Kind
}

// Row is one line of the report: a figure of the server under test, the
// same figure of its bare reference, their ratio and the target.
type Row struct {
	Scenario  string   `json:"scenario"`
	Metric    string   `json:"metric"`
	Unit      string   `json:"unit"`
	Value     *float64 `json:"value"`               // the server's figure; nil when not measured
	Reference *float64 `json:"reference,omitempty"` // the bare reference's figure
	RefName   string   `json:"referenceName,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"` // Value / Reference
	Target    *Target  `json:"target,omitempty"`
	Pass      *bool    `json:"pass,omitempty"` // nil: no target, or not measured
	Note      string   `json:"note,omitempty"`
}

func fp(v float64) *float64 { return &v }

// newRow builds a row and evaluates its target. ref may be nil.
func newRow(scenario, metric, unit string, value, ref *float64, refName string, target *Target) Row {
	r := Row{Scenario: scenario, Metric: metric, Unit: unit, Value: value, Reference: ref, RefName: refName, Target: target}
	// A ratio of counts (sockets held, violations) says nothing: the target
	// is on the count itself.
	if unit != unitCount && value != nil && ref != nil && *ref != 0 && !math.IsNaN(*value) && !math.IsNaN(*ref) {
		r.Ratio = fp(*value / *ref)
	}
	r.evaluate()
	return r
}

// evaluate sets Pass from the target; a missing figure never passes.
func (r *Row) evaluate() {
	if r.Target == nil {
		r.Pass = nil
		return
	}
	pass := false
	t := r.Target
	switch t.Kind {
	case ratioAtLeast:
		pass = r.Ratio != nil && *r.Ratio >= t.Threshold
	case ratioAtMost:
		pass = r.Ratio != nil && *r.Ratio <= t.Threshold
	case valueAtLeast:
		pass = r.Value != nil && *r.Value >= t.Threshold
	case valueAtMost:
		pass = r.Value != nil && *r.Value <= t.Threshold
	case valueEqual:
		pass = r.Value != nil && *r.Value == t.Threshold
	}
	r.Pass = &pass
}

// trimFloat prints v with at most two decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// formatValue prints a figure in its unit.
func formatValue(v *float64, unit string) string {
	if v == nil || math.IsNaN(*v) {
		return "—"
	}
	x := *v
	switch unit {
	case unitPerSec:
		if x >= 100 {
			return fmt.Sprintf("%.0f/s", x)
		}
		return fmt.Sprintf("%.1f/s", x)
	case unitMS:
		if x >= 100 {
			return fmt.Sprintf("%.0f ms", x)
		}
		if x >= 10 {
			return fmt.Sprintf("%.1f ms", x)
		}
		return fmt.Sprintf("%.2f ms", x)
	case unitMicros:
		return fmt.Sprintf("%.0f µs", x)
	case unitKB:
		return fmt.Sprintf("%.1f KB", x)
	case unitMB:
		return fmt.Sprintf("%.1f MB", x)
	case unitCount:
		return fmt.Sprintf("%.0f", x)
	case unitRatio:
		return fmt.Sprintf("%.2f", x)
	}
	return trimFloat(x) + " " + unit
}

func formatRatio(r *float64) string {
	if r == nil {
		return "—"
	}
	if *r >= 10 {
		return fmt.Sprintf("%.1f×", *r)
	}
	return fmt.Sprintf("%.2f×", *r)
}

func formatPass(p *bool) string {
	switch {
	case p == nil:
		return ""
	case *p:
		return "PASS"
	}
	return "FAIL"
}

// renderTable prints rows as one aligned table.
func renderTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMETRIC\tHANDOFF\tREFERENCE\tRATIO\tTARGET\tRESULT")
	for _, r := range rows {
		ref := formatValue(r.Reference, r.Unit)
		if r.Reference != nil && r.RefName != "" {
			ref += " (" + r.RefName + ")"
		}
		target := ""
		if r.Target != nil {
			target = r.Target.String()
			if r.Target.Kind != ratioAtLeast && r.Target.Kind != ratioAtMost && r.Unit != unitCount && r.Unit != unitRatio {
				target += " " + strings.TrimPrefix(r.Unit, "/")
				if r.Unit == unitPerSec {
					target = r.Target.String() + "/s"
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Metric, formatValue(r.Value, r.Unit), ref, formatRatio(r.Ratio), target, formatPass(r.Pass))
	}
	return tw.Flush()
}

// Report is the JSON written after a run, for later comparison.
type Report struct {
	Started     time.Time      `json:"started"`
	WallSeconds float64        `json:"wallSeconds"`
	Host        map[string]any `json:"host"`
	Params      Params         `json:"params"`
	Scenarios   []string       `json:"scenarios"`
	Rows        []Row          `json:"rows"`
	Details     map[string]any `json:"details"`
	Notes       []string       `json:"notes,omitempty"`
	Passed      int            `json:"passed"`
	Failed      int            `json:"failed"`
}

// tally counts the rows that passed and failed.
func (r *Report) tally() {
	r.Passed, r.Failed = 0, 0
	for _, row := range r.Rows {
		if row.Pass == nil {
			continue
		}
		if *row.Pass {
			r.Passed++
		} else {
			r.Failed++
		}
	}
}

// writeReport writes the report as latest.json and as a timestamped copy in
// dir, returning both paths.
func writeReport(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	stamp := rep.Started.UTC().Format("20060102T150405Z")
	paths := []string{filepath.Join(dir, "latest.json"), filepath.Join(dir, stamp+".json")}
	for _, p := range paths {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
