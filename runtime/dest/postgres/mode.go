package postgres

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
	// t.stageCols order, one row per key: see commit.stage) into t by key.
	write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error
	// directValues returns what fills a row's system columns (in
	// systemColumns order) when an Append batch's rows are copied straight
	// into the table; stage holds the staged columns past t.cols (a
	// history row's start).
	directValues(synced time.Time) func(sys, stage []any)
	// appendWrite adds the rows of an Append batch (see runtime.Batch),
	// whose keys only this run has written.
	appendWrite(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error
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
// source names, which may be long or odd, out of staging.
func stageCol(i int) string { return "c" + strconv.Itoa(i) }

// upsert keeps one row per key: the last written, with _fivetran_deleted
// flipped back to false; deletes only set the flag. Like Fivetran's mass
// deletes, marking rows deleted leaves _fivetran_synced as it was.
//
// A merge is one INSERT ... ON CONFLICT DO UPDATE through the primary key's
// index. Columns of the table the writer does not fill (a column a spec
// dropped) are not in its SET list, so they keep their values, as DuckDB's
// merge keeps them.
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

// stagedKey names the stage columns of t's source key, unqualified.
func stagedKey(t *tableInfo) []string {
	cols := make([]string, len(t.pk))
	for i, k := range t.pk {
		cols[i] = stageCol(t.pos[lowerIdent(k)])
	}
	return cols
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
			b.WriteString(alias + quote(stageCol(i)) + "::json")
		} else {
			b.WriteString(alias + quote(stageCol(i)))
		}
	}
	return b.String()
}

func (upsert) write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(t.name) + " AS t (" + insertList(t, nil, colSynced, colDeleted) + ") SELECT ")
	b.WriteString(selectList(t, "s."))
	b.WriteString(", $1::timestamp, false FROM " + stage + " AS s ON CONFLICT (" + quoteAll(t.key) + ") DO UPDATE SET ")
	for _, c := range t.cols {
		b.WriteString(quote(c.name) + " = excluded." + quote(c.name) + ", ")
	}
	b.WriteString(quote(colSynced) + " = excluded." + quote(colSynced) + ", " + quote(colDeleted) + " = false")
	if err := x.exec(ctx, b.String(), tsParam(synced)); err != nil {
		return fmt.Errorf("merge %s: %w", t.name, err)
	}
	return nil
}

func (upsert) directValues(synced time.Time) func(sys, stage []any) {
	synced = synced.UTC()
	return func(sys, _ []any) { sys[0], sys[1] = synced, false }
}

// appendWrite merges: ON CONFLICT through the key's index costs little, and
// a run then never leaves two rows of a key.
func (m upsert) appendWrite(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	return m.write(ctx, x, t, stage, synced)
}

// dedupe has nothing to do: every batch, Append or not, is merged by key
// (Batch.Append allows a destination to skip the lookup, not requires it),
// so a run never leaves two rows of a key.
func (upsert) dedupe(context.Context, *txn, *tableInfo, time.Time) error { return nil }

func (upsert) markDeleted(ctx context.Context, x *txn, t *tableInfo, _ time.Time, cond string, args ...any) error {
	q := "UPDATE " + quote(t.name) + " AS t SET " + quote(colDeleted) + " = true WHERE t." +
		quote(colDeleted) + " IS NOT TRUE AND (" + cond + ")"
	if err := x.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("mark deleted in %s: %w", t.name, err)
	}
	return nil
}

func (upsert) deleted(_ *tableInfo, alias string) string { return alias + "." + quote(colDeleted) }
