package connector

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"oktasync/generated/okta"
	"oktasync/runtime"
)

// PrintTables lists every table of the registry: keys, how it is read, how
// deletes are captured and who may read it; with columns when verbose.
func PrintTables(w io.Writer, verbose bool) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tPRIMARY KEY\tREAD\tDELETES\tROLES")
	okta.Registry.Walk(func(t *runtime.Table) {
		indent := ""
		for p := t.Parent; p != nil; p = p.Parent {
			indent += "  "
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", indent, t.Name, strings.Join(t.PrimaryKey, ", "), readMode(t), deleteMode(t), strings.Join(t.Permissions.Roles, ","))
		if verbose {
			for _, c := range t.Columns {
				fmt.Fprintf(tw, "%s    %s\t%s\t%s\t\t\n", indent, c.Name, c.Type, c.Source)
			}
		}
	})
	tw.Flush()
}

func readMode(t *runtime.Table) string {
	switch {
	case t.Request == nil:
		return "with " + t.Parent.Name + " (" + t.Breakout.Path + ")"
	case t.FanOut != nil && t.FanOut.Changes != nil:
		return "per " + t.FanOut.Parent + " row on full passes, " + t.FanOut.Changes.Feed + " events in between"
	case t.FanOut != nil && t.FanOut.ChangedSince != nil:
		return "per " + t.FanOut.Parent + " row changed since last sync (" + t.FanOut.ChangedSince.CursorField + ")"
	case t.FanOut != nil:
		return "per " + t.FanOut.Parent + " row, every sync"
	case t.Incremental == nil:
		return "full, every sync"
	case t.Incremental.Kind == runtime.IncrementalNextURL:
		return "polling, resumes at the stored next link"
	default:
		return "incremental on " + t.Incremental.CursorField
	}
}

func deleteMode(t *runtime.Table) string {
	if t.Request == nil {
		return "with parent"
	}
	switch t.Deletes.Kind {
	case runtime.DeletesFullReimport:
		if t.Deletes.Every == 0 {
			return "unseen rows, every sync"
		}
		return "unseen rows, re-import every " + t.Deletes.Every.String()
	}
	if t.FanOut != nil {
		return "replaced per parent"
	}
	return "none"
}

// IsTable reports whether name is a table (child tables included).
func IsTable(name string) bool { return okta.Registry.Lookup(name) != nil }
