package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"oktasync/runtime"
)

// State returns the saved state of every table that has one; a schema
// never prepared has none.
func (d *DB) State(ctx context.Context) (map[string]runtime.TableState, error) {
	states := make(map[string]runtime.TableState)
	found, err := d.hasTable(ctx, StateTable)
	if err != nil {
		return nil, d.errorf(err, "read state")
	}
	if !found {
		return states, nil
	}
	rows, err := d.pool.Query(ctx, `SELECT "table_name", "state"::text FROM `+quote(StateTable))
	if err != nil {
		return nil, d.errorf(err, "read state")
	}
	defer rows.Close()
	for rows.Next() {
		var table, js string
		if err := rows.Scan(&table, &js); err != nil {
			return nil, d.errorf(err, "read state")
		}
		var st runtime.TableState
		if err := json.Unmarshal([]byte(js), &st); err != nil {
			return nil, d.errorf(err, "read state of %s", table)
		}
		states[table] = st
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf(err, "read state")
	}
	return states, nil
}

// hasTable reports whether the schema has a table of that name.
func (d *DB) hasTable(ctx context.Context, name string) (bool, error) {
	var found bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2)`,
		d.schema, Ident(name)).Scan(&found)
	return found, err
}

// Columns lists the columns of every synced table, system columns included,
// by lower-cased table name, in table order; the writer's own tables
// (_oktasync_*) are left out.
func (d *DB) Columns(ctx context.Context) (map[string][]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT cl.relname, a.attname FROM pg_class cl
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND cl.relkind IN ('r', 'p') AND NOT starts_with(cl.relname, '_oktasync_')
		ORDER BY cl.relname, a.attnum`, d.schema)
	if err != nil {
		return nil, d.errorf(err, "list columns")
	}
	defer rows.Close()
	m := make(map[string][]string)
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, d.errorf(err, "list columns")
		}
		k := strings.ToLower(table)
		m[k] = append(m[k], col)
	}
	if err := rows.Err(); err != nil {
		return nil, d.errorf(err, "list columns")
	}
	return m, nil
}

// Value returns the value saved under key; ok is false when none is.
func (d *DB) Value(ctx context.Context, key string) (string, bool, error) {
	found, err := d.hasTable(ctx, ValuesTable)
	if err != nil {
		return "", false, d.errorf(err, "read value %s", key)
	}
	if !found {
		return "", false, nil
	}
	var v string
	err = d.pool.QueryRow(ctx, `SELECT "value" FROM `+quote(ValuesTable)+` WHERE "key" = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, d.errorf(err, "read value %s", key)
	}
	return v, true, nil
}

// SetValue saves value under key, creating the schema and the values table
// on first use (the engine saves its salt before it prepares any table).
func (d *DB) SetValue(ctx context.Context, key, value string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	x, err := d.begin(ctx)
	if err != nil {
		return d.errorf(err, "save value %s", key)
	}
	defer x.close()
	err = x.ensureSchema(ctx)
	if err == nil {
		err = x.exec(ctx, `CREATE TABLE IF NOT EXISTS `+quote(ValuesTable)+` ("key" text PRIMARY KEY, "value" text)`)
	}
	if err == nil {
		err = x.exec(ctx, `INSERT INTO `+quote(ValuesTable)+` VALUES ($1, $2)
			ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`, key, value)
	}
	if err == nil {
		err = x.commit(ctx)
	}
	if err != nil {
		return d.errorf(err, "save value %s", key)
	}
	return nil
}

// CheckWritable tells, without writing anything, whether a sync could
// write here: the schema exists and the user may create tables in it, or
// it does not and the user may create it. The error names what to grant.
func (d *DB) CheckWritable(ctx context.Context) error {
	var exists, canCreate bool
	var user string
	err := d.pool.QueryRow(ctx, `SELECT current_user,
		EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
		CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
			THEN has_schema_privilege($1, 'CREATE')
			ELSE has_database_privilege(current_database(), 'CREATE') END`, d.schema).Scan(&user, &exists, &canCreate)
	if err != nil {
		return d.errorf(err, "check privileges")
	}
	switch {
	case canCreate:
		return nil
	case exists:
		return fmt.Errorf("postgres %s: user %s may not create tables in schema %s; GRANT CREATE, USAGE ON SCHEMA %s TO %s",
			d.where, user, d.schema, quote(d.schema), quote(user))
	default:
		return fmt.Errorf("postgres %s: schema %s does not exist and user %s may not create it; "+
			"CREATE SCHEMA %s AUTHORIZATION %s, or GRANT CREATE ON DATABASE to the user",
			d.where, d.schema, user, quote(d.schema), quote(user))
	}
}
