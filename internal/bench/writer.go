package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// batches cuts the rows of pages into the batches the engine would commit
// for them in a table's first import: a batch ends at the first page
// boundary past runtime.DefaultBatchRows rows or runtime.DefaultBatchBytes
// of values (runtime.RowBytes); it lists the parents whose fan-out rows and
// breakout children it rewrites (Replace); its rows are appended
// (Batch.Append).
func batches(reg *runtime.Registry, t *runtime.Table, pages []page, synced time.Time) []*runtime.Batch {
	var out []*runtime.Batch
	var b *runtime.Batch
	rows, held := 0, 0
	fresh := func() {
		b = &runtime.Batch{Table: t, Synced: synced, Rows: map[*runtime.Table]*runtime.RowSet{},
			Replace: map[*runtime.Table][][]any{}, Append: true}
		rows, held = 0, 0
	}
	fresh()
	keyPos := map[*runtime.Table][]int{}
	blocked := map[*runtime.Table]int{}
	em := runtime.NewEmitter(runtime.SinkFunc(func(tt *runtime.Table, r runtime.Row) {
		rs := b.Rows[tt]
		if rs == nil {
			rs = &runtime.RowSet{}
			b.Rows[tt] = rs
		}
		vals := r.AppendValues(make([]any, 0, len(tt.Columns)))
		// The column the bench's syncs block is written empty, so that the
		// ceilings move the same values as the sync (see withoutRawJSON).
		pos, ok := blocked[tt]
		if !ok {
			pos = -1
			if tt.Name == logTable {
				pos = slices.IndexFunc(tt.Columns, func(c runtime.Column) bool { return c.Name == rawJSONColumn })
			}
			blocked[tt] = pos
		}
		if pos >= 0 {
			vals[pos] = nil
		}
		rs.Rows = append(rs.Rows, vals)
		if len(tt.Dynamic) > 0 {
			var dyn []runtime.Field
			if d, ok := r.(runtime.DynamicRow); ok {
				dyn = d.DynamicFields()
			}
			rs.Dynamic = append(rs.Dynamic, dyn)
		}
		rows++
		held += runtime.RowBytes(vals)
		if len(tt.Children) > 0 {
			pos, ok := keyPos[tt]
			if !ok {
				pos = runtime.KeyPositions(tt)
				keyPos[tt] = pos
			}
			key := make([]any, 0, len(pos))
			for _, i := range pos {
				key = append(key, vals[i])
			}
			for _, c := range tt.Children {
				b.Replace[c] = append(b.Replace[c], key)
			}
		}
	}))
	lastParent := ""
	for _, p := range pages {
		if t.FanOut != nil && len(t.ParentKey) > 0 && p.parent.Raw != lastParent {
			// A parent's pages come one after the other: list it once.
			lastParent = p.parent.Raw
			b.Replace[t] = append(b.Replace[t], runtime.FanOutParentKey(reg, t, p.parent, em))
		}
		runtime.EachRecord(p.body, t.Request.Records, func(v gjson.Result) { t.Extract(v, p.parent, em) })
		if rows >= runtime.DefaultBatchRows || held >= runtime.DefaultBatchBytes {
			out = append(out, b)
			fresh()
		}
	}
	if rows > 0 || len(b.Replace) > 0 {
		out = append(out, b)
	}
	return out
}

// writer is the destination of the sync, fed prebuilt batches: the
// append-only ceiling.
type writer struct {
	db     *duckdb.DB
	synced time.Time
}

func openWriter(ctx context.Context, path string, settings map[string]string, tables []*runtime.Table) (*writer, error) {
	db, err := duckdb.Open(path, ceilingOptions(settings))
	if err != nil {
		return nil, err
	}
	if err := db.Prepare(ctx, tables); err != nil {
		db.Close()
		return nil, err
	}
	return &writer{db: db, synced: time.Now().UTC().Truncate(time.Microsecond)}, nil
}

// ceilingOptions open a ceiling's database with the sync's settings but no
// idle checkpoint: the ceilings commit chunk by chunk with untimed work in
// between (fetching the next chunk), which a sync streaming its batches does
// not have. An idle checkpoint in each gap would check the data in far more
// often than the sync does, and run untimed beside the timed stages.
func ceilingOptions(settings map[string]string) duckdb.Options {
	return duckdb.Options{Settings: destSettings(settings), IdleCheckpoint: -1}
}

// commit commits the batches one after the other, as the destination
// serialises a sync's commits, and returns the time it took.
func (w *writer) commit(ctx context.Context, bs []*runtime.Batch) (time.Duration, error) {
	start := time.Now()
	for _, b := range bs {
		if err := w.db.Commit(ctx, b); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// finish commits the last batch of t's first import: it dedupes, and sweeps
// the table when its deletes are captured by full imports.
func (w *writer) finish(ctx context.Context, t *runtime.Table, fanOuts []*runtime.Table) (time.Duration, error) {
	b := &runtime.Batch{Table: t, Synced: w.synced, Append: true, Dedupe: true}
	if t.Deletes.Kind == runtime.DeletesFullReimport {
		b.Sweep = &runtime.Sweep{Before: w.synced, FanOut: fanOuts}
	}
	d, err := w.commit(ctx, []*runtime.Batch{b})
	if err != nil {
		return 0, fmt.Errorf("last batch of %s: %w", t.Name, err)
	}
	return d, nil
}
