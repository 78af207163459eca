package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"oktasync/internal/sqlfiles"
	"oktasync/models"
)

// Pack is the models built into the binary, in dependency order.
func Pack() ([]*Model, error) { return Load(models.FS, "models") }

// Open opens a DuckDB file a sync wrote, for writing (the models' schemas),
// with extension auto-install and auto-load off as a sync has them.
func Open(path string) (*sql.DB, error) { return sqlfiles.Open(path, false) }

// System columns of the synced tables: which of them a table has says its
// mode (history: _fivetran_active; soft delete: _fivetran_deleted).
const (
	colSynced  = "_fivetran_synced"
	colDeleted = "_fivetran_deleted"
	colStart   = "_fivetran_start"
	colEnd     = "_fivetran_end"
	colActive  = "_fivetran_active"
)

// Prepare (re)builds, in one transaction, the views models read: for every
// synced table t of the main schema (one with _fivetran_synced),
//
//   - okta_current.t: its live rows, whatever its mode (history: active
//     versions; soft delete: rows not deleted), with its data columns and
//     _fivetran_synced;
//   - okta_history.t: every version, with valid_from, valid_to (NULL while
//     current) and is_current, in history mode; no rows otherwise;
//
// and okta_history.table_mode (table_name, history) saying which tables
// keep history. So a model's SQL is the same in either mode.
func Prepare(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `select table_name, column_name, data_type from information_schema.columns
		where table_schema = 'main' and table_name in (select table_name from information_schema.columns
			where table_schema = 'main' and column_name = ?)
		order by table_name, ordinal_position`, colSynced)
	if err != nil {
		return fmt.Errorf("prepare the models' views: %w", err)
	}
	type table struct {
		name     string
		cols     []string
		syncType string
	}
	var tables []*table
	for rows.Next() {
		var tn, cn, typ string
		if err := rows.Scan(&tn, &cn, &typ); err != nil {
			rows.Close()
			return fmt.Errorf("prepare the models' views: %w", err)
		}
		if len(tables) == 0 || tables[len(tables)-1].name != tn {
			tables = append(tables, &table{name: tn})
		}
		t := tables[len(tables)-1]
		t.cols = append(t.cols, cn)
		if cn == colSynced {
			t.syncType = typ
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("prepare the models' views: %w", err)
	}
	if len(tables) == 0 {
		return errors.New("the database holds no synced table; sync first (oktasync sync)")
	}
	stmts := []string{
		"create schema if not exists " + Schema,
		"create schema if not exists " + CurrentSchema,
		"create schema if not exists " + HistorySchema,
	}
	var modes []string
	for _, t := range tables {
		history := slices.Contains(t.cols, colActive)
		var data []string
		for _, c := range t.cols {
			switch c {
			case colDeleted, colStart, colEnd, colActive:
				continue
			}
			data = append(data, quote(c))
		}
		list := strings.Join(data, ", ")
		src := "main." + quote(t.name)
		if history {
			stmts = append(stmts,
				fmt.Sprintf("create or replace view %s.%s as select %s from %s where %s", CurrentSchema, quote(t.name), list, src, colActive),
				fmt.Sprintf("create or replace view %s.%s as select %s, %s as valid_from, case when %s then null else %s end as valid_to, %s as is_current from %s",
					HistorySchema, quote(t.name), list, colStart, colActive, colEnd, colActive, src))
		} else {
			stmts = append(stmts,
				fmt.Sprintf("create or replace view %s.%s as select %s from %s where not coalesce(%s, false)", CurrentSchema, quote(t.name), list, src, colDeleted),
				fmt.Sprintf("create or replace view %s.%s as select %s, null::%s as valid_from, null::%s as valid_to, true as is_current from %s where false",
					HistorySchema, quote(t.name), list, t.syncType, t.syncType, src))
		}
		modes = append(modes, fmt.Sprintf("(%s, %t)", literal(t.name), history))
	}
	stmts = append(stmts, fmt.Sprintf("create or replace view %s.table_mode as select * from (values %s) as m(table_name, history)",
		HistorySchema, strings.Join(modes, ", ")))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("prepare the models' views: %w", err)
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("prepare the models' views: %w\n%s", err, s)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("prepare the models' views: %w", err)
	}
	return nil
}

// Status of a model after a run.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // a model it reads failed or was skipped
)

// Outcome is what became of one model.
type Outcome struct {
	Model    *Model
	Status   string
	Rows     int64 // rows of a table; -1 for a view (not counted)
	Duration time.Duration
	Err      error // failed: file:line and the database's error; skipped: why
}

// Result is a run's outcomes, in the order the models ran.
type Result struct {
	Outcomes []Outcome
	Duration time.Duration // the whole run, Prepare included
}

// Failed counts the outcomes that are not ok.
func (r *Result) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status != StatusOK {
			n++
		}
	}
	return n
}

// Run prepares the views and materialises each model in order, each in its
// own transaction: a model that fails is rolled back, so its previous
// materialisation stays as it was, the models reading it are skipped, and
// the others still run. Only Prepare's failure or ctx's end stops the run,
// with an error.
func Run(ctx context.Context, db *sql.DB, ms []*Model) (*Result, error) {
	begin := time.Now()
	res := &Result{}
	if err := Prepare(ctx, db); err != nil {
		return res, err
	}
	broken := map[string]string{} // model -> the failed model it stands on
	for _, m := range ms {
		o := Outcome{Model: m, Rows: -1}
		for _, u := range m.Uses {
			if cause, ok := broken[u]; ok {
				o.Status = StatusSkipped
				o.Err = fmt.Errorf("not run: it reads %s.%s, and %s failed", Schema, u, cause)
				broken[m.Name] = cause
			}
		}
		if o.Status == "" {
			start := time.Now()
			rows, err := materialise(ctx, db, m)
			o.Duration = time.Since(start)
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if err != nil {
				o.Status, o.Err = StatusFailed, err
				broken[m.Name] = m.Name
			} else {
				o.Status, o.Rows = StatusOK, rows
			}
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	res.Duration = time.Since(begin)
	return res, nil
}

// materialise replaces one model's table or view in one transaction and
// checks that its columns are the header's.
func materialise(ctx context.Context, db *sql.DB, m *Model) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	target := Schema + "." + quote(m.Name)
	var existing string
	err = tx.QueryRowContext(ctx, `select table_type from information_schema.tables where table_schema = ? and table_name = ?`,
		Schema, m.Name).Scan(&existing)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = nil
	case err != nil:
		return 0, err
	case existing == "VIEW" && m.Materialized == "table":
		_, err = tx.ExecContext(ctx, "drop view "+target)
	case existing != "VIEW" && m.Materialized == "view":
		_, err = tx.ExecContext(ctx, "drop table "+target)
	}
	if err != nil {
		return 0, err
	}
	// The query starts on the statement's first line, so the database's
	// LINE n is the query's line n.
	stmt := fmt.Sprintf("create or replace %s %s as %s", m.Materialized, target, m.SQL)
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return 0, m.sqlError(err)
	}
	got, err := columnsOf(ctx, tx, m.Name)
	if err != nil {
		return 0, err
	}
	if want := m.ColumnNames(); !slices.Equal(got, want) {
		return 0, fmt.Errorf("%s:%d: the query returns the columns %s; the header lists %s (they must agree, in order)",
			m.File, m.Line, strings.Join(got, ", "), strings.Join(want, ", "))
	}
	rows := int64(-1)
	if m.Materialized == "table" {
		if err := tx.QueryRowContext(ctx, "select count(*) from "+target).Scan(&rows); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%s: commit: %w", m.File, err)
	}
	return rows, nil
}

func columnsOf(ctx context.Context, tx *sql.Tx, name string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `select column_name from information_schema.columns
		where table_schema = ? and table_name = ? order by ordinal_position`, Schema, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

var lineRe = regexp.MustCompile(`\bLINE ([0-9]+):`)

// sqlError says where in the file the database's error is: its LINE n, or
// the query's first line when it names none (an error while running).
func (m *Model) sqlError(err error) error {
	line := m.Line
	if g := lineRe.FindStringSubmatch(err.Error()); g != nil {
		if n, _ := strconv.Atoi(g[1]); n > 0 {
			line = m.Line + n - 1
		}
	}
	return fmt.Errorf("%s:%d: %w", m.File, line, err)
}

// quote quotes an identifier for DuckDB.
func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// literal quotes a string literal for DuckDB.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
