// Package models loads the data models (models/*.sql), each file a DuckDB
// query under a header of `-- key: value` lines, orders them by the models
// their SQL reads, and materialises them into the okta_models schema.
// docs/MODELS.md describes the format.
package models

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"oktasync/internal/sqlfiles"
)

// Schemas the models read and write. Models read the synced tables through
// CurrentSchema (live rows, whatever the table's mode) and HistorySchema
// (versions, for tables in history mode), which Prepare builds, and each
// other through Schema.
const (
	Schema        = "okta_models"
	CurrentSchema = "okta_current"
	HistorySchema = "okta_history"
)

// Model is one model of models/.
type Model struct {
	Name  string // the file's name without .sql; the table or view's name
	Title string // what it answers, one line
	Grain string // what one row is
	// Key is the columns that identify a row (unique together).
	Key          []string
	Materialized string // "table" or "view"
	Columns      []Column
	Description  string
	Example      string // a query over the model, for the documentation
	File         string // models/<name>.sql
	SQL          string // the query after the header
	// Line is the file's line of the query's first line, to turn the
	// database's "LINE n" into a line of the file.
	Line int
	// Reads are the relations the SQL names in CurrentSchema and
	// HistorySchema ("okta_current.users"), Uses the models it reads, both
	// sorted: derived from the SQL, never written by hand.
	Reads, Uses []string
}

// Column is one documented column of a model.
type Column struct {
	Name    string
	Meaning string
}

// Kinds of materialisation.
var Kinds = []string{"table", "view"}

var (
	nameRe      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	headerKeyRe = regexp.MustCompile(`^-- ([a-z]+):(.*)$`)
	columnRe    = regexp.MustCompile(`^([a-z_][a-z0-9_]*):\s*(.*)$`)
	// relationRe finds the relations a query names in the schemas models
	// read; a quoted or upper-case spelling is not recognised, which the
	// documentation says.
	relationRe = regexp.MustCompile(`\b(okta_current|okta_history|okta_models)\.([a-z_][a-z0-9_]*)\b`)
)

// headerKeys are the keys of a header, in the order they are written.
var headerKeys = []string{"name", "title", "grain", "key", "materialized", "columns", "description", "example"}

// Parse parses one model file: name is its path (for errors and File), src
// its text. Every problem of the header is reported at once, as file:line.
func Parse(name, src string) (*Model, error) {
	vals := map[string]string{}
	keyLine := map[string]int{}
	var cols []Column
	var example []string
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	lines := strings.Split(src, "\n")
	last := ""
	body := len(lines)
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if !strings.HasPrefix(l, "--") {
			if strings.TrimSpace(l) == "" && len(vals) == 0 {
				continue
			}
			body = i
			break
		}
		if m := headerKeyRe.FindStringSubmatch(l); m != nil {
			if !slices.Contains(headerKeys, m[1]) {
				bad(i+1, "unknown header key %q; the keys are %s", m[1], strings.Join(headerKeys, ", "))
				continue
			}
			if _, dup := vals[m[1]]; dup {
				bad(i+1, "%s: given twice", m[1])
			}
			last = m[1]
			vals[last] = strings.TrimSpace(m[2])
			keyLine[last] = i + 1
			continue
		}
		// A continuation line: "--" then at least two spaces, or "--" alone.
		rest := strings.TrimPrefix(l, "--")
		if last == "" {
			bad(i+1, "a header line before -- name: %q", l)
			continue
		}
		if rest != "" && !strings.HasPrefix(rest, "  ") {
			bad(i+1, "%q: a header key is written \"-- key: value\", a continuation line indented by at least two spaces after \"--\"", l)
			continue
		}
		text := strings.TrimSpace(rest)
		switch last {
		case "columns":
			if text == "" {
				continue
			}
			if m := columnRe.FindStringSubmatch(text); m != nil && strings.HasPrefix(rest, "   ") && rest[3] != ' ' {
				cols = append(cols, Column{m[1], m[2]})
				continue
			}
			if len(cols) == 0 {
				bad(i+1, "columns: want \"--   name: meaning\", got %q", l)
				continue
			}
			c := &cols[len(cols)-1]
			c.Meaning = strings.TrimSpace(c.Meaning + " " + text)
		case "example":
			example = append(example, strings.TrimPrefix(rest, "   "))
		case "description":
			if text == "" {
				vals[last] = strings.TrimRight(vals[last], "\n") + "\n\n"
				continue
			}
			fallthrough
		default:
			if v := vals[last]; v != "" && !strings.HasSuffix(v, "\n") {
				vals[last] += " "
			}
			vals[last] += text
		}
	}
	m := &Model{File: name, Line: body + 1}
	sqlText := strings.Join(lines[min(body, len(lines)):], "\n")
	m.SQL = strings.TrimRight(strings.TrimSpace(sqlText), "; \n\t")
	for _, k := range headerKeys {
		switch k {
		case "columns":
			if _, ok := vals[k]; !ok || len(cols) == 0 {
				bad(1, "header: -- columns: missing (one \"--   name: meaning\" line per column)")
			}
		case "example":
			if _, ok := vals[k]; !ok || strings.TrimSpace(strings.Join(example, "\n")) == "" {
				bad(1, "header: -- example: missing (a query over the model, indented under it)")
			}
		default:
			if strings.TrimSpace(vals[k]) == "" {
				bad(1, "header: -- %s: missing", k)
			}
		}
	}
	if v := vals["columns"]; v != "" {
		bad(keyLine["columns"], "columns: list them on the lines below, one \"--   name: meaning\" a line")
	}
	m.Name, m.Title, m.Grain = vals["name"], vals["title"], vals["grain"]
	m.Materialized = vals["materialized"]
	m.Description = strings.TrimSpace(vals["description"])
	m.Columns = cols
	m.Example = strings.TrimSpace(strings.Join(example, "\n"))
	want := strings.TrimSuffix(path.Base(name), ".sql")
	if m.Name != "" && (!nameRe.MatchString(m.Name) || m.Name != want) {
		bad(keyLine["name"], "name: %q must be the file's name, %q (lower case, digits, _)", m.Name, want)
	}
	if m.Materialized != "" && !slices.Contains(Kinds, m.Materialized) {
		bad(keyLine["materialized"], "materialized: %q: want table or view", m.Materialized)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			bad(keyLine["columns"], "columns: %s listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Meaning == "" {
			bad(keyLine["columns"], "columns: %s has no meaning", c.Name)
		}
	}
	for _, k := range sqlfiles.SplitList(vals["key"]) {
		if !seen[k] && len(cols) > 0 {
			bad(keyLine["key"], "key: %s is not one of the columns", k)
		}
		m.Key = append(m.Key, k)
	}
	if m.SQL == "" {
		bad(body+1, "no query after the header")
	}
	m.Reads, m.Uses = references(m.SQL)
	if slices.Contains(m.Uses, m.Name) {
		bad(m.Line+lineOf(m.SQL, Schema+"."+m.Name), "the query reads %s.%s, itself", Schema, m.Name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// references returns the relations a query names in the schemas of the
// synced tables, and the models it reads, each sorted and distinct.
func references(q string) (reads, uses []string) {
	for _, l := range strings.Split(q, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i] // a comment names nothing the query reads
		}
		for _, m := range relationRe.FindAllStringSubmatch(l, -1) {
			if m[1] == Schema {
				uses = append(uses, m[2])
			} else {
				reads = append(reads, m[1]+"."+m[2])
			}
		}
	}
	slices.Sort(reads)
	slices.Sort(uses)
	return slices.Compact(reads), slices.Compact(uses)
}

// lineOf is the 0-based line of q where s first appears (0 if nowhere).
func lineOf(q, s string) int {
	if i := strings.Index(q, s); i >= 0 {
		return strings.Count(q[:i], "\n")
	}
	return 0
}

// Load parses every .sql file of fsys's root and orders them so that a
// model comes after every model it reads (ties by name). Problems of every
// file are reported at once.
func Load(fsys fs.FS, dir string) ([]*Model, error) {
	out, err := sqlfiles.Load(fsys, dir, "models", Parse)
	if err != nil {
		return nil, err
	}
	return Order(out)
}

// Order sorts models so that each comes after the models it reads, ties by
// name. A model reading one that does not exist, or a cycle, is an error
// naming the files.
func Order(ms []*Model) ([]*Model, error) {
	byName := map[string]*Model{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	var errs []error
	for _, m := range ms {
		for _, u := range m.Uses {
			if byName[u] == nil {
				errs = append(errs, fmt.Errorf("%s:%d: reads %s.%s, which is no model (models: %s)",
					m.File, m.Line+lineOf(m.SQL, Schema+"."+u), Schema, u, strings.Join(names(ms), ", ")))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []*Model
	done := map[string]bool{}
	state := map[string]int{} // 1: on the path being visited, 2: done
	var visit func(m *Model, path []string) error
	visit = func(m *Model, path []string) error {
		switch state[m.Name] {
		case 1:
			i := slices.Index(path, m.Name)
			cycle := append(slices.Clone(path[i:]), m.Name)
			return fmt.Errorf("%s: models read each other in a cycle: %s", m.File, strings.Join(cycle, " -> "))
		case 2:
			return nil
		}
		state[m.Name] = 1
		for _, u := range m.Uses {
			if err := visit(byName[u], append(path, m.Name)); err != nil {
				return err
			}
		}
		state[m.Name] = 2
		if !done[m.Name] {
			done[m.Name] = true
			out = append(out, m)
		}
		return nil
	}
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b *Model) int { return strings.Compare(a.Name, b.Name) })
	for _, m := range sorted {
		if err := visit(m, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Select returns the models named and every model they read, directly or
// not, in order; a name that is no model is an error naming the models.
func Select(ordered []*Model, names []string) ([]*Model, error) {
	if len(names) == 0 {
		return ordered, nil
	}
	byName := map[string]*Model{}
	for _, m := range ordered {
		byName[m.Name] = m
	}
	var unknown []string
	want := map[string]bool{}
	var add func(n string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for _, u := range byName[n].Uses {
			add(u)
		}
	}
	for _, n := range names {
		if byName[n] == nil {
			unknown = append(unknown, n)
			continue
		}
		add(n)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no model %s; the models are %s", strings.Join(unknown, ", "), strings.Join(Names(ordered), ", "))
	}
	var out []*Model
	for _, m := range ordered {
		if want[m.Name] {
			out = append(out, m)
		}
	}
	return out, nil
}

// Names lists models' names, in their order.
func Names(ms []*Model) []string { return names(ms) }

func names(ms []*Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// ColumnNames lists a model's documented columns.
func (m *Model) ColumnNames() []string {
	var out []string
	for _, c := range m.Columns {
		out = append(out, c.Name)
	}
	return out
}
