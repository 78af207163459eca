package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Validation of change feeds (source.feeds) and of the tables that read
// them (parent.changes).

// feed checks one declared change feed.
func (v *validator) feed(fd *Feed, field string, fp Pos) {
	if fd.Name != "" && !identRe.MatchString(fd.Name) {
		v.errorf(v.pos(&fd.Name, fp), field+".name", "%q is not a lower snake_case name", fd.Name)
	}
	if _, dup := v.feeds[fd.Name]; dup && fd.Name != "" {
		v.errorf(v.pos(&fd.Name, fp), field+".name", "feed %q is declared twice", fd.Name)
	}
	v.feeds[fd.Name] = fd
	if r := fd.Request; r != nil {
		v.request(r, v.pos(r, fp), field+".request", false)
	}
	if p := fd.Pagination; p != nil {
		pp := v.pos(p, fp)
		if p.Poll {
			v.errorf(v.pos(&p.Poll, pp), field+".pagination.poll", "a feed is read in windows bounded by since and until, which end; drop poll")
		}
		if p.Type == "body_link" && p.NextPath == "" {
			v.errorf(pp, field+".pagination.next_path", "body_link pagination needs next_path, the gjson path of the next URL")
		}
		v.gjsonPath(p.NextPath, v.pos(&p.NextPath, pp), field+".pagination.next_path")
	}
	v.gjsonPath(fd.TypeField, v.pos(&fd.TypeField, fp), field+".type_field")
	if fd.SinceParam != "" && fd.SinceParam == fd.UntilParam {
		v.errorf(v.pos(&fd.UntilParam, fp), field+".until_param", "since_param and until_param are both %q", fd.SinceParam)
	}
	if f := fd.Filter; f != nil && f.Template != "" && !strings.Contains(f.Template, "{type}") {
		v.errorf(v.pos(&f.Template, v.pos(f, fp)), field+".filter.template", "template %q does not use {type}", f.Template)
	}
}

// changes checks a fan-out table's parent.changes: the feed it names, its
// safety net, and that every action can be carried out with what the event
// gives.
func (v *validator) changes(t *Table, fp Pos) {
	f := t.Parent
	c := f.Changes
	cp := v.pos(c, fp)
	const field = "parent.changes"
	if v.feeds != nil && !v.brokenFeeds && c.Feed != "" && v.feeds[c.Feed] == nil {
		v.errorf(v.pos(&c.Feed, cp), field+".feed", "unknown feed %q; declare it in source.feeds", c.Feed)
	}
	if f.ChangedSince != nil {
		v.errorf(cp, field, "changes and changed_since both pick the parents to read; keep one")
	}
	if d := t.Deletes; !v.unknown("deletes") && (d == nil || d.Type != "full_reimport" || d.Every.D <= 0) {
		v.errorf(cp, field, "a table read from a change feed needs a periodic full pass as its safety net: deletes: {type: full_reimport, every: 7d}")
	}
	if len(c.Events) == 0 && v.cur.Has(&c.Events) {
		v.errorf(v.pos(&c.Events, cp), field+".events", "list at least one event type and what it does")
	}
	places, parentKeys, parentProblem := v.parentFields(t)
	// What the parent's or the table's columns require is unknown while a
	// column of theirs is in error.
	parentCols := func() bool { return f.Table != "" && v.brokenCols[v.top[f.Table]] }
	ownCols := func() bool { return v.brokenCols[t] }
	relistNeeds := slices.Clone(places)
	for _, k := range parentKeys {
		if !slices.Contains(relistNeeds, k) {
			relistNeeds = append(relistNeeds, k)
		}
	}
	seen := map[string]int{}
	for i, ev := range c.Events {
		ef := fmt.Sprintf("%s.events[%d]", field, i)
		ep := v.pos(ev, cp)
		for _, typ := range ev.Types {
			switch prev, dup := seen[typ]; {
			case typ == "":
				v.errorf(v.pos(&ev.Types, ep), ef+".types", "empty event type")
			case dup:
				v.errorf(v.pos(&ev.Types, ep), ef+".types", "event type %q is already handled by events[%d]", typ, prev)
			default:
				seen[typ] = i
			}
		}
		actions := 0
		for _, set := range []bool{v.cur.Has(&ev.Relist), ev.Fetch != nil, ev.Row != nil, v.cur.Has(&ev.Delete)} {
			if set {
				actions++
			}
		}
		if actions != 1 {
			v.errorf(ep, ef, "an event does one of relist, fetch, row or delete")
			continue
		}
		switch {
		case v.cur.Has(&ev.Relist):
			at := v.pos(&ev.Relist, ep)
			v.eventFields(ev.Relist, at, ef+".relist")
			v.needFields(parentCols, ev.Relist, relistNeeds, parentProblem, at, ef+".relist", "the parent")
		case ev.Fetch != nil:
			v.fetchChange(t, ev.Fetch, v.pos(ev.Fetch, ep), ef+".fetch", parentKeys, parentProblem, parentCols, ownCols)
		case ev.Row != nil:
			v.rowChange(t, ev.Row, v.pos(ev.Row, ep), ef+".row", parentKeys, parentProblem, parentCols, ownCols)
		default:
			at := v.pos(&ev.Delete, ep)
			if len(ev.Delete) == 0 {
				v.errorf(at, ef+".delete", "name at least one column to match")
			}
			for _, p := range ev.Delete {
				if !slices.Contains(tableColumnNames(t), p.Name) {
					v.errorfUnless(ownCols, at, ef+".delete."+p.Name, "%q is not a column of %s", p.Name, t.Name)
				}
				if err := checkEventPath(p.Value); err != nil {
					v.errorf(at, ef+".delete."+p.Name, "bad event path: %v", err)
				}
			}
		}
	}
}

func (v *validator) fetchChange(t *Table, fc *FetchChange, at Pos, field string, parentKeys []string, parentProblem string, parentCols, ownCols func() bool) {
	pathPos := v.pos(&fc.Path, at)
	switch {
	case fc.Path == "":
	case !strings.HasPrefix(fc.Path, "/"):
		v.errorf(pathPos, field+".path", "%q must start with /", fc.Path)
	case strings.Contains(fc.Path, "?"):
		v.errorf(pathPos, field+".path", "a detail path takes no query parameters")
	}
	parentAt, recordAt := v.pos(&fc.Parent, at), v.pos(&fc.Record, at)
	for _, m := range placeRe.FindAllStringSubmatch(fc.Path, -1) {
		switch {
		case strings.HasPrefix(m[1], "parent."):
			if !covered(fc.Parent, strings.TrimPrefix(m[1], "parent.")) {
				v.errorf(pathPos, field+".path", "{%s} is not given by fetch.parent", m[1])
			}
		case strings.HasPrefix(m[1], "record."):
			if !covered(fc.Record, strings.TrimPrefix(m[1], "record.")) {
				v.errorf(pathPos, field+".path", "{%s} is not given by fetch.record", m[1])
			}
		default:
			v.errorf(pathPos, field+".path", "unknown placeholder {%s}; a detail path uses {parent.<field>} and {record.<field>}", m[1])
		}
	}
	if v.buckets != nil && fc.Bucket != "" && !v.buckets[fc.Bucket] {
		v.errorf(v.pos(&fc.Bucket, at), field+".bucket", "unknown bucket %q; declare it in source.buckets", fc.Bucket)
	}
	v.eventFields(fc.Parent, parentAt, field+".parent")
	v.eventFields(fc.Record, recordAt, field+".record")
	v.needFields(parentCols, fc.Parent, parentKeys, parentProblem, parentAt, field+".parent", "the parent")
	// A 404 marks the row deleted by its primary key, which must therefore
	// come from the record made of the event.
	var needs []string
	problem := ""
	for _, k := range t.PrimaryKey {
		if slices.Contains(t.ParentKey, k) {
			continue
		}
		c := columnNamed(t.Columns, k)
		switch {
		case c == nil:
		case c.Path == "":
			problem = fmt.Sprintf("the primary key column %s is computed (%s), so a 404 could not name its row", k, c.Value)
		default:
			needs = append(needs, c.Path)
		}
	}
	v.needFields(ownCols, fc.Record, needs, problem, recordAt, field+".record", "the record")
}

func (v *validator) rowChange(t *Table, rc *RowChange, at Pos, field string, parentKeys []string, parentProblem string, parentCols, ownCols func() bool) {
	parentAt, recordAt := v.pos(&rc.Parent, at), v.pos(&rc.Record, at)
	v.eventFields(rc.Parent, parentAt, field+".parent")
	v.eventFields(rc.Record, recordAt, field+".record")
	v.needFields(parentCols, rc.Parent, parentKeys, parentProblem, parentAt, field+".parent", "the parent")
	// Every column must be filled: a row made from an event replaces the
	// whole row, so a column left out would be blanked.
	var needs []string
	for _, c := range t.Columns {
		if c.Path != "" {
			needs = append(needs, c.Path)
		}
	}
	for _, d := range t.Dynamic {
		needs = append(needs, d.Path)
	}
	for _, ch := range t.Children {
		if ch.Breakout != nil {
			needs = append(needs, ch.Breakout.Path)
		}
	}
	v.needFields(ownCols, rc.Record, needs, "", recordAt, field+".record", "the record")
}

// parentFields lists the fields a parent record must have for the table:
// those its {parent.<field>} placeholders name (a re-listing needs them),
// and those its parent key is read from (every action that writes rows
// needs them). problem is set when the parent key cannot come from an event.
func (v *validator) parentFields(t *Table) (places, keys []string, problem string) {
	if t.Request != nil {
		for _, s := range append([]string{t.Request.Path}, paramValues(t.Request.Params)...) {
			for _, m := range placeRe.FindAllStringSubmatch(s, -1) {
				if p, ok := strings.CutPrefix(m[1], "parent."); ok && !slices.Contains(places, p) {
					places = append(places, p)
				}
			}
		}
	}
	f := t.Parent
	if f.Table == "" {
		return places, f.Key, ""
	}
	parent := v.top[f.Table]
	if parent == nil {
		return places, nil, ""
	}
	for _, k := range parent.PrimaryKey {
		c := columnNamed(parent.Columns, k)
		switch {
		case c == nil:
			problem = fmt.Sprintf("%s's key column %s is not read from its records", parent.Name, k)
		case c.Path == "":
			problem = fmt.Sprintf("%s's key column %s is computed (%s)", parent.Name, k, c.Value)
		default:
			keys = append(keys, c.Path)
		}
	}
	return places, keys, problem
}

// needFields reports the needed fields that the mapping does not give,
// unless the needs are unknown (follows: their columns are in error).
func (v *validator) needFields(follows func() bool, given Params, needs []string, problem string, at Pos, field, what string) {
	if problem != "" {
		v.errorfUnless(follows, at, field, "%s", problem)
		return
	}
	var missing []string
	for _, n := range needs {
		if !covered(given, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		v.errorfUnless(follows, at, field, "%s needs the field(s) %s, which the event does not give", what, strings.Join(missing, ", "))
	}
}

// eventFields checks a mapping of record fields to event paths.
func (v *validator) eventFields(ps Params, at Pos, field string) {
	for _, p := range ps {
		if _, err := SplitPath(p.Name); err != nil {
			v.errorf(at, field+"."+p.Name, "bad field: %v", err)
		}
		if err := checkEventPath(p.Value); err != nil {
			v.errorf(at, field+"."+p.Name, "bad event path: %v", err)
		}
	}
}

// covered reports whether a record made of the given fields has the field
// path need: the same field, or one of its enclosing objects.
func covered(given Params, need string) bool {
	ns, err := SplitPath(need)
	if err != nil {
		return false
	}
	for _, g := range given {
		gs, err := SplitPath(g.Name)
		if err == nil && len(gs) <= len(ns) && slices.Equal(gs, ns[:len(gs)]) {
			return true
		}
	}
	return false
}

// checkEventPath is a light check of a gjson path into an event: queries such
// as target.#(type=="User").id are allowed, so only balance and emptiness
// are checked here.
func checkEventPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if p[0] == '.' || p[len(p)-1] == '.' {
		return fmt.Errorf("path %q has an empty key", p)
	}
	depth, quoted := 0, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if quoted {
			switch c {
			case '\\':
				i++
			case '"':
				quoted = false
			}
			continue
		}
		switch c {
		case '"':
			quoted = true
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth < 0 {
				return fmt.Errorf("path %q closes a bracket it did not open", p)
			}
		case ' ', '\t':
			if depth == 0 {
				return fmt.Errorf("path %q has a space outside a query", p)
			}
		}
	}
	switch {
	case quoted:
		return fmt.Errorf("path %q has an unterminated string", p)
	case depth != 0:
		return fmt.Errorf("path %q leaves a bracket open", p)
	}
	return nil
}

func columnNamed(cols []*Column, name string) *Column {
	for _, c := range cols {
		if c.ColumnName() == name {
			return c
		}
	}
	return nil
}

func tableColumnNames(t *Table) []string {
	names := slices.Clone([]string(t.ParentKey))
	for _, c := range t.Columns {
		names = append(names, c.ColumnName())
	}
	return names
}

func paramValues(ps Params) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}
