package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/duckdb"
)

// RateRun is a sync under Okta's default per-minute limits.
type RateRun struct {
	Org       Org
	TimeScale float64
	// Loads are the requests each bucket served in the unlimited sync of the
	// same org, with the limits the simulator enforces.
	Loads    []BucketLoad
	Bound    time.Duration // see Bound
	Binding  string        // the bucket that sets it
	Baseline time.Duration // wall time of the unlimited sync of this org
	Wall     time.Duration
	// Requests are what the simulator served in the limited sync, 429s
	// included; Served429 of them were 429s, Received429 what the client's
	// transport saw.
	Requests               int64
	Served429, Received429 int64
	// BaseRequests are the requests of the unlimited sync: the limited one
	// must have made as many besides its 429s.
	BaseRequests int64
	// Concurrency429 are the 429s for too many requests in flight.
	Concurrency429 int64
	// Rows are the live rows of every table after the unlimited and the
	// limited sync, counted in the databases.
	Rows, RowsLimited map[string]int64
	// Lead is the time from the start of the limited sync to the binding
	// bucket's first request, Span from its first to its last request.
	// Wall - Lead - Span is the time after that last request.
	Lead, Span time.Duration
	// Pacing is how the binding bucket's windows were spent, replayed from
	// the times of its requests.
	Pacing WindowStats
	// Strict is WorkBound: the whole windows the busiest bucket needs and
	// the work of its last one; StrictBinding its bucket.
	Strict        time.Duration
	StrictBinding string
	// Inc is the incremental sync after 1% churn under the same limits;
	// nil when not run.
	Inc *RateInc
}

// RateInc is an incremental sync under Okta's limits, after 1% churn of an
// org a limited full sync copied, against the same churn synced without
// limits.
type RateInc struct {
	Loads                  []BucketLoad // requests per bucket of the unlimited incremental sync
	Baseline, Wall         time.Duration
	Strict                 time.Duration // WorkBound of Loads and Baseline
	Binding                string
	Requests, BaseRequests int64
	Served429              int64
	// Held is the longest time requests of the limited sync waited on one
	// bucket: what the scheduling cost it.
	Held              time.Duration
	Rows, RowsLimited map[string]int64
}

// Ratio is wall / strict bound.
func (r *RateInc) Ratio() float64 { return r.Wall.Seconds() / r.Strict.Seconds() }

// Ratio is wall / bound.
func (r *RateRun) Ratio() float64 { return r.Wall.Seconds() / r.Bound.Seconds() }

// StrictRatio is wall / strict bound (WorkBound).
func (r *RateRun) StrictRatio() float64 { return r.Wall.Seconds() / r.Strict.Seconds() }

// Windows is how many windows of the binding bucket the sync needs.
func (r *RateRun) Windows() float64 {
	for _, l := range r.Loads {
		if l.Bucket == r.StrictBinding {
			return l.Minutes()
		}
	}
	return math.NaN()
}

// BucketsUsed is the number of buckets the sync sends requests to.
func (r *RateRun) BucketsUsed() int {
	n := 0
	for _, l := range r.Loads {
		if l.Requests > 0 {
			n++
		}
	}
	return n
}

// RowsLost is the number of rows the limited sync is short of the unlimited
// one, over all tables (rows it has in excess count too).
func (r *RateRun) RowsLost() int64 { return rowsLost(r.Rows, r.RowsLimited) }

func rowsLost(want, got map[string]int64) int64 {
	var lost int64
	for t, n := range want {
		d := n - got[t]
		lost += max(d, -d)
	}
	for t, n := range got {
		if _, ok := want[t]; !ok {
			lost += n
		}
	}
	return lost
}

// bucketLoads are the requests per bucket the simulator served in a sync,
// with Okta's default limits.
func bucketLoads(run *SyncRun) ([]BucketLoad, error) {
	byBucket, err := perBucket(run.Server.ByEndpoint)
	if err != nil {
		return nil, err
	}
	if n := byBucket["?"]; n > 0 {
		return nil, fmt.Errorf("rate-limited: %d requests of the unlimited sync match no bucket of the specs", n)
	}
	return loads(byBucket, oktasim.Buckets()), nil
}

// rateLimited syncs org under Okta's default limits. base is an unlimited
// sync of the same org (its database at baseDB); the time scale follows
// cfg.RateFactor and cfg.MinWindow, so that the figure measures the
// scheduling, not the machine. With inc, 1% churn is then synced without
// and with the limits (rateIncremental).
func rateLimited(ctx context.Context, cfg *Config, org Org, base *SyncRun, baseDB string, inc bool) (*RateRun, error) {
	dir, exclude, settings := cfg.Dir, cfg.Exclude, cfg.Settings
	ld, err := bucketLoads(base)
	if err != nil {
		return nil, err
	}
	// No BucketLimits are set: the simulator enforces Okta's defaults.
	r := &RateRun{Org: org, Baseline: base.Wall, Loads: ld}
	unscaled, _ := Bound(r.Loads, 1)
	r.TimeScale = unscaled.Seconds() / (cfg.RateFactor * base.Wall.Seconds())
	r.TimeScale = max(1, min(r.TimeScale, time.Minute.Seconds()/cfg.MinWindow.Seconds()))
	r.Bound, r.Binding = Bound(r.Loads, r.TimeScale)
	r.Strict, r.StrictBinding = WorkBound(r.Loads, r.TimeScale, base.Wall)

	s, err := startSim(org.simConfig(oktasim.RateLimitsOkta, r.TimeScale))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	shapes, err := bucketsByShape()
	if err != nil {
		return nil, err
	}
	var received atomic.Int64
	var mu sync.Mutex
	var times []time.Time
	db := filepath.Join(dir, "ratelimited-"+strconv.Itoa(org.Groups)+".duckdb")
	start := time.Now()
	run, err := runSync(ctx, s, syncSpec{
		DB: db, Exclude: exclude, TimeScale: r.TimeScale, Settings: settings,
		Observe: func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) {
				if bucketOf(shapes, req.URL.Path) == r.Binding {
					now := time.Now()
					mu.Lock()
					times = append(times, now)
					mu.Unlock()
				}
				resp, err := next.RoundTrip(req)
				if err == nil && resp.StatusCode == http.StatusTooManyRequests {
					received.Add(1)
				}
				return resp, err
			})
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rate-limited: %w", err)
	}
	if len(times) > 0 {
		slices.SortFunc(times, time.Time.Compare)
		r.Lead, r.Span = times[0].Sub(start), times[len(times)-1].Sub(times[0])
		r.Pacing = Windows(times, time.Duration(float64(time.Minute)/r.TimeScale))
	}
	r.Wall = run.Wall
	r.Requests, r.BaseRequests = run.Server.Requests, base.Server.Requests
	r.Served429 = run.Server.RateLimited
	r.Concurrency429 = run.Server.ConcurrencyLimited
	r.Received429 = received.Load()
	tables := selected(exclude)
	if r.Rows, err = liveRows(ctx, baseDB, tables); err != nil {
		return nil, err
	}
	if r.RowsLimited, err = liveRows(ctx, db, tables); err != nil {
		return nil, err
	}
	if inc {
		if r.Inc, err = rateIncremental(ctx, cfg, org, r.TimeScale, s, db); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// rateIncremental churns 1% of org in the limited sync's simulator, then
// syncs it from copies of that sync's database, twice without limits (the
// work, and its bound) and twice under them. The runs without limits are of
// the same org at the same point of its clock from the same state, so they
// do the same work as the limited ones: a separate unlimited org's System
// Log, read at another time scale, left another tail of events to this sync.
// The sync is a few seconds, most of it the tables' fixed costs, which a
// busy moment of the machine stretches: each side keeps its faster run.
func rateIncremental(ctx context.Context, cfg *Config, org Org, scale float64, s *simServer, db string) (*RateInc, error) {
	s.Churn(ChurnFor(org))
	fastest := func(what string, limits oktasim.RateLimitMode) (*SyncRun, string, error) {
		var best *SyncRun
		var bestDB string
		for k := range 2 {
			copied := db + "." + what + strconv.Itoa(k)
			if err := copyFile(db, copied); err != nil {
				return nil, "", err
			}
			// Every window fresh, as for a sync an hour after the full one.
			s.SetRateLimits(limits)
			cfg.logf("rate-limited: incremental sync after 1%% churn, %s", what)
			run, err := runSync(ctx, s, syncSpec{DB: copied, Exclude: cfg.Exclude, TimeScale: scale, Settings: cfg.Settings})
			if err != nil {
				return nil, "", fmt.Errorf("rate-limited incremental %s: %w", what, err)
			}
			if best == nil || run.Wall < best.Wall {
				best, bestDB = run, copied
			}
		}
		return best, bestDB, nil
	}
	defer func() {
		for _, what := range []string{"unlimited", "limited"} {
			for k := range 2 {
				os.Remove(db + "." + what + strconv.Itoa(k))
			}
		}
	}()
	base, baseDB, err := fastest("unlimited", oktasim.RateLimitsOff)
	if err != nil {
		return nil, err
	}
	r := &RateInc{Baseline: base.Wall, BaseRequests: base.Server.Requests}
	if r.Loads, err = bucketLoads(base); err != nil {
		return nil, err
	}
	r.Strict, r.Binding = WorkBound(r.Loads, scale, base.Wall)
	run, limitedDB, err := fastest("limited", oktasim.RateLimitsOkta)
	if err != nil {
		return nil, err
	}
	r.Wall, r.Requests, r.Served429 = run.Wall, run.Server.Requests, run.Server.RateLimited
	for _, b := range run.Summary.Buckets {
		r.Held = max(r.Held, b.Held)
	}
	tables := selected(cfg.Exclude)
	if r.Rows, err = liveRows(ctx, baseDB, tables); err != nil {
		return nil, err
	}
	if r.RowsLimited, err = liveRows(ctx, limitedDB, tables); err != nil {
		return nil, err
	}
	return r, nil
}

// RowsDiffer is the number of rows by which the limited incremental sync's
// faster run's database differs from the faster unlimited one's. Both start from the same
// database against the same simulator, whose org clock stands still, so
// they should agree; the report prints any difference. The full syncs' rows
// are compared strictly (RateRun.RowsLost).
func (r *RateInc) RowsDiffer() int64 { return rowsLost(r.Rows, r.RowsLimited) }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// liveRows counts the rows not marked deleted of the tables and their
// breakout children in a database.
func liveRows(ctx context.Context, path string, tables []*runtime.Table) (map[string]int64, error) {
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	defer db.Close()
	out := map[string]int64{}
	var walk func(t *runtime.Table) error
	walk = func(t *runtime.Table) error {
		var n int64
		q := "SELECT count(*) FROM " + quote(t.Name) + " WHERE NOT _fivetran_deleted"
		if err := db.SQL().QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("count rows of %s: %w", t.Name, err)
		}
		out[t.Name] = n
		for _, c := range t.Children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range tables {
		if err := walk(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyFile copies a closed database file.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
