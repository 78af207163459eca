package detect

import (
	"fmt"
	"strings"
)

// Catalogue markers in docs/DETECTIONS.md: the text between them is
// rendered from the pack's headers (Catalogue) and a test keeps it so.
const (
	CatalogueBegin = "<!-- catalogue: rendered from the headers of detections/*.sql; go test ./internal/detect -run TestDocsCatalogue -update -->"
	CatalogueEnd   = "<!-- end of catalogue -->"
)

// Catalogue renders the pack as Markdown: a summary table, then one
// section per detection with its header's fields.
func Catalogue(pack []*Detection) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d detections.\n\n", len(pack))
	b.WriteString("| detection | severity | ATT&CK technique | scenario |\n|---|---|---|---|\n")
	for _, d := range pack {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", d.ID, d.ID, d.Severity, d.Technique, scenarioList(d))
	}
	for _, d := range pack {
		fmt.Fprintf(&b, "\n### %s\n\n", d.ID)
		fmt.Fprintf(&b, "**%s**\n\n", d.Title)
		fmt.Fprintf(&b, "- Technique: %s\n- Severity: %s\n- Simulator scenario: %s\n- File: [`%s`](../%s)\n",
			d.Technique, d.Severity, scenarioList(d), d.File, d.File)
		fmt.Fprintf(&b, "- Reads: %s\n\n", fieldList(d))
		b.WriteString(d.Description)
		b.WriteString("\n")
	}
	return b.String()
}

func scenarioList(d *Detection) string {
	if len(d.Scenarios) == 0 {
		return "none (tested on fixtures)"
	}
	return "`" + strings.Join(d.Scenarios, "`, `") + "`"
}

// fieldList groups a detection's fields by table: "`system_log`: a, b; ...".
func fieldList(d *Detection) string {
	var parts []string
	for _, t := range d.Tables() {
		var cols []string
		for _, f := range d.Fields {
			if tab, col, _ := strings.Cut(f, "."); tab == t {
				cols = append(cols, col)
			}
		}
		parts = append(parts, fmt.Sprintf("`%s`: %s", t, strings.Join(cols, ", ")))
	}
	return strings.Join(parts, "; ")
}
