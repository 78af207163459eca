// Package detect loads the detection pack (detections/*.sql), each file a
// DuckDB query under a header of `-- key: value` lines, and runs it over a
// synced database, read-only. docs/DETECTIONS.md describes the format.
package detect

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

// Detection is one detection of the pack.
type Detection struct {
	ID        string   // the file's name without .sql
	Title     string   // one line
	Technique string   // MITRE ATT&CK id and name, "T1110.003 Password Spraying"
	Severity  string   // low, medium, high or critical
	Scenarios []string // the simulator scenarios it is written for; nil: none
	Fields    []string // table.column it reads
	// Description says what it finds, and its false positives.
	Description string
	File        string // detections/<id>.sql
	SQL         string // the query after the header
}

// Severities in increasing order.
var Severities = []string{"low", "medium", "high", "critical"}

// SinceParam is the query parameter every detection filters on: events
// published at or after it (a TIMESTAMP literal, UTC).
const SinceParam = "$since"

var (
	idRe        = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	techniqueRe = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})? \S.*$`)
	fieldRe     = regexp.MustCompile(`^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$`)
	headerKeyRe = regexp.MustCompile(`^--\s*([a-z]+):\s*(.*)$`)
)

// headerKeys are the keys a header must have, in the order they are written.
var headerKeys = []string{"id", "title", "technique", "severity", "scenario", "fields", "description"}

// Parse parses one detection file: name is its path (for errors and File),
// src its text. Every problem of the header is reported at once.
func Parse(name string, src string) (*Detection, error) {
	vals := map[string]string{}
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
		if m := headerKeyRe.FindStringSubmatch(l); m != nil && slices.Contains(headerKeys, m[1]) {
			if _, dup := vals[m[1]]; dup {
				bad(i+1, "%s: given twice", m[1])
			}
			last = m[1]
			vals[last] = strings.TrimSpace(m[2])
			continue
		}
		text := strings.TrimSpace(strings.TrimPrefix(l, "--"))
		switch {
		case headerKeyRe.MatchString(l) && last != "description":
			bad(i+1, "unknown header key in %q; the keys are %s", l, strings.Join(headerKeys, ", "))
		case last == "":
			bad(i+1, "a header line before -- id: %q", l)
		case text == "":
			if last == "description" {
				vals[last] = strings.TrimRight(vals[last], "\n") + "\n\n"
			}
		default:
			if v := vals[last]; v != "" && !strings.HasSuffix(v, "\n") {
				vals[last] += " "
			}
			vals[last] += text
		}
	}
	d := &Detection{File: name, SQL: strings.TrimSpace(strings.Join(lines[body:], "\n"))}
	for _, k := range headerKeys {
		if strings.TrimSpace(vals[k]) == "" {
			bad(1, "header: -- %s: missing", k)
		}
	}
	d.ID, d.Title, d.Technique = vals["id"], vals["title"], vals["technique"]
	d.Severity = vals["severity"]
	d.Description = strings.TrimSpace(vals["description"])
	want := strings.TrimSuffix(path.Base(name), ".sql")
	if d.ID != "" && (!idRe.MatchString(d.ID) || d.ID != want) {
		bad(1, "id: %q must be the file's name, %q (lower case, digits, _)", d.ID, want)
	}
	if d.Technique != "" && !techniqueRe.MatchString(d.Technique) {
		bad(1, "technique: %q: want a MITRE ATT&CK id and its name, e.g. T1110.003 Password Spraying", d.Technique)
	}
	if d.Severity != "" && !slices.Contains(Severities, d.Severity) {
		bad(1, "severity: %q: want one of %s", d.Severity, strings.Join(Severities, ", "))
	}
	if s := vals["scenario"]; s != "" && s != "none" {
		for _, sc := range sqlfiles.SplitList(s) {
			if !idRe.MatchString(sc) {
				bad(1, "scenario: %q is not a scenario name", sc)
			}
			d.Scenarios = append(d.Scenarios, sc)
		}
	}
	for _, f := range sqlfiles.SplitList(vals["fields"]) {
		if !fieldRe.MatchString(f) {
			bad(1, "fields: %q: want table.column", f)
		}
		d.Fields = append(d.Fields, f)
	}
	switch {
	case d.SQL == "":
		bad(body+1, "no query after the header")
	case !strings.Contains(d.SQL, SinceParam):
		bad(body+1, "the query does not use %s (events published at or after --since)", SinceParam)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// Tables returns the tables the detection's fields name, sorted.
func (d *Detection) Tables() []string {
	var out []string
	for _, f := range d.Fields {
		t, _, _ := strings.Cut(f, ".")
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Load parses every .sql file of fsys's root, sorted by id. Problems of
// every file are reported at once.
func Load(fsys fs.FS, dir string) ([]*Detection, error) {
	out, err := sqlfiles.Load(fsys, dir, "detections", Parse)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Detection) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Select returns the detections whose ids are listed, in the pack's order;
// an id not in the pack is an error naming the pack's ids.
func Select(pack []*Detection, ids []string) ([]*Detection, error) {
	if len(ids) == 0 {
		return pack, nil
	}
	var out []*Detection
	var unknown []string
	for _, id := range ids {
		if !slices.ContainsFunc(pack, func(d *Detection) bool { return d.ID == id }) {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		var all []string
		for _, d := range pack {
			all = append(all, d.ID)
		}
		return nil, fmt.Errorf("no detection %s; the pack has %s", strings.Join(unknown, ", "), strings.Join(all, ", "))
	}
	for _, d := range pack {
		if slices.Contains(ids, d.ID) {
			out = append(out, d)
		}
	}
	return out, nil
}
