package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

// fetched is one request a sync made.
type fetched struct {
	Table  string // the table whose sync made it
	Bucket string
	URL    string
	// Extract is the table whose records the page holds; nil for the parent
	// listing a fan-out table reads its parents from.
	Extract *runtime.Table
	Parent  gjson.Result // the fan-out parent, rebuilt from the URL
}

// recorder is the client noting every successful request. It embeds the
// client so that the engine still finds the server's clock and the
// buckets' stats: a recorded sync runs as an unrecorded one does.
type recorder struct {
	*fetch.Client
	mu   sync.Mutex
	reqs []fetched
}

func (r *recorder) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	p, err := r.Client.Get(ctx, table, bucket, url)
	if err == nil {
		r.mu.Lock()
		r.reqs = append(r.reqs, fetched{Table: table, Bucket: bucket, URL: url})
		r.mu.Unlock()
	}
	return p, err
}

// discard is a destination that keeps nothing.
type discard struct{}

func (discard) Prepare(context.Context, []*runtime.Table) error { return nil }
func (discard) State(context.Context) (map[string]runtime.TableState, error) {
	return map[string]runtime.TableState{}, nil
}
func (discard) Columns(context.Context) (map[string][]string, error) { return nil, nil }
func (discard) Value(context.Context, string) (string, bool, error)  { return "", false, nil }
func (discard) SetValue(context.Context, string, string) error       { return nil }
func (discard) Commit(context.Context, *runtime.Batch) error         { return nil }
func (discard) Close() error                                         { return nil }

// newClient is the HTTP client connector.Sync makes (connector.newClient),
// for the runs that need the engine itself.
func newClient(s *simServer, scale float64) (*fetch.Client, error) {
	fc := okta.Source.FetchConfig(s.URL, token)
	fc.TimeScale = scale
	fc.MaxConcurrent = 16
	fc.RebaseForeignLinks = true
	c, err := fetch.New(fc)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// noDestination runs the engine as a sync does but without a destination
// and returns how long that took (the sync without its writes).
func noDestination(ctx context.Context, s *simServer, tables []*runtime.Table, scale float64) (time.Duration, error) {
	c, err := newClient(s, scale)
	if err != nil {
		return 0, err
	}
	eng := &runtime.Engine{
		Registry: okta.Registry, Fetcher: c, Dest: discard{}, Now: s.Now,
		Select: func(name string) bool {
			return slices.ContainsFunc(tables, func(t *runtime.Table) bool { return t.Name == name })
		},
	}
	start := time.Now()
	sum, err := eng.Sync(ctx)
	wall := time.Since(start)
	if err != nil {
		if sum != nil {
			return 0, fmt.Errorf("sync without destination: %w: %s", err, failures(sum))
		}
		return 0, fmt.Errorf("sync without destination: %w", err)
	}
	return wall, nil
}

// extracts completes the requests a sync made with the table that extracts
// each page and, for a fan-out table, the parent rebuilt from the URL. The
// ceilings replay exactly these: another sync of the same org could differ
// (a newest-first table's split between its forward read and its backfill
// follows the server's clock, and so does which events the two both read).
func extracts(reqs []fetched) error {
	for i := range reqs {
		r := &reqs[i]
		t := okta.Registry.Lookup(r.Table)
		if t == nil {
			return fmt.Errorf("capture: request of unknown table %q", r.Table)
		}
		if t.FanOut == nil {
			r.Extract = t
			continue
		}
		if fields, ok := placeholders(t.Request, r.URL); ok {
			r.Extract, r.Parent = t, parentRecord(fields)
		}
	}
	return nil
}
