package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"oktasync/generated/okta"
	"oktasync/internal/connector"
	"oktasync/oktasim"
)

// SettingsRun is one org synced three times into fresh databases: as it
// comes, with history mode on for every table, and with personal data
// hashed. Each pass does the same requests, so the ratios of their
// throughputs are the cost of the settings.
type SettingsRun struct {
	Org                    Org
	Plain, History, Hashed *SyncRun
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
		run    **SyncRun
	}{{"plain", nil, &out.Plain}, {"history", historyTables(), &out.History}, {"hashed", hashedTables(), &out.Hashed}} {
		cfg.logf("settings: %s sync of %s", pass.name, cfg.RateOrg)
		r, err := runSync(ctx, s, syncSpec{DB: filepath.Join(cfg.Dir, "settings-"+pass.name+".duckdb"), Exclude: cfg.Exclude,
			TimeScale: cfg.TimeScale, Settings: cfg.Settings, Tables: pass.tables})
		if err != nil {
			return nil, fmt.Errorf("settings, %s: %w", pass.name, err)
		}
		*pass.run = r
	}
	return out, nil
}

// Ratio is a pass's throughput over the plain pass's.
func (s *SettingsRun) Ratio(r *SyncRun) float64 {
	return rate(r.Rows(), r.Wall) / rate(s.Plain.Rows(), s.Plain.Wall)
}

func writeSettings(w io.Writer, s *SettingsRun) {
	fmt.Fprintf(w, "\nSETTINGS: org %s synced three times into fresh databases, rate limits off\n", s.Org)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PASS\tROWS\tTIME\tROWS/S\tVS PLAIN\tCOMMIT\t")
	for _, p := range []struct {
		name string
		r    *SyncRun
	}{{"plain", s.Plain}, {"history (every table)", s.History}, {"hashed (PII columns)", s.Hashed}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.3f\t%s\t\n", p.name, p.r.Rows(), secs(p.r.Wall), perSec(rate(p.r.Rows(), p.r.Wall)),
			s.Ratio(p.r), secs(p.r.CommitTotal()))
	}
	tw.Flush()
	n := 0
	for _, cols := range hashedColumns {
		n += len(cols)
	}
	fmt.Fprintf(w, "hashed: %d columns of users, group_member and system_log, HMAC-SHA-256\n", n)
}
