package models

import (
	"fmt"
	"strings"
)

// Catalogue markers in docs/MODELS.md: the text between them is rendered
// from the models' headers (Catalogue) and a test keeps it so.
const (
	CatalogueBegin = "<!-- catalogue: rendered from the headers of models/*.sql; go test ./internal/models -run TestDocsCatalogue -update -->"
	CatalogueEnd   = "<!-- end of catalogue -->"
)

// Catalogue renders the models as Markdown: a summary table in the order
// they run, then one section per model with its header.
func Catalogue(ms []*Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d models, in the order they run.\n\n", len(ms))
	b.WriteString("| model | kind | answers | reads models |\n|---|---|---|---|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", m.Name, m.Name, m.Materialized, m.Title, codeList(m.Uses, "-"))
	}
	for _, m := range ms {
		fmt.Fprintf(&b, "\n### %s\n\n", m.Name)
		fmt.Fprintf(&b, "**%s**\n\n", m.Title)
		fmt.Fprintf(&b, "- Grain: %s\n- Key: %s\n- Materialized: %s `%s.%s`\n- File: [`%s`](../%s)\n",
			m.Grain, codeList(m.Key, ""), m.Materialized, Schema, m.Name, m.File, m.File)
		fmt.Fprintf(&b, "- Reads: %s\n\n", codeList(append(modelRefs(m.Uses), m.Reads...), "-"))
		b.WriteString(m.Description)
		b.WriteString("\n\n| column | meaning |\n|---|---|\n")
		for _, c := range m.Columns {
			fmt.Fprintf(&b, "| `%s` | %s |\n", c.Name, strings.ReplaceAll(c.Meaning, "|", `\|`))
		}
		fmt.Fprintf(&b, "\n```sql\n%s\n```\n", m.Example)
	}
	return b.String()
}

func modelRefs(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, Schema+"."+n)
	}
	return out
}

func codeList(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return "`" + strings.Join(items, "`, `") + "`"
}
