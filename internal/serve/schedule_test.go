package serve

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/internal/pgtest"
	"oktasync/internal/synctest"
	"oktasync/oktasim"
	"oktasync/runtime"
	"oktasync/runtime/dest/postgres"
)

// waitFor polls until cond holds.
func (h *harness) waitFor(what string, timeout time.Duration, cond func([]RunSummary) bool) []RunSummary {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		runs := h.runs()
		if cond(runs) {
			return runs
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: runs %+v\n%s", what, runs, h.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ended(runs []RunSummary, n int) bool {
	done := 0
	for _, r := range runs {
		if r.Status != StatusRunning {
			done++
		}
	}
	return done >= n
}

// TestScheduledSyncs: on a fast clock (a 30-minute frequency is 1.5 s),
// the scheduler runs syncs on the grid of the frequency plus the jitter,
// the first at once, never two at once.
func TestScheduledSyncs(t *testing.T) {
	const scale = 1200
	period := 30 * time.Minute / scale
	jitterMax := time.Minute / scale // a tenth of the period is more
	var jitters []time.Duration
	h := newHarness(t, harnessOptions{timeScale: scale, schedule: true, jitter: func(max time.Duration) time.Duration {
		jitters = append(jitters, max)
		return max / 2
	}})
	// Two tables, so that a sync fits in the period on a slow machine.
	h.blockAllBut("users", "groups")
	before := time.Now()
	h.configure(30)
	runs := h.waitFor("4 runs", 60*time.Second, func(r []RunSummary) bool { return ended(r, 4) })
	// Oldest first.
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	for _, r := range runs {
		t.Logf("run %d %s %s start %s took %.2fs", r.ID, r.Trigger, r.Status, r.StartedAt.Format("05.000"), r.DurationSeconds)
	}
	if first := runs[0]; first.Trigger != TriggerSchedule || first.StartedAt.Sub(before) > 3*time.Second {
		t.Errorf("the first sync starts at once: %+v", first)
	}
	for i, r := range runs[:4] {
		if r.Status != "complete" || r.Trigger != TriggerSchedule {
			t.Errorf("run %d: %s %s %s", r.ID, r.Trigger, r.Status, r.Error)
		}
		if i == 0 {
			continue
		}
		prev := runs[i-1]
		if prev.FinishedAt == nil || r.StartedAt.Before(*prev.FinishedAt) {
			t.Errorf("run %d started at %s, before run %d ended (%v)", r.ID, r.StartedAt, prev.ID, prev.FinishedAt)
			continue
		}
		slot := prev.StartedAt.Truncate(period).Add(period)
		if prev.FinishedAt.After(slot) {
			// It overran its period: the next starts when it ends.
			if r.StartedAt.Sub(*prev.FinishedAt) > time.Second {
				t.Errorf("run %d: started %s after run %d overran", r.ID, r.StartedAt.Sub(*prev.FinishedAt), prev.ID)
			}
			continue
		}
		// Never early; late by no more than a busy machine explains.
		at := slot.Add(jitterMax / 2)
		if d := r.StartedAt.Sub(at); d < 0 || d > time.Second {
			t.Errorf("run %d started %s from its slot %s plus jitter", r.ID, d, slot.Format("15:04:05.000"))
		}
	}
	for _, j := range jitters {
		if j != jitterMax {
			t.Errorf("jitter drawn below %s, want %s (a tenth of the period, at most a minute)", j, jitterMax)
		}
	}
	var c connectionDoc
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.State != StateSyncing && (c.NextSyncAt == nil || c.NextSyncAt.Before(time.Now().Add(-time.Second))) {
		t.Errorf("next_sync_at: %+v", c)
	}
	// Paused: no run starts.
	h.ok("POST", "/v1/pause", "", 200, &c)
	h.waitFor("the running sync to end", 30*time.Second, func(r []RunSummary) bool { return r[0].Status != StatusRunning })
	n := len(h.runs())
	time.Sleep(3 * period)
	if got := len(h.runs()); got != n {
		t.Errorf("a paused connection ran %d syncs", got-n)
	}
	h.ok("GET", "/v1/connection", "", 200, &c)
	if c.State != StatePaused || c.NextSyncAt != nil {
		t.Errorf("paused: %+v", c)
	}
}

// TestRetryBackoff: a failed sync is retried after 1, 2, 4, ... minutes
// (of the scaled clock) until the next slot; a success ends the streak.
func TestRetryBackoff(t *testing.T) {
	const scale = 600
	minute := time.Minute / scale
	h := newHarness(t, harnessOptions{timeScale: scale, schedule: true, jitter: func(time.Duration) time.Duration { return 0 }})
	// A day is 144 s here: the retries, a tenth of a second apart, come first.
	h.ok("PATCH", "/v1/connection", `{"org_url": "`+h.simURL+`", "sync_frequency_minutes": 1440}`, 200, nil)
	h.ok("PUT", "/v1/connection/credentials", `{"token": "00WRONG`+randomHex(8)+`"}`, 200, nil)
	runs := h.waitFor("3 failed runs", 30*time.Second, func(r []RunSummary) bool { return ended(r, 3) })
	h.ok("PUT", "/v1/connection/credentials", `{"token": "`+h.token+`"}`, 200, nil)
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	for i, r := range runs[:3] {
		if r.Status != "failed" || r.ExitStatus == nil || *r.ExitStatus != 1 {
			t.Errorf("run %d with a wrong token: %s exit %v", r.ID, r.Status, r.ExitStatus)
		}
		if i == 0 {
			continue
		}
		if r.Trigger != TriggerRetry {
			t.Errorf("run %d: trigger %s, want retry", r.ID, r.Trigger)
		}
		wait := r.StartedAt.Sub(*runs[i-1].FinishedAt)
		if want := minute << (i - 1); wait < want || wait > want+time.Second {
			t.Errorf("retry %d waited %s, want %s", i, wait, want)
		}
	}
	h.waitFor("a complete run", 30*time.Second, func(r []RunSummary) bool { return r[0].Status == "complete" })
}

// TestShutdownMidSyncResumes: a shutdown stops a running sync at its next
// request, keeps what it read and records it interrupted; the restarted
// service resumes at once and ends with the tables of an uninterrupted sync.
func TestShutdownMidSyncResumes(t *testing.T) {
	org := oktasim.Config{Seed: 3, Users: 150, Groups: 20, Apps: 8, Devices: 20, Logs: 3000, Now: time.Now().UTC().Truncate(time.Second)}
	org.Faults, _ = oktasim.ParseFaults("slow=1:15ms")
	h := newHarness(t, harnessOptions{org: org, timeScale: 60, schedule: true})
	h.configure(1440)
	h.waitFor("a running sync", 10*time.Second, func(r []RunSummary) bool { return len(r) > 0 })
	for h.sim.Stats().Requests < 25 {
		time.Sleep(2 * time.Millisecond)
	}
	h.stop()
	h.start(true)
	runs := h.waitFor("the resumed run", 90*time.Second, func(r []RunSummary) bool { return ended(r, 2) })
	first, second := runs[1], runs[0]
	if first.Status != StatusInterrupted || first.ExitStatus == nil || *first.ExitStatus != 143 || first.Error == "" {
		t.Errorf("the stopped run: %+v", first)
	}
	if second.Trigger != TriggerResume || second.Status != "complete" {
		t.Errorf("the run after the restart: %+v", second)
	}
	var r Run
	h.ok("GET", "/v1/runs/"+itoa(first.ID), "", 200, &r)
	committed := int64(0)
	for _, tr := range r.Tables {
		committed += tr.Rows
	}
	if committed == 0 {
		t.Errorf("the stopped run kept no rows: %+v", r.Tables)
	}
	h.stop()
	got := synctest.DumpAll(t, h.db)

	// The same org synced without a stop.
	org.Faults = oktasim.FaultConfig{}
	org.Tokens = map[string]string{"reference-token": "SUPER_ADMIN"}
	org.TimeScale = 60
	org.LinkBaseURL = "https://acme.okta.example"
	want := synctest.Reference(t, org, "reference-token")
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s differs after a shutdown and a resume", name)
		}
	}
}

// blockAllBut blocks every table but these.
func (h *harness) blockAllBut(keep ...string) {
	h.t.Helper()
	tables := map[string]any{}
	okta.Registry.Walk(func(t *runtime.Table) {
		if !slices.Contains(keep, t.Name) {
			tables[t.Name] = map[string]bool{"enabled": false}
		}
	})
	body, err := json.Marshal(map[string]any{"tables": tables})
	if err != nil {
		h.t.Fatal(err)
	}
	h.ok("PATCH", "/v1/schema", string(body), 200, nil)
}

// TestPostgresDestination: with a postgres destination the run history is
// kept in PostgreSQL with the rows, and a restarted service has it.
func TestPostgresDestination(t *testing.T) {
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t, "serve")
	t.Setenv("OKTASYNC_SERVE_TEST_DSN", dsn)
	h := newHarness(t, harnessOptions{})
	h.stop()
	h.opts.Config.Destination = connector.Destination{Type: connector.DestPostgres, DSNEnv: "OKTASYNC_SERVE_TEST_DSN", Schema: schema}
	h.start(false)
	h.configure(1440)
	var run Run
	h.ok("POST", "/v1/sync", "", 202, &run)
	if r := h.waitRun(run.ID); r.Status != "complete" {
		t.Fatalf("sync into postgres: %+v\n%s", r.RunSummary, h.logs.String())
	}
	h.stop()
	h.start(false)
	if runs := h.runs(); len(runs) != 1 || runs[0].Status != "complete" || runs[0].Rows == 0 {
		t.Errorf("history in postgres after a restart: %+v", runs)
	}
	pg, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	v, ok, err := pg.Value(context.Background(), lastRunKey)
	if err != nil || !ok || v != itoa(run.ID) {
		t.Errorf("%s in postgres: %q %v %v", lastRunKey, v, ok, err)
	}
}
