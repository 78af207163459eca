package connector

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"oktasync/oktasim"
	"oktasync/runtime"
)

// TestSystemLogNewestFirst: the System Log's first sync commits its last
// day before it backfills the rest; the summary says when and how much,
// and the table ends with every event of the simulator's log once.
func TestSystemLogNewestFirst(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"system_log"}
	e.opt.BatchRows = 20
	sum := e.mustSync()
	var rep runtime.TableReport
	for _, r := range sum.Tables {
		if r.Table == "system_log" {
			rep = r
		}
	}
	if rep.NewestAt <= 0 || rep.BackfillLeft {
		t.Fatalf("system_log report: newest at %v, backfill left %v: want the newest day committed and the backfill complete",
			rep.NewestAt, rep.BackfillLeft)
	}
	end := e.sim.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02 15:04:05.000")
	older := e.count(`SELECT count(*) FROM system_log WHERE published < TIMESTAMP '` + end + `'`)
	// The backfill reads the events published before the forward read's
	// start; the forward read may also have read some of them (late ones).
	if rep.Backfilled == 0 || rep.Backfilled > int64(older) {
		t.Errorf("backfilled %d rows; %d events are older than a day", rep.Backfilled, older)
	}
	if n := e.count(`SELECT count(*) - count(DISTINCT id) FROM system_log`); n != 0 {
		t.Errorf("%d events stored twice", n)
	}
	if got, want := e.count(`SELECT count(*) FROM system_log`), e.sim.Info().LogEvents; got != want {
		t.Errorf("%d events synced, the org has %d", got, want)
	}
	var out bytes.Buffer
	PrintSummary(&out, sum, 0)
	if !strings.Contains(out.String(), "newest events queryable after") || !strings.Contains(out.String(), "backfilled") {
		t.Errorf("the summary does not say how the newest-first sync went:\n%s", out.String())
	}
	js, err := json.Marshal(NewSummaryJSON(sum, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"newest_seconds":`) || !strings.Contains(string(js), `"backfilled_rows":`) {
		t.Errorf("--json does not carry the newest-first figures: %s", js)
	}
	// A second sync reads forward only.
	e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, LogEvents: 5})
	sum = e.mustSync()
	for _, r := range sum.Tables {
		if r.Table == "system_log" && (r.Backfilled != 0 || r.NewestAt != 0 || strings.Contains(r.Mode, "backfill")) {
			t.Errorf("second sync: mode %q, backfilled %d: the backfill is done", r.Mode, r.Backfilled)
		}
	}
	if got, want := e.count(`SELECT count(*) FROM system_log`), e.sim.Info().LogEvents; got != want {
		t.Errorf("after churn: %d events, want %d", got, want)
	}
}
