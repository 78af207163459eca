package runtime

import "slices"

// TEMP stub of Settings.Effective until the engine's lands; drop on merge.
func (s *Settings) Effective(reg *Registry) []TableEffect {
	var out []TableEffect
	var eff func(t *Table, parentHistory bool, parentStart string) TableEffect
	eff = func(t *Table, parentHistory bool, parentStart string) TableEffect {
		var ts TableSettings
		if s != nil {
			ts = s.Tables[t.Name]
		}
		e := TableEffect{Table: t, Written: ts.Enabled == nil || *ts.Enabled, History: ts.History || parentHistory}
		if e.History {
			switch {
			case t.Parent != nil:
				e.HistoryStart = parentStart
			case t.Incremental != nil && t.Incremental.Kind == IncrementalFilter:
				e.HistoryStart = t.Incremental.CursorField
			}
		}
		for _, c := range t.Columns {
			cs := ts.Columns[c.Name]
			ce := ColumnEffect{Name: c.Name, Type: c.Type, Enabled: cs.Enabled == nil || *cs.Enabled, Hashed: cs.Hashed}
			if slices.Contains(t.PrimaryKey, c.Name) {
				ce.Enabled, ce.Why = true, "primary key"
			}
			if ce.Hashed {
				ce.Type = TypeString
			}
			e.Columns = append(e.Columns, ce)
		}
		for _, name := range sortedKeys(ts.Columns) {
			if typ, ok := t.DynamicType(name); ok {
				cs := ts.Columns[name]
				if cs.Hashed {
					typ = TypeString
				}
				e.Columns = append(e.Columns, ColumnEffect{Name: name, Type: typ, Enabled: cs.Enabled == nil || *cs.Enabled, Hashed: cs.Hashed})
			}
		}
		i := len(out)
		out = append(out, e)
		for _, c := range t.Children {
			ce := eff(c, e.History, e.HistoryStart)
			if ce.Written && c.Breakout != nil && !out[i].Written {
				out[i].ReadForChildren = true
			}
		}
		return out[i]
	}
	for _, t := range reg.Tables {
		eff(t, false, "")
	}
	return out
}
