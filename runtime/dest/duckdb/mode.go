package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
)

// System columns of the soft-delete mode.
const (
	colSynced  = sqldest.ColSynced
	colDeleted = sqldest.ColDeleted
)

// A writeMode is how rows land in a table. Every statement that writes a
// table's rows goes through one: soft deletes (upsert) or type-2 versions
// (history), picked in modeFor; staging, replacement, sweeps and state are
// the same for both.
type writeMode interface {
	// name is recorded in the tables table (TablesTable).
	name() string
	// systemColumns follow the descriptor's columns.
	systemColumns() []column
	// key is the destination key of a table whose source key is pk.
	key(pk []string) []string
	// versioned is set for history: staged rows carry their start (see
	// tableInfo.stageCols).
	versioned() bool
	// write merges the rows staged in stage (columns named by stageCol, in
	// t.stageCols order, in arrival order) into t by key, the last row of
	// each key winning.
	write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error
	// appendQuery is the statement that adds the rows of an Append batch,
	// found in the relation src (columns named by stageCol, in t.stageCols
	// order), to t without looking for existing keys.
	appendQuery(t *tableInfo, src string, synced time.Time) string
	// dedupe ends a run of appends: of the rows written since synced, only
	// the last written of each key stays.
	dedupe(ctx context.Context, x *txn, t *tableInfo, synced time.Time) error
	// markDeleted deletes, as of synced, the live rows of t, under alias
	// "t", for which the SQL condition cond holds; args are its parameters
	// from $1.
	markDeleted(ctx context.Context, x *txn, t *tableInfo, synced time.Time, cond string, args ...any) error
	// deleted is an SQL condition, true for a row of t under alias whose
	// key is deleted.
	deleted(t *tableInfo, alias string) string
	// live is an SQL condition, true for the rows of t under alias that
	// cutoffs on _fivetran_synced look at; "" for all of them.
	live(alias string) string
}

// modeFor is the one place a table's write mode is chosen.
func modeFor(t *runtime.Table) writeMode {
	if t.History {
		return history{}
	}
	return upsert{}
}

// stageCol names the i-th column of a staging table. Positional names keep
// source names out of staging, where one called rowid would hide the row
// order that deduplication relies on.
func stageCol(i int) string { return "c" + strconv.Itoa(i) }

// upsert keeps one row per key: the last written, with _fivetran_deleted
// flipped back to false; deletes only set the flag. Like Fivetran's mass
// deletes, marking rows deleted leaves _fivetran_synced as it was.
//
// Tables have no primary-key index (see Prepare): an ART index costs about
// 90 bytes per row of resident memory and makes every checkpoint rewrite it.
// A merge deletes the rows of the batch's keys and inserts the batch's rows:
// a hash join against the table's key columns, which skips the row groups
// outside the batch's key range (see inSelect). Tables made by earlier versions
// with a PRIMARY KEY (tableInfo.keyed) keep the INSERT OR REPLACE that uses
// the index.
type upsert struct{}

func (upsert) name() string { return sqldest.ModeSoftDelete }

func (upsert) systemColumns() []column {
	return []column{
		{name: colSynced, typ: runtime.TypeTimestamp, desc: sqldest.DescSynced},
		{name: colDeleted, typ: runtime.TypeBoolean, desc: sqldest.DescDeleted},
	}
}

func (upsert) key(pk []string) []string { return pk }

func (upsert) versioned() bool { return false }

func (upsert) live(string) string { return "" }

// keyCols lists the stage columns of t's source key.
func keyCols(t *tableInfo, alias string) []string {
	cols := make([]string, len(t.pk))
	for i, k := range t.pk {
		cols[i] = alias + quote(stageCol(t.pos[strings.ToLower(k)]))
	}
	return cols
}

// stagedKey names the stage columns of t's source key, unqualified.
func stagedKey(t *tableInfo) []string {
	cols := make([]string, len(t.pk))
	for i, k := range t.pk {
		cols[i] = stageCol(t.pos[strings.ToLower(k)])
	}
	return cols
}

// lastPerKey keeps the last staged row of each key (rowid is the order of
// arrival): DuckDB refuses to update one row twice in a statement, and a
// merge must leave one row per key.
func lastPerKey(t *tableInfo, alias string) string {
	return " QUALIFY row_number() OVER (PARTITION BY " + strings.Join(keyCols(t, alias), ", ") +
		" ORDER BY " + alias + "rowid DESC) = 1"
}

// insertList is the target column list of an insert: t's columns, extra,
// then the system columns sys.
func insertList(t *tableInfo, extra []string, sys ...string) string {
	var b strings.Builder
	for _, c := range t.cols {
		b.WriteString(quote(c.name) + ", ")
	}
	for _, e := range extra {
		b.WriteString(quote(e) + ", ")
	}
	b.WriteString(quoteAll(sys))
	return b.String()
}

// selectList selects t's columns from a staging relation under alias.
func selectList(t *tableInfo, alias string) string {
	var b strings.Builder
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.typ == runtime.TypeJSON {
			// Staged as text (see stageType); the cast keeps the text as it is.
			b.WriteString("CAST(" + alias + quote(stageCol(i)) + " AS JSON)")
		} else {
			b.WriteString(alias + quote(stageCol(i)))
		}
	}
	return b.String()
}

func (m upsert) write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	if t.keyed {
		return m.replaceKeyed(ctx, x, t, stage, synced)
	}
	// Rows of t whose key the stage holds.
	match := inSelect("t", t.key, "", stagedKey(t), stage)

	// Columns of t the writer does not fill (a column a spec dropped) keep
	// their values through a rewrite, as an update would: they are saved
	// before the delete and joined back on insert.
	keep := ""
	if len(t.extra) > 0 {
		keep = "temp.main." + quote("_oktasync_keep")
		q := "CREATE TEMP TABLE " + keep + " AS SELECT " + quoteAll(t.key) + ", " + quoteAll(t.extra) +
			" FROM " + quote(t.name) + " AS t WHERE " + match
		if err := x.exec(ctx, q); err != nil {
			return fmt.Errorf("merge %s: keep columns: %w", t.name, err)
		}
	}
	if err := x.exec(ctx, "DELETE FROM "+quote(t.name)+" AS t WHERE "+match); err != nil {
		return fmt.Errorf("merge %s: delete: %w", t.name, err)
	}

	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(t.name) + " (" + insertList(t, t.extra, colSynced, colDeleted) + ") SELECT ")
	b.WriteString(selectList(t, "s."))
	for _, e := range t.extra {
		b.WriteString(", k." + quote(e))
	}
	b.WriteString(", $1, false FROM " + stage + " AS s")
	if keep != "" {
		b.WriteString(" LEFT JOIN " + keep + " AS k ON ")
		for i, k := range t.key {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString("k." + quote(k) + " = s." + quote(stageCol(t.pos[strings.ToLower(k)])))
		}
	}
	b.WriteString(lastPerKey(t, "s."))
	if err := x.exec(ctx, b.String(), tsParam(synced)); err != nil {
		return fmt.Errorf("merge %s: insert: %w", t.name, err)
	}
	if keep != "" {
		if err := x.exec(ctx, "DROP TABLE "+keep); err != nil {
			return fmt.Errorf("merge %s: %w", t.name, err)
		}
	}
	return nil
}

// replaceKeyed upserts into a table with a PRIMARY KEY. INSERT OR REPLACE
// rewrites every listed column of a row whose key exists (columns it does
// not list keep their values); it measured faster than ON CONFLICT DO
// UPDATE SET with the same list.
func (upsert) replaceKeyed(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	q := "INSERT OR REPLACE INTO " + quote(t.name) + " (" + insertList(t, nil, colSynced, colDeleted) + ") SELECT " +
		selectList(t, "") + ", $1, false FROM " + stage + lastPerKey(t, "")
	if err := x.exec(ctx, q, tsParam(synced)); err != nil {
		return fmt.Errorf("upsert %s: %w", t.name, err)
	}
	return nil
}

func (upsert) appendQuery(t *tableInfo, src string, synced time.Time) string {
	// The run's time is a constant of the statement: the appended relation
	// holds only the rows' own values.
	return "INSERT INTO " + quote(t.name) + " (" + insertList(t, nil, colSynced, colDeleted) + ") SELECT " +
		selectList(t, "") + ", " + tsLiteral(synced) + ", false FROM " + src
}

// dedupe probes first: a run's rows repeat a key only when a page was read
// again after a resume, so the usual answer is that there is nothing to do,
// found by one aggregation over the run's rows. Only rows of the run can
// repeat a key (Batch.Append), and they all have _fivetran_synced = synced,
// which lets the scans skip the row groups of earlier runs by their zone maps.
// Keys are compared by hash in the probe; a collision only costs the exact
// pass, which compares the keys themselves.
func (upsert) dedupe(ctx context.Context, x *txn, t *tableInfo, synced time.Time) error {
	if t.keyed {
		return nil // the primary key made every append an upsert
	}
	keys := quoteAll(t.key)
	run := quote(colSynced) + " >= $1"
	dups := "SELECT hash(" + keys + ") FROM " + quote(t.name) + " WHERE " + run +
		" GROUP BY ALL HAVING count(*) > 1"
	var n int64
	if err := x.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+dups+")", tsParam(synced)).Scan(&n); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	if n == 0 {
		return nil
	}
	q := "DELETE FROM " + quote(t.name) + " WHERE rowid IN (SELECT rowid FROM " + quote(t.name) +
		" WHERE " + run + " AND hash(" + keys + ") IN (" + dups + ")" +
		" QUALIFY row_number() OVER (PARTITION BY " + keys + " ORDER BY rowid DESC) > 1)"
	if err := x.exec(ctx, q, tsParam(synced)); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	return nil
}

func (upsert) markDeleted(ctx context.Context, x *txn, t *tableInfo, _ time.Time, cond string, args ...any) error {
	q := "UPDATE " + quote(t.name) + " AS t SET " + quote(colDeleted) + " = true WHERE t." +
		quote(colDeleted) + " IS NOT TRUE AND (" + cond + ")"
	if err := x.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("mark deleted in %s: %w", t.name, err)
	}
	return nil
}

func (upsert) deleted(_ *tableInfo, alias string) string { return alias + "." + quote(colDeleted) }
