// Package ir is the resolved model of a spec folder: every default applied,
// Go names derived, parents and children linked. The emitter reads only this.
package ir

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"oktasync/gen/spec"
)

// Registry is one resolved spec folder.
type Registry struct {
	Source *Source
	Tables []*Table // tables with a request, in file then spec order
}

// Source is the resolved source block.
type Source struct {
	File                 string
	Name                 string
	AuthHeader           string
	AuthScheme           string
	OAuthTokenPath       string
	LimitHeader          string
	RemainingHeader      string
	ResetHeader          string
	Buckets              []Bucket
	ErrorCodePath        string
	ErrorSummaryPath     string
	FeatureDisabledCodes []string
	Feeds                []*Feed
}

// Feed is a resolved change feed.
type Feed struct {
	Name           string
	Request        *Request
	Pagination     Pagination
	TypeField      string
	SinceParam     string
	UntilParam     string
	FilterParam    string // empty: no server-side filter
	FilterTemplate string
	FilterJoin     string
	Lookback       time.Duration
}

// Bucket is a rate-limit bucket.
type Bucket struct {
	Name      string
	PerMinute int
}

// Table is a resolved table; Request is nil for breakout children.
type Table struct {
	Name        string
	GoName      string // exported identifier of the descriptor variable
	Description string
	SpecFile    string

	Request     *Request
	Pagination  Pagination
	Incremental *Incremental
	Deletes     Deletes
	Permissions spec.Permissions
	FanOut      *FanOut

	PrimaryKey []string
	ParentKey  []*Column // also the first columns of Columns
	Columns    []*Column
	Dynamic    []*Dynamic

	Parent   *Table
	Children []*Table
	Breakout *Breakout
}

// Request is a resolved endpoint.
type Request struct {
	Path    string
	Params  []spec.Param
	Bucket  string
	Records string
}

// Pagination is resolved pagination.
type Pagination struct {
	Kind     string // link_header, body_link, none
	Rel      string
	NextPath string
	Poll     bool
}

// Incremental is a resolved cursor.
type Incremental struct {
	Kind          string   // filter, next_url
	CursorFields  []string // the latest of them is the cursor
	Param         string
	Template      string
	Lookback      time.Duration
	Initial       string
	StartParam    string
	StartLookback time.Duration
	Backfill      *Backfill
}

// Backfill is a resolved newest-first first sync.
type Backfill struct {
	Newest time.Duration
	Params []spec.Param
}

// Deletes is a resolved delete policy.
type Deletes struct {
	Kind  string // none, full_reimport
	Every time.Duration
}

// FanOut is a resolved fan-out parent: a table, a listing or fixed records.
type FanOut struct {
	Parent       *Table     // a table parent, else nil
	Request      *Request   // a listing parent, else nil
	Pagination   Pagination // of the listing parent
	Values       []string   // fixed parent records, as JSON objects
	Key          []string   // gjson paths filling parent_key (listing and fixed parents)
	Fields       []string   // gjson paths of the {parent.<field>} placeholders, in order
	ChangedSince *Incremental
	Changes      *Changes
}

// Changes is a resolved parent.changes.
type Changes struct {
	Feed   string
	Events []*ChangeEvent
}

// ChangeEvent is what events of some types do to a table.
type ChangeEvent struct {
	Types  []string
	Action string // relist, fetch, row, delete
	Path   string // fetch: the detail path
	Bucket string // fetch: the detail endpoint's bucket
	Parent []spec.Param
	Record []spec.Param
	Match  []spec.Param // delete: column -> event path
}

// Breakout is a resolved breakout.
type Breakout struct {
	Kind    string // objects, scalars, object_keys
	Path    []string
	Exclude []string // sorted; includes the mapped keys when exclude_mapped
}

// Column is a resolved column.
type Column struct {
	Name        string
	GoName      string
	Type        string // string, integer, bigint, double, boolean, timestamp, json
	Description string
	// Exactly one source: a Path, a computed Value (index, key, element,
	// row_hash), or ParentOf, the parent's key column it copies.
	Path     []string
	Value    string
	ParentOf *Column
}

// Source text of a column for descriptors and docs.
func (c *Column) Source() string {
	switch {
	case c.ParentOf != nil:
		return "parent." + c.ParentOf.Name
	case c.Value != "":
		return c.Value
	}
	return joinPath(c.Path)
}

// Dynamic is a resolved dynamic column set.
type Dynamic struct {
	Path   []string
	Prefix string
	Type   string
}

func joinPath(segs []string) string {
	esc := make([]string, len(segs))
	for i, s := range segs {
		esc[i] = strings.ReplaceAll(s, ".", `\.`)
	}
	return strings.Join(esc, ".")
}

// JoinPath writes path keys back as a gjson path.
func JoinPath(segs []string) string { return joinPath(segs) }

// Resolve turns a validated spec folder into the IR. It must only be called
// on files that passed spec.Validate.
func Resolve(files []*spec.Loaded) (*Registry, error) {
	reg := &Registry{}
	byName := map[string]*Table{}
	type pending struct {
		t *Table
		s *spec.Table
	}
	var fanouts []pending
	for _, f := range files {
		if s := f.File.Source; s != nil {
			reg.Source = resolveSource(f.Path, s)
		}
		for _, st := range f.File.Tables {
			t := resolveTable(f.Path, st)
			reg.Tables = append(reg.Tables, t)
			byName[t.Name] = t
			if st.Parent != nil {
				fanouts = append(fanouts, pending{t, st})
			}
		}
	}
	for _, p := range fanouts {
		sp := p.s.Parent
		fo := &FanOut{ChangedSince: resolveIncremental(sp.ChangedSince), Key: sp.Key, Changes: resolveChanges(p.s)}
		fo.Fields = placeholders(p.s.Request.Path)
		for _, prm := range p.s.Request.Params {
			fo.Fields = append(fo.Fields, placeholders(prm.Value)...)
		}
		var keys []*Column
		switch {
		case sp.Table != "":
			parent := byName[sp.Table]
			if parent == nil {
				return nil, fmt.Errorf("%s: unknown parent %q", p.t.Name, sp.Table)
			}
			fo.Parent = parent
			var err error
			if keys, err = parentKeyColumns(p.s.ParentKey, parent); err != nil {
				return nil, fmt.Errorf("%s: %w", p.t.Name, err)
			}
		default:
			if sp.Request != nil {
				fo.Request = &Request{Path: sp.Request.Path, Params: sp.Request.Params, Bucket: sp.Request.BucketName(), Records: sp.Request.Records}
				pg := (&spec.Table{Pagination: sp.Pagination}).PaginationOrDefault()
				fo.Pagination = Pagination{Kind: string(pg.Type), Rel: pg.Rel, NextPath: pg.NextPath, Poll: pg.Poll}
			}
			for _, v := range sp.Values {
				fo.Values = append(fo.Values, paramsJSON(v))
			}
			for i, n := range p.s.ParentKey {
				path, _ := spec.SplitPath(sp.Key[i])
				src := &Column{Name: sp.Key[i], Path: path, Type: "string"}
				keys = append(keys, &Column{Name: n, GoName: spec.GoName(n), Type: "string", ParentOf: src,
					Description: fmt.Sprintf("Key of the parent record (%s).", sp.Key[i])})
			}
		}
		p.t.FanOut = fo
		p.t.ParentKey = keys
		p.t.Columns = append(slices.Clone(keys), p.t.Columns...)
	}
	return reg, nil
}

// paramsJSON writes a fixed parent record as a JSON object of strings.
func paramsJSON(ps spec.Params) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		k, _ := json.Marshal(p.Name)
		v, _ := json.Marshal(p.Value)
		parts[i] = string(k) + ":" + string(v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func placeholders(path string) []string {
	var out []string
	for {
		i := strings.Index(path, "{parent.")
		if i < 0 {
			return out
		}
		j := strings.Index(path[i:], "}")
		if j < 0 {
			return out
		}
		out = append(out, path[i+len("{parent."):i+j])
		path = path[i+j:]
	}
}

func resolveSource(file string, s *spec.Source) *Source {
	out := &Source{File: file, Name: s.Name, AuthHeader: s.Auth.AuthHeader(), AuthScheme: s.Auth.Scheme,
		OAuthTokenPath: s.Auth.OAuthTokenPath}
	if rl := s.RateLimit; rl != nil {
		out.LimitHeader, out.RemainingHeader, out.ResetHeader = rl.LimitHeader, rl.RemainingHeader, rl.ResetHeader
	}
	for _, b := range s.Buckets {
		out.Buckets = append(out.Buckets, Bucket{Name: b.Name, PerMinute: b.PerMinute})
	}
	if e := s.Errors; e != nil {
		out.ErrorCodePath, out.ErrorSummaryPath = e.CodePath, e.SummaryPath
		out.FeatureDisabledCodes = e.FeatureDisabledCodes
	}
	for _, f := range s.Feeds {
		pg := f.PaginationOrDefault()
		rf := &Feed{
			Name:       f.Name,
			Request:    &Request{Path: f.Request.Path, Params: f.Request.Params, Bucket: f.Request.BucketName(), Records: f.Request.Records},
			Pagination: Pagination{Kind: string(pg.Type), Rel: pg.Rel, NextPath: pg.NextPath},
			TypeField:  f.TypeField,
			SinceParam: f.SinceParam,
			UntilParam: f.UntilParam,
			Lookback:   f.LookbackOrDefault(),
		}
		if fl := f.Filter; fl != nil {
			rf.FilterParam, rf.FilterTemplate, rf.FilterJoin = fl.Param, fl.Template, fl.Join
		}
		out.Feeds = append(out.Feeds, rf)
	}
	return out
}

// resolveChanges resolves a table's parent.changes, or nil.
func resolveChanges(t *spec.Table) *Changes {
	c := t.Parent.Changes
	if c == nil {
		return nil
	}
	out := &Changes{Feed: c.Feed}
	for _, ev := range c.Events {
		re := &ChangeEvent{Types: ev.Types}
		switch {
		case ev.Fetch != nil:
			re.Action, re.Path, re.Bucket = "fetch", ev.Fetch.Path, ev.Fetch.BucketOrDefault(t)
			re.Parent, re.Record = ev.Fetch.Parent, ev.Fetch.Record
		case ev.Row != nil:
			re.Action, re.Parent, re.Record = "row", ev.Row.Parent, ev.Row.Record
		case ev.Delete != nil:
			re.Action, re.Match = "delete", ev.Delete
		default:
			re.Action, re.Parent = "relist", ev.Relist
		}
		out.Events = append(out.Events, re)
	}
	return out
}

func resolveTable(file string, s *spec.Table) *Table {
	t := &Table{
		Name:        s.Name,
		GoName:      spec.GoName(s.Name),
		Description: s.Description,
		SpecFile:    file,
		Request: &Request{
			Path:    s.Request.Path,
			Params:  s.Request.Params,
			Bucket:  s.Request.BucketName(),
			Records: s.Request.Records,
		},
		Incremental: resolveIncremental(s.Incremental),
		PrimaryKey:  s.PrimaryKey,
		Columns:     resolveColumns(s.Columns),
		Dynamic:     resolveDynamic(s.Dynamic),
	}
	p := s.PaginationOrDefault()
	t.Pagination = Pagination{Kind: string(p.Type), Rel: p.Rel, NextPath: p.NextPath, Poll: p.Poll}
	d := s.DeletesOrDefault()
	t.Deletes = Deletes{Kind: string(d.Type), Every: d.Every.D}
	if s.Permissions != nil {
		t.Permissions = *s.Permissions
	}
	for _, c := range s.Children {
		t.Children = append(t.Children, resolveChild(file, c, t))
	}
	return t
}

func resolveChild(file string, s *spec.Child, parent *Table) *Table {
	t := &Table{
		Name:        s.Name,
		GoName:      spec.GoName(s.Name),
		Description: s.Description,
		SpecFile:    file,
		Parent:      parent,
		Permissions: parent.Permissions,
		PrimaryKey:  s.PrimaryKey,
		Dynamic:     resolveDynamic(s.Dynamic),
	}
	path, _ := spec.SplitPath(s.Breakout.Path)
	b := &Breakout{Kind: string(s.Breakout.Type), Path: path, Exclude: slices.Clone(s.Breakout.Exclude)}
	if s.Breakout.ExcludeMapped {
		b.Exclude = append(b.Exclude, mappedKeys(parent, path)...)
	}
	slices.Sort(b.Exclude)
	b.Exclude = slices.Compact(b.Exclude)
	t.Breakout = b
	// Children inherit the parent's key columns; a mismatch was reported by validation.
	keys, _ := parentKeyColumns(s.ParentKey, parent)
	t.ParentKey = keys
	t.Columns = append(slices.Clone(keys), resolveColumns(s.Columns)...)
	for _, c := range s.Children {
		t.Children = append(t.Children, resolveChild(file, c, t))
	}
	return t
}

// mappedKeys are the keys directly under path that the parent maps to its
// own columns (or walks into for them).
func mappedKeys(parent *Table, path []string) []string {
	var out []string
	for _, c := range parent.Columns {
		if len(c.Path) > len(path) && slices.Equal(c.Path[:len(path)], path) {
			out = append(out, c.Path[len(path)])
		}
	}
	return out
}

func parentKeyColumns(names spec.Names, parent *Table) ([]*Column, error) {
	var out []*Column
	for i, n := range names {
		if i >= len(parent.PrimaryKey) {
			return nil, fmt.Errorf("parent key %q has no match in %s's primary key", n, parent.Name)
		}
		pc := parent.Column(parent.PrimaryKey[i])
		if pc == nil {
			return nil, fmt.Errorf("%s has no key column %q", parent.Name, parent.PrimaryKey[i])
		}
		out = append(out, &Column{Name: n, GoName: spec.GoName(n), Type: pc.Type, ParentOf: pc,
			Description: fmt.Sprintf("Key of the parent row in %s (%s).", parent.Name, pc.Name)})
	}
	return out, nil
}

// Column finds a column by name.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func resolveColumns(cols []*spec.Column) []*Column {
	out := make([]*Column, 0, len(cols))
	for _, c := range cols {
		rc := &Column{Name: c.ColumnName(), Type: string(c.ColumnType()), Description: c.Description, Value: string(c.Value)}
		rc.GoName = spec.GoName(rc.Name)
		if c.Path != "" {
			rc.Path, _ = spec.SplitPath(c.Path)
		}
		out = append(out, rc)
	}
	return out
}

func resolveDynamic(ds []*spec.Dynamic) []*Dynamic {
	var out []*Dynamic
	for _, d := range ds {
		p, _ := spec.SplitPath(d.Path)
		out = append(out, &Dynamic{Path: p, Prefix: d.Prefix, Type: string(d.DynamicType())})
	}
	return out
}

func resolveIncremental(in *spec.Incremental) *Incremental {
	if in == nil {
		return nil
	}
	return &Incremental{
		Kind:          string(in.IncrementalType()),
		CursorFields:  in.CursorField,
		Param:         in.Param,
		Template:      in.Template,
		Lookback:      in.Lookback.D,
		Initial:       in.Initial,
		StartParam:    in.StartParam,
		StartLookback: in.StartLookback.D,
		Backfill:      resolveBackfill(in.Backfill),
	}
}

func resolveBackfill(b *spec.Backfill) *Backfill {
	if b == nil {
		return nil
	}
	return &Backfill{Newest: b.Newest.D, Params: b.Params}
}

// Walk calls fn for every table, parents before children.
func (r *Registry) Walk(fn func(t *Table)) {
	var walk func(ts []*Table)
	walk = func(ts []*Table) {
		for _, t := range ts {
			fn(t)
			walk(t.Children)
		}
	}
	walk(r.Tables)
}
