package runtime

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"oktasync/naming"
)

// SchemaChangePolicy says what happens to columns and tables that appear
// after a destination's first sync: dynamic columns met at run time, and
// tables added to a registry since. Fivetran's names.
type SchemaChangePolicy string

const (
	AllowAll     SchemaChangePolicy = "ALLOW_ALL"     // new tables and new columns sync (the default)
	AllowColumns SchemaChangePolicy = "ALLOW_COLUMNS" // new columns sync, new tables do not
	BlockAll     SchemaChangePolicy = "BLOCK_ALL"     // neither syncs
)

// Policies lists the schema-change policies, the default first.
var Policies = []SchemaChangePolicy{AllowAll, AllowColumns, BlockAll}

// Settings decide what of a source lands in the destination and how: which
// tables and columns are blocked, which columns are hashed, which tables
// keep history, and what happens to new columns and tables. The zero value
// syncs everything as it comes.
type Settings struct {
	// SchemaChange is the policy for new columns and tables ("" = AllowAll).
	SchemaChange SchemaChangePolicy
	// Tables holds the settings of tables (top-level, fan-out or child) by name.
	Tables map[string]TableSettings
	// Salt keys the hash of hashed columns. Empty: the destination's own
	// salt, made at random on first use and kept with its state.
	Salt string
}

// TableSettings are one table's settings.
type TableSettings struct {
	// Enabled false blocks the table; nil leaves it to the default (enabled,
	// or the schema-change policy's word for a table new to the destination).
	Enabled *bool
	// History keeps versions of the table's rows (see Destination). Breakout
	// children of a history table are history tables too.
	History bool
	// Columns hold settings of columns, dynamic ones included, by name.
	Columns map[string]ColumnSettings
}

// ColumnSettings are one column's settings.
type ColumnSettings struct {
	// Enabled false blocks the column; nil leaves it to the default
	// (enabled, or the policy's word for a dynamic column new to the table).
	Enabled *bool
	// Hashed stores the keyed SHA-256 of the value (see Hasher) instead of
	// the value.
	Hashed bool
}

// SettingProblem is a setting that cannot be applied. Table and Column
// (empty for a problem of the table itself, or of the whole) and Field
// ("enabled", "hashed", "history", "schema_change_handling") say where.
type SettingProblem struct {
	Table, Column, Field string
	Msg                  string
}

func (p SettingProblem) Error() string {
	where := p.Table
	if p.Column != "" {
		where += "." + p.Column
	}
	if where == "" {
		return p.Field + ": " + p.Msg
	}
	return where + ": " + p.Msg
}

// Problems checks settings against a registry: unknown tables and columns,
// and settings that would break the sync (blocking a key, hashing a child's
// parent key apart from its parent's key). A column matching one of a
// table's dynamic prefixes is known.
func (s *Settings) Problems(reg *Registry) []SettingProblem {
	var out []SettingProblem
	if s == nil {
		return nil
	}
	if s.SchemaChange != "" && !slices.Contains(Policies, s.SchemaChange) {
		out = append(out, SettingProblem{Field: "schema_change_handling",
			Msg: fmt.Sprintf("unknown policy %q; want one of %s", s.SchemaChange, policyNames())})
	}
	for _, name := range sortedKeys(s.Tables) {
		ts := s.Tables[name]
		t := reg.Lookup(name)
		if t == nil {
			out = append(out, SettingProblem{Table: name, Msg: "no such table; `oktasync tables` lists them"})
			continue
		}
		if ts.History && t.Parent != nil {
			out = append(out, SettingProblem{Table: name, Field: "history",
				Msg: fmt.Sprintf("a child table follows its parent's history mode; set history on %s", t.Parent.Name)})
		}
		for _, col := range sortedKeys(ts.Columns) {
			cs := ts.Columns[col]
			known := slices.ContainsFunc(t.Columns, func(c Column) bool { return c.Name == col })
			if _, dyn := t.DynamicType(col); !known && !dyn && !t.Unpivoted() {
				msg := "no such column"
				if c := closestColumn(t, col); c != "" {
					msg += "; did you mean " + c + "?"
				}
				out = append(out, SettingProblem{Table: name, Column: col, Msg: msg})
				continue
			}
			if cs.Enabled != nil && !*cs.Enabled {
				if why := unblockable(t, col); why != "" {
					out = append(out, SettingProblem{Table: name, Column: col, Field: "enabled",
						Msg: "cannot be blocked: " + why})
				}
			}
			if cs.Hashed && slices.Contains(t.ParentKey, col) {
				p := parentKeyOwner(reg, t, col)
				out = append(out, SettingProblem{Table: name, Column: col, Field: "hashed",
					Msg: fmt.Sprintf("a parent key column is hashed when its parent's key is: hash %s instead", p)})
			}
		}
	}
	return out
}

// Unpivoted reports whether t holds an object's keys as rows (a breakout
// of object keys): each key is then a column in all but form, and settings
// of columns that are no column of t name keys. Blocking a key leaves its
// rows out, hashing it hashes their values, and a key new since the first
// sync is a schema change.
func (t *Table) Unpivoted() bool {
	return t.Breakout != nil && t.Breakout.Kind == BreakoutObjectKeys
}

// unblockable says why a column cannot be blocked, or "".
func unblockable(t *Table, col string) string {
	switch {
	case slices.Contains(t.PrimaryKey, col):
		return "it is part of the primary key of " + t.Name
	case slices.Contains(t.ParentKey, col):
		return "it holds the key of the parent table, which joins the tables"
	}
	return ""
}

// parentKeyOwner names the parent key column that col of t follows.
func parentKeyOwner(reg *Registry, t *Table, col string) string {
	i := slices.Index(t.ParentKey, col)
	p := t.Parent
	if p == nil && t.FanOut != nil && t.FanOut.Parent != "" {
		p = reg.Lookup(t.FanOut.Parent)
	}
	if p == nil || i < 0 || i >= len(p.PrimaryKey) {
		return "the parent's key"
	}
	return p.Name + "." + p.PrimaryKey[i]
}

func closestColumn(t *Table, col string) string {
	best, bestDist := "", 3
	for _, c := range t.Columns {
		if d := naming.EditDistance(col, c.Name); d < bestDist {
			best, bestDist = c.Name, d
		}
	}
	return best
}

func policyNames() string {
	names := make([]string, len(Policies))
	for i, p := range Policies {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TableEffect is what the settings make of one table (Settings.Effective).
type TableEffect struct {
	Table *Table // the registry's
	// Written: the table lands in the destination. ReadForChildren: it is
	// blocked but still read, because a breakout child is written.
	Written, ReadForChildren bool
	History                  bool
	// HistoryStart names the record field whose time opens a version
	// (the source's change time), or "" when versions open at the sync time.
	HistoryStart string
	Columns      []ColumnEffect
}

// ColumnEffect is what the settings make of one column.
type ColumnEffect struct {
	Name    string
	Type    ColumnType // as written: text when hashed
	Enabled bool
	Hashed  bool
	// Why explains a setting the user did not make: "primary key",
	// "follows users.id" (a parent key hashed with its parent's key).
	Why string
}

// SchemaChange is a change of the destination's schema a sync made or
// refused, recorded in SchemaChangesTable and the sync's Summary.
type SchemaChange struct {
	At     time.Time
	Table  string
	Column string // empty for a change of the table
	Type   string // the column's type
	// Decision is what was done: "added", "not added", "dropped",
	// "table added", "table not added", "re-import".
	Decision string
	Reason   string
}

// SchemaChangesTable records every SchemaChange; the engine writes it
// like any table.
var SchemaChangesTable = &Table{
	Name:        "_oktasync_schema_changes",
	Description: "Every change of the destination's schema a sync made or refused (schema-change policy, blocking, new columns).",
	PrimaryKey:  []string{"changed_at", "table_name", "column_name"},
	Columns: []Column{
		{Name: "changed_at", Type: TypeTimestamp, Description: "When the sync decided (UTC)."},
		{Name: "table_name", Type: TypeString, Description: "The table."},
		{Name: "column_name", Type: TypeString, Description: "The column; empty for a change of the table."},
		{Name: "column_type", Type: TypeString, Description: "The column's type."},
		{Name: "decision", Type: TypeString, Description: "added, not added, dropped, table added, table not added, re-import."},
		{Name: "reason", Type: TypeString, Description: "Why."},
	},
}
