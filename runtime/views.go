package runtime

import (
	"slices"
	"strings"
)

// A view is what settings make of a registry table for one sync: the
// table as the destination sees it (columns blocked left out, hashed ones
// typed text, History and Blocked set) and how a row of the registry table
// becomes a row of it (the row stage: see tableRun.values). Blocking and
// hashing happen there, before any destination sees a value.
type view struct {
	src, t *Table
	// written: rows land in the destination. A table not written may still
	// be read, Blocked, when a breakout child below it is written.
	written bool
	// keep lists the positions of the source columns written, nil when all
	// are; hashed marks the written columns whose values are hashed, nil
	// when none is.
	keep   []int
	hashed []bool
	// dynamic holds settings of dynamic columns by name: enabled (true) or
	// blocked (false); hashDynamic the hashed ones.
	dynamic     map[string]bool
	hashDynamic map[string]bool
	// why explains settings the user did not make, by column.
	why map[string]string
	// keyAt and valueAt are the positions of the key and value columns of
	// an unpivoted table (Table.Unpivoted), whose keys dynamic and
	// hashDynamic then hold; -1 otherwise.
	keyAt, valueAt int
	// owner is the top-level or fan-out table whose runs write this table
	// (itself for those).
	owner *view
}

// views are a registry seen through settings.
type views struct {
	reg    *Registry // of view tables, children hanging below
	bySrc  map[*Table]*view
	byName map[string]*view
	// order lists every registry table's view, parents first.
	order []*view
}

// resolve makes the views of reg's tables under s (nil: defaults). A table
// not written has a view all the same; it is left out of the view
// registry's tree unless a written breakout child needs it read.
func (s *Settings) resolve(reg *Registry) *views {
	vs := &views{bySrc: map[*Table]*view{}, byName: map[string]*view{}}
	settings := func(name string) TableSettings {
		if s == nil {
			return TableSettings{}
		}
		return s.Tables[name]
	}
	hashed := map[string]map[string]bool{} // table -> column -> hashed
	reg.Walk(func(t *Table) {
		ts := settings(t.Name)
		h := map[string]bool{}
		for name, cs := range ts.Columns {
			if cs.Hashed {
				h[name] = true
			}
		}
		hashed[t.Name] = h
	})
	// A parent key column is hashed when the parent's key column it holds
	// is, so that child rows still find their parent (replacements, delete
	// cascades) and hashed keys join; parents may come after their fan-out
	// children in a registry, hence the passes until nothing changes.
	why := map[string]map[string]string{}
	for changed := true; changed; {
		changed = false
		reg.Walk(func(t *Table) {
			p := t.Parent
			if p == nil && t.FanOut != nil && t.FanOut.Parent != "" {
				p = reg.Lookup(t.FanOut.Parent)
			}
			if p == nil {
				return
			}
			for i, col := range t.ParentKey {
				if i < len(p.PrimaryKey) && hashed[p.Name][p.PrimaryKey[i]] && !hashed[t.Name][col] {
					hashed[t.Name][col] = true
					if why[t.Name] == nil {
						why[t.Name] = map[string]string{}
					}
					why[t.Name][col] = "follows " + p.Name + "." + p.PrimaryKey[i]
					changed = true
				}
			}
		})
	}
	var build func(t *Table, parent *view) *view
	build = func(t *Table, parent *view) *view {
		ts := settings(t.Name)
		v := &view{src: t, written: ts.Enabled == nil || *ts.Enabled, why: why[t.Name], keyAt: -1, valueAt: -1}
		vt := *t
		vt.Parent, vt.Children = nil, nil
		vt.History = ts.History
		if parent != nil {
			vt.Parent = parent.t
			vt.History = parent.t.History
			v.owner = parent.owner
		} else {
			v.owner = v
		}
		vt.Columns = nil
		blocked := false
		for i, c := range t.Columns {
			cs := ts.Columns[c.Name]
			if cs.Enabled != nil && !*cs.Enabled && unblockable(t, c.Name) == "" {
				blocked = true
				continue
			}
			if hashed[t.Name][c.Name] {
				if v.hashed == nil {
					v.hashed = make([]bool, 0, len(t.Columns))
					for range vt.Columns {
						v.hashed = append(v.hashed, false)
					}
				}
				c.Type = TypeString
			}
			if v.hashed != nil {
				v.hashed = append(v.hashed, hashed[t.Name][c.Name])
			}
			vt.Columns = append(vt.Columns, c)
			v.keep = append(v.keep, i)
		}
		if !blocked {
			v.keep = nil
		}
		if t.Unpivoted() {
			v.keyAt = slices.IndexFunc(vt.Columns, func(c Column) bool { return c.Source == "key" })
			v.valueAt = slices.IndexFunc(vt.Columns, func(c Column) bool { return c.Source == "element" })
		}
		for name, cs := range ts.Columns {
			if _, ok := t.DynamicType(name); !ok && v.keyAt < 0 || slices.ContainsFunc(t.Columns, func(c Column) bool { return c.Name == name }) {
				continue
			}
			if cs.Enabled != nil {
				if v.dynamic == nil {
					v.dynamic = map[string]bool{}
				}
				v.dynamic[name] = *cs.Enabled
			}
			if cs.Hashed {
				if v.hashDynamic == nil {
					v.hashDynamic = map[string]bool{}
				}
				v.hashDynamic[name] = true
			}
		}
		vt.hashedDynamic = v.hashDynamic
		v.t = &vt
		vs.bySrc[t] = v
		vs.byName[t.Name] = v
		vs.order = append(vs.order, v)
		for _, c := range t.Children {
			build(c, v)
		}
		return v
	}
	for _, t := range reg.Tables {
		build(t, nil)
	}
	vs.link()
	return vs
}

// link hangs the views that are read below their parents and makes the
// view registry. A table is read when it is written or a breakout child
// below it is; one read but not written is Blocked.
func (vs *views) link() {
	var read func(v *view) bool
	read = func(v *view) bool {
		v.t.Children = nil
		has := false
		for _, c := range v.src.Children {
			cv := vs.bySrc[c]
			if read(cv) {
				v.t.Children = append(v.t.Children, cv.t)
				has = true
			}
		}
		v.t.Blocked = !v.written && has
		return v.written || has
	}
	reg := &Registry{}
	for _, v := range vs.order {
		if v.src.Parent == nil && read(v) {
			reg.Tables = append(reg.Tables, v.t)
		}
	}
	vs.reg = reg
}

// of is the view of a registry table.
func (vs *views) of(t *Table) *view { return vs.bySrc[t] }

// writes tells whether the source column at position i lands in the
// destination; false for every column of a table not written.
func (v *view) writes(i int) bool {
	if v == nil || !v.written {
		return false
	}
	if v.keep == nil {
		return true
	}
	_, ok := slices.BinarySearch(v.keep, i)
	return ok
}

// historyStart lists the record fields whose latest time opens a version
// of v's rows (the table's cursor fields, the source's change time), or nil
// when versions open at the sync time. Children open theirs with their
// parent record's.
func (v *view) historyStart() []string {
	t := v.owner.src
	if t.Incremental == nil {
		return nil
	}
	return t.Incremental.Fields()
}

// hashedNames lists the hashed columns of v's owner and its breakout
// children as "table.column", sorted: what TableState.Hashed records.
func (vs *views) hashedNames(owner *view) []string {
	var out []string
	for _, v := range vs.order {
		if v.owner != owner {
			continue
		}
		for i, h := range v.hashed {
			if h {
				out = append(out, v.t.Name+"."+v.t.Columns[i].Name)
			}
		}
		for name := range v.hashDynamic {
			out = append(out, v.t.Name+"."+name)
		}
	}
	slices.Sort(out)
	return out
}

// Effective says what s makes of every table of reg, children included,
// parents first: which are written, read or neither, which keep history,
// and each column's setting. A nil s gives the defaults.
func (s *Settings) Effective(reg *Registry) []TableEffect {
	vs := s.resolve(reg)
	var out []TableEffect
	for _, v := range vs.order {
		e := TableEffect{Table: v.src, Written: v.written, ReadForChildren: v.t.Blocked, History: v.t.History}
		if e.History {
			e.HistoryStart = strings.Join(v.historyStart(), ", ")
		}
		kept := 0
		for i, c := range v.src.Columns {
			ce := ColumnEffect{Name: c.Name, Type: c.Type, Enabled: false}
			if v.keep == nil || (kept < len(v.keep) && v.keep[kept] == i) {
				ce.Enabled = true
				ce.Type = v.t.Columns[kept].Type
				ce.Hashed = v.hashed != nil && v.hashed[kept]
				kept++
			}
			switch {
			case slices.Contains(v.src.PrimaryKey, c.Name):
				ce.Why = "primary key"
			case slices.Contains(v.src.ParentKey, c.Name):
				ce.Why = "parent key"
			}
			if w := v.why[c.Name]; w != "" {
				ce.Why = strings.TrimPrefix(ce.Why+"; "+w, "; ")
			}
			e.Columns = append(e.Columns, ce)
		}
		for _, name := range sortedKeys(v.dynamic) {
			typ, _ := v.t.DynamicType(name)
			e.Columns = append(e.Columns, ColumnEffect{Name: name, Type: typ, Enabled: v.dynamic[name],
				Hashed: v.hashDynamic[name], Why: v.dynamicWhy()})
		}
		for _, name := range sortedKeys(v.hashDynamic) {
			if _, ok := v.dynamic[name]; !ok {
				typ, _ := v.t.DynamicType(name)
				e.Columns = append(e.Columns, ColumnEffect{Name: name, Type: typ, Enabled: true, Hashed: true, Why: v.dynamicWhy()})
			}
		}
		out = append(out, e)
	}
	return out
}

// dynamicWhy says what a setting of v that names no column of v is about.
func (v *view) dynamicWhy() string {
	if v.keyAt >= 0 {
		return "a key of " + v.src.Breakout.Path
	}
	return "dynamic"
}
