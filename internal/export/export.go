// Package export writes a snapshot of the tables a sync wrote into a DuckDB
// file (Run) or a PostgreSQL schema (RunPostgres) as Parquet, with DuckDB's
// own Parquet writer, for data lake engines (Spark, Trino, Athena, DuckDB
// itself) to read.
//
// The snapshot is of one instant: every table is read in one transaction.
// It lands whole or not at all: files are written into a hidden directory
// beside the output directory, made durable, and renamed into place at the
// end, so a failed or interrupted export leaves nothing where the output
// was (or the previous export, untouched).
//
// Layout, one directory per table (the unit lake engines read as a table):
//
//	DIR/_manifest.json
//	DIR/<table>/data_0.parquet
//	DIR/system_log/day=YYYY-MM-DD/data_0.parquet   (Hive partitions, by UTC day of published)
package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"oktasync/internal/sqlfiles"
)

// ManifestFile is the name of the manifest in the output directory.
const ManifestFile = "_manifest.json"

// System columns of the synced tables: which of them a table has says its
// mode (runtime.Destination: soft delete has _fivetran_deleted, history has
// _fivetran_active and no _fivetran_deleted).
const (
	colSynced  = "_fivetran_synced"
	colDeleted = "_fivetran_deleted"
	colActive  = "_fivetran_active"
)

// Write modes as the manifest names them (and the DuckDB destination
// records them in _oktasync_tables).
const (
	ModeSoftDelete = "soft_delete"
	ModeHistory    = "history"
)

// internalPrefix starts the names of the tables oktasync keeps for itself
// (state, keys, schema changes): never exported.
const internalPrefix = "_oktasync_"

// tablesTable is runtime/dest/duckdb's TablesTable, where the destination
// records every table it made with its key. Not imported: the destination
// package would link the whole writer into a reader of its files.
const tablesTable = "_oktasync_tables"

// dayPartitioned names the tables written as Hive partitions by day, and the
// timestamp column whose UTC date the partition is: the System Log grows
// without end and is read by time range, and partitions let engines skip
// the days a query does not ask for.
var dayPartitioned = map[string]string{"system_log": "published"}

// PartitionColumn is the Hive partition column of a day-partitioned table.
const PartitionColumn = "day"

// Open opens a DuckDB file a sync wrote, read-only (a sync running on it
// blocks the export, and the other way round), with extension
// auto-install and auto-load off as a sync has them: Parquet is built in
// and nothing reaches the network.
func Open(path string) (*sql.DB, error) { return sqlfiles.Open(path, true) }

// Options say what to export and where.
type Options struct {
	// Out is the output directory. It must not exist or be empty; with
	// Overwrite it may also hold a previous export (a _manifest.json),
	// which is then replaced whole.
	Out       string
	Overwrite bool
	// Tables limits the export to these tables (any case); none exports
	// every synced table. A name that is no synced table is an *UnknownTableError.
	Tables []string
	// IncludeDeleted exports the rows a sync marked deleted
	// (_fivetran_deleted) and, in history mode, the closed versions too;
	// without it only live rows and active versions are exported.
	IncludeDeleted bool
	// Progress, if set, is called after each table's files are written,
	// with the number of tables done and to do.
	Progress func(t Table, done, total int)
}

// Manifest describes an export; it is written to DIR/_manifest.json.
type Manifest struct {
	Format string `json:"format"` // "parquet"
	// ExportedAt is when the snapshot's transaction began: the instant the
	// data are of.
	ExportedAt time.Time `json:"exported_at"`
	// Source is the database file, or "postgres host:port/database (user
	// U, schema S)": never a password.
	Source         string  `json:"source"`
	IncludeDeleted bool    `json:"include_deleted"`
	Tables         []Table `json:"tables"`
}

// Table is one exported table.
type Table struct {
	Name string `json:"name"`
	// Path is the table's directory, relative to the output directory.
	Path string `json:"path"`
	// Mode is soft_delete or history (see runtime.Destination).
	Mode       string   `json:"mode"`
	PrimaryKey []string `json:"primary_key,omitempty"`
	Rows       int64    `json:"rows"`
	Bytes      int64    `json:"bytes"`
	// Files are the table's Parquet files, relative to the output
	// directory, with / as separator.
	Files []string `json:"files"`
	// Partition is set for a table written as Hive partitions.
	Partition *Partition `json:"partition,omitempty"`
	// Columns are the columns in the files, in order, with their types in
	// the database; JSON columns are written as Parquet strings (UTF8).
	Columns []Column `json:"columns"`
}

// Partition says how a table's directory is partitioned: one directory
// Column=value per value, the column derived from From and absent from the
// files themselves (Hive layout).
type Partition struct {
	Column string `json:"column"`
	Type   string `json:"type"`
	From   string `json:"from"`
	Layout string `json:"layout"` // "hive"
}

// Column is a column and its DuckDB type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// UnknownTableError is Options.Tables naming a table the database does not
// hold (a usage error: the caller asked for something that is not there).
type UnknownTableError struct {
	Names  []string // the names that are no synced table
	Known  []string // the synced tables of the database
	Source string
}

func (e *UnknownTableError) Error() string {
	what := "no synced table"
	if len(e.Names) > 1 {
		what = "no synced tables"
	}
	return fmt.Sprintf("%s %s in %s; its tables are %s", what, strings.Join(e.Names, ", "), e.Source, strings.Join(e.Known, ", "))
}

// Result is what an export did.
type Result struct {
	Manifest *Manifest
	Out      string // the output directory, absolute
	// Leftover is the previous export, moved aside, that could not be
	// removed after the new one took its place ("" when none); the export
	// itself succeeded.
	Leftover    string
	LeftoverErr error
}

// source is a synced table as the database holds it.
type source struct {
	name    string
	columns []Column
	key     []string
}

func (s *source) has(col string) bool {
	return slices.ContainsFunc(s.columns, func(c Column) bool { return c.Name == col })
}

func (s *source) mode() string {
	if s.has(colActive) && !s.has(colDeleted) {
		return ModeHistory
	}
	return ModeSoftDelete
}

// Run exports the synced tables of db as Parquet into opt.Out.
func Run(ctx context.Context, db *sql.DB, opt Options) (*Result, error) {
	out, err := outDir(opt)
	if err != nil {
		return nil, err
	}
	src, err := sourcePath(ctx, db)
	if err != nil {
		return nil, err
	}
	// One transaction for every read: DuckDB gives it a snapshot, so the
	// tables agree with each other (a child's rows with its parent's) even
	// if something commits to the file meanwhile.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("export %s: begin: %w", src, err)
	}
	defer tx.Rollback()
	at := time.Now().UTC()
	all, err := syncedTables(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", src, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("export %s: the database holds no synced table; sync first (oktasync sync --db %s)", src, src)
	}
	tables, err := pick(all, opt.Tables, src)
	if err != nil {
		return nil, err
	}
	// Refuse before writing anything; place checks again at the end.
	if _, err := target(out, opt.Overwrite); err != nil {
		return nil, err
	}
	m := &Manifest{Format: "parquet", ExportedAt: at, Source: src, IncludeDeleted: opt.IncludeDeleted}
	return write(ctx, tx, out, m, tables, opt)
}

// outDir is the output directory of opt, absolute.
func outDir(opt Options) (string, error) {
	if opt.Out == "" {
		return "", errors.New("export: no output directory")
	}
	out, err := filepath.Abs(opt.Out)
	if err != nil {
		return "", fmt.Errorf("export: output directory %q: %w", opt.Out, err)
	}
	return out, nil
}

// write writes tables, read through tx, as the export m describes into
// out, and commits tx once every table is read. Both sources end here, so
// the files, partitions and manifest of an export are made one way.
func write(ctx context.Context, tx *sql.Tx, out string, m *Manifest, tables []*source, opt Options) (*Result, error) {
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	// Beside the output, so the final rename stays on one file system;
	// hidden, so a half-written export is never mistaken for one.
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".export-")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	// MkdirTemp makes it private; an export is for other readers.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("export: %w", err)
	}
	placed := false
	defer func() {
		if !placed {
			os.RemoveAll(tmp)
		}
	}()

	for i, s := range tables {
		t, err := writeTable(ctx, tx, tmp, s, opt.IncludeDeleted)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", s.name, err)
		}
		m.Tables = append(m.Tables, t)
		if opt.Progress != nil {
			opt.Progress(t, i+1, len(tables))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("export %s: commit: %w", m.Source, err)
	}
	doc, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ManifestFile), append(doc, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("export: manifest: %w", err)
	}
	if err := syncTree(tmp); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	res := &Result{Manifest: m, Out: out}
	res.Leftover, res.LeftoverErr, err = place(tmp, out, opt.Overwrite)
	if err != nil {
		return nil, err
	}
	placed = true
	syncDir(parent)
	return res, nil
}

// sourcePath is the file db was opened on, absolute.
func sourcePath(ctx context.Context, db *sql.DB) (string, error) {
	var path sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT path FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&path); err != nil {
		return "", fmt.Errorf("export: which database: %w", err)
	}
	if !path.Valid || path.String == "" {
		return ":memory:", nil
	}
	if abs, err := filepath.Abs(path.String); err == nil {
		return abs, nil
	}
	return path.String, nil
}

// syncedTables lists the tables a sync wrote, by name: the main schema's
// base tables with _fivetran_synced, and, in a database whose destination
// records its tables (_oktasync_tables), only those it records; never
// oktasync's own tables, the models' schemas or views.
func syncedTables(ctx context.Context, tx *sql.Tx) ([]*source, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t
			ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_catalog = current_database() AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var all []*source
	for rows.Next() {
		var tn string
		var c Column
		if err := rows.Scan(&tn, &c.Name, &c.Type); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if len(all) == 0 || all[len(all)-1].name != tn {
			all = append(all, &source{name: tn})
		}
		s := all[len(all)-1]
		s.columns = append(s.columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	recorded, err := recordedKeys(ctx, tx, all)
	if err != nil {
		return nil, err
	}
	return synced(all, recorded)
}

// synced picks the synced tables out of all the tables of a database:
// those with _fivetran_synced that are not oktasync's own and, when the
// destination records its tables (recorded, by lower-cased name, is not
// nil), only those it records, with their keys.
func synced(all []*source, recorded map[string][]string) ([]*source, error) {
	var out []*source
	for _, s := range all {
		if strings.HasPrefix(s.name, internalPrefix) || !s.has(colSynced) {
			continue
		}
		if recorded != nil {
			key, ok := recorded[strings.ToLower(s.name)]
			if !ok {
				continue
			}
			s.key = key
		}
		if !safeName.MatchString(s.name) {
			return nil, fmt.Errorf("table %q: its name cannot be a directory name", s.name)
		}
		out = append(out, s)
	}
	return out, nil
}

// safeName is a table name usable as a directory name as it is.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// recordedKeys reads the destination's record of its tables: each table's
// key by lower-cased name, or nil when the database has no such record
// (written by a version before it).
func recordedKeys(ctx context.Context, tx *sql.Tx, all []*source) (map[string][]string, error) {
	if !slices.ContainsFunc(all, func(s *source) bool { return s.name == tablesTable }) {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT "table_name", "primary_key" FROM `+quote(tablesTable))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tablesTable, err)
	}
	defer rows.Close()
	keys := map[string][]string{}
	for rows.Next() {
		var name string
		var key []any
		if err := rows.Scan(&name, &key); err != nil {
			return nil, fmt.Errorf("read %s: %w", tablesTable, err)
		}
		k := make([]string, len(key))
		for i, v := range key {
			k[i] = fmt.Sprint(v)
		}
		keys[strings.ToLower(name)] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", tablesTable, err)
	}
	return keys, nil
}

// pick returns the tables names asks for, in the database's order; no
// names is all of them.
func pick(all []*source, names []string, src string) ([]*source, error) {
	if len(names) == 0 {
		return all, nil
	}
	var unknown []string
	want := map[string]bool{}
	for _, n := range names {
		i := slices.IndexFunc(all, func(s *source) bool { return strings.EqualFold(s.name, n) })
		if i < 0 {
			unknown = append(unknown, n)
			continue
		}
		want[all[i].name] = true
	}
	if len(unknown) > 0 {
		known := make([]string, len(all))
		for i, s := range all {
			known[i] = s.name
		}
		return nil, &UnknownTableError{Names: unknown, Known: known, Source: src}
	}
	var out []*source
	for _, s := range all {
		if want[s.name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// writeTable copies one table into dir/<table>/ as Parquet and describes
// what it wrote.
func writeTable(ctx context.Context, tx *sql.Tx, dir string, s *source, includeDeleted bool) (Table, error) {
	t := Table{Name: s.name, Path: s.name, Mode: s.mode(), PrimaryKey: s.key, Columns: s.columns, Files: []string{}}
	sel := make([]string, len(s.columns))
	for i, c := range s.columns {
		sel[i] = quote(c.Name)
		if c.Type == "JSON" {
			// Parquet's JSON annotation is read as a string by some engines
			// and refused by others; a plain string is read by all.
			sel[i] = quote(c.Name) + "::VARCHAR AS " + quote(c.Name)
		}
	}
	q := query{sel: "SELECT " + strings.Join(sel, ", ") + " FROM main." + quote(s.name), where: live(s, includeDeleted)}
	tableDir := filepath.Join(dir, s.name)
	if err := os.Mkdir(tableDir, 0o755); err != nil {
		return t, err
	}
	var err error
	if col, ok := dayPartitioned[s.name]; ok && s.has(col) {
		t.Partition = &Partition{Column: PartitionColumn, Type: "DATE", From: col, Layout: "hive"}
		t.Rows, err = writeDays(ctx, tx, tableDir, s, col, q)
	} else {
		t.Rows, err = copyTo(ctx, tx, q, filepath.Join(tableDir, "data_0.parquet"))
	}
	if err != nil {
		return t, err
	}
	err = filepath.WalkDir(tableDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		t.Files = append(t.Files, filepath.ToSlash(rel))
		t.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("list the files of %s: %w", tableDir, err)
	}
	slices.Sort(t.Files)
	return t, nil
}

// live is the condition, if any, that keeps the rows of s an export
// without includeDeleted holds: not marked deleted, or, in history mode,
// the active versions. It is SQL that DuckDB and PostgreSQL read alike.
func live(s *source, includeDeleted bool) []string {
	switch {
	case includeDeleted:
		return nil
	case s.has(colDeleted):
		return []string{"NOT coalesce(" + quote(colDeleted) + ", false)"}
	case s.has(colActive):
		return []string{"coalesce(" + quote(colActive) + ", false)"}
	}
	return nil
}

// query is a SELECT and the conditions of its WHERE clause.
type query struct {
	sel   string
	where []string
}

func (q query) and(cond string) query {
	q.where = append(slices.Clip(q.where), cond)
	return q
}

func (q query) String() string {
	if len(q.where) == 0 {
		return q.sel
	}
	return q.sel + " WHERE " + strings.Join(q.where, " AND ")
}

// copyTo writes the rows of q into the Parquet file path and returns how
// many it wrote.
func copyTo(ctx context.Context, tx *sql.Tx, q query, path string) (int64, error) {
	r, err := tx.ExecContext(ctx, "COPY ("+q.String()+") TO "+literal(path)+" (FORMAT parquet)")
	if err != nil {
		return 0, fmt.Errorf("copy to %s: %w", path, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("copy to %s: %w", path, err)
	}
	return n, nil
}

// hiveNull is the partition value Hive, Spark and Trino read as NULL.
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// writeDays writes the rows of q into one Hive partition per UTC day of the
// timestamp column col, dir/day=YYYY-MM-DD/data_0.parquet, and returns how
// many it wrote. It writes a day at a time rather than with COPY's
// PARTITION_BY, which holds up to 524,288 rows of every open partition in
// memory: 600 MB for the demo's 54,000 events, and out of memory under a
// 256 MB limit, where a day at a time streams.
func writeDays(ctx context.Context, tx *sql.Tx, dir string, s *source, col string, q query) (int64, error) {
	i := slices.IndexFunc(s.columns, func(c Column) bool { return c.Name == col })
	if typ := s.columns[i].Type; typ != "TIMESTAMP" {
		// A TIMESTAMP holds UTC; the day of a TIMESTAMPTZ would depend on
		// the session's time zone.
		return 0, fmt.Errorf("partition by the day of %s: want a TIMESTAMP, the column is %s", col, typ)
	}
	if s.has(PartitionColumn) {
		return 0, fmt.Errorf("partition by %s: the table has a column %s, which the partition would hide", PartitionColumn, PartitionColumn)
	}
	days := query{sel: "SELECT DISTINCT CAST(" + quote(col) + " AS DATE) AS d FROM main." + quote(s.name), where: q.where}
	rows, err := tx.QueryContext(ctx, days.String()+" ORDER BY d NULLS LAST")
	if err != nil {
		return 0, fmt.Errorf("list the days of %s: %w", col, err)
	}
	var list []sql.NullTime
	for rows.Next() {
		var d sql.NullTime
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list the days of %s: %w", col, err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list the days of %s: %w", col, err)
	}
	var total int64
	for _, d := range list {
		// Bounds on the column itself, not on its cast to DATE, so that
		// DuckDB skips the row groups of other days by their min and max.
		value, cond := hiveNull, quote(col)+" IS NULL"
		if d.Valid {
			day := d.Time.UTC()
			value = day.Format(time.DateOnly)
			cond = fmt.Sprintf("%s >= TIMESTAMP '%s' AND %s < TIMESTAMP '%s'", quote(col), day.Format(time.DateTime), quote(col), day.AddDate(0, 0, 1).Format(time.DateTime))
		}
		part := filepath.Join(dir, PartitionColumn+"="+value)
		if err := os.Mkdir(part, 0o755); err != nil {
			return 0, err
		}
		n, err := copyTo(ctx, tx, q.and(cond), filepath.Join(part, "data_0.parquet"))
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// What the output directory holds before an export.
const (
	absent   = iota // nothing there
	empty           // an empty directory
	previous        // a previous export
)

// target says what out holds, or why an export must not replace it: a
// file, a directory that is not empty (unless overwrite), or one that
// holds something else than an export (a manifest), which overwrite would
// remove whole.
func target(out string, overwrite bool) (int, error) {
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return absent, nil
	}
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", out, err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("export to %s: it exists and is not a directory", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", out, err)
	}
	if len(entries) == 0 {
		return empty, nil
	}
	if !overwrite {
		return 0, fmt.Errorf("export to %s: the directory exists and is not empty; --overwrite replaces it", out)
	}
	if _, err := os.Stat(filepath.Join(out, ManifestFile)); err != nil {
		return 0, fmt.Errorf("export to %s: the directory holds no %s, so it is no export; refusing to replace it", out, ManifestFile)
	}
	return previous, nil
}

// place renames the finished export tmp to out. A previous export is
// renamed aside first and removed once the new one is in place; if the new
// one cannot be put in place, the old one goes back. leftover names an old
// export that could not be removed (the export is done all the same).
func place(tmp, out string, overwrite bool) (leftover string, leftoverErr, err error) {
	state, err := target(out, overwrite)
	if err != nil {
		return "", nil, err
	}
	switch state {
	case empty:
		if err := os.Remove(out); err != nil {
			return "", nil, fmt.Errorf("export to %s: %w", out, err)
		}
	case previous:
		aside := tmp + ".old"
		if err := os.Rename(out, aside); err != nil {
			return "", nil, fmt.Errorf("export to %s: move the previous export aside: %w", out, err)
		}
		if err := os.Rename(tmp, out); err != nil {
			if back := os.Rename(aside, out); back != nil {
				return "", nil, fmt.Errorf("export to %s: %w; the previous export is at %s", out, err, aside)
			}
			return "", nil, fmt.Errorf("export to %s: %w", out, err)
		}
		if err := os.RemoveAll(aside); err != nil {
			return aside, err, nil
		}
		return "", nil, nil
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", nil, fmt.Errorf("export to %s: %w", out, err)
	}
	return "", nil, nil
}

// syncTree makes every file and directory under dir durable, so that the
// rename that publishes an export never publishes files a crash could
// still truncate.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			syncDir(path)
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", path, err)
		}
		return nil
	})
}

// syncDir makes a directory's entries durable where the file system lets
// directories be synced; some refuse, and nothing better can be done there.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
