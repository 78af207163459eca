package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"oktasync/generated/okta"
	"oktasync/oktasim"
	"oktasync/runtime"
)

// Figures are the numbers of the BENCH line; NaN means not measured.
type Figures struct {
	ThroughputRowsS               float64
	CeilingFraction               float64
	RatelimitedVsBound            float64
	RSSMB100k, RSSMB1m            float64
	IncrementalRequestFraction    float64
	HistoryVsPlain, HashedVsPlain float64
	// LogNewestDayS and LogFullS: in the throughput sync, when the System
	// Log's newest day was queryable and when its whole history was, in
	// seconds from the table's start (newest-first, Incremental.Backfill).
	LogNewestDayS, LogFullS float64
	// RawJSONVsPlain and RawJSONMBPer1m: what keeping system_log.raw_json
	// (the default) costs in throughput and in file size per million events.
	RawJSONVsPlain, RawJSONMBPer1m float64
	// RatelimitedVsStrictBound is the worst wall / WorkBound of the orgs
	// synced under Okta's limits (RateOrg and Config.RateWindows).
	RatelimitedVsStrictBound float64
	// IncrementalWallS is the wall time of the incremental sync after 1%
	// churn of RateOrg under Okta's limits (at the section's time scale),
	// IncrementalVsStrictBound that over its WorkBound.
	IncrementalWallS, IncrementalVsStrictBound float64
	// ModelsVsDemoSync is the data models' build time over the demo sync's
	// wall time, on the demo org.
	ModelsVsDemoSync float64
	// PostgresRowsS is a full sync's rows per second into PostgreSQL,
	// PostgresCeilingFraction that over COPY's of the same rows into the
	// same server, PostgresRSSMB1m the peak RSS of a System Log sync of
	// RSSLogs[1] events into PostgreSQL.
	PostgresRowsS, PostgresCeilingFraction, PostgresRSSMB1m float64
}

// Line is the final line of a run:
//
//	BENCH throughput_rows_s=... ceiling_fraction=... ratelimited_vs_bound=... rss_mb_100k=... rss_mb_1m=... incremental_request_fraction=... history_vs_plain=... hashed_vs_plain=... log_newest_day_s=... log_full_s=... rawjson_vs_plain=... rawjson_mb_per_1m=... ratelimited_vs_strict_bound=... incremental_wall_s=... incremental_vs_strict_bound=... models_vs_demo_sync=... postgres_rows_s=... postgres_ceiling_fraction=... postgres_rss_mb_1m=...
func (f Figures) Line() string {
	num := func(v float64, prec int) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "n/a"
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	return "BENCH throughput_rows_s=" + num(f.ThroughputRowsS, 0) +
		" ceiling_fraction=" + num(f.CeilingFraction, 3) +
		" ratelimited_vs_bound=" + num(f.RatelimitedVsBound, 3) +
		" rss_mb_100k=" + num(f.RSSMB100k, 1) +
		" rss_mb_1m=" + num(f.RSSMB1m, 1) +
		" incremental_request_fraction=" + num(f.IncrementalRequestFraction, 4) +
		" history_vs_plain=" + num(f.HistoryVsPlain, 3) +
		" hashed_vs_plain=" + num(f.HashedVsPlain, 3) +
		" log_newest_day_s=" + num(f.LogNewestDayS, 2) +
		" log_full_s=" + num(f.LogFullS, 2) +
		" rawjson_vs_plain=" + num(f.RawJSONVsPlain, 3) +
		" rawjson_mb_per_1m=" + num(f.RawJSONMBPer1m, 0) +
		" ratelimited_vs_strict_bound=" + num(f.RatelimitedVsStrictBound, 3) +
		" incremental_wall_s=" + num(f.IncrementalWallS, 2) +
		" incremental_vs_strict_bound=" + num(f.IncrementalVsStrictBound, 3) +
		" models_vs_demo_sync=" + num(f.ModelsVsDemoSync, 3) +
		" postgres_rows_s=" + num(f.PostgresRowsS, 0) +
		" postgres_ceiling_fraction=" + num(f.PostgresCeilingFraction, 3) +
		" postgres_rss_mb_1m=" + num(f.PostgresRSSMB1m, 1)
}

// CeilingFraction is throughput divided by the smallest ceiling, all in
// rows per second; NaN without a ceiling.
func CeilingFraction(throughput float64, ceilings ...float64) float64 {
	least := math.Inf(1)
	for _, c := range ceilings {
		if c > 0 && c < least {
			least = c
		}
	}
	if math.IsInf(least, 1) {
		return math.NaN()
	}
	return throughput / least
}

// rate is n per second of d.
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(n) / d.Seconds()
}

// CeilingRates are the three ceilings in rows per second of the throughput
// run's rows: those rows divided by the time each stage alone takes for them.
func (r *Result) CeilingRates() (fetch, extract, append float64) {
	if r.Ceilings == nil || r.Throughput == nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	n := r.Throughput.Rows()
	return rate(n, r.Ceilings.Fetch), rate(n, r.Ceilings.Extract), rate(n, r.Ceilings.Writer)
}

// Figures computes the BENCH figures.
func (r *Result) Figures() Figures {
	nan := math.NaN()
	f := Figures{nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan}
	if p := r.Postgres; p != nil {
		f.PostgresRowsS, f.PostgresCeilingFraction = p.RowsS(), p.Fraction()
		if p.RSS != nil {
			f.PostgresRSSMB1m = p.RSS.MaxMB
		}
	}
	if r.Throughput != nil {
		f.ThroughputRowsS = rate(r.Throughput.Rows(), r.Throughput.Wall)
		fe, ex, ap := r.CeilingRates()
		f.CeilingFraction = CeilingFraction(f.ThroughputRowsS, fe, ex, ap)
		if l, ok := r.Throughput.table(logTable); ok && l.NewestAt > 0 && !l.BackfillLeft {
			f.LogNewestDayS, f.LogFullS = l.NewestAt.Seconds(), l.Duration.Seconds()
		}
	}
	if r.Rate != nil {
		f.RatelimitedVsBound = r.Rate.Ratio()
		f.RatelimitedVsStrictBound = r.Rate.StrictRatio()
		for _, s := range r.RateSizes {
			f.RatelimitedVsStrictBound = max(f.RatelimitedVsStrictBound, s.StrictRatio())
		}
		if inc := r.Rate.Inc; inc != nil {
			f.IncrementalWallS, f.IncrementalVsStrictBound = inc.Wall.Seconds(), inc.Ratio()
		}
	}
	if len(r.RSS) == 2 {
		f.RSSMB100k, f.RSSMB1m = r.RSS[0].MaxMB, r.RSS[1].MaxMB
	}
	if r.Incremental != nil {
		f.IncrementalRequestFraction = r.Incremental.Fraction()
	}
	if m := r.Models; m != nil {
		f.ModelsVsDemoSync = m.Ratio()
	}
	if s := r.Settings; s != nil {
		f.HistoryVsPlain, f.HashedVsPlain = s.Ratio(s.History), s.Ratio(s.Hashed)
		f.RawJSONVsPlain, f.RawJSONMBPer1m = s.Ratio(s.RawJSON), s.RawJSONMBPerMillion()
	}
	return f
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s" }

func perSec(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func tableRows(rep runtime.TableReport) int64 {
	var n int64
	for _, v := range rep.Rows {
		n += v
	}
	return n
}

// Write prints the report: one section per measurement, then the BENCH line.
func (r *Result) Write(w io.Writer) {
	cfg := r.Config
	mode := "full"
	if cfg.Quick {
		mode = "quick"
	}
	fmt.Fprintf(w, "oktabench (%s) on %s\n", mode, r.Machine)
	if len(cfg.Exclude) > 0 {
		fmt.Fprintf(w, "excluded from every sync: %s (one request per user; see docs/PERFORMANCE.md)\n", strings.Join(cfg.Exclude, ", "))
	}
	fmt.Fprintf(w, "DuckDB settings: %s", FormatSettings(destSettings(cfg.Settings)))
	if len(cfg.Settings) > 0 {
		fmt.Fprintf(w, " (%s under test, not the connector's defaults)", FormatSettings(cfg.Settings))
	}
	fmt.Fprintln(w)
	if t := r.Throughput; t != nil {
		r.writeThroughput(w, t)
	}
	if c := r.Ceilings; c != nil && r.Throughput != nil {
		r.writeCeilings(w, c)
	}
	if rl := r.Rate; rl != nil {
		writeRate(w, rl)
		writeRateSizes(w, append([]*RateRun{rl}, r.RateSizes...))
		if inc := rl.Inc; inc != nil {
			writeRateInc(w, rl, inc)
		}
	}
	if len(r.RSS) > 0 {
		fmt.Fprintf(w, "\nMEMORY: system_log only, connector.Sync in a child process, peak RSS (VmHWM)\n")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "EVENTS\tROWS\tTIME\tPEAK RSS MB\tGO HEAP MB\tSAMPLE RSS MB\tGO\tDUCKDB POOL\tOTHER\t")
		for _, m := range r.RSS {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", m.Logs, m.Rows, secs(m.Wall), m.MaxMB, m.GoHeapMB,
				m.SampleMB, m.GoMB, m.DuckDBPoolMB, m.SampleMB-m.GoMB-m.DuckDBPoolMB)
		}
		tw.Flush()
		fmt.Fprintln(w, "sampled every 100ms: GO HEAP is the peak Go heap in use; the sample with the highest RSS while the database was open")
		fmt.Fprintln(w, "splits into the Go runtime's memory, DuckDB's buffer pool (duckdb_memory(), capped by memory_limit) and OTHER: the binary")
		fmt.Fprintln(w, "and DuckDB outside its pool; a PEAK above that SAMPLE was reached while the database closed (its last checkpoint)")
		if len(r.RSS) == 2 {
			fmt.Fprintf(w, "ratio %d/%d events: %.2f\n", r.RSS[1].Logs, r.RSS[0].Logs, r.RSS[1].MaxMB/r.RSS[0].MaxMB)
		}
	}
	if inc := r.Incremental; inc != nil {
		writeIncremental(w, inc)
	}
	if s := r.Settings; s != nil {
		writeSettings(w, s)
	}
	if m := r.Models; m != nil {
		writeModels(w, m)
	}
	if p := r.Postgres; p != nil {
		writePostgres(w, p)
	}
	fmt.Fprintf(w, "\nwall time of the run: %s; peak RSS of oktabench itself: %.0f MB\n", secs(r.Wall), r.PeakMB)
	fmt.Fprintln(w, r.Figures().Line())
}

func (r *Result) writeThroughput(w io.Writer, t *SyncRun) {
	fmt.Fprintf(w, "\nTHROUGHPUT: connector.Sync into DuckDB, org %s, rate limits off, time scale %g\n", r.Config.Org, r.Config.TimeScale)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tREQUESTS\tROWS\tTIME\tROWS/S\tCOMMIT\tEXTRACT-ONLY ROWS/S\tAPPEND-ONLY ROWS/S\t")
	for _, rep := range t.Summary.Tables {
		n := tableRows(rep)
		ex, ap := "-", "-"
		if r.Ceilings != nil {
			if st := r.Ceilings.PerTable[rep.Table]; st != nil {
				ex, ap = perSec(rate(st.Rows, st.Extract)), perSec(rate(st.Rows, st.Writer))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", rep.Table, rep.Requests, n, secs(rep.Duration),
			perSec(rate(n, rep.Duration)), secs(t.Commit[rep.Table]), ex, ap)
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%s\t%s\t%s\t\t\t\n", t.Requests(), t.Rows(), secs(t.Wall), perSec(rate(t.Rows(), t.Wall)), secs(t.CommitTotal()))
	tw.Flush()
	fmt.Fprintf(w, "rows include breakout children; TIME is each table's own (tables run 4 at a time), TOTAL's the sync's wall time\n")
	if l, ok := t.table(logTable); ok && l.NewestAt > 0 {
		fmt.Fprintf(w, "%s newest first: its newest day (%d rows) queryable after %s, its whole history (%d more rows) after %s\n",
			logTable, l.Rows[logTable]-l.Backfilled, secs(l.NewestAt), l.Backfilled, secs(l.Duration))
	}
	busy := t.CommitTotal()
	fmt.Fprintf(w, "destination committing %s of %s wall (%.0f%%), by stage:", secs(busy), secs(t.Wall), 100*busy.Seconds()/t.Wall.Seconds())
	for _, st := range stageOrder {
		if d, ok := t.Stages[st]; ok {
			fmt.Fprintf(w, " %s %s", stageLabel[st], secs(d))
		}
	}
	fmt.Fprintln(w)
	if byBucket, err := perBucket(t.Server.ByEndpoint); err == nil {
		b, bucket := Bound(loads(byBucket, oktasim.Buckets()), r.Config.TimeScale)
		fmt.Fprintf(w, "pacing: at the time scale, Okta's limits allow this sync in %s (bucket %s): they did not bound it\n", secs(b), bucket)
	}
}

// stageOrder and stageLabel name the destination's commit stages (each
// crash point ends the stage named after what was just done).
var (
	stageOrder = []string{"begin", "staged", "replaced", "merged", "swept", "state", "before-commit", "committed"}
	stageLabel = map[string]string{"begin": "plan+begin", "staged": "stage", "replaced": "replace", "merged": "merge", "swept": "sweep",
		"state": "state", "before-commit": "drop-temps", "committed": "commit"}
)

func (r *Result) writeCeilings(w io.Writer, c *Ceilings) {
	t := r.Throughput
	fe, ex, ap := r.CeilingRates()
	tp := rate(t.Rows(), t.Wall)
	fmt.Fprintf(w, "\nCEILINGS: each stage alone over the throughput sync's work, in rows/s of its %d rows\n", t.Rows())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tTIME\tROWS/S\tWHAT")
	fmt.Fprintf(tw, "fetch-only\t%s\t%s\t%d requests (%d MB) replayed %d at a time, pages discarded\n", secs(c.Fetch), perSec(fe), c.Requests, c.Bytes>>20, c.FetchWorkers)
	fmt.Fprintf(tw, "extract-only\t%s\t%s\tgenerated extractors over in-memory pages, %d workers (%d rows)\n", secs(c.Extract), perSec(ex), c.Workers, c.Rows)
	fmt.Fprintf(tw, "append-only\t%s\t%s\tthe sync's destination committing prebuilt batches of %d rows or %d MB\n", secs(c.Writer), perSec(ap), runtime.DefaultBatchRows, runtime.DefaultBatchBytes>>20)
	fmt.Fprintf(tw, "(bare Appenders)\t%s\t%s\tthe same rows appended to keyless tables, %d appenders\n", secs(c.Append), perSec(rate(t.Rows(), c.Append)), c.Workers)
	fmt.Fprintf(tw, "(engine, no destination)\t%s\t%s\tthe sync with a destination that keeps nothing\n", secs(r.NoDest), perSec(rate(t.Rows(), r.NoDest)))
	fmt.Fprintf(tw, "sync\t%s\t%s\tthroughput\n", secs(t.Wall), perSec(tp))
	tw.Flush()
	if c.Rows != t.Rows() {
		fmt.Fprintf(w, "WARNING: the extractors made %d rows, the sync %d\n", c.Rows, t.Rows())
	}
	if int64(c.Requests) != t.Requests() {
		fmt.Fprintf(w, "WARNING: %d requests were recorded, the throughput sync made %d\n", c.Requests, t.Requests())
	}
	fmt.Fprintf(w, "ceiling_fraction = throughput / min(fetch, extract, append) = %s / %s = %.3f\n", perSec(tp),
		perSec(min(fe, ex, ap)), CeilingFraction(tp, fe, ex, ap))
}

func writeRate(w io.Writer, rl *RateRun) {
	fmt.Fprintf(w, "\nRATE-LIMITED: org %s, Okta's default per-minute buckets, time scale %.1f\n", rl.Org, rl.TimeScale)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "BUCKET\tREQUESTS\tLIMIT/MIN\tMINUTES AT LIMIT\tREAL TIME\t")
	for _, l := range rl.Loads {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%s\t\n", l.Bucket, l.Requests, l.Limit, l.Minutes(),
			secs(time.Duration(l.Minutes()*float64(time.Minute)/rl.TimeScale)))
	}
	tw.Flush()
	var windows float64
	for _, l := range rl.Loads {
		if l.Bucket == rl.Binding {
			windows = l.Minutes()
		}
	}
	fmt.Fprintf(w, "bound %s (bucket %s, %.1f windows; strict bound %s); wall %s; wall/bound %.3f; unlimited sync of this org %s\n",
		secs(rl.Bound), rl.Binding, windows, secs(StrictBound(rl.Loads, rl.TimeScale)), secs(rl.Wall), rl.Ratio(), secs(rl.Baseline))
	fmt.Fprintf(w, "bucket %s: first request %s after the start, requests over %s (%.3f of the bound), %s after the last\n",
		rl.Binding, secs(rl.Lead), secs(rl.Span), rl.Span.Seconds()/rl.Bound.Seconds(), secs(rl.Wall-rl.Lead-rl.Span))
	var limit int
	for _, l := range rl.Loads {
		if l.Bucket == rl.Binding {
			limit = l.Limit
		}
	}
	win := time.Duration(float64(time.Minute) / rl.TimeScale)
	if p := rl.Pacing; p.Windows > 1 && limit > 0 {
		fmt.Fprintf(w, "bucket %s: %d windows; the first holds %d requests, the others but the last %.1f (%.1f%% of the limit); %s idle between windows (%.1f%% of a window)\n",
			rl.Binding, p.Windows, p.First, p.PerWindow, 100*p.PerWindow/float64(limit), secs(p.Gap), 100*p.Gap.Seconds()/win.Seconds())
	}
	if strict := StrictBound(rl.Loads, rl.TimeScale); strict < rl.Bound*95/100 {
		fmt.Fprintf(w, "WARNING: the strict bound is %.0f%% below the fluid one (the first window's burst): the ratio flatters the sync\n",
			100*(1-strict.Seconds()/rl.Bound.Seconds()))
	}
	fmt.Fprintf(w, "429s: %d served by the simulator (%d for concurrency), %d received by the client; %d buckets used\n",
		rl.Served429, rl.Concurrency429, rl.Received429, rl.BucketsUsed())
	if rl.Requests-rl.Served429 != rl.BaseRequests {
		fmt.Fprintf(w, "WARNING: %d requests besides 429s under limits, %d without: the bound counts the latter\n", rl.Requests-rl.Served429, rl.BaseRequests)
	}
	var rows int64
	for _, n := range rl.Rows {
		rows += n
	}
	fmt.Fprintf(w, "rows: %d without limits, rows lost under limits: %d\n", rows, rl.RowsLost())
}

func writeIncremental(w io.Writer, inc *IncRun) {
	c := inc.Churn
	fmt.Fprintf(w, "\nINCREMENTAL: after 1%% churn (users +%d ~%d -%d deactivated, %d deleted; groups +%d ~%d -%d; memberships +%d -%d; app assignments +%d -%d; devices ~%d; log events +%d)\n",
		c.NewUsers, c.UpdatedUsers, c.DeactivatedUsers, c.DeletedUsers, c.NewGroups, c.UpdatedGroups, c.DeletedGroups,
		c.MembershipAdds, c.MembershipRemoves, c.AppAssignmentAdds, c.AppAssignmentRemoves, c.DeviceUpdates, c.LogEvents)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tFULL REQUESTS\tINCREMENTAL REQUESTS\tSHARE OF INCREMENTAL\t")
	var total int
	for _, n := range inc.IncByTable {
		total += n
	}
	for _, t := range okta.Registry.Tables {
		f, ok := inc.FullByTable[t.Name]
		if !ok {
			continue
		}
		i := inc.IncByTable[t.Name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t\n", t.Name, f, i, 100*float64(i)/float64(max(total, 1)))
	}
	fmt.Fprintf(tw, "TOTAL (simulator)\t%d\t%d\t\t\n", inc.Full, inc.Incremental)
	tw.Flush()
	fmt.Fprintf(w, "incremental sync: %s, %d rows; incremental_request_fraction = %d / %d = %.4f\n",
		secs(inc.Wall), inc.Rows, inc.Incremental, inc.Full, inc.Fraction())
}

// writeRateSizes prints each org synced under Okta's limits against its
// strict bound (WorkBound).
func writeRateSizes(w io.Writer, runs []*RateRun) {
	fmt.Fprintf(w, "\nRATE-LIMITED, BY SIZE: wall against the strict bound, (ceil(requests/limit) - 1) windows + the last window's work\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ORG\tBUCKET\tWINDOWS\tTIME SCALE\tUNLIMITED\tSTRICT BOUND\tWALL\tWALL/STRICT\t429s\tROWS LOST\t")
	worst := 0.0
	for _, r := range runs {
		worst = max(worst, r.StrictRatio())
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f\t%s\t%s\t%s\t%.3f\t%d\t%d\t\n", r.Org, r.StrictBinding, r.Windows(), r.TimeScale,
			secs(r.Baseline), secs(r.Strict), secs(r.Wall), r.StrictRatio(), r.Served429, r.RowsLost())
	}
	tw.Flush()
	fmt.Fprintf(w, "ratelimited_vs_strict_bound = the worst wall/strict = %.3f\n", worst)
}

func writeRateInc(w io.Writer, rl *RateRun, inc *RateInc) {
	fmt.Fprintf(w, "\nRATE-LIMITED INCREMENTAL: org %s after 1%% churn, Okta's default buckets, time scale %.1f\n", rl.Org, rl.TimeScale)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "BUCKET\tREQUESTS\tLIMIT/MIN\tWINDOWS\t")
	for _, l := range inc.Loads {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t\n", l.Bucket, l.Requests, l.Limit, l.Minutes())
	}
	tw.Flush()
	fmt.Fprintf(w, "unlimited %s; strict bound %s (bucket %s); under limits %s: incremental_vs_strict_bound %.3f; %d requests (%d without limits), %d 429s; the longest wait on a bucket %s\n",
		secs(inc.Baseline), secs(inc.Strict), inc.Binding, secs(inc.Wall), inc.Ratio(), inc.Requests, inc.BaseRequests, inc.Served429, inc.Held.Round(time.Millisecond))
	for _, t := range sortedKeys(inc.Rows) {
		if got := inc.RowsLimited[t]; got != inc.Rows[t] {
			fmt.Fprintf(w, "note: %s has %d live rows under limits, %d without (see RateInc.RowsDiffer)\n", t, got, inc.Rows[t])
		}
	}
}
