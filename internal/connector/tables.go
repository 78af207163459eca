package connector

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"oktasync/generated/okta"
	"oktasync/runtime"
)

// tablesWidth is the width `oktasync tables` fits its lines into.
const tablesWidth = 120

// PrintTables lists every table of the registry: keys, how it is read, how
// deletes are captured, what the config's settings make of it (cfg nil:
// the defaults), then which admin roles may read which tables; with
// descriptions and columns when verbose.
func PrintTables(w io.Writer, verbose bool, cfg *Config) {
	var settings *runtime.Settings
	if cfg != nil {
		// Without the salt: whether its variable is set matters to a sync only.
		settings = cfg.runtimeSettings()
	}
	effects := settings.Effective(okta.Registry)
	if verbose {
		describeTables(w, effects)
		return
	}
	rows := [][]string{{"TABLE", "PRIMARY KEY", "READ", "DELETES"}}
	for _, e := range effects {
		t := e.Table
		read, deletes := readMode(t), deleteMode(t)
		if t.Request == nil {
			// Said once below, for every child table.
			read, deletes = t.Breakout.Path, ""
		}
		rows = append(rows, []string{indent(t) + t.Name, strings.Join(t.PrimaryKey, ", "), read, deletes})
	}
	writeGrid(w, tablesWidth, rows)
	fmt.Fprintln(w)
	writeWrapped(w, "", "Indented tables are child tables: read with their parent, from the field READ names, and "+
		"deleted with it. DELETES says when rows gone from Okta are marked _fivetran_deleted: on a full read "+
		"(every sync, or a periodic re-import) the rows not seen are. `oktasync tables -v` describes every table "+
		"and column.", tablesWidth)
	fmt.Fprintln(w)
	printSettings(w, settings, effects)
	fmt.Fprintln(w)
	printRoles(w)
}

// printSettings lists the tables the settings make anything but written as
// they come, history off: blocked, history, hashed or blocked columns.
func printSettings(w io.Writer, s *runtime.Settings, effects []runtime.TableEffect) {
	policy := string(runtime.AllowAll) + " (the default)"
	if s != nil && s.SchemaChange != "" {
		policy = string(s.SchemaChange)
	}
	fmt.Fprintln(w, "SETTINGS (the config's; docs/SETTINGS.md)")
	writeWrapped(w, "  ", "schema_change_handling: "+policy, tablesWidth)
	rows := [][]string{}
	for _, e := range effects {
		if setting := tableSetting(e); setting != "written" {
			rows = append(rows, []string{"  " + e.Table.Name, setting})
		}
	}
	if len(rows) == 0 {
		writeWrapped(w, "  ", "every table is written, every column as it comes, history off", tablesWidth)
		return
	}
	writeGrid(w, tablesWidth, rows)
	writeWrapped(w, "  ", "every other table is written, every column as it comes, history off", tablesWidth)
}

// tableSetting is a table's effective setting in a few words.
func tableSetting(e runtime.TableEffect) string {
	var parts []string
	switch {
	case e.Written:
		parts = append(parts, "written")
	case e.ReadForChildren:
		parts = append(parts, "blocked, read for its written child tables")
	default:
		parts = append(parts, "blocked")
	}
	if e.History {
		h := "history on (versions open at "
		switch {
		case rootOf(e.Table) != e.Table:
			h = "history on, as " + rootOf(e.Table).Name + " (versions open with the parent's"
		case e.HistoryStart != "":
			h += startFields(e.HistoryStart)
		default:
			h += "the sync time"
		}
		parts = append(parts, h+")")
	}
	var hashed, blocked int
	for _, c := range e.Columns {
		if c.Hashed && c.Enabled {
			hashed++
		}
		if !c.Enabled {
			blocked++
		}
	}
	if e.Written && hashed > 0 {
		parts = append(parts, plural(hashed, "hashed column"))
	}
	if e.Written && blocked > 0 {
		parts = append(parts, plural(blocked, "blocked column"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// historyText says whether a table keeps history, and what opens a version.
func historyText(e runtime.TableEffect) string {
	if !e.History {
		return "history: off"
	}
	s := "history: on; versions open at "
	if e.HistoryStart != "" {
		s += "the record's " + startFields(e.HistoryStart) + " (the source's change time)"
	} else {
		s += "the sync time (the table has no change time)"
	}
	if root := rootOf(e.Table); root != e.Table {
		s = "history: on, as " + root.Name + "; a version opens with its parent's, at " + strings.TrimPrefix(s, "history: on; versions open at ")
	}
	return s
}

// startFields names the field that opens a version, or the latest of
// several (TableEffect.HistoryStart lists them comma-separated).
func startFields(list string) string {
	fields := strings.Split(list, ", ")
	if len(fields) == 1 {
		return list
	}
	return "latest of " + strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
}

func rootOf(t *runtime.Table) *runtime.Table {
	for t.Parent != nil {
		t = t.Parent
	}
	return t
}

// columnSetting is a column's effective setting: blocked, hashed or
// (blank) enabled, and why when the user did not say.
func columnSetting(c runtime.ColumnEffect) string {
	s := ""
	switch {
	case !c.Enabled:
		s = "blocked"
	case c.Hashed:
		s = "hashed"
	}
	switch {
	case c.Why != "" && s != "":
		s += " (" + c.Why + ")"
	case c.Why != "":
		s = c.Why
	}
	return s
}

func indent(t *runtime.Table) string {
	s := ""
	for p := t.Parent; p != nil; p = p.Parent {
		s += "  "
	}
	return s
}

// printRoles groups the tables by the admin roles that may read them (child
// tables go with their parent), as Okta's API reference lists them.
func printRoles(w io.Writer) {
	fmt.Fprintln(w, "WHO MAY READ WHICH TABLES (admin roles from Okta's API reference; `oktasync check` tries a token)")
	var order []string
	groups := map[string][]string{}
	for _, t := range okta.Registry.Tables {
		key := strings.Join(t.Permissions.Roles, ", ")
		if key == "" {
			key = "no role listed; the scope " + t.Permissions.Scope
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], t.Name)
	}
	for _, key := range order {
		writeWrapped(w, "  ", key+":", tablesWidth)
		writeWrapped(w, "      ", strings.Join(groups[key], ", "), tablesWidth)
	}
}

// describeTables is `oktasync tables -v`: per table its description, key,
// reading, deletes, roles, settings, and its columns with their types as
// written, settings and descriptions.
func describeTables(w io.Writer, effects []runtime.TableEffect) {
	first := true
	for _, e := range effects {
		t := e.Table
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		name := t.Name
		if t.Parent != nil {
			name += " (child of " + t.Parent.Name + ")"
		}
		fmt.Fprintln(w, name)
		if t.Description != "" {
			writeWrapped(w, "  ", t.Description, tablesWidth)
		}
		writeWrapped(w, "  ", "primary key: "+strings.Join(t.PrimaryKey, ", "), tablesWidth)
		writeWrapped(w, "  ", "read: "+readMode(t), tablesWidth)
		writeWrapped(w, "  ", "deletes: "+deleteMode(t), tablesWidth)
		if t.Parent == nil {
			roles := "roles: " + strings.Join(t.Permissions.Roles, ", ")
			if len(t.Permissions.Roles) == 0 {
				roles = "roles: none listed"
			}
			if t.Permissions.Scope != "" {
				roles += "; scope " + t.Permissions.Scope
			}
			writeWrapped(w, "  ", roles, tablesWidth)
		}
		setting := "setting: written"
		switch {
		case e.ReadForChildren:
			setting = "setting: blocked; read for its written child tables, never written"
		case !e.Written:
			setting = "setting: blocked; neither read nor written"
		}
		writeWrapped(w, "  ", setting, tablesWidth)
		writeWrapped(w, "  ", historyText(e), tablesWidth)
		// A SETTING column only where a column is blocked or hashed: it
		// costs the descriptions width.
		settings := slices.ContainsFunc(e.Columns, func(c runtime.ColumnEffect) bool { return !c.Enabled || c.Hashed })
		rows := [][]string{{"COLUMN", "TYPE", "SETTING", "SOURCE", "DESCRIPTION"}}
		for _, c := range e.Columns {
			source, desc := "", ""
			if i := slices.IndexFunc(t.Columns, func(sc runtime.Column) bool { return sc.Name == c.Name }); i >= 0 {
				source, desc = t.Columns[i].Source, t.Columns[i].Description
			} else {
				for _, d := range t.Dynamic {
					if rest, ok := strings.CutPrefix(c.Name, d.Prefix); ok {
						source, desc = d.Path+"."+rest, "a key of the object (named in the config)"
					}
				}
			}
			rows = append(rows, []string{c.Name, c.Type.String(), columnSetting(c), source, desc})
		}
		for _, d := range t.Dynamic {
			rows = append(rows, []string{d.Prefix + "*", d.Type.String(), "", d.Path + ".*",
				"a column per key of the object, as schema_change_handling decides"})
		}
		if !settings {
			for i, r := range rows {
				rows[i] = slices.Delete(r, 2, 3)
			}
		}
		var b strings.Builder
		writeGrid(&b, tablesWidth-4, rows)
		for line := range strings.Lines(b.String()) {
			fmt.Fprint(w, "    "+line)
		}
	}
}

func readMode(t *runtime.Table) string {
	fo := t.FanOut
	switch {
	case t.Request == nil:
		return "with its parent: " + t.Breakout.Path
	case fo != nil && fo.Changes != nil:
		return "per " + fanOutParent(fo) + " on full passes, " + fo.Changes.Feed + " events in between"
	case fo != nil && fo.ChangedSince != nil:
		return "per " + fanOutParent(fo) + " changed since the last sync (" + strings.Join(fo.ChangedSince.Fields(), ", ") + ")"
	case fo != nil:
		return "per " + fanOutParent(fo) + ", every sync"
	case t.Incremental == nil:
		return "full, every sync"
	case t.Incremental.Kind == runtime.IncrementalNextURL:
		return "polling, resumes at the stored next link"
	default:
		return "incremental on " + strings.Join(t.Incremental.Fields(), ", ")
	}
}

// fanOutParent names what a fan-out table is read once per: a table's rows,
// a listing's records or fixed values.
func fanOutParent(fo *runtime.FanOut) string {
	switch {
	case fo.Parent != "":
		return fo.Parent + " row"
	case len(fo.Values) > 0:
		return fmt.Sprintf("fixed value (%d)", len(fo.Values))
	case fo.Request != nil:
		return fo.Request.Path + " record"
	}
	return "parent"
}

func deleteMode(t *runtime.Table) string {
	if t.Request == nil {
		return "with parent"
	}
	switch t.Deletes.Kind {
	case runtime.DeletesFullReimport:
		if t.Deletes.Every == 0 {
			return "every sync"
		}
		return "re-import every " + days(t.Deletes.Every)
	}
	if t.FanOut != nil {
		return "replaced per parent"
	}
	return "none"
}

// days writes whole days as 7d, the way the config's reimport_every takes
// them, and other durations as Go does, without trailing zero units.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// IsTable reports whether name is a table (child tables included).
func IsTable(name string) bool { return okta.Registry.Lookup(name) != nil }

// writeGrid writes rows of cells in aligned columns two spaces apart. When
// a line would be wider than width, the columns but the first narrow in
// proportion to their natural widths and their cells wrap.
func writeGrid(w io.Writer, width int, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	n := len(rows[0])
	natural := make([]int, n)
	for _, r := range rows {
		for i, cell := range r {
			natural[i] = max(natural[i], utf8.RuneCountInString(cell))
		}
	}
	widths := slices.Clone(natural)
	// Short columns keep their width: wrapping them saves little.
	const narrowest = 18
	for sum(widths)+2*(n-1) > width {
		// Narrow the column that has kept the most of its natural width.
		c := -1
		for i := 1; i < n; i++ {
			if widths[i] > narrowest && (c < 0 || widths[i]*natural[c] > widths[c]*natural[i]) {
				c = i
			}
		}
		if c < 0 {
			break
		}
		widths[c]--
	}
	for _, r := range rows {
		cells := make([][]string, n)
		height := 1
		for i, cell := range r {
			if i == 0 {
				cells[i] = []string{cell}
			} else {
				cells[i] = wrap(cell, widths[i])
			}
			height = max(height, len(cells[i]))
		}
		for l := range height {
			var b strings.Builder
			for i := range n {
				part := ""
				if l < len(cells[i]) {
					part = cells[i][l]
				}
				b.WriteString(part)
				if i < n-1 {
					b.WriteString(strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(part), 0)+2))
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// writeWrapped writes text wrapped at spaces to width, each line indented.
func writeWrapped(w io.Writer, indent, text string, width int) {
	for _, line := range wrap(text, width-len(indent)) {
		fmt.Fprintln(w, indent+line)
	}
}

// wrap breaks text at spaces into lines of at most width runes; a longer
// word is broken after a dot, comma or underscore, or else where it must.
func wrap(text string, width int) []string {
	width = max(width, 1)
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
		for utf8.RuneCountInString(line) > width {
			r := []rune(line)
			cut := width
			for i := width; i > width/2; i-- {
				if strings.ContainsRune("._,/", r[i-1]) {
					cut = i
					break
				}
			}
			lines = append(lines, string(r[:cut]))
			line = string(r[cut:])
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}
