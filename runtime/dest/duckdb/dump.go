package duckdb

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"oktasync/runtime/dest/internal/sqldest"
)

// DumpTimeFormat is how Dump writes timestamps (UTC).
const DumpTimeFormat = sqldest.DumpTimeFormat

// Dump writes a table as CSV for golden files: a header of column names in
// table order, then the rows ordered by their key (a history table's: the
// primary key, then _fivetran_start), then by every other column; NULL as an empty field, booleans as true/false,
// timestamps as DumpTimeFormat, JSON as its text, doubles in Go's shortest
// form.
func (d *DB) Dump(ctx context.Context, table string, w io.Writer) error {
	if err := d.dump(ctx, table, w); err != nil {
		return fmt.Errorf("duckdb: dump %s: %w", table, err)
	}
	return nil
}

func (d *DB) dump(ctx context.Context, table string, w io.Writer) error {
	var name string
	var cols []dbColumn
	rows, err := d.db.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND lower(table_name) = lower($1)
		ORDER BY column_index`, table)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c dbColumn
		if err := rows.Scan(&name, &c.name, &c.typ); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(cols) == 0 {
		return fmt.Errorf("no table %q", table)
	}

	key, err := d.keyOf(ctx, name)
	if err != nil {
		return err
	}
	var order []string
	for _, k := range key {
		order = append(order, quote(fmt.Sprint(k)))
	}

	var q strings.Builder
	q.WriteString("SELECT ")
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
		if i > 0 {
			q.WriteString(", ")
		}
		if c.typ == "JSON" {
			// The driver would decode JSON into Go values; we want the text.
			q.WriteString("CAST(" + quote(c.name) + " AS VARCHAR)")
		} else {
			q.WriteString(quote(c.name))
		}
		// Every column after the key: rows that share a key (appended,
		// before their run's dedupe) still come in one order.
		if !slices.ContainsFunc(key, func(k any) bool { return strings.EqualFold(fmt.Sprint(k), c.name) }) {
			order = append(order, quote(c.name))
		}
	}
	q.WriteString(" FROM " + quote(name) + " ORDER BY " + strings.Join(order, ", "))

	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rows, err = d.db.QueryContext(ctx, q.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			rec[i] = sqldest.FormatValue(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// keyOf returns a table's key: from TablesTable, or the PRIMARY KEY of a
// table made by an earlier version; nil when neither has one.
func (d *DB) keyOf(ctx context.Context, table string) ([]any, error) {
	var key []any
	err := d.db.QueryRowContext(ctx, `SELECT constraint_column_names FROM duckdb_constraints()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1
		AND constraint_type = 'PRIMARY KEY'`, table).Scan(&key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var n int
	err = d.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1`, TablesTable).Scan(&n)
	if err != nil || n == 0 {
		return key, err
	}
	err = d.db.QueryRowContext(ctx, `SELECT "primary_key" FROM `+quote(TablesTable)+
		` WHERE lower("table_name") = lower($1)`, table).Scan(&key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return key, nil
}

// WithoutColumn drops a column from a Dump's CSV, for comparing dumps of
// two syncs on what they synced rather than when (_fivetran_synced).
func WithoutColumn(dump, column string) (string, error) { return sqldest.WithoutColumn(dump, column) }
