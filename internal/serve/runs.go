package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime"
)

// Run kinds, triggers and statuses.
const (
	KindSync   = "sync"
	KindResync = "resync"

	TriggerSchedule = "schedule"
	TriggerAPI      = "api"
	TriggerPage     = "page"
	TriggerRetry    = "retry"
	TriggerResume   = "resume" // after a run the service did not live to finish

	StatusRunning     = "running"
	StatusInterrupted = "interrupted"
)

// RunSummary is a run as the history lists it.
type RunSummary struct {
	ID              int        `json:"id"`
	Kind            string     `json:"kind"`
	Trigger         string     `json:"trigger"`
	ResyncTables    []string   `json:"resync_tables,omitempty"`
	Status          string     `json:"status"`
	ExitStatus      *int       `json:"exit_status"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	Rows            int64      `json:"rows"`
	Requests        int        `json:"requests"`
	RateLimited     int64      `json:"rate_limited"`
	RateWaitSeconds float64    `json:"rate_wait_seconds"`
	BadRecords      int64      `json:"bad_records"`
	Error           string     `json:"error,omitempty"`
}

// Run is one sync the service ran: `oktasync sync --json`'s summary with
// what started it and how it ended.
type Run struct {
	RunSummary
	Tables        []connector.TableJSON        `json:"tables"`
	SchemaChanges []connector.SchemaChangeJSON `json:"schema_changes"`
	Buckets       []connector.BucketJSON       `json:"buckets"`
}

func newRun(id int, kind, trigger string, resync []string, now time.Time) *Run {
	return &Run{RunSummary: RunSummary{ID: id, Kind: kind, Trigger: trigger, ResyncTables: resync, Status: StatusRunning,
		StartedAt: now.UTC()}, Tables: []connector.TableJSON{}, SchemaChanges: []connector.SchemaChangeJSON{}, Buckets: []connector.BucketJSON{}}
}

// finish records how a run ended; sum is nil for a sync that never started.
func (r *Run) finish(sum *runtime.Summary, status string, exit int, msg string, now time.Time) {
	doc := connector.NewSummaryJSON(sum, now.Sub(r.StartedAt))
	r.Tables, r.SchemaChanges, r.Buckets = doc.Tables, doc.SchemaChanges, doc.Buckets
	r.Requests, r.Rows, r.RateWaitSeconds, r.BadRecords = doc.Requests, doc.Rows, doc.RateWaitSeconds, doc.BadRecords
	r.RateLimited = 0
	for _, b := range doc.Buckets {
		r.RateLimited += b.RateLimited
	}
	fin := now.UTC()
	r.Status, r.ExitStatus, r.Error, r.FinishedAt, r.DurationSeconds = status, &exit, msg, &fin, doc.DurationSeconds
}

// clone copies a run for a reader while the run goes on.
func (r *Run) clone() *Run {
	c := *r
	// Never null in JSON: the lists are always there, empty or not.
	c.Tables = append([]connector.TableJSON{}, r.Tables...)
	c.SchemaChanges = append([]connector.SchemaChangeJSON{}, r.SchemaChanges...)
	c.Buckets = append([]connector.BucketJSON{}, r.Buckets...)
	c.ResyncTables = slices.Clone(r.ResyncTables)
	return &c
}

// historyLimit is how many runs the destination and the service keep.
const historyLimit = 200

// Keys of the run history among the destination's values.
const (
	lastRunKey    = "serve.last_run"
	runKeyPrefix  = "serve.run."
	emptyRunValue = "" // a run beyond the limit, forgotten
)

func runKey(id int) string { return runKeyPrefix + strconv.Itoa(id) }

// loadHistory reads the run history from the destination, oldest first.
func loadHistory(ctx context.Context, d runtime.Destination) ([]*Run, error) {
	v, ok, err := d.Value(ctx, lastRunKey)
	if err != nil || !ok {
		return nil, err
	}
	last, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("run history: %s is %q", lastRunKey, v)
	}
	var runs []*Run
	for id := max(1, last-historyLimit+1); id <= last; id++ {
		v, ok, err := d.Value(ctx, runKey(id))
		if err != nil {
			return nil, err
		}
		if !ok || v == emptyRunValue {
			continue
		}
		var r Run
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("run history: run %d: %w", id, err)
		}
		runs = append(runs, &r)
	}
	return runs, nil
}

// saveRun writes a run to the destination and forgets the run that falls
// out of the history.
func saveRun(ctx context.Context, d runtime.Destination, r *Run) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := d.SetValue(ctx, runKey(r.ID), string(data)); err != nil {
		return err
	}
	v, ok, err := d.Value(ctx, lastRunKey)
	if err != nil {
		return err
	}
	if last, _ := strconv.Atoi(v); !ok || r.ID > last {
		if err := d.SetValue(ctx, lastRunKey, strconv.Itoa(r.ID)); err != nil {
			return err
		}
	}
	if old := r.ID - historyLimit; old > 0 {
		return d.SetValue(ctx, runKey(old), emptyRunValue)
	}
	return nil
}
