// Package serve runs a connection as a service: an HTTP API that configures
// it and starts syncs, a scheduler, Prometheus metrics and a status page
// (docs/SERVE.md).
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

// Options configure a Service.
type Options struct {
	// Config is the config file's (an empty one when there is none): the
	// destination and everything the API does not manage.
	Config    *connector.Config
	StatePath string
	Getenv    func(string) string
	Logger    *slog.Logger
	// Jitter picks a scheduled run's delay after its slot, below max;
	// default random.
	Jitter func(max time.Duration) time.Duration
}

// Service is one connection run as a service.
type Service struct {
	opt      Options
	log      *slog.Logger
	store    *store
	sealKey  []byte // nil without SecretEnv
	metrics  *metrics
	wake     chan struct{}
	sessions sessions

	mu       sync.Mutex
	runs     []*Run // oldest first, at most historyLimit
	running  *Run
	progress map[string]runtime.TableReport
	done     chan struct{}           // closed when the running run ends
	drain    context.CancelCauseFunc // stops the running sync at its next request
	cancel   context.CancelCauseFunc // stops it at once
	nextID   int
	next     time.Time // the next scheduled run, zero for none
	nextWhy  string
	// slot is the next scheduled slot and jitter its delay, drawn once.
	slot     time.Time
	jitter   time.Duration
	resume   bool // a run was cut short: sync at once
	stopping bool
}

// errShutdown stops a sync when the service shuts down.
var errShutdown = errors.New("the service is shutting down")

// New opens the state file (filling the connection from the config file
// on the first start) and reads the run history from the destination. A
// run the history shows as running was cut short (a crash, kill -9): it is
// marked interrupted and the scheduler resumes it at once.
func New(ctx context.Context, opt Options) (*Service, error) {
	if opt.Config == nil {
		opt.Config = &connector.Config{}
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Jitter == nil {
		opt.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		}
	}
	if err := opt.Config.Validate(); err != nil {
		// Only what the service does not manage must hold now: org and
		// credentials may come over the API.
		if err := validateBase(opt.Config); err != nil {
			return nil, err
		}
	}
	s := &Service{opt: opt, log: opt.Logger, metrics: newMetrics(), wake: make(chan struct{}, 1)}
	if v := opt.Getenv(SecretEnv); v != "" {
		k, err := sealKey(v)
		if err != nil {
			return nil, err
		}
		s.sealKey = k
	}
	st, err := openStore(opt.StatePath)
	if err != nil {
		return nil, err
	}
	s.store = st
	if st.get().Connection == nil {
		if err := s.seed(); err != nil {
			return nil, err
		}
	}
	if c := st.get().Credentials; c != nil && s.sealKey == nil {
		s.log.Warn("the state file holds credentials and " + SecretEnv + " is unset: they cannot be opened; set it as when they were sent")
	}
	d, err := connector.OpenDestination(ctx, opt.Config.Destination, s.log)
	if err != nil {
		return nil, fmt.Errorf("open destination %s for the run history: %w", opt.Config.Destination.Name(), err)
	}
	defer d.Close()
	runs, err := loadHistory(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", opt.Config.Destination.Name(), err)
	}
	s.nextID = 1
	for _, r := range runs {
		s.nextID = max(s.nextID, r.ID+1)
		if r.Status == StatusRunning {
			r.Status = StatusInterrupted
			r.Error = "the service stopped during this run (a crash or a kill); the next run resumed it"
			if err := saveRun(ctx, d, r); err != nil {
				return nil, fmt.Errorf("destination %s: %w", opt.Config.Destination.Name(), err)
			}
		}
	}
	if n := len(runs); n > 0 && runs[n-1].Status == StatusInterrupted {
		s.resume = true
	}
	s.runs = runs
	for _, r := range runs {
		s.metrics.restore(r)
	}
	return s, nil
}

// validateBase checks the config file's settings the service uses as they
// are: everything but the org and the credentials.
func validateBase(c *connector.Config) error {
	probe := *c
	probe.OrgURL, probe.Token, probe.Auth = "https://example.okta.com", "x", connector.AuthConfig{}
	return probe.Validate()
}

// seed fills the connection from the config file on the first start.
func (s *Service) seed() error {
	c := s.opt.Config
	// The environment as a sync reads it: OKTA_CLIENT_ORGURL and the SDK's
	// authorization mode count as much as the file.
	probe := *c
	_ = probe.ApplyEnv(s.opt.Getenv) // a missing token is for the API to send
	conn := &Connection{OrgURL: probe.OrgURL, AuthType: probe.Auth.Type, SyncFrequency: c.SyncFrequency,
		SchemaChangeHandling: c.SchemaChangeHandling}
	if conn.AuthType == "" {
		conn.AuthType = connector.AuthSSWS
	}
	if conn.SyncFrequency == 0 {
		conn.SyncFrequency = connector.DefaultFrequency
	}
	if conn.SchemaChangeHandling == "" {
		conn.SchemaChangeHandling = string(runtime.AllowAll)
	}
	if conn.OrgURL != "" {
		u, err := connector.NormalizeOrgURL(conn.OrgURL)
		if err != nil {
			return err
		}
		conn.OrgURL = u
	}
	return s.store.update(func(st *StateFile) error {
		st.Connection = conn
		st.Tables = cloneTables(c.Tables)
		return nil
	})
}

// syncConfig is the config a sync runs with: the config file's, with the
// connection, table settings and credentials of the state file.
func (s *Service) syncConfig() (*connector.Config, error) {
	st := s.store.get()
	c := *s.opt.Config
	c.OrgURL = st.Connection.OrgURL
	c.Auth.Type = st.Connection.AuthType
	c.SchemaChangeHandling = st.Connection.SchemaChangeHandling
	c.SyncFrequency = st.Connection.SyncFrequency
	c.Tables = st.Tables // a copy: store.get clones
	if err := c.ApplyEnv(s.opt.Getenv); err != nil {
		return nil, err
	}
	if st.Credentials != nil {
		if s.sealKey == nil {
			return nil, errSecretUnset
		}
		creds, err := st.Credentials.open(s.sealKey)
		if err != nil {
			return nil, err
		}
		if creds.Token != "" {
			c.Token, c.TokenEnv = creds.Token, ""
		} else {
			c.Token = ""
			c.Auth.ClientID, c.Auth.KeyID = creds.ClientID, creds.KeyID
			c.Auth.SetPrivateKey([]byte(creds.PrivateKey))
			if len(creds.Scopes) > 0 {
				c.Auth.Scopes = creds.Scopes
			}
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// credentialSource says where the credentials come from: api, environment
// (or the config file) or none.
func (s *Service) credentialSource(st StateFile) string {
	if st.Credentials != nil {
		return "api"
	}
	c := *s.opt.Config
	c.Auth.Type = st.Connection.AuthType
	if c.ApplyEnv(s.opt.Getenv) == nil && (c.Token != "" && !c.Auth.OAuth() || c.Auth.OAuth() && c.Auth.ClientID != "") {
		return "environment"
	}
	return "none"
}

// period is the time between scheduled runs, on the real clock: the
// config's time_scale runs a simulator's minutes faster.
func (s *Service) period(st StateFile) time.Duration {
	return max(time.Duration(st.Connection.SyncFrequency)*s.minute(), time.Millisecond)
}

// minute is a minute of the scheduler's clock.
func (s *Service) minute() time.Duration {
	if ts := s.opt.Config.TimeScale; ts > 0 {
		return time.Duration(float64(time.Minute) / ts)
	}
	return time.Minute
}

// plan says when the scheduler starts the next run and why; zero for none
// (paused, not configured, a run going on). Called with mu held.
func (s *Service) plan(now time.Time) (time.Time, string) {
	st := s.store.get()
	if s.running != nil || s.stopping || st.Connection.Paused {
		return time.Time{}, ""
	}
	if _, err := s.syncConfig(); err != nil {
		return time.Time{}, ""
	}
	if s.resume {
		return now, TriggerResume
	}
	p := s.period(st)
	var last *Run
	if n := len(s.runs); n > 0 {
		last = s.runs[n-1]
	}
	if last == nil {
		return now, TriggerSchedule // the first sync starts at once, as Fivetran's does
	}
	// Slots lie on a grid of the period from the Unix epoch (midnight UTC),
	// each delayed by its own jitter.
	slot := last.StartedAt.Truncate(p).Add(p)
	if !s.slot.Equal(slot) {
		s.slot, s.jitter = slot, s.opt.Jitter(min(p/10, s.minute()))
	}
	at, why := slot.Add(s.jitter), TriggerSchedule
	if at.Before(now) {
		at = now // missed while the service was down
	}
	if fails := s.failStreak(); fails > 0 && last.FinishedAt != nil {
		// 1, 2, 4, ... minutes after the failure, if before the next slot.
		backoff := s.minute() << min(fails-1, 20)
		if retry := last.FinishedAt.Add(backoff); retry.Before(at) {
			at, why = retry, TriggerRetry
			if at.Before(now) {
				at = now
			}
		}
	}
	return at, why
}

// failStreak counts the failed runs that end the history.
func (s *Service) failStreak() int {
	n := 0
	for i := len(s.runs) - 1; i >= 0 && s.runs[i].Status == "failed"; i-- {
		n++
	}
	return n
}

// Run schedules syncs until ctx ends.
func (s *Service) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		at, why := s.plan(time.Now())
		s.next, s.nextWhy = at, why
		s.mu.Unlock()
		s.metrics.setNext(at)
		var fire <-chan time.Time
		if !at.IsZero() {
			timer.Reset(time.Until(at))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-fire:
			if _, err := s.start(KindSync, why, nil); err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Code != "sync_running" {
					s.log.Warn("scheduled sync not started", "err", err)
					// Not configured any more: wait for a change.
					s.mu.Lock()
					s.resume = false
					s.mu.Unlock()
				}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// poke makes the scheduler plan again (a setting changed, a run ended).
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// start starts a run unless one is running (409 sync_running) or the
// connection cannot sync (409 not_configured).
func (s *Service) start(kind, trigger string, resync []string) (*Run, error) {
	cfg, err := s.syncConfig()
	if err != nil {
		return nil, &apiError{Status: 409, Code: "not_configured", Message: "the connection cannot sync: " + err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		return nil, &apiError{Status: 409, Code: "sync_running", Message: fmt.Sprintf("run %d is syncing", s.running.ID), RunID: s.running.ID}
	}
	if s.stopping {
		return nil, &apiError{Status: 503, Code: "shutting_down", Message: "the service is shutting down"}
	}
	run := newRun(s.nextID, kind, trigger, resync, time.Now())
	s.nextID++
	s.running, s.resume = run, false
	s.progress = map[string]runtime.TableReport{}
	s.runs = append(s.runs, run)
	if len(s.runs) > historyLimit {
		s.runs = slices.Delete(s.runs, 0, len(s.runs)-historyLimit)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	drainCtx, drain := context.WithCancelCause(ctx)
	s.cancel = cancel
	s.drain = drain
	s.done = make(chan struct{})
	s.metrics.setRunning(true)
	go s.execute(ctx, drainCtx, run, cfg, s.done)
	return run.clone(), nil
}

// execute runs a sync and records it in the destination before and after.
func (s *Service) execute(ctx, drainCtx context.Context, run *Run, cfg *connector.Config, done chan struct{}) {
	defer close(done)
	s.mu.Lock()
	first := run.clone()
	s.mu.Unlock()
	s.log.Info("sync started", "run", run.ID, "kind", run.Kind, "trigger", run.Trigger)
	var sum *runtime.Summary
	err := s.record(ctx, cfg, first)
	if err == nil {
		opt := connector.SyncOptions{Logger: s.log, Resync: run.ResyncTables, Progress: func(r runtime.TableReport) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.progress[r.Table] = r
			var reports []runtime.TableReport
			for _, r := range s.progress {
				reports = append(reports, r)
			}
			slices.SortFunc(reports, func(a, b runtime.TableReport) int { return strings.Compare(a.Table, b.Table) })
			run.Tables = connector.NewSummaryJSON(&runtime.Summary{Tables: reports}, 0).Tables
		}}
		opt.WrapFetcher = func(c *fetch.Client) runtime.Fetcher { return drainingFetcher{Client: c, drain: drainCtx} }
		sum, err = connector.Sync(ctx, cfg, opt)
	} else {
		err = fmt.Errorf("record the run in %s: %w", cfg.Destination.Name(), err)
	}
	code, status, msg := connector.SyncResult(sum, err)
	if err != nil && (drainCtx.Err() != nil || ctx.Err() != nil) {
		code, status, msg = 143, StatusInterrupted, "the service shut down during the sync; the next run resumes it"
	}
	s.mu.Lock()
	last := run.clone()
	s.mu.Unlock()
	last.finish(sum, status, code, msg, time.Now())
	// Recorded even when the run was stopped: the record must not be lost.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.record(rctx, cfg, last); err != nil {
		s.log.Error("the run's record was not saved", "run", run.ID, "err", err)
	}
	s.log.Info("sync ended", "run", run.ID, "status", status, "rows", last.Rows, "seconds", last.DurationSeconds)
	s.metrics.observe(last)
	s.metrics.setRunning(false)
	// The run ends for readers only now, with the service free for the next.
	s.mu.Lock()
	*run = *last
	s.running, s.progress = nil, nil
	if status == StatusInterrupted {
		s.resume = true
	}
	s.mu.Unlock()
	s.poke()
}

// record saves a run in the destination.
func (s *Service) record(ctx context.Context, cfg *connector.Config, r *Run) error {
	d, err := connector.OpenDestination(ctx, cfg.Destination, s.log)
	if err != nil {
		return err
	}
	err = saveRun(ctx, d, r)
	return errors.Join(err, d.Close())
}

// Shutdown stops the scheduler's runs: a running sync may finish within
// grace; then it stops reading, commits what it read (the next run resumes
// there) and ends; a sync that still does not end within a further grace
// is canceled outright (its last committed batch is where it resumes).
func (s *Service) Shutdown(grace time.Duration) {
	s.mu.Lock()
	s.stopping = true
	done, running := s.done, s.running != nil
	cancel := s.cancel
	drain := s.drain
	s.mu.Unlock()
	if !running {
		return
	}
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	s.log.Info("stopping the running sync at its next batch")
	drain(errShutdown)
	select {
	case <-done:
		return
	case <-time.After(max(grace, 10*time.Second)):
	}
	cancel(errShutdown)
	<-done
}

// drainingFetcher fails every request once the service shuts down, so that
// each table commits what it read and stops: a sync stopped this way
// resumes at its last page, not its last batch.
type drainingFetcher struct {
	*fetch.Client
	drain context.Context
}

func (f drainingFetcher) Get(ctx context.Context, table, bucket, url string) (*fetch.Page, error) {
	if f.drain.Err() != nil {
		return nil, context.Cause(f.drain)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(f.drain, func() { cancel(errShutdown) })
	defer stop()
	return f.Client.Get(ctx, table, bucket, url)
}
