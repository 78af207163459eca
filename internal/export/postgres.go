package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"

	"oktasync/runtime/dest/postgres"
)

// RunPostgres exports the synced tables of a PostgreSQL destination's
// schema as Parquet into opt.Out, with the layout, manifest and guarantees
// of Run.
//
// Every table is read in one REPEATABLE READ, READ ONLY transaction on one
// connection, so the export is of one snapshot while syncs commit on. The
// rows are streamed into a DuckDB file in a hidden directory beside the
// output (a file rather than memory, so a table of any size fits), removed
// at the end; the export is then written from that file by the code that
// writes a DuckDB destination's export.
func RunPostgres(ctx context.Context, pg *postgres.DB, opt Options) (*Result, error) {
	out, err := outDir(opt)
	if err != nil {
		return nil, err
	}
	src := "postgres " + pg.Where()
	failed := func(err error, format string, args ...any) error {
		return fmt.Errorf("export from %s: %s: %w", src, fmt.Sprintf(format, args...), err)
	}
	conn, err := pg.Pool().Acquire(ctx)
	if err != nil {
		return nil, failed(err, "connect")
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, failed(err, "begin")
	}
	// The transaction only reads: rolling it back once the rows are copied
	// loses nothing, and frees the snapshot before the Parquet is written.
	defer tx.Rollback(context.WithoutCancel(ctx))
	at := time.Now().UTC()
	all, err := pgSyncedTables(ctx, tx, pg.Schema())
	if err != nil {
		return nil, failed(err, "list tables")
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("export from %s: the schema holds no synced table; sync into it first (oktasync sync --config with this destination)", src)
	}
	srcs := make([]*source, len(all))
	for i, t := range all {
		srcs[i] = t.source
	}
	picked, err := pick(srcs, opt.Tables, src)
	if err != nil {
		return nil, err
	}
	// Refuse before copying anything; place checks again at the end.
	if _, err := target(out, opt.Overwrite); err != nil {
		return nil, err
	}
	var chosen []*pgTable
	for _, t := range all {
		if slices.Contains(picked, t.source) {
			chosen = append(chosen, t)
		}
	}
	if err := lockTables(ctx, tx, pg.Schema(), chosen); err != nil {
		return nil, failed(err, "lock the tables")
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	// Beside the output as the export's own temporary directory is: the
	// user chose that disk for data of this size.
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".copy-")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := openCopy(filepath.Join(dir, "copy.duckdb"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, t := range chosen {
		if err := copyTable(ctx, tx, db, pg.Schema(), t, opt.IncludeDeleted); err != nil {
			return nil, failed(err, "copy %s", t.name)
		}
		if afterCopy != nil {
			afterCopy(t.name)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		return nil, failed(err, "end the read transaction")
	}
	conn.Release()
	dtx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("export: the copy at %s: begin: %w", dir, err)
	}
	defer dtx.Rollback()
	m := &Manifest{Format: "parquet", ExportedAt: at, Source: src, IncludeDeleted: opt.IncludeDeleted}
	return write(ctx, dtx, out, m, picked, opt)
}

// afterCopy, when set, is called after each table is copied (tests commit
// to the schema there, which the export's snapshot must not see).
var afterCopy func(table string)

// pgTable is a synced table of the PostgreSQL schema: its columns as the
// copy and the manifest type them, and how each is read.
type pgTable struct {
	*source
	oid uint32 // the relation in the snapshot
	// read selects each column: JSON and the types DuckDB has no twin
	// for as text (pgx would decode JSON into Go maps).
	read []string
	// copyTypes are the columns' types in the copy: JSON as VARCHAR, the
	// text the export writes either way.
	copyTypes []string
}

// duckTypes maps the types of a PostgreSQL destination's columns
// (format_type's words) to DuckDB's, as the DuckDB destination types them.
var duckTypes = map[string]string{
	"text":                        "VARCHAR",
	"character varying":           "VARCHAR",
	"integer":                     "INTEGER",
	"bigint":                      "BIGINT",
	"double precision":            "DOUBLE",
	"boolean":                     "BOOLEAN",
	"timestamp without time zone": "TIMESTAMP",
	"json":                        "JSON",
	"jsonb":                       "JSON",
}

// pgSyncedTables lists the synced tables of schema as synced does for a
// DuckDB file: base tables with _fivetran_synced, only those
// _oktasync_tables records when it exists, never oktasync's own.
func pgSyncedTables(ctx context.Context, tx pgx.Tx, schema string) ([]*pgTable, error) {
	rows, err := tx.Query(ctx, `SELECT cl.oid, cl.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND cl.relkind IN ('r', 'p')
		ORDER BY cl.relname COLLATE "C", a.attnum`, schema)
	if err != nil {
		return nil, err
	}
	var all []*pgTable
	for rows.Next() {
		var oid uint32
		var tn, col, typ string
		if err := rows.Scan(&oid, &tn, &col, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		if len(all) == 0 || all[len(all)-1].name != tn {
			all = append(all, &pgTable{source: &source{name: tn}, oid: oid})
		}
		t := all[len(all)-1]
		dt, ok := duckTypes[typ]
		read, copyType := quote(col), dt
		switch {
		case !ok:
			// Not a type the destination makes (a column added by hand):
			// its text, rather than no export.
			dt, read, copyType = "VARCHAR", quote(col)+"::text", "VARCHAR"
		case dt == "JSON":
			read, copyType = quote(col)+"::text", "VARCHAR"
		}
		t.columns = append(t.columns, Column{Name: col, Type: dt})
		t.read = append(t.read, read)
		t.copyTypes = append(t.copyTypes, copyType)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	srcs := make([]*source, len(all))
	for i, t := range all {
		srcs[i] = t.source
	}
	var recorded map[string][]string
	if slices.ContainsFunc(all, func(t *pgTable) bool { return t.name == postgres.TablesTable }) {
		if recorded, err = pgRecordedKeys(ctx, tx, schema); err != nil {
			return nil, err
		}
	}
	keep, err := synced(srcs, recorded)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t *pgTable) bool { return !slices.Contains(keep, t.source) }), nil
}

// lockTables takes a read lock (ACCESS SHARE) on every table to export
// until the transaction ends, so that no sync changes their columns or
// replaces them (a write mode switched rebuilds a table) before they are
// read: the snapshot would see a replaced table empty, its rows being
// newer than the snapshot. PostgreSQL takes the snapshot at the listing of
// the tables, before they can be named to LOCK; a table replaced between
// the two, found by its relation having changed, fails the export rather
// than be exported empty (as pg_dump, which locks the same way).
func lockTables(ctx context.Context, tx pgx.Tx, schema string, tables []*pgTable) error {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = quote(schema) + "." + quote(t.name)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS SHARE MODE"); err != nil {
		return err
	}
	// to_regclass resolves names in the catalog as it is now, not as the
	// snapshot saw it.
	rows, err := tx.Query(ctx, `SELECT coalesce(to_regclass(n)::oid, 0::oid) FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i`, names)
	if err != nil {
		return err
	}
	now, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return err
	}
	for i, t := range tables {
		if i >= len(now) || now[i] != t.oid {
			return fmt.Errorf("table %s was replaced as the export began (a sync switched its write mode?); export again", t.name)
		}
	}
	return nil
}

// pgRecordedKeys reads the destination's record of its tables: each
// table's key by lower-cased name, both as PostgreSQL names them (a name
// past 63 bytes is cut, with a hash: postgres.Ident).
func pgRecordedKeys(ctx context.Context, tx pgx.Tx, schema string) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT "table_name", "primary_key" FROM `+quote(schema)+"."+quote(postgres.TablesTable))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", postgres.TablesTable, err)
	}
	defer rows.Close()
	keys := map[string][]string{}
	for rows.Next() {
		var name string
		var key []string
		if err := rows.Scan(&name, &key); err != nil {
			return nil, fmt.Errorf("read %s: %w", postgres.TablesTable, err)
		}
		for i, k := range key {
			key[i] = postgres.Ident(k)
		}
		keys[strings.ToLower(postgres.Ident(name))] = key
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", postgres.TablesTable, err)
	}
	return keys, nil
}

// openCopy creates the DuckDB file the tables are copied into, with
// extension auto-install and auto-load off: nothing reaches the network.
// The file is read once and removed, so it is never checkpointed: the
// tables' commits (a transaction each, which DuckDB writes in whole row
// groups to the file) stay in it as written. Checkpoints compressing the
// System Log's hundreds of columns as it was copied took a third of the
// copy's time.
func openCopy(path string) (*sql.DB, error) {
	cfg := url.Values{}
	cfg.Set("autoinstall_known_extensions", "false")
	cfg.Set("autoload_known_extensions", "false")
	cfg.Set("checkpoint_threshold", "1TB")
	conn, err := ddb.NewConnector(path+"?"+cfg.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("export: create %s: %w", path, err)
	}
	db := sql.OpenDB(conn)
	if _, err := db.Exec("PRAGMA disable_checkpoint_on_shutdown"); err != nil {
		db.Close()
		return nil, fmt.Errorf("export: create %s: %w", path, err)
	}
	return db, nil
}

// copyTable streams the rows of t an export keeps (see live) from the
// snapshot tx into a table of the same name and columns in db, through
// DuckDB's Appender, in one DuckDB transaction.
func copyTable(ctx context.Context, tx pgx.Tx, db *sql.DB, schema string, t *pgTable, includeDeleted bool) error {
	var def strings.Builder
	def.WriteString("CREATE TABLE main." + quote(t.name) + " (")
	for i, c := range t.columns {
		if i > 0 {
			def.WriteString(", ")
		}
		def.WriteString(quote(c.Name) + " " + t.copyTypes[i])
	}
	def.WriteString(")")
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A transaction on the connection itself: the Appender takes the
	// driver's connection, which database/sql's Tx does not hand out.
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("copy: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, def.String()); err != nil {
		return fmt.Errorf("create the copy: %w", err)
	}
	q := query{sel: "SELECT " + strings.Join(t.read, ", ") + " FROM " + quote(schema) + "." + quote(t.name), where: live(t.source, includeDeleted)}
	err = conn.Raw(func(dc any) error {
		a, err := ddb.NewAppender(dc.(driver.Conn), "", "main", t.name)
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		rows, err := tx.Query(ctx, q.String())
		if err != nil {
			a.Close()
			return fmt.Errorf("read: %w", err)
		}
		defer rows.Close()
		every := flushRows(len(t.columns))
		row := make([]driver.Value, len(t.columns))
		n := 0
		for rows.Next() {
			// Values are what the Appender takes: string, int32, int64,
			// float64, bool, time.Time (UTC, as timestamp holds it), nil.
			vals, err := rows.Values()
			if err == nil {
				for i, v := range vals {
					row[i] = v
				}
				err = a.AppendRow(row...)
			}
			if err != nil {
				a.Close()
				return fmt.Errorf("row %d: %w", n+1, err)
			}
			if n++; n%every == 0 {
				if err := a.Flush(); err != nil {
					a.Close()
					return fmt.Errorf("append: %w", err)
				}
			}
		}
		if err := rows.Err(); err != nil {
			a.Close()
			return fmt.Errorf("read: %w", err)
		}
		if err := a.CloseWithCancel(ctx); err != nil {
			return fmt.Errorf("append: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	committed = true
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("copy: commit: %w", err)
	}
	return nil
}

// flushRows is how many rows of that many columns the Appender takes
// between flushes: it holds its rows outside DuckDB's buffer pool until
// flushed, in whole vectors of 2,048 values a column (16 bytes a value,
// NULL or not), so a wide table (the System Log's hundreds of columns)
// flushes often and a narrow one rarely (as runtime/dest/duckdb does).
func flushRows(columns int) int {
	const buffer = 8 << 20
	chunk := ddb.GetDataChunkCapacity()
	return max(1, buffer/(max(1, columns)*chunk*16)) * chunk
}
