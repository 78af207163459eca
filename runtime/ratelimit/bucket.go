// Package ratelimit schedules requests so that they stay within the limits
// an API announces in its responses (a per-window ceiling, the requests left
// in the current window and when the window ends), and caps how many
// requests are in flight at once.
//
// A Bucket follows one limit that the server counts on its side. It learns
// the limit from observations of responses and spends each window's quota at
// once: every request the window has left, less a reserve for the other
// clients of the same limit and less the requests still in flight (the
// server has counted, or will count, them before their responses say so),
// may start without delay; a concurrency cap (Gate) still bounds how many
// run together. When only the reserve is left, the bucket sleeps until the
// reset the server announced, then lets one request through and waits for
// its response, which tells the new window's real count (the server may
// not have reset yet, or other clients may have spent part of the window),
// before it spends the rest.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Observation is what one response said about its bucket.
type Observation struct {
	Limit     int // ceiling per window; must be > 0 for the observation to be used
	Remaining int // requests left in the window after this one
	// ServerReset identifies the window: when it ends on the server's clock.
	// Observations of an older window than the one the bucket follows are stale.
	ServerReset time.Time
	// ResetAt is when the window ends on our clock, safety margin included.
	ResetAt time.Time
}

// DefaultReserve is BucketConfig.Reserve's default: the share of every
// window left to the other clients of the same limit (an API's limits are
// often shared by every client of an account). Small, because every request
// kept back can cost a sync one more window: 2% keeps 12 of a limit of 600
// requests a window, 2 of a limit of 100, and 1 of any limit up to 50.
const DefaultReserve = 0.02

// BucketConfig configures a Bucket.
type BucketConfig struct {
	// Guess is a per-window limit known in advance, used until the first
	// observation arrives and for servers that announce none. Zero means
	// unknown: the bucket then lets a single request through and waits for
	// its response before sending more.
	Guess int
	// Window is the length of a window on our clock. It is used to guess when a
	// window ends before the server has said so. Default one minute.
	Window time.Duration
	// Reserve is the fraction of the limit left unused for other clients of
	// the same limit; at least one request is kept back when the limit allows
	// it. Zero means DefaultReserve; a negative value keeps nothing back.
	Reserve float64
	// Unpaced turns pacing off until an observation arrives: only Block
	// holds requests back. For APIs that announce no limits. Guess wins over
	// it.
	Unpaced bool
	Clock   Clock
}

type mode int

const (
	modeProbe   mode = iota // nothing known yet: one request at a time
	modePaced               // limit known: spend each window within it
	modeUnpaced             // responses carry no rate-limit information
)

// Bucket schedules requests against one server-side limit. It is safe for
// concurrent use; every successful Acquire must be followed by exactly one
// Done or Abort.
type Bucket struct {
	clock   Clock
	window  time.Duration
	reserve float64

	mu          sync.Mutex
	mode        mode
	limit       int
	remaining   int
	inFlight    int
	serverReset time.Time // window the counts belong to (server clock)
	resetAt     time.Time // end of that window (our clock)
	// rolled: the window is over on our clock and we assume a new one
	// without the server having confirmed it; opening counts the requests
	// granted since, of which only one may be out until a response tells
	// the new window's count.
	rolled    bool
	opening   int
	notBefore time.Time // set by Block
	changed   context.Context
	signal    context.CancelFunc

	// waiting counts the requests waiting now, since waitFrom; held is the
	// time at least one request waited before that.
	waiting  int
	waitFrom time.Time
	held     time.Duration
}

// NewBucket returns a bucket with the given configuration.
func NewBucket(cfg BucketConfig) *Bucket {
	b := &Bucket{
		clock:   cfg.Clock,
		window:  cfg.Window,
		reserve: cfg.Reserve,
	}
	if b.clock == nil {
		b.clock = System()
	}
	if b.window <= 0 {
		b.window = time.Minute
	}
	switch {
	case b.reserve == 0 || b.reserve >= 1:
		b.reserve = DefaultReserve
	case b.reserve < 0:
		b.reserve = 0
	}
	switch {
	case cfg.Guess > 0:
		// resetAt stays zero, so the first Acquire opens a fresh window.
		b.mode = modePaced
		b.limit = cfg.Guess
		b.remaining = cfg.Guess
	case cfg.Unpaced:
		b.mode = modeUnpaced
	}
	b.changed, b.signal = context.WithCancel(context.Background())
	return b
}

// Acquire waits until a request may start and reserves it. It returns the
// time spent waiting; the error is ctx.Err() when ctx ends first.
func (b *Bucket) Acquire(ctx context.Context) (time.Duration, error) {
	start := b.clock.Now()
	waiting, lent := false, false
	lender := lenderFrom(ctx)
	defer func() {
		if waiting {
			b.mu.Lock()
			b.stopWaiting(b.clock.Now())
			b.mu.Unlock()
		}
		if lent {
			lender.Reclaim()
		}
	}()
	for {
		b.mu.Lock()
		now := b.clock.Now()
		wait, ok, long := b.decide(now)
		if !ok && !waiting {
			waiting = true
			b.startWaiting(now)
		}
		changed := b.changed
		b.mu.Unlock()
		if long && !lent && lender != nil {
			lent = true
			lender.Lend()
		}
		if ok {
			return b.clock.Now().Sub(start), nil
		}
		if err := b.sleep(ctx, changed, wait); err != nil {
			return b.clock.Now().Sub(start), err
		}
	}
}

// Wait sleeps for d (a backoff after a rejection) as a wait on this bucket:
// Held counts it.
func (b *Bucket) Wait(ctx context.Context, d time.Duration) error {
	if l := lenderFrom(ctx); l != nil {
		l.Lend()
		defer l.Reclaim()
	}
	b.mu.Lock()
	b.startWaiting(b.clock.Now())
	b.mu.Unlock()
	err := b.clock.Sleep(ctx, d)
	b.mu.Lock()
	b.stopWaiting(b.clock.Now())
	b.mu.Unlock()
	return err
}

// startWaiting and stopWaiting bracket a request's wait. b.mu is held.
func (b *Bucket) startWaiting(now time.Time) {
	if b.waiting == 0 {
		b.waitFrom = now
	}
	b.waiting++
}

func (b *Bucket) stopWaiting(now time.Time) {
	b.waiting--
	if b.waiting == 0 {
		b.held += now.Sub(b.waitFrom)
	}
}

// sleep waits for d, for the bucket to change, or for ctx, whichever is first.
func (b *Bucket) sleep(ctx context.Context, changed context.Context, d time.Duration) error {
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(changed, cancel)
	err := b.clock.Sleep(wctx, d)
	stop()
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && wctx.Err() == nil {
		return err
	}
	return nil
}

// decide either reserves a request (ok) or says how long to wait before
// asking again; long when only time ends the wait (a reset or a block), not
// a response. b.mu is held.
func (b *Bucket) decide(now time.Time) (wait time.Duration, ok, long bool) {
	if now.Before(b.notBefore) {
		return b.notBefore.Sub(now), false, true
	}
	switch b.mode {
	case modeUnpaced:
		b.inFlight++
		return 0, true, false
	case modeProbe:
		if b.inFlight == 0 {
			b.inFlight++
			return 0, true, false
		}
		// The probe's Done or Abort wakes us well before this.
		return b.window, false, false
	}
	if !now.Before(b.resetAt) {
		// The window is over on our (conservative) estimate; assume a new one
		// of full size until a response says otherwise.
		b.remaining = b.limit
		b.resetAt = now.Add(b.window)
		b.rolled = true
		b.opening = 0
	}
	if b.rolled && b.opening > 0 {
		// The first request of the new window is out: its response tells
		// what is left of it, and wakes us.
		return b.resetAt.Sub(now), false, false
	}
	if b.remaining-b.inFlight-b.reserveCount() <= 0 {
		// Responses in flight may still free nothing; only the reset does.
		return b.resetAt.Sub(now), false, true
	}
	if b.rolled {
		b.opening++
	}
	b.inFlight++
	return 0, true, false
}

func (b *Bucket) reserveCount() int {
	if b.reserve <= 0 {
		return 0
	}
	r := int(math.Ceil(float64(b.limit) * b.reserve))
	r = max(r, 1)
	// A limit of one must stay usable.
	return max(min(r, b.limit-1), 0)
}

// Done records the response to an acquired request. A zero Observation means
// the response carried no rate-limit information.
func (b *Bucket) Done(o Observation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	if o.Limit <= 0 {
		switch b.mode {
		case modeProbe:
			// The server does not announce limits here; stop waiting for it.
			b.mode = modeUnpaced
		case modePaced:
			// The server probably counted it. No count will come to
			// confirm a new window: our own stands.
			b.remaining = max(b.remaining-1, 0)
			b.rolled, b.opening = false, 0
		}
		b.notify()
		return
	}
	switch {
	case b.mode != modePaced || b.serverReset.IsZero() || o.ServerReset.After(b.serverReset):
		// A new window (or the first one we hear of): its counts replace ours.
		// Requests still in flight are subtracted in decide.
		b.mode = modePaced
		b.limit = o.Limit
		b.remaining = min(o.Remaining, o.Limit)
		b.serverReset = o.ServerReset
		b.resetAt = o.ResetAt
		b.rolled, b.opening = false, 0
	case o.ServerReset.Equal(b.serverReset) && !b.rolled:
		// Same window: responses arrive out of order, and the server's count
		// only goes down within a window.
		b.limit = o.Limit
		b.remaining = min(b.remaining, o.Remaining)
		// Every estimate of the reset is no earlier than the real one, so the
		// earliest is the tightest.
		if o.ResetAt.Before(b.resetAt) {
			b.resetAt = o.ResetAt
		}
	case o.ServerReset.Equal(b.serverReset):
		// The window we took for over is not, on the server (its reset
		// comes later than our clock thought, or this response was sent
		// before the reset and answered after it): what it says is left
		// is all there is until the reset it announces, or, if that is
		// past too (the clocks disagree), for a second of a minute's
		// window. Waiting for a response that tells a new window would
		// idle the bucket for a whole window.
		b.remaining = min(o.Remaining, o.Limit)
		b.limit = o.Limit
		b.resetAt = o.ResetAt
		if now := b.clock.Now(); !b.resetAt.After(now) {
			b.resetAt = now.Add(b.window / 60)
		}
		b.rolled, b.opening = false, 0
	default:
		// A late response from a window that is already over.
	}
	b.notify()
}

// Abort records that an acquired request got no usable response (a network
// error, or a rejection that said nothing about this bucket).
func (b *Bucket) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	if b.mode == modePaced {
		// It may have reached the server; count it to be safe.
		b.remaining = max(b.remaining-1, 0)
	}
	if b.opening > 0 {
		// It may have been the new window's first request: let another
		// ask.
		b.opening--
	}
	b.notify()
}

// Block keeps every request on this bucket from starting before until; used
// when the server rejected a request, until the reset it announced or for a
// backoff when it announced none.
func (b *Bucket) Block(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.notBefore) {
		b.notBefore = until
		b.notify()
	}
}

// notify wakes the waiters so that they look at the new state. b.mu is held.
func (b *Bucket) notify() {
	b.signal()
	b.changed, b.signal = context.WithCancel(context.Background())
}

// Snapshot is the state of a bucket, for statistics.
type Snapshot struct {
	Known     bool // a limit is known (observed or guessed)
	Limit     int
	Remaining int
	InFlight  int
	ResetAt   time.Time
	// Held is the time during which at least one request waited on the
	// bucket (for its window, a reset or a backoff): waits of requests that
	// waited together count once.
	Held time.Duration
}

// Snapshot returns the current state.
func (b *Bucket) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	held := b.held
	if b.waiting > 0 {
		held += b.clock.Now().Sub(b.waitFrom)
	}
	return Snapshot{
		Known:     b.mode == modePaced,
		Limit:     b.limit,
		Remaining: b.remaining,
		InFlight:  b.inFlight,
		ResetAt:   b.resetAt,
		Held:      held,
	}
}
