package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"oktasync/oktasim"
	"oktasync/runtime"
)

// EnvPostgresDSN names the PostgreSQL server of the postgres section; make
// bench runs beside a throwaway one (scripts/with-postgres sets it). The
// section is skipped without it.
const EnvPostgresDSN = "OKTASYNC_TEST_PG_DSN"

// PostgresRun is a full sync into PostgreSQL and its ceiling: COPY of the
// same rows into the same server without the engine.
type PostgresRun struct {
	Org  Org
	Sync *SyncRun
	// Copy is the ceiling: every table's rows, copied (COPY FROM, binary)
	// into an empty table of the same definition, primary key included.
	CopyRows int64
	CopyWall time.Duration
	// RSS is the peak memory of a System Log sync of RSSLogs[1] events into
	// PostgreSQL (the process's own: the server's is not counted).
	RSS *RSSRun
}

// RowsS is the sync's rows per second.
func (p *PostgresRun) RowsS() float64 { return float64(p.Sync.Rows()) / p.Sync.Wall.Seconds() }

// CeilingRowsS is COPY's rows per second.
func (p *PostgresRun) CeilingRowsS() float64 { return float64(p.CopyRows) / p.CopyWall.Seconds() }

// Fraction is the sync's rows per second over the ceiling's.
func (p *PostgresRun) Fraction() float64 { return p.RowsS() / p.CeilingRowsS() }

// postgresOrg is the org of the postgres section: the throughput org at a
// fifth of its size (a million rows in all), which a server on the same
// two cores loads in minutes.
func postgresOrg(cfg *Config) Org {
	if cfg.Quick {
		return cfg.Org
	}
	return cfg.Org.Scaled(0.2)
}

func postgresSection(ctx context.Context, cfg *Config) (*PostgresRun, error) {
	dsn := os.Getenv(EnvPostgresDSN)
	if dsn == "" {
		cfg.logf("postgres: skipped: %s is unset (make bench starts a server: scripts/with-postgres)", EnvPostgresDSN)
		return nil, nil
	}
	run := &PostgresRun{Org: postgresOrg(cfg)}
	cfg.logf("postgres: starting the simulated org (%s)", run.Org)
	s, err := startSim(run.Org.simConfig(oktasim.RateLimitsOff, cfg.TimeScale))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	schema := "oktabench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer dropSchema(dsn, schema)
	cfg.logf("postgres: full sync into schema %s", schema)
	run.Sync, err = runSync(ctx, s, syncSpec{PostgresDSN: dsn, PostgresSchema: schema, Exclude: cfg.Exclude, TimeScale: cfg.TimeScale})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.logf("postgres: ceiling: COPY of the same rows")
	if run.CopyRows, run.CopyWall, err = copyCeiling(ctx, dsn, schema, cfg.Dir); err != nil {
		return nil, fmt.Errorf("postgres: ceiling: %w", err)
	}
	n := cfg.RSSLogs[1]
	cfg.logf("postgres: memory: system_log of %d events in a child process", n)
	pgSchema := schema + "_rss"
	defer dropSchema(dsn, pgSchema)
	if run.RSS, err = measureRSSInto(ctx, cfg.Self, cfg.Org, n, cfg.Dir, cfg.TimeScale, nil, dsn, pgSchema); err != nil {
		return nil, err
	}
	return run, nil
}

func dropSchema(dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		conn.Close(ctx)
	}
}

// copyCeiling copies every table of schema out (binary COPY, to a file) and
// times copying it back into an empty table of the same definition in a
// schema of its own: what loading the sync's rows costs the server alone.
func copyCeiling(ctx context.Context, dsn, schema, dir string) (int64, time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename NOT LIKE '\_oktasync\_%' ORDER BY 1`, schema)
	if err != nil {
		return 0, 0, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, 0, err
	}
	ceiling := schema + "_copy"
	defer dropSchema(dsn, ceiling)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{ceiling}.Sanitize()); err != nil {
		return 0, 0, err
	}
	var total int64
	var wall time.Duration
	path := filepath.Join(dir, "pg-ceiling.copy")
	defer os.Remove(path)
	for _, t := range tables {
		src, dst := pgx.Identifier{schema, t}.Sanitize(), pgx.Identifier{ceiling, t}.Sanitize()
		f, err := os.Create(path)
		if err != nil {
			return 0, 0, err
		}
		if _, err := conn.PgConn().CopyTo(ctx, f, "COPY "+src+" TO STDOUT (FORMAT binary)"); err != nil {
			f.Close()
			return 0, 0, fmt.Errorf("copy out %s: %w", t, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return 0, 0, err
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE "+dst+" (LIKE "+src+" INCLUDING ALL)"); err != nil {
			f.Close()
			return 0, 0, err
		}
		start := time.Now()
		tag, err := conn.PgConn().CopyFrom(ctx, f, "COPY "+dst+" FROM STDIN (FORMAT binary)")
		wall += time.Since(start)
		f.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("copy into %s: %w", t, err)
		}
		total += tag.RowsAffected()
	}
	if total == 0 {
		return 0, 0, errors.New("no rows to copy")
	}
	return total, wall, nil
}

func writePostgres(w io.Writer, p *PostgresRun) {
	fmt.Fprintf(w, "\nPOSTGRES: a full sync of %s into PostgreSQL on this machine, and COPY of the same rows\n", p.Org)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RUN\tROWS\tWALL\tROWS/S\t")
	fmt.Fprintf(tw, "oktasync sync\t%d\t%s\t%.0f\t\n", p.Sync.Rows(), secs(p.Sync.Wall), p.RowsS())
	fmt.Fprintf(tw, "COPY alone (ceiling)\t%d\t%s\t%.0f\t\n", p.CopyRows, secs(p.CopyWall), p.CeilingRowsS())
	tw.Flush()
	fmt.Fprintf(w, "sync / ceiling: %.3f (target >= 0.6); commits, several at once, took %s in all in the sync's %s\n",
		p.Fraction(), secs(p.Sync.CommitTotal()), secs(p.Sync.Wall))
	// Tables run four at a time; the longest bound the sync's wall time.
	tables := slices.Clone(p.Sync.Summary.Tables)
	slices.SortFunc(tables, func(a, b runtime.TableReport) int { return cmp.Compare(b.Duration, a.Duration) })
	fmt.Fprint(w, "longest tables:")
	for _, t := range tables[:min(4, len(tables))] {
		fmt.Fprintf(w, " %s %s (%d rows, %d requests, commits %s);", t.Table, secs(t.Duration), tableRows(t), t.Requests,
			secs(p.Sync.Commit[t.Table]))
	}
	fmt.Fprintln(w)
	if p.RSS != nil {
		fmt.Fprintf(w, "memory: system_log of %d events (%d rows) in %s: peak RSS %.1f MB (target <= 250), Go heap %.1f MB\n",
			p.RSS.Logs, p.RSS.Rows, secs(p.RSS.Wall), p.RSS.MaxMB, p.RSS.GoHeapMB)
	}
}
