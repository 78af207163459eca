package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// PrintHits prints hits as an aligned table: detection, severity,
// detected_at, actor, summary.
func PrintHits(w io.Writer, hits []Hit) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DETECTION\tSEVERITY\tDETECTED_AT\tACTOR\tSUMMARY")
	for _, h := range hits {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Detection.ID, h.Detection.Severity,
			h.DetectedAt.Format(time.RFC3339), oneLine(h.Actor), oneLine(h.Summary))
	}
	tw.Flush()
}

// jsonHit is a hit as --json prints it, one object a line.
type jsonHit struct {
	Detection  string         `json:"detection"`
	Title      string         `json:"title"`
	Severity   string         `json:"severity"`
	Technique  string         `json:"technique"`
	DetectedAt time.Time      `json:"detected_at"`
	Actor      string         `json:"actor"`
	Summary    string         `json:"summary"`
	Evidence   map[string]any `json:"evidence,omitempty"`
}

// PrintHitsJSON prints one JSON object a line per hit.
func PrintHitsJSON(w io.Writer, hits []Hit) error {
	enc := json.NewEncoder(w)
	for _, h := range hits {
		j := jsonHit{Detection: h.Detection.ID, Title: h.Detection.Title, Severity: h.Detection.Severity,
			Technique: h.Detection.Technique, DetectedAt: h.DetectedAt, Actor: h.Actor, Summary: h.Summary}
		if len(h.Evidence) > 0 {
			j.Evidence = map[string]any{}
			for _, f := range h.Evidence {
				j.Evidence[f.Name] = f.Value
			}
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

// PrintFailures prints each failed detection: its id, its file and the
// database's error.
func PrintFailures(w io.Writer, prefix string, fails []Failure) {
	for _, f := range fails {
		msg := strings.ReplaceAll(strings.TrimSpace(f.Err.Error()), "\n", "\n"+prefix+"    ")
		fmt.Fprintf(w, "%sdetection %s failed (%s): %s\n", prefix, f.Detection.ID, f.Detection.File, msg)
	}
}

// PrintList prints the pack: id, severity, technique, scenario, title.
func PrintList(w io.Writer, pack []*Detection) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTECHNIQUE\tSCENARIO\tTITLE")
	for _, d := range pack {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Severity, d.Technique, scenarioText(d), d.Title)
	}
	tw.Flush()
}

// jsonDetection is a detection as --list --json prints it.
type jsonDetection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Technique   string   `json:"technique"`
	Severity    string   `json:"severity"`
	Scenarios   []string `json:"scenarios"`
	Fields      []string `json:"fields"`
	Description string   `json:"description"`
	File        string   `json:"file"`
}

// PrintListJSON prints one JSON object a line per detection.
func PrintListJSON(w io.Writer, pack []*Detection) error {
	enc := json.NewEncoder(w)
	for _, d := range pack {
		sc := d.Scenarios
		if sc == nil {
			sc = []string{}
		}
		if err := enc.Encode(jsonDetection{d.ID, d.Title, d.Technique, d.Severity, sc, d.Fields, d.Description, d.File}); err != nil {
			return err
		}
	}
	return nil
}

func scenarioText(d *Detection) string {
	if len(d.Scenarios) == 0 {
		return "none"
	}
	return strings.Join(d.Scenarios, ",")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
