package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
)

// tableInfo is what the writer knows of one destination table. A Commit that
// adds dynamic columns works on a clone, installed only once the transaction
// has committed, so a rolled-back commit leaves no trace here either.
type tableInfo struct {
	desc *runtime.Table
	name string
	mode writeMode
	// cols are the columns a row fills: the descriptor's, then dynamic ones
	// in order of first appearance. System columns belong to the mode.
	cols  []column
	fixed int
	// key is the destination key (the mode's, from the descriptor's
	// primary key pk): the table's PRIMARY KEY, also kept in TablesTable.
	key, pk []string
	// extra are columns of the table the writer does not fill (a column the
	// descriptor no longer names); merges keep their values.
	extra []string
	// pos maps a column's lookup name (lowerIdent: the writer matches names
	// without regard to case, as in DuckDB) to its index in cols, or -1 for
	// a system column or one the table has but the descriptor no longer
	// names.
	pos map[string]int
	// warned remembers dynamic names already reported as clashing.
	warned map[string]bool
}

type column struct {
	name string
	typ  runtime.ColumnType
	desc string // the column's comment in the database
}

func (t *tableInfo) clone() *tableInfo {
	c := *t
	c.cols = append([]column(nil), t.cols...)
	c.extra = append([]string(nil), t.extra...)
	c.pos = make(map[string]int, len(t.pos)+8)
	for k, v := range t.pos {
		c.pos[k] = v
	}
	return &c
}

// stageCols are the columns of a staged row: cols, then a history row's
// start.
func (t *tableInfo) stageCols() []column {
	if !t.mode.versioned() {
		return t.cols
	}
	return append(t.cols[:len(t.cols):len(t.cols)], column{name: colStart, typ: runtime.TypeTimestamp})
}

// width is the number of staged columns.
func (t *tableInfo) width() int {
	if t.mode.versioned() {
		return len(t.cols) + 1
	}
	return len(t.cols)
}

// fill lays one row out in buf, in cols order, with text PostgreSQL takes
// (see clean).
func (t *tableInfo) fill(buf []any, row []any, fields []runtime.Field) {
	for i, v := range row {
		buf[i] = clean(v)
	}
	if len(t.cols) == t.fixed {
		return
	}
	clear(buf[t.fixed:len(t.cols)])
	for _, f := range fields {
		i, ok := t.pos[lowerIdent(f.Name)]
		if !ok || i < t.fixed {
			continue // a name taken by a fixed or system column, reported by withDynamic
		}
		buf[i] = clean(f.Value)
	}
}

// clean makes a string value one PostgreSQL stores: its text types hold
// neither NUL bytes nor invalid UTF-8, which DuckDB and the source allow.
// A NUL becomes U+FFFD, as invalid bytes do; JSON text escapes its NULs
// (\u0000), which json accepts, so only raw ones are touched.
func clean(v any) any {
	s, ok := v.(string)
	if !ok {
		if t, ok := v.(time.Time); ok {
			// pgx writes a timestamp's wall clock, whatever its zone.
			return t.UTC()
		}
		return v
	}
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// withDynamic returns t extended by the dynamic columns of rs it lacks (t
// itself when there are none) and the columns added.
func (d *DB) withDynamic(t *tableInfo, rs *runtime.RowSet) (*tableInfo, []column, error) {
	if rs.Dynamic == nil {
		return t, nil, nil
	}
	if len(t.desc.Dynamic) == 0 {
		return nil, nil, errors.New("dynamic fields for a table without dynamic columns")
	}
	if len(rs.Dynamic) != len(rs.Rows) {
		return nil, nil, fmt.Errorf("%d rows but %d sets of dynamic fields", len(rs.Rows), len(rs.Dynamic))
	}
	nt := t
	var added []column
	for _, fields := range rs.Dynamic {
		for _, f := range fields {
			lower := lowerIdent(f.Name)
			if i, ok := nt.pos[lower]; ok {
				if i < nt.fixed && !t.warned[lower] {
					t.warned[lower] = true
					d.log.Warn("postgres: dynamic field clashes with a column; dropped", "table", t.name, "field", f.Name)
				}
				continue
			}
			typ, ok := t.desc.DynamicType(f.Name)
			if !ok {
				return nil, nil, fmt.Errorf("dynamic column %q matches no dynamic prefix", f.Name)
			}
			if nt == t {
				nt = t.clone()
			}
			c := descColumn(runtime.Column{Name: f.Name, Type: typ})
			nt.pos[lower] = len(nt.cols)
			nt.cols = append(nt.cols, c)
			added = append(added, c)
		}
	}
	return nt, added, nil
}

// column is a descriptor column as written.
func descColumn(c runtime.Column) column {
	return column{name: c.Name, typ: c.Type, desc: c.Description}
}

// Prepare creates the schema and the tables (children included; blocked
// tables excepted), the state table and the tables table if they do not
// exist, and adds the columns an existing table lacks. It drops only the
// columns a descriptor lists in Drop, rebuilds a table only to switch its
// write mode (see switchMode), and never retypes anything, so running it
// before every sync is cheap and safe. All of it is one transaction.
func (d *DB) Prepare(ctx context.Context, tables []*runtime.Table) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	all, err := sqldest.Collect(tables)
	if err != nil {
		return fmt.Errorf("postgres: prepare: %w", err)
	}
	for _, t := range all {
		if err := validate(t); err != nil {
			return fmt.Errorf("postgres: prepare %s: %w", t.Name, err)
		}
	}
	x, err := d.begin(ctx)
	if err != nil {
		return d.errorf(err, "prepare")
	}
	defer x.close()
	if err := x.ensureSchema(ctx); err != nil {
		return d.errorf(err, "prepare: create schema")
	}
	if err := x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(StateTable)+
		` ("table_name" text PRIMARY KEY, "state" json, "updated_at" timestamp)`); err != nil {
		return d.errorf(err, "prepare %s", StateTable)
	}
	if err := x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(TablesTable)+
		` ("table_name" text NOT NULL, "primary_key" text[] NOT NULL, "parent_table" text,`+
		` "parent_key" text[], "write_mode" text)`); err != nil {
		return d.errorf(err, "prepare %s", TablesTable)
	}
	existing, comments, err := d.existingColumns(ctx, x)
	if err != nil {
		return d.errorf(err, "prepare")
	}
	meta, err := readTables(ctx, x)
	if err != nil {
		return d.errorf(err, "prepare")
	}
	infos := make([]*tableInfo, 0, len(all))
	var blocked []string
	for _, t := range all {
		lower := lowerIdent(t.Name)
		if t.Blocked {
			// Read for its children only: no table, whatever it had.
			blocked = append(blocked, lower)
			continue
		}
		var recorded []string
		if m, ok := meta[lower]; ok {
			recorded = m.Key
		}
		have, comment := existing[lower], comments[lower]
		info, rebuilt, err := d.prepareTable(ctx, x, t, &have, recorded)
		if rebuilt {
			comment = "" // a rebuilt table has lost its comments
		}
		if err == nil {
			err = writeMeta(ctx, x, info, meta[lower])
		}
		if err == nil {
			err = writeComments(ctx, x, info, comment, have)
		}
		if err != nil {
			return d.errorf(err, "prepare %s", t.Name)
		}
		infos = append(infos, info)
	}
	if err := x.commit(ctx); err != nil {
		return d.errorf(err, "prepare")
	}
	d.tablesMu.Lock()
	clear(d.noneBefore)
	for _, info := range infos {
		d.tables[lowerIdent(info.name)] = info
	}
	for _, lower := range blocked {
		delete(d.tables, lower)
	}
	d.tablesMu.Unlock()
	return nil
}

// metaOf is what TablesTable records of a table.
func metaOf(info *tableInfo) sqldest.Meta {
	return sqldest.MetaOf(info.desc, info.name, info.mode.name(), info.key)
}

// readTables reads TablesTable by lookup name.
func readTables(ctx context.Context, x *txn) (map[string]sqldest.Meta, error) {
	rows, err := x.tx.Query(ctx, `SELECT "table_name", "primary_key", coalesce("parent_table", ''),
		coalesce("parent_key", '{}'), coalesce("write_mode", '') FROM `+quote(TablesTable))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TablesTable, err)
	}
	defer rows.Close()
	m := make(map[string]sqldest.Meta)
	for rows.Next() {
		var t sqldest.Meta
		if err := rows.Scan(&t.Name, &t.Key, &t.Parent, &t.ParentKey, &t.Mode); err != nil {
			return nil, fmt.Errorf("read %s: %w", TablesTable, err)
		}
		if len(t.ParentKey) == 0 {
			t.ParentKey = nil
		}
		m[lowerIdent(t.Name)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", TablesTable, err)
	}
	return m, nil
}

// writeMeta records a table in TablesTable unless have already says the same.
func writeMeta(ctx context.Context, x *txn, info *tableInfo, have sqldest.Meta) error {
	m := metaOf(info)
	if m.Equal(have) {
		return nil
	}
	if err := x.exec(ctx, `DELETE FROM `+quote(TablesTable)+` WHERE lower("table_name") = lower($1)`, info.name); err != nil {
		return fmt.Errorf("record key: %w", err)
	}
	var parent *string
	if m.Parent != "" {
		parent = &m.Parent
	}
	err := x.exec(ctx, `INSERT INTO `+quote(TablesTable)+` VALUES ($1, $2, $3, $4, $5)`,
		m.Name, m.Key, parent, m.ParentKey, m.Mode)
	if err != nil {
		return fmt.Errorf("record key: %w", err)
	}
	return nil
}

type dbColumn struct {
	name, typ string
	comment   string // "" for none
}

// existingColumns lists the columns of the schema's tables by lookup name,
// in table order, and the tables' comments.
func (d *DB) existingColumns(ctx context.Context, x *txn) (map[string][]dbColumn, map[string]string, error) {
	rows, err := x.tx.Query(ctx, `SELECT cl.relname, a.attname, format_type(a.atttypid, a.atttypmod),
		coalesce(col_description(cl.oid, a.attnum), ''), coalesce(obj_description(cl.oid, 'pg_class'), '')
		FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND cl.relkind IN ('r', 'p')
		ORDER BY cl.relname, a.attnum`, d.schema)
	if err != nil {
		return nil, nil, fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	cols := make(map[string][]dbColumn)
	comments := make(map[string]string)
	for rows.Next() {
		var table, comment string
		var c dbColumn
		if err := rows.Scan(&table, &c.name, &c.typ, &c.comment, &comment); err != nil {
			return nil, nil, fmt.Errorf("list columns: %w", err)
		}
		k := strings.ToLower(table)
		cols[k] = append(cols[k], c)
		comments[k] = comment
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list columns: %w", err)
	}
	return cols, comments, nil
}

// writeComments makes the comments of a table and of the columns the writer
// fills say what the descriptor's descriptions say, so that a database
// documents itself (COMMENT ON). Only comments that differ are written, so a
// schema already up to date sees no catalog change on every sync.
func writeComments(ctx context.Context, x *txn, info *tableInfo, comment string, have []dbColumn) error {
	if info.desc.Description != comment {
		if err := x.exec(ctx, "COMMENT ON TABLE "+quote(info.name)+" IS "+commentLiteral(info.desc.Description)); err != nil {
			return fmt.Errorf("comment: %w", err)
		}
	}
	had := make(map[string]string, len(have))
	for _, c := range have {
		had[strings.ToLower(c.name)] = c.comment
	}
	for _, c := range append(info.cols[:info.fixed:info.fixed], info.mode.systemColumns()...) {
		if had[lowerIdent(c.name)] == c.desc {
			continue
		}
		if err := x.exec(ctx, "COMMENT ON COLUMN "+quote(info.name)+"."+quote(c.name)+" IS "+commentLiteral(c.desc)); err != nil {
			return fmt.Errorf("comment on column %s: %w", c.name, err)
		}
	}
	return nil
}

// commentLiteral is the SQL of a comment: NULL removes it.
func commentLiteral(s string) string {
	if s == "" {
		return "NULL"
	}
	return sqlString(s)
}

// prepareTable creates t or brings an existing table up to date: drops the
// columns of t.Drop, switches its write mode, adds the columns it lacks.
// *haveP are the table's columns (nil: no such table), updated to what
// they become; key the key it was made with (nil: unknown). rebuilt reports a table made anew (a
// mode switch), whose comments are gone.
func (d *DB) prepareTable(ctx context.Context, x *txn, t *runtime.Table, haveP *[]dbColumn, key []string) (info *tableInfo, rebuilt bool, err error) {
	have := *haveP
	mode := modeFor(t)
	info = &tableInfo{
		desc:   t,
		name:   t.Name,
		mode:   mode,
		fixed:  len(t.Columns),
		pk:     t.PrimaryKey,
		key:    mode.key(t.PrimaryKey),
		pos:    make(map[string]int),
		warned: make(map[string]bool),
	}
	for i, c := range t.Columns {
		info.cols = append(info.cols, descColumn(c))
		info.pos[lowerIdent(c.Name)] = i
	}
	sys := mode.systemColumns()
	for _, c := range sys {
		info.pos[lowerIdent(c.name)] = -1
	}

	if have == nil {
		var b strings.Builder
		b.WriteString("CREATE TABLE ")
		b.WriteString(quote(t.Name))
		b.WriteString(" (")
		for i, c := range append(info.cols[:len(info.cols):len(info.cols)], sys...) {
			if i > 0 {
				b.WriteString(", ")
			}
			typ, _ := sqlType(c.typ)
			b.WriteString(quote(c.name) + " " + typ)
		}
		// A NULL key fails the commit, as the constraint makes key columns NOT NULL.
		b.WriteString(", " + pkConstraint(t.Name, info.key) + ")")
		if err := x.exec(ctx, b.String()); err != nil {
			return nil, false, fmt.Errorf("create table: %w", err)
		}
		d.log.Debug("postgres: created table", "table", t.Name)
		return info, false, nil
	}

	// Merges need the key the rows were written with.
	if key != nil && !slices.EqualFunc(sqldest.SourceKey(key), info.pk, strings.EqualFold) {
		return nil, false, fmt.Errorf("the table's primary key is (%s), the descriptor's (%s); a changed key needs a new table",
			strings.Join(sqldest.SourceKey(key), ", "), strings.Join(info.pk, ", "))
	}
	if have, err = d.dropColumns(ctx, x, t, have); err != nil {
		return nil, false, err
	}
	if have, rebuilt, err = d.switchMode(ctx, x, info, have); err != nil {
		return nil, false, err
	}
	*haveP = have
	found := make(map[string]bool, len(have))
	for _, c := range have {
		lower := lowerIdent(c.name)
		found[lower] = true
		if i, ok := info.pos[lower]; ok {
			if i >= 0 && columnType(c.typ) != info.cols[i].typ {
				d.log.Warn("postgres: column type differs from the descriptor's; keeping the table's",
					"table", t.Name, "column", c.name, "table_type", c.typ, "want", info.cols[i].typ.String())
			}
			continue
		}
		// Columns the descriptor does not name: dynamic columns of earlier
		// syncs are adopted; anything else stays as it is, untouched.
		if _, ok := t.DynamicType(c.name); ok && columnType(c.typ) != 0 {
			info.pos[lower] = len(info.cols)
			info.cols = append(info.cols, descColumn(runtime.Column{Name: c.name, Type: columnType(c.typ)}))
			continue
		}
		info.pos[lower] = -1
		info.extra = append(info.extra, c.name)
	}
	for _, c := range append(info.cols[:info.fixed:info.fixed], sys...) {
		if found[lowerIdent(c.name)] {
			continue
		}
		if err := addColumn(ctx, x, t.Name, c); err != nil {
			return nil, false, err
		}
		d.log.Info("postgres: added column", "table", t.Name, "column", c.name)
	}
	return info, rebuilt, nil
}

// dropColumns drops the columns of t.Drop the table has, and returns have
// without them. Key columns and system columns are never dropped: the
// writer needs them.
func (d *DB) dropColumns(ctx context.Context, x *txn, t *runtime.Table, have []dbColumn) ([]dbColumn, error) {
	for _, name := range t.Drop {
		i := slices.IndexFunc(have, func(c dbColumn) bool { return strings.EqualFold(c.name, name) })
		if i < 0 {
			continue
		}
		if err := sqldest.CheckDrop(t, name); err != nil {
			return nil, err
		}
		if err := x.exec(ctx, "ALTER TABLE "+quote(t.Name)+" DROP COLUMN "+quote(have[i].name)); err != nil {
			return nil, fmt.Errorf("drop column %s: %w", name, err)
		}
		d.log.Info("postgres: dropped column", "table", t.Name, "column", have[i].name)
		have = slices.Delete(slices.Clone(have), i, i+1)
	}
	return have, nil
}

// switchMode turns a soft-delete table into a history table or back when
// its descriptor asks for the other mode (see runtime.Destination), and
// returns its columns as they become. The table is made anew, as DuckDB's
// is (one conversion for both): its descriptor columns first, then the
// mode's system columns, as Prepare would create it, with the rows
// converted by one INSERT ... SELECT.
func (d *DB) switchMode(ctx context.Context, x *txn, info *tableInfo, have []dbColumn) ([]dbColumn, bool, error) {
	has := func(name string) bool {
		return slices.ContainsFunc(have, func(c dbColumn) bool { return strings.EqualFold(c.name, name) })
	}
	toHistory := info.mode.versioned() && has(colDeleted) && !has(colActive)
	toSoft := !info.mode.versioned() && has(colActive) && !has(colDeleted)
	if !toHistory && !toSoft {
		return have, false, nil
	}
	name, tmp := quote(info.name), quote("_oktasync_switch_"+info.name)
	var cols []dbColumn
	var sel []string
	for _, c := range have {
		if !sqldest.IsSystem(c.name) {
			cols = append(cols, dbColumn{name: c.name, typ: c.typ})
			sel = append(sel, quote(c.name))
		}
	}
	for _, c := range info.mode.systemColumns() {
		typ, _ := sqlType(c.typ)
		cols = append(cols, dbColumn{name: c.name, typ: typ})
	}
	synced, deleted := quote(colSynced), "coalesce("+quote(colDeleted)+", false)"
	from := " FROM " + name
	if toHistory {
		// Live rows become active versions starting at the table's last
		// sync; deleted ones closed versions at HistoryMin.
		epoch := tsLiteral(runtime.HistoryMin)
		sel = append(sel,
			"CASE WHEN "+deleted+" THEN "+epoch+" ELSE (SELECT max("+synced+") FROM "+name+") END",
			"CASE WHEN "+deleted+" THEN "+epoch+" ELSE "+tsLiteral(runtime.HistoryEnd)+" END",
			"NOT "+deleted, synced)
	} else {
		// The latest version of each key stays, deleted unless active.
		sel = append(sel, synced, "NOT coalesce("+quote(colActive)+", false)")
		sel[0] = "DISTINCT ON (" + quoteAll(info.pk) + ") " + sel[0]
		from += " ORDER BY " + quoteAll(info.pk) + ", " + quote(colStart) + " DESC"
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE " + tmp + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.name) + " " + c.typ)
	}
	b.WriteString(", " + pkConstraint(info.name+"_switch", info.key) + ")")
	for _, q := range []string{
		b.String(),
		"INSERT INTO " + tmp + " SELECT " + strings.Join(sel, ", ") + from,
		"DROP TABLE " + name,
		"ALTER TABLE " + tmp + " RENAME TO " + name,
		"ALTER TABLE " + name + " RENAME CONSTRAINT " + quote(info.name+"_switch_pkey") + " TO " + quote(info.name+"_pkey"),
	} {
		if err := x.exec(ctx, q); err != nil {
			return nil, false, fmt.Errorf("switch to %s mode: %w", info.mode.name(), err)
		}
	}
	d.log.Info("postgres: switched write mode", "table", info.name, "mode", info.mode.name())
	return cols, true, nil
}

func addColumn(ctx context.Context, x *txn, table string, c column) error {
	typ, err := sqlType(c.typ)
	if err != nil {
		return fmt.Errorf("column %s: %w", c.name, err)
	}
	if err := x.exec(ctx, "ALTER TABLE "+quote(table)+" ADD COLUMN "+quote(c.name)+" "+typ); err != nil {
		return fmt.Errorf("add column %s: %w", c.name, err)
	}
	return nil
}

// validate checks what the database would otherwise reject halfway through.
func validate(t *runtime.Table) error {
	return sqldest.Validate(t, func(ct runtime.ColumnType) error {
		_, err := sqlType(ct)
		return err
	})
}

// pkConstraint declares the primary key of a table, named after it: index
// names are unique in a schema, and switchMode renames its new table's back
// to the one the table had.
func pkConstraint(table string, key []string) string {
	return "CONSTRAINT " + quote(table+"_pkey") + " PRIMARY KEY (" + quoteAll(key) + ")"
}
