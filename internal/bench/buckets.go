package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
	"oktasync/runtime"
)

// shape is a request path with every parameter segment replaced by "*", so
// that a spec path (/api/v1/groups/{parent.id}/users) and a simulator route
// (GET /api/v1/groups/{id}/users) compare equal.
func shape(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "*"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// requests lists every request descriptor of the registry: each table's own
// and the listings that fan-out tables read their parents from.
func requests() []*runtime.Request {
	var out []*runtime.Request
	for _, t := range okta.Registry.Tables {
		if t.Request != nil {
			out = append(out, t.Request)
		}
		if t.FanOut != nil && t.FanOut.Request != nil {
			out = append(out, t.FanOut.Request)
		}
	}
	return out
}

// bucketsByShape maps each request shape of the registry to the rate-limit
// bucket the spec assigns it. Two requests of one shape in two buckets would
// make the mapping ambiguous, which is an error.
func bucketsByShape() (map[string]string, error) {
	m := map[string]string{}
	for _, r := range requests() {
		k := shape(r.Path)
		if b, ok := m[k]; ok && b != r.Bucket {
			return nil, fmt.Errorf("path %s is in buckets %s and %s", k, b, r.Bucket)
		}
		m[k] = r.Bucket
	}
	return m, nil
}

// bucketOf finds the bucket of a request path (/api/v1/groups/00g1/users)
// among the shapes, the one with the fewest "*" winning as the simulator's
// static segments win over parameters; "" when none matches.
func bucketOf(shapes map[string]string, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, wild := "", len(segs)+1
	for sh, b := range shapes {
		pat := strings.Split(strings.Trim(sh, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		n := 0
		for i, p := range pat {
			if p == "*" {
				n++
			} else if p != segs[i] {
				n = -1
				break
			}
		}
		if n >= 0 && n < wild {
			best, wild = b, n
		}
	}
	return best
}

// perBucket sums the simulator's per-route request counts ("GET /api/v1/x/{id}")
// by bucket: a spec's request under the bucket the spec names; the
// connector's probe of the org and the other routes no spec lists (an
// incremental sync's reads of single records) where the simulator charges
// them, and "?" if it names no bucket.
func perBucket(byEndpoint map[string]int64) (map[string]int64, error) {
	shapes, err := bucketsByShape()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for ep, n := range byEndpoint {
		_, path, _ := strings.Cut(ep, " ")
		b, ok := shapes[shape(path)]
		switch {
		case path == connector.ProbePath || !ok:
			// Requests no spec lists (the probe; an incremental sync's
			// reads of single records): the bucket the simulator charges.
			if b = oktasim.BucketOf("GET", path); b == "" {
				b = "?"
			}
		}
		out[b] += n
	}
	return out, nil
}

// BucketLoad is the work one bucket does in a sync.
type BucketLoad struct {
	Bucket   string
	Requests int64
	Limit    int // per minute
}

// Minutes is how long the bucket needs at its limit, in minutes of the
// server's clock: requests / limit.
func (b BucketLoad) Minutes() float64 {
	if b.Limit <= 0 {
		return math.Inf(1)
	}
	return float64(b.Requests) / float64(b.Limit)
}

// Bound is the shortest wall time any client can sync in, given the requests
// each bucket must serve and the bucket limits: the busiest bucket's
// requests / limit minutes, divided by the simulator's time scale. It is the
// fluid bound: it ignores the reserve a polite client leaves (2% by default),
// and that the first window of each bucket may be spent at once (which would
// lower it by at most one window). It returns the binding bucket too.
func Bound(loads []BucketLoad, timeScale float64) (time.Duration, string) {
	var worst BucketLoad
	for _, b := range loads {
		if b.Requests > 0 && (worst.Bucket == "" || b.Minutes() > worst.Minutes()) {
			worst = b
		}
	}
	if worst.Bucket == "" {
		return 0, ""
	}
	if timeScale <= 0 {
		timeScale = 1
	}
	return time.Duration(worst.Minutes() * float64(time.Minute) / timeScale), worst.Bucket
}

// StrictBound is the bound without the fluid approximation: a bucket's
// window opens at its first request and lets limit requests through at
// once, so N requests need ceil(N/limit) windows of which the last may be
// spent at its start, (ceil(N/limit)-1) minutes of the server's clock. It is
// below Bound, by up to one window, and is what no client can beat.
func StrictBound(loads []BucketLoad, timeScale float64) time.Duration {
	var worst float64
	for _, b := range loads {
		if b.Requests > 0 && b.Limit > 0 {
			worst = max(worst, math.Ceil(float64(b.Requests)/float64(b.Limit))-1)
		}
	}
	if timeScale <= 0 {
		timeScale = 1
	}
	return time.Duration(worst * float64(time.Minute) / timeScale)
}

// WorkBound is the strict bound with the work of the last window: for each
// bucket, (ceil(N/limit)-1) windows of the server's clock, then the time the
// requests of its last window (N - (ceil(N/limit)-1)·limit) took in the
// unlimited sync of the same work, taken as their share of its wall time
// (base). The largest over the buckets, and that bucket. A sync that needs
// less than a window of every bucket is bound by base alone: no client can
// be faster than the sync with no limits.
func WorkBound(loads []BucketLoad, timeScale float64, base time.Duration) (time.Duration, string) {
	if timeScale <= 0 {
		timeScale = 1
	}
	var worst time.Duration
	var binding string
	for _, b := range loads {
		if b.Requests <= 0 || b.Limit <= 0 {
			continue
		}
		full := math.Ceil(float64(b.Requests)/float64(b.Limit)) - 1
		last := float64(b.Requests) - full*float64(b.Limit)
		d := time.Duration(full*float64(time.Minute)/timeScale) + time.Duration(last/float64(b.Requests)*float64(base))
		if binding == "" || d > worst {
			worst, binding = d, b.Bucket
		}
	}
	return worst, binding
}

// loads pairs request counts by bucket with the limits.
func loads(requests map[string]int64, limits map[string]int) []BucketLoad {
	var out []BucketLoad
	for _, b := range sortedKeys(requests) {
		out = append(out, BucketLoad{Bucket: b, Requests: requests[b], Limit: limits[b]})
	}
	return out
}

// placeholders matches a fetched URL against a request whose path and params
// hold {parent.<field>} placeholders. It reports whether the path matches and
// the field values it finds.
func placeholders(req *runtime.Request, raw string) (map[string]string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false
	}
	want := strings.Split(strings.Trim(req.Path, "/"), "/")
	got := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(want) != len(got) {
		return nil, false
	}
	fields := map[string]string{}
	for i, w := range want {
		if f, ok := placeholder(w); ok {
			v, err := url.PathUnescape(got[i])
			if err != nil {
				return nil, false
			}
			fields[f] = v
			continue
		}
		if w != got[i] {
			return nil, false
		}
	}
	q := u.Query()
	for _, p := range req.Params {
		if f, ok := placeholder(p.Value); ok && q.Has(p.Name) {
			fields[f] = q.Get(p.Name)
		}
	}
	return fields, true
}

// placeholder reads "{parent.f}" as f.
func placeholder(s string) (string, bool) {
	f, ok := strings.CutPrefix(s, "{parent.")
	if !ok || !strings.HasSuffix(f, "}") {
		return "", false
	}
	return strings.TrimSuffix(f, "}"), true
}

// parentRecord builds the parent record a fan-out page was fetched for from
// the values its URL carries: all a generated extractor reads of its parent
// are the fields its URL is made of.
func parentRecord(fields map[string]string) gjson.Result {
	if len(fields) == 0 {
		return gjson.Result{}
	}
	b, _ := json.Marshal(fields)
	return gjson.ParseBytes(b)
}

// WindowStats says how a client spent a bucket's windows, from the times of
// its requests: the server opens a window at a request that comes when none
// is open, and it lasts one window length.
type WindowStats struct {
	Windows int
	// First is the number of requests in the first window.
	First int
	// PerWindow is the mean number of requests in a window, the first
	// (reported apart: the sync's start-up shows there) and the last
	// (partly used by design) left out.
	PerWindow float64
	// Gap is the mean time from the end of a window to the request that
	// opens the next: the bucket stands idle meanwhile.
	Gap time.Duration
}

// Windows replays the server's windows over request times in order.
func Windows(times []time.Time, window time.Duration) WindowStats {
	var st WindowStats
	if len(times) == 0 || window <= 0 {
		return st
	}
	var counts []int
	var gaps time.Duration
	start := times[0]
	counts = append(counts, 0)
	for _, t := range times {
		if end := start.Add(window); !t.Before(end) {
			gaps += t.Sub(end)
			start = t
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	st.Windows, st.First = len(counts), counts[0]
	if n := len(counts) - 1; n > 0 {
		st.Gap = gaps / time.Duration(n)
	}
	if mid := counts[1:max(1, len(counts)-1)]; len(mid) > 0 {
		sum := 0
		for _, c := range mid {
			sum += c
		}
		st.PerWindow = float64(sum) / float64(len(mid))
	}
	return st
}
