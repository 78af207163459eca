package detect

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"oktasync/detections"
	"oktasync/internal/sqlfiles"
)

// Pack is the detection pack built into the binary.
func Pack() ([]*Detection, error) { return Load(detections.FS, "detections") }

// Hit is one row a detection returned.
type Hit struct {
	Detection  *Detection
	DetectedAt time.Time // UTC
	Actor      string
	Summary    string
	// Evidence holds the row's other columns, in the query's order.
	Evidence []Field
}

// Field is one evidence column of a hit.
type Field struct {
	Name  string
	Value any // nil, string, bool, int64, float64, time.Time, or decoded JSON
}

// Failure is a detection that could not run: its query failed (a table or
// column blocked or never synced) or returned no detected_at, actor and
// summary.
type Failure struct {
	Detection *Detection
	Err       error
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s (%s): %v", f.Detection.ID, f.Detection.File, f.Err)
}

// Result is what a run found.
type Result struct {
	Hits     []Hit // by detected_at, then detection, then actor
	Failures []Failure
}

// Open opens a DuckDB file read-only, with extension auto-install and
// auto-load off as a sync has them: a detection never writes and never
// reaches the network.
func Open(path string) (*sql.DB, error) { return sqlfiles.Open(path, true) }

// SinceValue is the value of $since for a time: a TIMESTAMP literal in UTC,
// as system_log.published is stored. The zero time is the beginning.
func SinceValue(since time.Time) string {
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	return since.UTC().Format("2006-01-02 15:04:05.000000")
}

// ParseSince reads --since: an RFC 3339 time, a date (2006-01-02, UTC), or
// a duration back from now (72h, 30m).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02) or a duration back from now (72h)", s)
}

// Run runs each detection over db, one after another; a detection that
// fails is recorded and the others still run. Only ctx's end stops the
// run early, with its error.
func Run(ctx context.Context, db *sql.DB, pack []*Detection, since time.Time) (*Result, error) {
	res := &Result{}
	arg := sql.Named(strings.TrimPrefix(SinceParam, "$"), SinceValue(since))
	for _, d := range pack {
		hits, err := runOne(ctx, db, d, arg)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			res.Failures = append(res.Failures, Failure{d, err})
			continue
		}
		res.Hits = append(res.Hits, hits...)
	}
	slices.SortStableFunc(res.Hits, func(a, b Hit) int {
		if c := a.DetectedAt.Compare(b.DetectedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Detection.ID, b.Detection.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Actor, b.Actor)
	})
	return res, nil
}

// required are the columns every detection returns.
var required = []string{"detected_at", "actor", "summary"}

func runOne(ctx context.Context, db *sql.DB, d *Detection, arg sql.NamedArg) ([]Hit, error) {
	rows, err := db.QueryContext(ctx, d.SQL, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	for _, c := range required {
		if !slices.Contains(cols, c) {
			return nil, fmt.Errorf("the query returns no column %s (every detection returns %s)", c, strings.Join(required, ", "))
		}
	}
	var hits []Hit
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		h := Hit{Detection: d}
		for i, c := range cols {
			v := value(vals[i])
			switch c {
			case "detected_at":
				t, ok := v.(time.Time)
				if !ok {
					return nil, fmt.Errorf("detected_at is %T, want a TIMESTAMP", vals[i])
				}
				h.DetectedAt = t.UTC()
			case "actor":
				h.Actor = text(v)
			case "summary":
				h.Summary = text(v)
			default:
				h.Evidence = append(h.Evidence, Field{c, v})
			}
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// value normalises what the driver scanned: bytes become text, times UTC.
func value(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC()
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// text renders a value on one line.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.Format(time.RFC3339)
	case bool, int64, float64, int, uint64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
