package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"oktasync/runtime"
)

// State returns the saved state of every table that has one; a database
// never prepared has none.
func (d *DB) State(ctx context.Context) (map[string]runtime.TableState, error) {
	found, err := d.hasTable(ctx, StateTable)
	if err != nil {
		return nil, fmt.Errorf("duckdb: read state: %w", err)
	}
	states := make(map[string]runtime.TableState)
	if !found {
		return states, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT "table_name", CAST("state" AS VARCHAR) FROM `+quote(StateTable))
	if err != nil {
		return nil, fmt.Errorf("duckdb: read state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, js string
		if err := rows.Scan(&table, &js); err != nil {
			return nil, fmt.Errorf("duckdb: read state: %w", err)
		}
		var st runtime.TableState
		if err := json.Unmarshal([]byte(js), &st); err != nil {
			return nil, fmt.Errorf("duckdb: read state of %s: %w", table, err)
		}
		states[table] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: read state: %w", err)
	}
	return states, nil
}

// ValuesTable holds the values of the sync as a whole (Destination.Value).
const ValuesTable = "_oktasync_values"

// hasTable reports whether the main schema has a table of that name.
func (d *DB) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1`, name).Scan(&n)
	return n > 0, err
}

// Columns lists the columns of every synced table, system columns included,
// by lower-cased table name, in table order; the writer's own tables
// (_oktasync_*) are left out.
func (d *DB) Columns(ctx context.Context) (map[string][]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT table_name, column_name FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
		AND NOT starts_with(table_name, '_oktasync_')
		ORDER BY table_oid, column_index`)
	if err != nil {
		return nil, fmt.Errorf("duckdb: list columns: %w", err)
	}
	defer rows.Close()
	m := make(map[string][]string)
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, fmt.Errorf("duckdb: list columns: %w", err)
		}
		k := strings.ToLower(table)
		m[k] = append(m[k], col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: list columns: %w", err)
	}
	return m, nil
}

// Value returns the value saved under key; ok is false when none is.
func (d *DB) Value(ctx context.Context, key string) (string, bool, error) {
	found, err := d.hasTable(ctx, ValuesTable)
	if err != nil {
		return "", false, fmt.Errorf("duckdb: read value %s: %w", key, err)
	}
	if !found {
		return "", false, nil
	}
	var v string
	err = d.db.QueryRowContext(ctx, `SELECT "value" FROM `+quote(ValuesTable)+` WHERE "key" = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("duckdb: read value %s: %w", key, err)
	}
	return v, true, nil
}

// SetValue saves value under key, creating the values table on first use
// (the engine saves its salt before it prepares any table).
func (d *DB) SetValue(ctx context.Context, key, value string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	x, err := d.begin(ctx)
	if err != nil {
		return fmt.Errorf("duckdb: save value %s: %w", key, err)
	}
	defer x.close()
	err = x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(ValuesTable)+` ("key" VARCHAR PRIMARY KEY, "value" VARCHAR)`)
	if err == nil {
		err = x.exec(ctx, `INSERT INTO `+quote(ValuesTable)+` VALUES ($1, $2)
			ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`, key, value)
	}
	if err == nil {
		err = x.commit(ctx)
	}
	if err != nil {
		return fmt.Errorf("duckdb: save value %s: %w", key, err)
	}
	return nil
}
