package duckdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	// primary key pk), kept in TablesTable, not as a constraint.
	key, pk []string
	// keyed is set for a table made by an earlier version with a PRIMARY
	// KEY constraint: its upserts use the index.
	keyed bool
	// extra are columns of the table the writer does not fill (a column the
	// descriptor no longer names); merges keep their values.
	extra []string
	// pos maps a lower-cased column name (DuckDB matches names without
	// regard to case) to its index in cols, or -1 for a system column or one
	// the table has but the descriptor no longer names.
	pos map[string]int
	// buf is the staging row, reused across commits.
	buf []driver.Value
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
	c.buf = nil
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

// row returns the staging row buffer, sized to the staged columns.
func (t *tableInfo) row() []driver.Value {
	n := len(t.cols)
	if t.mode.versioned() {
		n++
	}
	if len(t.buf) != n {
		t.buf = make([]driver.Value, n)
	}
	return t.buf
}

// fill lays one row out in buf, in cols order.
func (t *tableInfo) fill(buf []driver.Value, row []any, fields []runtime.Field) {
	for i, v := range row {
		buf[i] = v
	}
	if len(t.cols) == t.fixed {
		return
	}
	clear(buf[t.fixed:len(t.cols)])
	for _, f := range fields {
		i, ok := t.pos[strings.ToLower(f.Name)]
		if !ok || i < t.fixed {
			continue // a name taken by a fixed or system column, reported by withDynamic
		}
		buf[i] = f.Value
	}
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
			lower := strings.ToLower(f.Name)
			if i, ok := nt.pos[lower]; ok {
				if i < nt.fixed && !t.warned[lower] {
					t.warned[lower] = true
					d.log.Warn("duckdb: dynamic field clashes with a column; dropped", "table", t.name, "field", f.Name)
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

// Prepare creates the tables (children included; blocked tables excepted),
// the state table and the tables table if they do not exist, and adds the
// columns an existing table lacks. It drops only the columns a descriptor
// lists in Drop, rebuilds a table only to switch its write mode (see
// switchMode), and never retypes anything, so running it before every sync
// is cheap and safe. All of it is one transaction.
//
// Tables are created without a PRIMARY KEY: DuckDB would keep an ART index
// of it, resident in memory and rewritten by checkpoints, which cost more
// than the writer's merges save (docs/PERFORMANCE.md). Key columns are NOT
// NULL, and each table's key is recorded in TablesTable, where Dump, the
// writer and users find it. Tables made with a PRIMARY KEY by earlier
// versions keep it and are written through it.
func (d *DB) Prepare(ctx context.Context, tables []*runtime.Table) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer governor.work(d.freeMemorySlack())()
	all, err := sqldest.Collect(tables)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	for _, t := range all {
		if err := validate(t); err != nil {
			return fmt.Errorf("duckdb: prepare %s: %w", t.Name, err)
		}
	}
	x, err := d.begin(ctx)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	defer x.close()
	if err := x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(StateTable)+
		` ("table_name" VARCHAR PRIMARY KEY, "state" JSON, "updated_at" TIMESTAMP)`); err != nil {
		return fmt.Errorf("duckdb: prepare %s: %w", StateTable, err)
	}
	if err := x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(TablesTable)+
		` ("table_name" VARCHAR NOT NULL, "primary_key" VARCHAR[] NOT NULL, "parent_table" VARCHAR,`+
		` "parent_key" VARCHAR[], "write_mode" VARCHAR)`); err != nil {
		return fmt.Errorf("duckdb: prepare %s: %w", TablesTable, err)
	}
	existing, err := existingColumns(ctx, x)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	comments, err := tableComments(ctx, x)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	meta, err := readTables(ctx, x)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	pks, err := primaryKeys(ctx, x)
	if err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	infos := make([]*tableInfo, 0, len(all))
	var blocked []string
	for _, t := range all {
		lower := strings.ToLower(t.Name)
		if t.Blocked {
			// Read for its children only: no table, whatever it had.
			blocked = append(blocked, lower)
			continue
		}
		recorded := pks[lower]
		if m, ok := meta[lower]; ok {
			recorded = m.Key
		}
		have, comment := existing[lower], comments[lower]
		info, rebuilt, err := d.prepareTable(ctx, x, t, &have, recorded, pks[lower] != nil)
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
			return fmt.Errorf("duckdb: prepare %s: %w", t.Name, err)
		}
		infos = append(infos, info)
	}
	if err := x.commit(ctx); err != nil {
		return fmt.Errorf("duckdb: prepare: %w", err)
	}
	for _, info := range infos {
		d.tables[strings.ToLower(info.name)] = info
	}
	for _, lower := range blocked {
		delete(d.tables, lower)
	}
	return nil
}

// TablesTable describes every table Prepare made: its primary key (in key
// order; DuckDB holds no constraint for it), its parent table and the
// columns holding the parent's key, and the write mode.
const TablesTable = "_oktasync_tables"

// metaOf is what TablesTable records of a table.
func metaOf(info *tableInfo) sqldest.Meta {
	return sqldest.MetaOf(info.desc, info.name, info.mode.name(), info.key)
}

// readTables reads TablesTable by lower-cased table name.
func readTables(ctx context.Context, x *txn) (map[string]sqldest.Meta, error) {
	rows, err := x.conn.QueryContext(ctx, `SELECT "table_name", "primary_key", coalesce("parent_table", ''),
		coalesce("parent_key", []), coalesce("write_mode", '') FROM `+quote(TablesTable))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TablesTable, err)
	}
	defer rows.Close()
	m := make(map[string]sqldest.Meta)
	for rows.Next() {
		var t sqldest.Meta
		var key, parentKey []any
		if err := rows.Scan(&t.Name, &key, &t.Parent, &parentKey, &t.Mode); err != nil {
			return nil, fmt.Errorf("read %s: %w", TablesTable, err)
		}
		t.Key, t.ParentKey = strs(key), strs(parentKey)
		m[strings.ToLower(t.Name)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", TablesTable, err)
	}
	return m, nil
}

func strs(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = fmt.Sprint(v)
	}
	return out
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
	list := func(l []string) string {
		if l == nil {
			return "NULL"
		}
		q := make([]string, len(l))
		for i, s := range l {
			q[i] = sqlString(s)
		}
		return "[" + strings.Join(q, ", ") + "]::VARCHAR[]"
	}
	parent := "NULL"
	if m.Parent != "" {
		parent = sqlString(m.Parent)
	}
	err := x.exec(ctx, `INSERT INTO `+quote(TablesTable)+` VALUES (`+sqlString(m.Name)+", "+list(m.Key)+", "+
		parent+", "+list(m.ParentKey)+", "+sqlString(m.Mode)+")")
	if err != nil {
		return fmt.Errorf("record key: %w", err)
	}
	return nil
}

// sqlString quotes a string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// primaryKeys lists the PRIMARY KEY constraints of the main schema's tables
// by lower-cased table name: those of tables made by earlier versions.
func primaryKeys(ctx context.Context, x *txn) (map[string][]string, error) {
	rows, err := x.conn.QueryContext(ctx, `SELECT table_name, constraint_column_names FROM duckdb_constraints()
		WHERE database_name = current_database() AND schema_name = 'main' AND constraint_type = 'PRIMARY KEY'`)
	if err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}
	defer rows.Close()
	m := make(map[string][]string)
	for rows.Next() {
		var table string
		var cols []any
		if err := rows.Scan(&table, &cols); err != nil {
			return nil, fmt.Errorf("read primary keys: %w", err)
		}
		m[strings.ToLower(table)] = strs(cols)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}
	return m, nil
}

type dbColumn struct {
	name, typ string
	comment   string // "" for none
}

// existingColumns lists the columns of the main schema's tables by
// lower-cased table name, in table order.
func existingColumns(ctx context.Context, x *txn) (map[string][]dbColumn, error) {
	rows, err := x.conn.QueryContext(ctx, `SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
		ORDER BY table_oid, column_index`)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	m := make(map[string][]dbColumn)
	for rows.Next() {
		var table string
		var c dbColumn
		if err := rows.Scan(&table, &c.name, &c.typ, &c.comment); err != nil {
			return nil, fmt.Errorf("list columns: %w", err)
		}
		k := strings.ToLower(table)
		m[k] = append(m[k], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	return m, nil
}

// tableComments lists the comments of the main schema's tables by
// lower-cased table name.
func tableComments(ctx context.Context, x *txn) (map[string]string, error) {
	rows, err := x.conn.QueryContext(ctx, `SELECT table_name, coalesce(comment, '') FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main'`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	m := make(map[string]string)
	for rows.Next() {
		var table, comment string
		if err := rows.Scan(&table, &comment); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		m[strings.ToLower(table)] = comment
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return m, nil
}

// writeComments makes the comments of a table and of the columns the writer
// fills say what the descriptor's descriptions say, so that a database
// documents itself (COMMENT ON; duckdb_tables(), duckdb_columns()). have is
// the table's comment and have the columns as they were; only comments that
// differ are written, so a database already up to date sees no catalog
// change on every sync.
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
		if had[strings.ToLower(c.name)] == c.desc {
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
// they become; key the key it was made with (nil: unknown), keyed whether
// it has a PRIMARY KEY constraint. rebuilt reports a table made anew (a
// mode switch), whose comments are gone.
func (d *DB) prepareTable(ctx context.Context, x *txn, t *runtime.Table, haveP *[]dbColumn, key []string, keyed bool) (info *tableInfo, rebuilt bool, err error) {
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
		info.pos[strings.ToLower(c.Name)] = i
	}
	sys := mode.systemColumns()
	for _, c := range sys {
		info.pos[strings.ToLower(c.name)] = -1
	}

	if have == nil {
		isKey := make(map[string]bool, len(info.key))
		for _, k := range info.key {
			isKey[strings.ToLower(k)] = true
		}
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
			if isKey[strings.ToLower(c.name)] {
				b.WriteString(" NOT NULL") // a NULL key fails the commit
			}
		}
		b.WriteString(")")
		if err := x.exec(ctx, b.String()); err != nil {
			return nil, false, fmt.Errorf("create table: %w", err)
		}
		d.log.Debug("duckdb: created table", "table", t.Name)
		return info, false, nil
	}

	// Merges need the key the rows were written with.
	if key != nil && !slices.EqualFunc(sqldest.SourceKey(key), info.pk, strings.EqualFold) {
		return nil, false, fmt.Errorf("the table's primary key is (%s), the descriptor's (%s); a changed key needs a new table",
			strings.Join(sqldest.SourceKey(key), ", "), strings.Join(info.pk, ", "))
	}
	info.keyed = keyed
	if have, err = d.dropColumns(ctx, x, t, have); err != nil {
		return nil, false, err
	}
	if have, rebuilt, err = d.switchMode(ctx, x, info, have); err != nil {
		return nil, false, err
	}
	*haveP = have
	found := make(map[string]bool, len(have))
	for _, c := range have {
		lower := strings.ToLower(c.name)
		found[lower] = true
		if i, ok := info.pos[lower]; ok {
			if i >= 0 && columnType(c.typ) != info.cols[i].typ {
				d.log.Warn("duckdb: column type differs from the descriptor's; keeping the table's",
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
		if found[strings.ToLower(c.name)] {
			continue
		}
		if err := addColumn(ctx, x, t.Name, c); err != nil {
			return nil, false, err
		}
		d.log.Info("duckdb: added column", "table", t.Name, "column", c.name)
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
		d.log.Info("duckdb: dropped column", "table", t.Name, "column", have[i].name)
		have = slices.Delete(slices.Clone(have), i, i+1)
	}
	return have, nil
}

// switchMode turns a soft-delete table into a history table or back when
// its descriptor asks for the other mode (see runtime.Destination), and
// returns its columns as they become. DuckDB refuses to update a table
// and alter it in one transaction, so the table is made anew: its
// descriptor columns first, then the mode's system columns, as Prepare
// would create it, with the rows converted by one INSERT ... SELECT.
func (d *DB) switchMode(ctx context.Context, x *txn, info *tableInfo, have []dbColumn) ([]dbColumn, bool, error) {
	has := func(name string) bool {
		return slices.ContainsFunc(have, func(c dbColumn) bool { return strings.EqualFold(c.name, name) })
	}
	toHistory := info.mode.versioned() && has(colDeleted) && !has(colActive)
	toSoft := !info.mode.versioned() && has(colActive) && !has(colDeleted)
	if !toHistory && !toSoft {
		return have, false, nil
	}
	if info.keyed {
		return nil, false, fmt.Errorf("the table has a PRIMARY KEY constraint (made by an earlier version) and cannot switch to %s mode; "+
			"drop the table and sync it again to switch", info.mode.name())
	}
	name, tmp := quote(info.name), quote("_oktasync_switch_"+info.name)
	isKey := make(map[string]bool, len(info.key))
	for _, k := range info.key {
		isKey[strings.ToLower(k)] = true
	}
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
		from += " QUALIFY row_number() OVER (PARTITION BY " + quoteAll(info.pk) + " ORDER BY " +
			quote(colStart) + " DESC, rowid DESC) = 1"
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE " + tmp + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.name) + " " + c.typ)
		if isKey[strings.ToLower(c.name)] {
			b.WriteString(" NOT NULL")
		}
	}
	b.WriteString(")")
	for _, q := range []string{
		b.String(),
		"INSERT INTO " + tmp + " SELECT " + strings.Join(sel, ", ") + from,
		"DROP TABLE " + name,
		"ALTER TABLE " + tmp + " RENAME TO " + name,
	} {
		if err := x.exec(ctx, q); err != nil {
			return nil, false, fmt.Errorf("switch to %s mode: %w", info.mode.name(), err)
		}
	}
	d.log.Info("duckdb: switched write mode", "table", info.name, "mode", info.mode.name())
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
