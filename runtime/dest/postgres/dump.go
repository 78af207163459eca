package postgres

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"oktasync/runtime/dest/internal/sqldest"
)

// DumpTimeFormat is how Dump writes timestamps (UTC), as DuckDB's Dump does.
const DumpTimeFormat = sqldest.DumpTimeFormat

// Dump writes a table as CSV in the format of DuckDB's Dump, so that the
// two destinations' tables compare byte for byte: a header of column names
// in table order, then the rows ordered by their key, then by every other
// column (text in byte order, whatever the database's collation); NULL as
// an empty field, booleans as true/false, timestamps as DumpTimeFormat,
// JSON as its text, doubles in Go's shortest form.
func (d *DB) Dump(ctx context.Context, table string, w io.Writer) error {
	if err := d.dump(ctx, table, w); err != nil {
		return d.errorf(err, "dump %s", table)
	}
	return nil
}

func (d *DB) dump(ctx context.Context, table string, w io.Writer) error {
	var name string
	var cols []dbColumn
	rows, err := d.pool.Query(ctx, `SELECT cl.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND cl.relkind IN ('r', 'p') AND lower(cl.relname) = lower($2)
		ORDER BY a.attnum`, d.schema, Ident(table))
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
	typ := make(map[string]string, len(cols))
	for _, c := range cols {
		typ[strings.ToLower(c.name)] = c.typ
	}
	orderBy := func(col string) string {
		switch typ[lowerIdent(col)] {
		case "text":
			return quote(col) + ` COLLATE "C"`
		case "json":
			return quote(col) + `::text COLLATE "C"`
		}
		return quote(col)
	}
	var order []string
	for _, k := range key {
		order = append(order, orderBy(k))
	}
	var q strings.Builder
	q.WriteString("SELECT ")
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
		if i > 0 {
			q.WriteString(", ")
		}
		if c.typ == "json" || c.typ == "jsonb" {
			// pgx would decode JSON into Go values; we want the text.
			q.WriteString(quote(c.name) + "::text")
		} else {
			q.WriteString(quote(c.name))
		}
		if !slices.ContainsFunc(key, func(k string) bool { return strings.EqualFold(Ident(k), c.name) }) {
			order = append(order, orderBy(c.name))
		}
	}
	q.WriteString(" FROM " + quote(name) + " ORDER BY " + strings.Join(order, ", "))

	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rows, err = d.pool.Query(ctx, q.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	rec := make([]string, len(cols))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
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

// keyOf returns a table's key from TablesTable, or from its primary key
// constraint; nil when neither has one.
func (d *DB) keyOf(ctx context.Context, table string) ([]string, error) {
	var key []string
	if found, err := d.hasTable(ctx, TablesTable); err != nil || found {
		if err != nil {
			return nil, err
		}
		err := d.pool.QueryRow(ctx, `SELECT "primary_key" FROM `+quote(TablesTable)+
			` WHERE lower("table_name") = lower($1)`, table).Scan(&key)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
	}
	err := d.pool.QueryRow(ctx, `SELECT array_agg(a.attname ORDER BY k.i) FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		CROSS JOIN unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
		WHERE n.nspname = $1 AND cl.relname = $2 AND c.contype = 'p'`, d.schema, table).Scan(&key)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return key, nil
}
