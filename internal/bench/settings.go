package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
)

// SettingsRun is one org synced four times into fresh databases: as it
// comes (system_log.raw_json blocked, as in every bench sync), with
// history mode on for every table, with personal data hashed, and with the
// raw event kept (the connector's default). Each pass does the same
// requests, so the ratios of their throughputs are the cost of the
// settings.
type SettingsRun struct {
	Org                             Org
	Plain, History, Hashed, RawJSON *SyncRun
	// PlainBytes and RawJSONBytes are the sizes of the plain and raw_json
	// passes' database files after their syncs.
	PlainBytes, RawJSONBytes int64
}

// hashedColumns are what a privacy-minded config hashes: people's ids,
// names and contacts (group_member.users_id with users.id, so that they
// still join), and who did what in the System Log.
var hashedColumns = map[string][]string{
	"users": {"id", "profile_login", "profile_email", "profile_first_name", "profile_last_name",
		"profile_mobile_phone", "profile_second_email"},
	"system_log":   {"actor_id", "actor_alternate_id", "actor_display_name", "client_ip_address"},
	"group_member": {"users_id"},
}

// historyTables turns history mode on for every top-level and fan-out table.
func historyTables() map[string]connector.TableConfig {
	out := map[string]connector.TableConfig{}
	for _, t := range okta.Registry.Tables {
		out[t.Name] = connector.TableConfig{History: true}
	}
	return out
}

func hashedTables() map[string]connector.TableConfig {
	out := map[string]connector.TableConfig{}
	for table, cols := range hashedColumns {
		tc := connector.TableConfig{Columns: map[string]connector.ColumnConfig{}}
		for _, c := range cols {
			tc.Columns[c] = connector.ColumnConfig{Hashed: true}
		}
		out[table] = tc
	}
	return out
}

// settingsRuns syncs cfg.RateOrg plain, in history mode and hashed.
func settingsRuns(ctx context.Context, cfg *Config) (*SettingsRun, error) {
	s, err := startSim(cfg.RateOrg.simConfig(oktasim.RateLimitsOff, cfg.TimeScale))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out := &SettingsRun{Org: cfg.RateOrg}
	for _, pass := range []struct {
		name   string
		tables map[string]connector.TableConfig
		keep   bool
		run    **SyncRun
		bytes  *int64
	}{{"plain", nil, false, &out.Plain, &out.PlainBytes}, {"history", historyTables(), false, &out.History, nil},
		{"hashed", hashedTables(), false, &out.Hashed, nil}, {"raw_json", nil, true, &out.RawJSON, &out.RawJSONBytes}} {
		cfg.logf("settings: %s sync of %s", pass.name, cfg.RateOrg)
		db := filepath.Join(cfg.Dir, "settings-"+pass.name+".duckdb")
		r, err := runSync(ctx, s, syncSpec{DB: db, Exclude: cfg.Exclude,
			TimeScale: cfg.TimeScale, Settings: cfg.Settings, Tables: pass.tables, KeepRawJSON: pass.keep})
		if err != nil {
			return nil, fmt.Errorf("settings, %s: %w", pass.name, err)
		}
		*pass.run = r
		if pass.bytes != nil {
			st, err := os.Stat(db)
			if err != nil {
				return nil, fmt.Errorf("settings, %s: %w", pass.name, err)
			}
			*pass.bytes = st.Size()
		}
	}
	return out, nil
}

// RawJSONMBPerMillion is what keeping the raw event adds to the database
// file, in MB per million System Log events.
func (s *SettingsRun) RawJSONMBPerMillion() float64 {
	rep, ok := s.RawJSON.table(logTable)
	if !ok || rep.Rows[logTable] == 0 {
		return math.NaN()
	}
	return float64(s.RawJSONBytes-s.PlainBytes) / 1e6 * 1e6 / float64(rep.Rows[logTable])
}

// Ratio is a pass's throughput over the plain pass's.
func (s *SettingsRun) Ratio(r *SyncRun) float64 {
	return rate(r.Rows(), r.Wall) / rate(s.Plain.Rows(), s.Plain.Wall)
}

func writeSettings(w io.Writer, s *SettingsRun) {
	fmt.Fprintf(w, "\nSETTINGS: org %s synced four times into fresh databases, rate limits off\n", s.Org)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PASS\tROWS\tTIME\tROWS/S\tVS PLAIN\tCOMMIT\t")
	for _, p := range []struct {
		name string
		r    *SyncRun
	}{{"plain", s.Plain}, {"history (every table)", s.History}, {"hashed (PII columns)", s.Hashed}, {"raw_json (the raw event)", s.RawJSON}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.3f\t%s\t\n", p.name, p.r.Rows(), secs(p.r.Wall), perSec(rate(p.r.Rows(), p.r.Wall)),
			s.Ratio(p.r), secs(p.r.CommitTotal()))
	}
	tw.Flush()
	n := 0
	for _, cols := range hashedColumns {
		n += len(cols)
	}
	fmt.Fprintf(w, "hashed: %d columns of users, group_member and system_log, HMAC-SHA-256\n", n)
	fmt.Fprintf(w, "raw_json: database file %.1f MB against %.1f MB plain, +%.1f MB per million System Log events\n",
		float64(s.RawJSONBytes)/1e6, float64(s.PlainBytes)/1e6, s.RawJSONMBPerMillion())
}
