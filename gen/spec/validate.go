package spec

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"oktasync/naming"
)

// Diag is one problem in a spec, with where it is.
type Diag struct {
	Pos   Pos
	Field string // the key path within the table or file, e.g. pagination.type
	Msg   string
}

func (d Diag) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: %s", d.Pos, d.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Field, d.Msg)
}

// Diags is every problem found, in file and line order once sorted.
type Diags []Diag

// unique drops repeats: a YAML alias makes one mistake appear in each table
// that uses it, at the same place.
func (ds Diags) unique() Diags {
	var out Diags
	seen := map[Diag]bool{}
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line and column.
func (ds Diags) Sort() {
	slices.SortStableFunc(ds, func(a, b Diag) int {
		return cmp.Or(strings.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

func (ds Diags) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

var (
	identRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	placeRe  = regexp.MustCompile(`\{([^{}]*)\}`)
	reserved = []string{"_fivetran_synced", "_fivetran_deleted", "_fivetran_active", "_fivetran_start", "_fivetran_end"}
)

// validator checks one folder of loaded spec files.
type validator struct {
	files   []*Loaded
	diags   Diags
	cur     *Loaded
	tables  map[string]Pos // every table name, children included
	top     map[string]*Table
	buckets map[string]bool
	feeds   map[string]*Feed  // nil when no file describes the source
	goNames map[string]string // Go identifiers the generated package declares

	// What an earlier problem left unknown, so that the problems that
	// follow from it are not reported as well: one root error, no cascade.
	brokenCols  map[any]bool    // tables and children with a column in error
	brokenKey   map[*Table]bool // tables whose primary_key did not decode
	brokenNames bool            // a table's name is missing or malformed
	brokenFeeds bool            // the feeds of the source did not all decode
	// cascade holds, by index into diags, the condition under which a
	// problem only follows from another; checked once everything is.
	cascade map[int]func() bool
	root    string        // the field path of the table being checked
	at      []diagContext // by index into diags
}

// diagContext is where a problem was found, to compare it with the
// problems found while decoding.
type diagContext struct {
	file *Loaded
	root string
}

// Validate checks a folder of loaded spec files and returns every problem,
// sorted by file and line.
func Validate(files []*Loaded) Diags {
	v := &validator{files: files, tables: map[string]Pos{}, top: map[string]*Table{},
		goNames:    map[string]string{"Registry": "the registry", "Source": "the source"},
		brokenCols: map[any]bool{}, brokenKey: map[*Table]bool{}, cascade: map[int]func() bool{}}
	v.source()
	for _, f := range files {
		v.cur = f
		if f.Has(&f.File.Version) && f.File.Version != Version {
			v.errorf(f.PosOf(&f.File.Version, f.Root), "version", "unsupported version %d; want %d", f.File.Version, Version)
		}
		for _, t := range f.File.Tables {
			v.top[t.Name] = t
			if !f.Has(&t.Name) || !identRe.MatchString(t.Name) {
				v.brokenNames = true
			}
			if f.failed(&t.PrimaryKey) || !f.Has(&t.PrimaryKey) {
				v.brokenKey[t] = true
			}
		}
	}
	for _, f := range files {
		v.cur = f
		for i, t := range f.File.Tables {
			v.root = fmt.Sprintf("tables[%d]", i)
			v.table(t, v.root)
		}
	}
	return v.roots()
}

func (v *validator) errorf(p Pos, field, format string, args ...any) {
	v.diags = append(v.diags, Diag{Pos: p, Field: field, Msg: fmt.Sprintf(format, args...)})
	v.at = append(v.at, diagContext{v.cur, v.root})
}

// errorfUnless reports a problem unless, once every table is checked,
// follows() says it only follows from another problem reported already.
func (v *validator) errorfUnless(follows func() bool, p Pos, field, format string, args ...any) {
	v.errorf(p, field, format, args...)
	v.cascade[len(v.diags)-1] = follows
}

// roots keeps the root problems, sorted: it drops those about a field that
// did not decode (reported by the decoder already), those whose cascade
// condition holds, and repeats.
func (v *validator) roots() Diags {
	var out Diags
	for i, d := range v.diags {
		field := d.Field
		if c := v.at[i]; c.root != "" {
			field = strings.TrimSuffix(c.root+"."+field, ".")
		}
		if v.at[i].file != nil && v.at[i].file.failedNear(field) {
			continue
		}
		if follows := v.cascade[i]; follows == nil || !follows() {
			out = append(out, d)
		}
	}
	out = out.unique()
	out.Sort()
	return out
}

func (v *validator) pos(ptr any, fallback Pos) Pos { return v.cur.PosOf(ptr, fallback) }

// unknown reports whether a field of the table being checked did not
// decode (see Loaded.failedNear), so that checks of other fields that
// depend on it are left out.
func (v *validator) unknown(field string) bool { return v.cur.failedNear(v.root + "." + field) }

func (v *validator) source() {
	var found []*Loaded
	for _, f := range v.files {
		if f.File.Source != nil {
			found = append(found, f)
		}
	}
	switch {
	case len(found) == 0 && len(v.files) > 0:
		f := v.files[0]
		v.errorf(f.Root, "source", "no file of the folder describes the source; add a source: block to one of them")
	case len(found) > 1:
		for _, f := range found[1:] {
			v.errorf(f.PosOf(f.File.Source, f.Root), "source", "the source is already described in %s; keep one", found[0].Path)
		}
	}
	if len(found) == 0 {
		return
	}
	f := found[0]
	v.cur = f
	s := f.File.Source
	sp := f.PosOf(s, f.Root)
	if s.Name != "" && !identRe.MatchString(s.Name) {
		v.errorf(v.pos(&s.Name, sp), "source.name", "%q is not a lower snake_case name", s.Name)
	}
	if p := s.Auth.OAuthTokenPath; p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ")) {
		v.errorf(v.pos(&s.Auth.OAuthTokenPath, sp), "source.auth.oauth_token_path", "%q is not a path on the API's origin (it starts with /, without query)", p)
	}
	v.buckets = map[string]bool{}
	// A misspelt buckets key, or a bucket in error, leaves the buckets
	// unknown: no request's bucket is checked against them then.
	bucketsKnown := (f.Has(s) || f.Has(&s.Buckets)) && !f.failed(&s.Buckets)
	for i, b := range s.Buckets {
		bucketsKnown = bucketsKnown && f.Has(b) && !f.failed(&b.Name) && identRe.MatchString(b.Name)
		field := fmt.Sprintf("source.buckets[%d]", i)
		bp := v.pos(b, sp)
		if b.Name != "" && !identRe.MatchString(b.Name) {
			v.errorf(v.pos(&b.Name, bp), field+".name", "%q is not a lower snake_case name", b.Name)
		}
		if v.buckets[b.Name] {
			v.errorf(v.pos(&b.Name, bp), field+".name", "bucket %q is declared twice", b.Name)
		}
		v.buckets[b.Name] = true
		if f.Has(&b.PerMinute) && b.PerMinute <= 0 {
			v.errorf(v.pos(&b.PerMinute, bp), field+".per_minute", "must be positive, got %d", b.PerMinute)
		}
	}
	if !bucketsKnown {
		v.buckets = nil
	}
	if e := s.Errors; e != nil {
		v.gjsonPath(e.CodePath, v.pos(&e.CodePath, sp), "source.errors.code_path")
		v.gjsonPath(e.SummaryPath, v.pos(&e.SummaryPath, sp), "source.errors.summary_path")
	}
	v.feeds = map[string]*Feed{}
	v.brokenFeeds = !f.Has(s) && !f.Has(&s.Feeds) || f.failed(&s.Feeds)
	for i, fd := range s.Feeds {
		v.brokenFeeds = v.brokenFeeds || !f.Has(fd) || f.failed(&fd.Name) || !identRe.MatchString(fd.Name)
		v.feed(fd, fmt.Sprintf("source.feeds[%d]", i), v.pos(fd, sp))
	}
}

func (v *validator) gjsonPath(p string, at Pos, field string) {
	if p == "" {
		return
	}
	if _, err := SplitPath(p); err != nil {
		v.errorf(at, field, "bad path: %v", err)
	}
}

func (v *validator) name(name string, at Pos, field string) {
	if name == "" {
		return
	}
	if !identRe.MatchString(name) {
		v.errorf(at, field, "%q is not a lower snake_case name", name)
		return
	}
	if prev, ok := v.tables[name]; ok {
		v.errorf(at, field, "table %q is already defined at %s", name, prev)
		return
	}
	v.tables[name] = at
	g := GoName(name)
	for _, id := range []string{g, g + "Row"} {
		if other, ok := v.goNames[id]; ok {
			v.errorf(at, field, "tables %q and %s both need the Go name %s; rename one", name, other, id)
			return
		}
	}
	v.goNames[g] = fmt.Sprintf("%q", name)
	v.goNames[g+"Row"] = fmt.Sprintf("%q", name)
}

// table checks a table with its own endpoint.
func (v *validator) table(t *Table, root string) {
	tp := v.pos(t, v.cur.Root)
	v.name(t.Name, v.pos(&t.Name, tp), "name")
	if r := t.Request; r != nil {
		v.request(r, v.pos(r, tp), "request", t.Parent != nil)
	}
	pag := t.PaginationOrDefault()
	if p := t.Pagination; p != nil {
		pp := v.pos(p, tp)
		switch p.Type {
		case "body_link":
			if p.NextPath == "" {
				v.errorf(pp, "pagination.next_path", "body_link pagination needs next_path, the gjson path of the next URL")
			}
			v.gjsonPath(p.NextPath, v.pos(&p.NextPath, pp), "pagination.next_path")
		case "link_header":
			if p.NextPath != "" {
				v.errorf(v.pos(&p.NextPath, pp), "pagination.next_path", "next_path belongs to body_link pagination, not %s", p.Type)
			}
		case "none":
			if p.NextPath != "" || p.Rel != "" {
				v.errorf(pp, "pagination", "none pagination takes no rel or next_path")
			}
		}
		if p.Poll && p.Type != "link_header" {
			v.errorf(v.pos(&p.Poll, pp), "pagination.poll", "poll works with link_header pagination only")
		}
		if p.Rel != "" && p.Type == "body_link" {
			v.errorf(v.pos(&p.Rel, pp), "pagination.rel", "rel belongs to link_header pagination")
		}
	}
	if in := t.Incremental; in != nil {
		// With the pagination unknown, whether it polls is too.
		v.incremental(in, v.pos(in, tp), "incremental", pag.Poll || v.unknown("pagination"))
	}
	if d := t.Deletes; d != nil {
		dp := v.pos(d, tp)
		if d.Every.Set && d.Type != "full_reimport" {
			v.errorf(v.pos(&d.Every, dp), "deletes.every", "every belongs to full_reimport")
		}
		if d.Type == "full_reimport" && pag.Poll && !v.unknown("pagination") {
			v.errorf(v.pos(&d.Type, dp), "deletes.type", "a polling endpoint never ends, so it cannot be re-imported whole; use none")
		}
	}
	if p := t.Permissions; p != nil {
		for i, r := range p.Roles {
			if r == "" {
				v.errorf(v.pos(&p.Roles[i], tp), fmt.Sprintf("permissions.roles[%d]", i), "empty role")
			}
		}
	}
	fanout := t.Parent != nil
	if fanout {
		v.fanOut(t, tp)
	} else if len(t.ParentKey) > 0 {
		v.errorf(v.pos(&t.ParentKey, tp), "parent_key", "parent_key belongs to fan-out tables (with parent:) and children")
	}
	v.columns(tableShape{
		columns: t.Columns, dynamic: t.Dynamic, primaryKey: t.PrimaryKey, parentKey: t.ParentKey,
		pkPtr: &t.PrimaryKey, pkRequired: v.cur.Has(&t.PrimaryKey),
		colsPtr: &t.Columns, at: tp, owner: t, colsFailed: v.cur.failed(&t.Columns) || v.cur.failed(&t.ParentKey),
	})
	for i, c := range t.Children {
		v.child(c, fmt.Sprintf("children[%d]", i), t.PrimaryKey, tp)
	}
}

// request checks an endpoint; field is where it is ("request", or
// "parent.request" for a fan-out's parent listing) and fanout says whether
// {parent.<field>} placeholders are expected.
func (v *validator) request(r *Request, rp Pos, field string, fanout bool) {
	pathPos := v.pos(&r.Path, rp)
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		v.errorf(pathPos, field+".path", "%q must start with /", r.Path)
	}
	if strings.Contains(r.Path, "?") {
		v.errorf(pathPos, field+".path", "put query parameters in request.params, not in the path")
	}
	places := v.placeholders(r.Path, pathPos, field+".path", fanout)
	for i, p := range r.Params {
		if p.Name == "" {
			v.errorf(v.pos(&r.Params, rp), fmt.Sprintf("%s.params[%d]", field, i), "empty parameter name")
		}
		places += v.placeholders(p.Value, v.pos(&r.Params, rp), field+".params."+p.Name, fanout)
	}
	if fanout && places == 0 {
		v.errorf(pathPos, field+".path", "a fan-out table's path or params need a {parent.<field>} placeholder")
	}
	if v.buckets != nil && !v.buckets[r.BucketName()] {
		v.errorf(v.pos(&r.Bucket, rp), field+".bucket", "unknown bucket %q; declare it in source.buckets", r.BucketName())
	}
	v.gjsonPath(r.Records, v.pos(&r.Records, rp), field+".records")
}

// placeholders checks the {parent.<field>} placeholders of s and counts them.
func (v *validator) placeholders(s string, at Pos, field string, fanout bool) int {
	places := placeRe.FindAllStringSubmatch(s, -1)
	for _, m := range places {
		path, ok := strings.CutPrefix(m[1], "parent.")
		switch {
		case !ok:
			v.errorf(at, field, "unknown placeholder {%s}; the only one is {parent.<field>}", m[1])
		case !fanout:
			v.errorf(at, field, "placeholder {%s} needs a parent: block (a fan-out table)", m[1])
		default:
			if _, err := SplitPath(path); err != nil {
				v.errorf(at, field, "bad path in {%s}: %v", m[1], err)
			}
		}
	}
	return len(places)
}

func (v *validator) incremental(in *Incremental, ip Pos, field string, poll bool) {
	switch in.IncrementalType() {
	case "filter":
		if len(in.CursorField) == 0 {
			v.errorf(ip, field+".cursor_field", "a filter cursor needs cursor_field")
		}
		cp := v.pos(&in.CursorField, ip)
		for i, f := range in.CursorField {
			sub := field + ".cursor_field"
			if len(in.CursorField) > 1 {
				sub = fmt.Sprintf("%s[%d]", sub, i)
			}
			at := v.pos(&in.CursorField[i], cp)
			if f == "" {
				v.errorf(at, sub, "empty path")
			} else if slices.Contains(in.CursorField[:i], f) {
				v.errorf(at, sub, "%q is listed twice", f)
			}
			v.gjsonPath(f, at, sub)
		}
		if in.Param == "" {
			v.errorf(ip, field+".param", "a filter cursor needs param, the query parameter carrying it")
		}
		if in.Template == "" {
			v.errorf(ip, field+".template", "a filter cursor needs template, e.g. 'lastUpdated gt \"{cursor}\"'")
		} else if !strings.Contains(in.Template, "{cursor}") {
			v.errorf(v.pos(&in.Template, ip), field+".template", "template %q does not use {cursor}", in.Template)
		}
		if in.StartParam != "" || in.StartLookback.Set {
			v.errorf(ip, field, "start_param and start_lookback belong to next_url cursors")
		}
		if in.Initial != "" {
			if !validTimestamp(in.Initial) {
				v.errorf(v.pos(&in.Initial, ip), field+".initial", "%q is not an RFC 3339 timestamp", in.Initial)
			}
		}
	case "next_url":
		if !poll {
			v.errorf(v.pos(&in.Type, ip), field+".type", "next_url cursors need a polling endpoint (pagination: {type: link_header, poll: true})")
		}
		if len(in.CursorField) > 0 || in.Param != "" || in.Template != "" || in.Initial != "" {
			v.errorf(ip, field, "cursor_field, param, template and initial belong to filter cursors")
		}
		if in.StartParam == "" {
			v.errorf(ip, field+".start_param", "a next_url cursor needs start_param, the parameter of a first sync's start time")
		}
		if b := in.Backfill; b != nil {
			bp := v.pos(b, ip)
			switch {
			case b.Newest.D <= 0:
				v.errorf(bp, field+".backfill.newest", "newest must be a positive duration, e.g. 1d")
			case b.Newest.D >= in.StartLookback.D:
				v.errorf(bp, field+".backfill.newest", "newest (%s) must be shorter than start_lookback (%s): the backfill reads what lies between", b.Newest.D, in.StartLookback.D)
			}
			var start, end bool
			for _, p := range b.Params {
				start = start || strings.Contains(p.Value, "{start}")
				end = end || strings.Contains(p.Value, "{end}")
			}
			if !start || !end {
				v.errorf(bp, field+".backfill.params", "the backfill's params must bound its listing with {start} and {end}")
			}
		}
	}
	if in.Backfill != nil && in.IncrementalType() != "next_url" {
		v.errorf(ip, field+".backfill", "backfill belongs to next_url cursors")
	}
}

func (v *validator) fanOut(t *Table, tp Pos) {
	f := t.Parent
	fp := v.pos(f, tp)
	kinds := 0
	for _, set := range []bool{f.Table != "", f.Request != nil, len(f.Values) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		v.errorf(fp, "parent", "a parent is one of table, request or values")
	}
	if f.Table != "" && (len(f.Key) > 0 || f.Pagination != nil) {
		v.errorf(fp, "parent", "key and pagination belong to request and values parents; a table parent has its own")
	}
	if f.Pagination != nil && f.Request == nil {
		v.errorf(v.pos(f.Pagination, fp), "parent.pagination", "pagination belongs to request parents")
	}
	if f.Request != nil {
		v.request(f.Request, v.pos(f.Request, fp), "parent.request", false)
	}
	if p := f.Pagination; p != nil && p.Type == "body_link" && p.NextPath == "" {
		v.errorf(v.pos(p, fp), "parent.pagination.next_path", "body_link pagination needs next_path, the gjson path of the next URL")
	}
	for i, k := range f.Key {
		if _, err := SplitPath(k); err != nil {
			v.errorf(v.pos(&f.Key, fp), fmt.Sprintf("parent.key[%d]", i), "bad path: %v", err)
		}
	}
	parent, ok := v.top[f.Table]
	switch {
	case f.Table == "":
	case !ok:
		// With a table's name in error, this may be the table meant.
		if !v.brokenNames {
			v.errorf(v.pos(&f.Table, fp), "parent.table", "unknown table %q; a fan-out parent must be a table with its own request", f.Table)
		}
	case parent == t:
		v.errorf(v.pos(&f.Table, fp), "parent.table", "a table cannot be its own parent")
	case parent.Parent != nil && parent.Parent.Table != "" && v.top[parent.Parent.Table] != nil && v.top[parent.Parent.Table].Parent != nil:
		v.errorf(v.pos(&f.Table, fp), "parent.table", "%q is a fan-out of a fan-out; fan-outs nest two levels deep at most", f.Table)
	case parent.Parent != nil && f.ChangedSince != nil:
		v.errorf(v.pos(f.ChangedSince, fp), "parent.changed_since", "%q is itself a fan-out table, whose records cannot be filtered; drop changed_since", f.Table)
	}
	switch {
	case f.Table != "" && len(t.ParentKey) == 0:
		v.errorf(fp, "parent_key", "a fan-out table needs parent_key, the columns holding the parent's primary key")
	case f.Table != "" && ok && !v.brokenKey[parent] && len(t.ParentKey) != len(parent.PrimaryKey):
		v.errorf(v.pos(&t.ParentKey, tp), "parent_key", "%d names, but %s's primary key has %d (%s)", len(t.ParentKey), parent.Name, len(parent.PrimaryKey), strings.Join(parent.PrimaryKey, ", "))
	case f.Table == "" && v.cur.Has(f) && len(t.ParentKey) != len(f.Key):
		v.errorf(fp, "parent.key", "%d parent_key columns but %d key paths; each parent_key column is filled from one key path", len(t.ParentKey), len(f.Key))
	}
	for i, val := range f.Values {
		if len(val) == 0 {
			v.errorf(v.pos(&f.Values, fp), fmt.Sprintf("parent.values[%d]", i), "empty parent record")
		}
	}
	if f.Changes != nil {
		v.changes(t, fp)
	}
	if cs := f.ChangedSince; cs != nil {
		cp := v.pos(cs, fp)
		switch {
		case len(f.Values) > 0:
			v.errorf(cp, "parent.changed_since", "fixed parents never change; changed_since needs a table or request parent")
		case cs.IncrementalType() != "filter":
			v.errorf(v.pos(&cs.Type, cp), "parent.changed_since.type", "changed_since must be a filter")
		default:
			v.incremental(cs, cp, "parent.changed_since", false)
		}
	}
}

// tableShape is what tables and children have in common for column checks.
type tableShape struct {
	columns    []*Column
	dynamic    []*Dynamic
	primaryKey Names
	parentKey  Names
	pkPtr      *Names
	pkRequired bool
	colsPtr    *[]*Column
	at         Pos
	breakout   *Breakout
	owner      any  // the *Table or *Child
	colsFailed bool // its columns: or parent_key: did not decode
}

func (v *validator) columns(s tableShape) {
	names := map[string]Pos{}
	// Methods of the generated row struct.
	goNames := map[string]string{}
	addName := func(name string, at Pos, field string) {
		if prev, ok := names[name]; ok {
			v.errorf(at, field, "duplicate column %q (first at %s)", name, prev)
			return
		}
		names[name] = at
		g := GoName(name)
		if g == "AppendValues" || g == "DynamicFields" {
			v.errorf(at, field, "column %q would become the Go field %s, which is a method of the row; rename it", name, g)
			return
		}
		if other, ok := goNames[g]; ok {
			v.errorf(at, field, "columns %q and %q both become the Go field %s; rename one", other, name, g)
			return
		}
		goNames[g] = name
	}
	// A column in error may be the one a key or an event names.
	start := len(v.diags)
	var named []namedColumn // the columns without a problem
	for i, k := range s.parentKey {
		field := fmt.Sprintf("parent_key[%d]", i)
		if !identRe.MatchString(k) {
			v.errorf(v.pos(s.pkPtr, s.at), field, "%q is not a lower snake_case name", k)
			continue
		}
		addName(k, v.pos(&s.parentKey, s.at), field)
	}
	if s.colsPtr != nil && len(*s.colsPtr) == 0 && v.cur.Has(s.colsPtr) {
		v.errorf(v.pos(s.colsPtr, s.at), "columns", "a table needs at least one column")
	}
	for i, c := range s.columns {
		field := fmt.Sprintf("columns[%d]", i)
		cp := v.pos(c, s.at)
		if !v.cur.Has(c) || v.cur.failed(&c.Path) || v.cur.failed(&c.Value) || v.cur.failed(&c.Name) {
			// Reported while decoding; what it would have been is unknown.
			v.brokenCols[s.owner] = true
			continue
		}
		switch {
		case c.Path == "" && c.Value == "":
			v.errorf(cp, field, "a column needs a path or a value")
			continue
		case c.Path != "" && c.Value != "":
			v.errorf(cp, field, "a column has a path or a value, not both")
			continue
		}
		if c.Path != "" && s.breakout != nil && s.breakout.Type == "scalars" {
			v.errorf(v.pos(&c.Path, cp), field+".path", "the elements of a scalars breakout have no keys; use value: element")
			continue
		}
		if c.Path != "" {
			if _, err := SplitPath(c.Path); err != nil {
				v.errorf(v.pos(&c.Path, cp), field+".path", "bad path: %v", err)
				continue
			}
		}
		if c.Value != "" {
			v.value(c, s.breakout, v.pos(&c.Value, cp), field)
		}
		if c.Value != "" && c.Name == "" {
			v.errorf(cp, field+".name", "a computed column needs a name")
			continue
		}
		name := c.ColumnName()
		np := v.pos(&c.Name, cp)
		if !identRe.MatchString(name) {
			v.errorf(np, field+".name", "%q is not a lower snake_case name", name)
			continue
		}
		if slices.Contains(reserved, name) {
			v.errorf(np, field+".name", "%q is a system column the destination adds itself", name)
			continue
		}
		addName(name, np, field+".name")
		named = append(named, namedColumn{c, name, np, field})
	}
	if len(v.diags) > start || s.colsFailed {
		v.brokenCols[s.owner] = true
	}
	for i, d := range s.dynamic {
		field := fmt.Sprintf("dynamic[%d]", i)
		dp := v.pos(d, s.at)
		v.gjsonPath(d.Path, v.pos(&d.Path, dp), field+".path")
		if d.Prefix != "" && !identRe.MatchString(d.Prefix) {
			v.errorf(v.pos(&d.Prefix, dp), field+".prefix", "%q is not a lower snake_case prefix", d.Prefix)
			continue
		}
		if segs, err := SplitPath(d.Path); err == nil && d.Prefix != "" {
			v.dynamicNames(d, segs, named)
		}
	}
	if len(s.primaryKey) == 0 && s.pkRequired {
		v.errorf(v.pos(s.pkPtr, s.at), "primary_key", "a table needs a primary key")
	}
	seen := map[string]bool{}
	for i, k := range s.primaryKey {
		field := fmt.Sprintf("primary_key[%d]", i)
		if len(s.primaryKey) == 1 {
			field = "primary_key"
		}
		switch {
		case seen[k]:
			v.errorf(v.pos(s.pkPtr, s.at), field, "%q is listed twice", k)
		case names[k] == Pos{}:
			v.errorfUnless(func() bool { return v.brokenCols[s.owner] }, v.pos(s.pkPtr, s.at), field, "%q is not a column of the table", k)
		}
		seen[k] = true
	}
}

// namedColumn is a column that passed its checks, with its name.
type namedColumn struct {
	c     *Column
	name  string
	at    Pos
	field string
}

// dynamicNames checks the declared columns against the names the dynamic
// object at path gives its keys. A column may declare a key of the object
// (path + key, named prefix + snake_case(key), the default name when the
// prefix is the path's): the key is then always a column, typed, and the
// dynamic mechanism leaves it out. Any other column named with the prefix
// would take the name of the dynamic column of some key, so it is refused.
func (v *validator) dynamicNames(d *Dynamic, path []string, cols []namedColumn) {
	for _, nc := range cols {
		if !strings.HasPrefix(nc.name, d.Prefix) || len(nc.name) == len(d.Prefix) {
			continue
		}
		var segs []string
		if nc.c.Path != "" {
			segs, _ = SplitPath(nc.c.Path)
		}
		if len(segs) == len(path)+1 && slices.Equal(segs[:len(path)], path) &&
			d.Prefix+naming.Snake(segs[len(path)]) == nc.name {
			continue
		}
		where := "its value"
		if nc.c.Path != "" {
			where = "its path " + nc.c.Path
		}
		v.errorf(nc.at, nc.field+".name", "%q is named like a dynamic column of %s (prefix %s), but %s is not the key that name stands for, whose dynamic column it would collide with; give the key's path, or a name without the prefix",
			nc.name, d.Path, d.Prefix, where)
	}
}

// value checks a computed column against the breakout it is in.
func (v *validator) value(c *Column, b *Breakout, at Pos, field string) {
	kind := ""
	if b != nil {
		kind = string(b.Type)
	}
	switch c.Value {
	case "index":
		if kind != "objects" && kind != "scalars" {
			v.errorf(at, field+".value", "index is the position in a broken-out array; this table is not an objects or scalars breakout")
		}
		if t := c.ColumnType(); t != "integer" && t != "bigint" {
			v.errorf(at, field+".type", "an index column is integer or bigint, not %s", t)
		}
	case "key":
		if kind != "object_keys" {
			v.errorf(at, field+".value", "key is the object key of an object_keys breakout; this table is not one")
		}
		if c.ColumnType() != "string" {
			v.errorf(at, field+".type", "a key column is a string")
		}
	case "element":
		if kind != "scalars" && kind != "object_keys" {
			v.errorf(at, field+".value", "element is the broken-out value itself; use it in scalars or object_keys breakouts (objects breakouts use paths)")
		}
	case "row_hash":
		if c.ColumnType() != "string" {
			v.errorf(at, field+".type", "a row_hash column is a string")
		}
	case "record":
		if b != nil {
			v.errorf(at, field+".value", "record is the whole record of a table with its own request; a breakout child's rows are parts of one (keep the array whole in a json column of the parent)")
		}
		if c.ColumnType() != "json" {
			v.errorf(at, field+".type", "a record column is json, not %s", c.ColumnType())
		}
	}
}

func (v *validator) child(c *Child, field string, parentPK Names, parentPos Pos) {
	cp := v.pos(c, parentPos)
	v.name(c.Name, v.pos(&c.Name, cp), field+".name")
	prefix := func(diags int) {
		for i := diags; i < len(v.diags); i++ {
			v.diags[i].Field = field + "." + v.diags[i].Field
		}
	}
	start := len(v.diags)
	if b := c.Breakout; b != nil {
		bp := v.pos(b, cp)
		if b.Path != "" {
			v.gjsonPath(b.Path, v.pos(&b.Path, bp), "breakout.path")
		}
		if b.Type != "object_keys" && (len(b.Exclude) > 0 || b.ExcludeMapped) {
			v.errorf(bp, "breakout", "exclude and exclude_mapped belong to object_keys breakouts")
		}
	}
	if len(c.ParentKey) == 0 && !v.cur.Has(&c.ParentKey) {
		// The decoder already reported the missing key.
	} else if len(c.ParentKey) != len(parentPK) && len(parentPK) > 0 {
		v.errorf(v.pos(&c.ParentKey, cp), "parent_key", "%d names, but the parent's primary key has %d (%s)", len(c.ParentKey), len(parentPK), strings.Join(parentPK, ", "))
	}
	v.columns(tableShape{
		columns: c.Columns, dynamic: c.Dynamic, primaryKey: c.PrimaryKey, parentKey: c.ParentKey,
		pkPtr: &c.PrimaryKey, pkRequired: v.cur.Has(&c.PrimaryKey),
		at: cp, breakout: c.Breakout, owner: c, colsFailed: v.cur.failed(&c.Columns) || v.cur.failed(&c.ParentKey),
	})
	prefix(start)
	for i, g := range c.Children {
		v.child(g, fmt.Sprintf("%s.children[%d]", field, i), c.PrimaryKey, cp)
	}
}

// GoName is the exported Go identifier of a snake_case name: users_id ->
// UsersID. Common initialisms are upper-cased as Go style wants.
func GoName(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		if up := strings.ToUpper(part); initialisms[up] {
			b.WriteString(up)
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "X" + s
	}
	return s
}

var initialisms = map[string]bool{
	"ID": true, "URL": true, "URI": true, "IP": true, "API": true, "HTTP": true, "JSON": true,
	"SAML": true, "SSO": true, "OS": true, "UUID": true, "ACS": true, "IDP": true,
}

// validTimestamp reports whether s is an RFC 3339 timestamp.
func validTimestamp(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
