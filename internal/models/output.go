package models

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// PrintResult prints one line per model: name, kind, status, rows, time,
// then the error of each model that failed or was skipped.
func PrintResult(w io.Writer, res *Result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tKIND\tSTATUS\tROWS\tTIME")
	for _, o := range res.Outcomes {
		rows := "-"
		if o.Rows >= 0 {
			rows = fmt.Sprint(o.Rows)
		}
		took := "-"
		if o.Status != StatusSkipped {
			took = o.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Model.Name, o.Model.Materialized, o.Status, rows, took)
	}
	fmt.Fprintf(tw, "TOTAL\t\t%d ok, %d failed or skipped\t\t%s\n", len(res.Outcomes)-res.Failed(), res.Failed(), res.Duration.Round(time.Millisecond))
	tw.Flush()
}

// PrintFailures prints why each model that is not ok failed or was skipped.
func PrintFailures(w io.Writer, prefix string, res *Result) {
	for _, o := range res.Outcomes {
		if o.Err == nil {
			continue
		}
		msg := strings.ReplaceAll(strings.TrimSpace(o.Err.Error()), "\n", "\n"+prefix+"    ")
		fmt.Fprintf(w, "%smodel %s %s: %s\n", prefix, o.Model.Name, o.Status, msg)
	}
}

// jsonOutcome is one model's outcome as --json prints it, one a line.
type jsonOutcome struct {
	Model    string  `json:"model"`
	Kind     string  `json:"kind"`
	Status   string  `json:"status"`
	Rows     *int64  `json:"rows,omitempty"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
	Relation string  `json:"relation"`
}

// PrintResultJSON prints one JSON object a line per model.
func PrintResultJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	for _, o := range res.Outcomes {
		j := jsonOutcome{Model: o.Model.Name, Kind: o.Model.Materialized, Status: o.Status,
			Seconds: o.Duration.Seconds(), Relation: Schema + "." + o.Model.Name}
		if o.Rows >= 0 {
			j.Rows = &o.Rows
		}
		if o.Err != nil {
			j.Error = o.Err.Error()
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

// PrintList prints the models, in the order they run: name, kind, title.
func PrintList(w io.Writer, ms []*Model) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tKIND\tREADS MODELS\tTITLE")
	for _, m := range ms {
		uses := strings.Join(m.Uses, ",")
		if uses == "" {
			uses = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Materialized, uses, m.Title)
	}
	tw.Flush()
}
