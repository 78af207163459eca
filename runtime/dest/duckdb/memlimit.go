package duckdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	ddb "github.com/duckdb/duckdb-go/v2"
)

// raisedMemoryLimit is how many times its memory_limit a commit that ran
// out of memory gets for its second run. A tight limit keeps a bulk sync's
// memory low, and most statements live within it; an UPDATE or MERGE over a
// large table may not (marking 7.6 million rows deleted needed more than
// 96MB), and a sync should not fail for it.
const raisedMemoryLimit = 4

// isOutOfMemory tells whether DuckDB could not allocate within its limit.
// The Appender's errors come as text only.
func isOutOfMemory(err error) bool {
	var e *ddb.Error
	if errors.As(err, &e) && e.Type == ddb.ErrorTypeOutOfMemory {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "could not allocate block of size")
}

// raiseMemoryLimit multiplies the memory_limit set in Options.Settings by
// raisedMemoryLimit and returns the call that sets it back as configured;
// false when the limit is DuckDB's own (80% of the machine's memory:
// nothing to raise to) or cannot be read. Callers hold d.mu.
func (d *DB) raiseMemoryLimit(ctx context.Context) (restore func(), ok bool) {
	configured, ok := d.opts.Settings["memory_limit"]
	if !ok {
		return nil, false
	}
	conn, err := d.writer(ctx)
	if err != nil {
		return nil, false
	}
	var current string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&current); err != nil {
		return nil, false
	}
	n, err := parseMemory(current)
	if err != nil {
		d.log.Warn("duckdb: memory_limit unreadable", "value", current, "err", err)
		return nil, false
	}
	set := func(limit string) error {
		c, err := d.writer(context.Background())
		if err != nil {
			return err
		}
		_, err = c.ExecContext(context.Background(), "SET memory_limit = '"+strings.ReplaceAll(limit, "'", "''")+"'")
		return err
	}
	if err := set(fmt.Sprintf("%dB", n*raisedMemoryLimit)); err != nil {
		return nil, false
	}
	return func() {
		if err := set(configured); err != nil {
			d.log.Warn("duckdb: memory_limit not restored", "err", err)
		}
	}, true
}

// parseMemory reads a size as DuckDB prints it: "91.5 MiB", "1.2 GiB",
// "512 bytes".
func parseMemory(s string) (int64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	scale := map[string]float64{
		"bytes": 1, "B": 1,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	}[unit]
	if scale == 0 {
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	return int64(f * scale), nil
}
