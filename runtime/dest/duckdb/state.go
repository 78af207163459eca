package duckdb

import (
	"context"
	"encoding/json"
	"fmt"

	"oktasync/runtime"
)

// State returns the saved state of every table that has one; a database
// never prepared has none.
func (d *DB) State(ctx context.Context) (map[string]runtime.TableState, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $1`, StateTable).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("duckdb: read state: %w", err)
	}
	states := make(map[string]runtime.TableState)
	if n == 0 {
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
