// Package sqldest holds what the SQL destinations (runtime/dest/duckdb,
// runtime/dest/postgres) share besides their SQL: the system columns, the
// checks of descriptors, the record of a table's key, and the format of
// their table dumps, so that the two agree by construction.
package sqldest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"oktasync/runtime"
)

// System columns (runtime.Destination): soft-delete tables have ColSynced
// and ColDeleted, history tables ColStart, ColEnd, ColActive and ColSynced.
const (
	ColSynced  = "_fivetran_synced"
	ColDeleted = "_fivetran_deleted"
	ColStart   = "_fivetran_start"
	ColEnd     = "_fivetran_end"
	ColActive  = "_fivetran_active"
)

// Descriptions of the system columns, written as the columns' comments.
const (
	DescSynced        = "When a sync last wrote the row (UTC)."
	DescDeleted       = "True once the row's record is gone from the source."
	DescStart         = "When the version took effect (UTC)."
	DescEnd           = "When the version stopped being current (UTC): 1ms before the next version's start, the delete's time, or 9999-12-31 23:59:59.999 while active."
	DescActive        = "True for the current version of a live record."
	DescVersionSynced = "When a sync last wrote or confirmed the version (UTC)."
)

// Write modes, as the tables table records them.
const (
	ModeSoftDelete = "soft_delete"
	ModeHistory    = "history"
)

// IsSystem reports whether name is a system column of any write mode.
func IsSystem(name string) bool {
	for _, c := range []string{ColSynced, ColDeleted, ColStart, ColEnd, ColActive} {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// SourceKey is the source key within a recorded destination key: a
// history table's ends with _fivetran_start.
func SourceKey(key []string) []string {
	if n := len(key); n > 0 && strings.EqualFold(key[n-1], ColStart) {
		return key[:n-1]
	}
	return key
}

// Meta is what the tables table records of a table: its destination key (in
// key order), its parent table and the columns holding the parent's key,
// and its write mode.
type Meta struct {
	Name, Parent, Mode string
	Key, ParentKey     []string
}

// MetaOf is the record of the table desc written as name, in mode, keyed by key.
func MetaOf(desc *runtime.Table, name, mode string, key []string) Meta {
	m := Meta{Name: name, Mode: mode, Key: key}
	if p := desc.Parent; p != nil {
		m.Parent, m.ParentKey = p.Name, desc.ParentKey
	} else if f := desc.FanOut; f != nil {
		m.Parent, m.ParentKey = f.Parent, desc.ParentKey
	}
	return m
}

// Equal reports whether two records say the same.
func (m Meta) Equal(o Meta) bool {
	return m.Name == o.Name && m.Parent == o.Parent && m.Mode == o.Mode &&
		slices.Equal(m.Key, o.Key) && slices.Equal(m.ParentKey, o.ParentKey)
}

// DumpTimeFormat is how dumps write timestamps (UTC).
const DumpTimeFormat = "2006-01-02 15:04:05.000"

// Collect lists tables and their children, parents first, once each; two
// tables of one name (names are case-insensitive) are an error.
func Collect(tables []*runtime.Table) ([]*runtime.Table, error) {
	var all []*runtime.Table
	seen := make(map[*runtime.Table]bool)
	names := make(map[string]bool)
	var walk func(ts []*runtime.Table) error
	walk = func(ts []*runtime.Table) error {
		for _, t := range ts {
			if t == nil || seen[t] {
				continue
			}
			seen[t] = true
			lower := strings.ToLower(t.Name)
			if names[lower] {
				return fmt.Errorf("two tables named %q", t.Name)
			}
			names[lower] = true
			all = append(all, t)
			if err := walk(t.Children); err != nil {
				return err
			}
		}
		return nil
	}
	return all, walk(tables)
}

// Validate checks what a database would otherwise reject halfway through a
// Prepare; typeOK says whether the destination has a type for a column type.
func Validate(t *runtime.Table, typeOK func(runtime.ColumnType) error) error {
	if t.Name == "" {
		return errors.New("table has no name")
	}
	if len(t.Columns) == 0 {
		return errors.New("table has no columns")
	}
	cols := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		lower := strings.ToLower(c.Name)
		switch {
		case c.Name == "":
			return errors.New("a column has no name")
		case cols[lower]:
			return fmt.Errorf("column %q appears twice (names are case-insensitive)", c.Name)
		case IsSystem(c.Name):
			return fmt.Errorf("column %q is a system column", c.Name)
		}
		if err := typeOK(c.Type); err != nil {
			return fmt.Errorf("column %s: %w", c.Name, err)
		}
		cols[lower] = true
	}
	if len(t.PrimaryKey) == 0 {
		return errors.New("table has no primary key")
	}
	for _, k := range t.PrimaryKey {
		if !cols[strings.ToLower(k)] {
			return fmt.Errorf("primary key column %q is not a column", k)
		}
	}
	for _, k := range t.ParentKey {
		if !cols[strings.ToLower(k)] {
			return fmt.Errorf("parent key column %q is not a column", k)
		}
	}
	if t.Parent != nil && len(t.ParentKey) != len(t.Parent.PrimaryKey) {
		return fmt.Errorf("parent key (%s) does not match the primary key of %s", strings.Join(t.ParentKey, ", "), t.Parent.Name)
	}
	for _, dc := range t.Dynamic {
		if err := typeOK(dc.Type); err != nil {
			return fmt.Errorf("dynamic columns %s: %w", dc.Prefix, err)
		}
	}
	return nil
}

// FormatValue writes one value of a dump: NULL as an empty field, booleans
// as true/false, timestamps in UTC as DumpTimeFormat, doubles in Go's
// shortest form.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(DumpTimeFormat)
	}
	return fmt.Sprint(v)
}

// WithoutColumn drops a column from a dump's CSV, for comparing dumps of
// two syncs on what they synced rather than when (_fivetran_synced).
func WithoutColumn(dump, column string) (string, error) {
	recs, err := csv.NewReader(strings.NewReader(dump)).ReadAll()
	if err != nil || len(recs) == 0 {
		return dump, err
	}
	i := slices.Index(recs[0], column)
	var b strings.Builder
	w := csv.NewWriter(&b)
	for _, r := range recs {
		if i >= 0 {
			r = slices.Delete(r, i, i+1)
		}
		w.Write(r)
	}
	w.Flush()
	return b.String(), w.Error()
}

// CheckDrop refuses to drop a column of t the writer needs (a key, a
// parent key, a system column) or one t still writes.
func CheckDrop(t *runtime.Table, name string) error {
	named := func(l []string) bool {
		return slices.ContainsFunc(l, func(k string) bool { return strings.EqualFold(k, name) })
	}
	if named(t.PrimaryKey) || named(t.ParentKey) || IsSystem(name) {
		return fmt.Errorf("column %s cannot be dropped: the writer needs it", name)
	}
	if slices.ContainsFunc(t.Columns, func(c runtime.Column) bool { return strings.EqualFold(c.Name, name) }) {
		return fmt.Errorf("column %s is both a column to write and one to drop", name)
	}
	return nil
}
