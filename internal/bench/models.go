package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"text/tabwriter"
	"time"

	"oktasync/internal/connector"
	"oktasync/internal/models"
)

// ModelsRun is the demo sync (Config.Demo, as make demo runs it) and the
// data models built twice on its database.
type ModelsRun struct {
	Demo     connector.DemoOptions
	DemoWall time.Duration
	// Builds are the two builds of every model, Prepare included; Best is
	// the faster, whose per-model times the report prints.
	Builds []time.Duration
	Best   *models.Result
}

// Ratio is the faster build over the demo sync's wall time.
func (m *ModelsRun) Ratio() float64 {
	return m.Best.Duration.Seconds() / m.DemoWall.Seconds()
}

func modelsRun(ctx context.Context, cfg *Config) (*ModelsRun, error) {
	run := &ModelsRun{Demo: cfg.Demo}
	path := filepath.Join(cfg.Dir, "models-demo.duckdb")
	cfg.logf("models: demo sync (%d users, %d events) into %s", cfg.Demo.Users, cfg.Demo.Logs, path)
	c := &connector.Config{Destination: connector.Destination{Path: path}}
	start := time.Now()
	if _, err := connector.Demo(ctx, c, cfg.Demo, connector.SyncOptions{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return nil, fmt.Errorf("models: demo sync: %w", err)
	}
	run.DemoWall = time.Since(start)
	pack, err := models.Pack()
	if err != nil {
		return nil, err
	}
	for i := range 2 {
		cfg.logf("models: build %d of 2", i+1)
		db, err := models.Open(path)
		if err != nil {
			return nil, err
		}
		res, err := models.Run(ctx, db, pack)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
		if res.Failed() > 0 {
			return nil, fmt.Errorf("models: %d of %d failed on the demo org", res.Failed(), len(res.Outcomes))
		}
		run.Builds = append(run.Builds, res.Duration)
		if run.Best == nil || res.Duration < run.Best.Duration {
			run.Best = res
		}
	}
	return run, nil
}

func writeModels(w io.Writer, m *ModelsRun) {
	d := m.Demo
	fmt.Fprintf(w, "\nMODELS: the data models built on the demo org (oktasync sync --demo --models: %d users, %d groups, %d apps, %d events)\n",
		d.Users, d.Groups, d.Apps, d.Logs)
	fmt.Fprintf(w, "demo sync %s; models built twice: %s and %s, the faster per model:\n", secs(m.DemoWall), secs(m.Builds[0]), secs(m.Builds[1]))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MODEL\tKIND\tROWS\tTIME\t")
	for _, o := range m.Best.Outcomes {
		rows := "-"
		if o.Rows >= 0 {
			rows = fmt.Sprint(o.Rows)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", o.Model.Name, o.Model.Materialized, rows, secs(o.Duration))
	}
	tw.Flush()
	fmt.Fprintf(w, "models / demo sync: %.3f (target < 0.10)\n", m.Ratio())
}
