package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"oktasync/runtime"
)

// System columns of the soft-delete mode.
const (
	colSynced  = "_fivetran_synced"
	colDeleted = "_fivetran_deleted"
)

// A writeMode is how rows land in a table. Every statement that writes a
// table's rows goes through one, so history mode (type-2 versions with
// _fivetran_start/_end/_active, keyed by key + _fivetran_start) can come as a
// second implementation picked in modeFor, leaving staging, replacement,
// sweeps and state untouched.
type writeMode interface {
	// systemColumns follow the descriptor's columns.
	systemColumns() []column
	// key is the destination primary key of a table whose source key is pk.
	key(pk []string) []string
	// write lands the rows staged in stage (columns named by stageCol, in
	// t.cols order, in arrival order), the last row of each key winning.
	write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error
	// markDeleted soft-deletes the live rows of t, under alias "t", for which
	// the SQL condition cond holds; args are its parameters from $1.
	markDeleted(ctx context.Context, x *txn, t *tableInfo, cond string, args ...any) error
	// deleted is an SQL condition, true for a deleted row under alias.
	deleted(alias string) string
}

// modeFor is the one place a table's write mode is chosen.
func modeFor(*runtime.Table) writeMode { return upsert{} }

// stageCol names the i-th column of a staging table. Positional names keep
// source names out of staging, where one called rowid would hide the row
// order that deduplication relies on.
func stageCol(i int) string { return "c" + strconv.Itoa(i) }

// upsert keeps one row per key: the last written, with _fivetran_deleted
// flipped back to false; deletes only set the flag. Like Fivetran's mass
// deletes, marking rows deleted leaves _fivetran_synced as it was.
type upsert struct{}

func (upsert) systemColumns() []column {
	return []column{
		{name: colSynced, typ: runtime.TypeTimestamp},
		{name: colDeleted, typ: runtime.TypeBoolean},
	}
}

func (upsert) key(pk []string) []string { return pk }

func (upsert) write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	var b strings.Builder
	// INSERT OR REPLACE rewrites every listed column of a row whose key
	// exists: the whole row, dynamic columns included, as the source has it
	// now. It measured faster than ON CONFLICT DO UPDATE SET with the same list.
	b.WriteString("INSERT OR REPLACE INTO ")
	b.WriteString(quote(t.name))
	b.WriteString(" (")
	for _, c := range t.cols {
		b.WriteString(quote(c.name))
		b.WriteString(", ")
	}
	b.WriteString(quote(colSynced) + ", " + quote(colDeleted) + ") SELECT ")
	for i := range t.cols {
		b.WriteString(quote(stageCol(i)))
		b.WriteString(", ")
	}
	b.WriteString("make_timestamp($1::BIGINT), false FROM ")
	b.WriteString(stage)
	// DuckDB refuses to update one row twice in a statement, so only the
	// last staged row of each key goes in; rowid is the order of arrival.
	b.WriteString(" QUALIFY row_number() OVER (PARTITION BY ")
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(stageCol(t.pos[strings.ToLower(k)])))
	}
	b.WriteString(" ORDER BY rowid DESC) = 1")
	if err := x.exec(ctx, b.String(), micros(synced)); err != nil {
		return fmt.Errorf("upsert %s: %w", t.name, err)
	}
	return nil
}

func (upsert) markDeleted(ctx context.Context, x *txn, t *tableInfo, cond string, args ...any) error {
	q := "UPDATE " + quote(t.name) + " AS t SET " + quote(colDeleted) + " = true WHERE t." +
		quote(colDeleted) + " IS NOT TRUE AND (" + cond + ")"
	if err := x.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("mark deleted in %s: %w", t.name, err)
	}
	return nil
}

func (upsert) deleted(alias string) string { return alias + "." + quote(colDeleted) }
