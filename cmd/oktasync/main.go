// Command oktasync copies an Okta org into DuckDB.
//
//	oktasync sync [--config oktasync.yaml] [--db okta.duckdb] [--demo]
//	oktasync tables [-v]
//	oktasync sim --addr 127.0.0.1:0 --seed 1 --users N ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime"
)

const usage = `usage: oktasync <command> [flags]

commands:
  sync     copy an Okta org into DuckDB (--demo: a simulated org, no credentials)
  check    report, per table, whether the credentials can read it (no sync)
  tables   list the tables, their keys, how they are read and who may read them
  sim      serve a simulated Okta org on a loopback port
`

func main() {
	connector.UseDefaultGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses: 0 success, 1 error, 2 usage, 3 partial sync.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "sync":
		return runSync(ctx, args[1:], stdout, stderr)
	case "tables":
		fs := flag.NewFlagSet("tables", flag.ContinueOnError)
		verbose := fs.Bool("v", false, "also list columns with their types and sources")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		connector.PrintTables(stdout, *verbose)
		return 0
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "sim":
		err = runSim(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "oktasync: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "oktasync:", err)
		return 1
	}
	return 0
}

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (YAML); optional: OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN suffice")
	db := fs.String("db", "", "DuckDB file (default okta.duckdb, or the config's destination.path)")
	demo := fs.Bool("demo", false, "sync a simulated org started in-process (no credentials)")
	tables := fs.String("tables", "", "comma-separated tables to sync (default all)")
	d := connector.DefaultDemo
	fs.Int64Var(&d.Seed, "demo-seed", d.Seed, "demo: org seed")
	fs.IntVar(&d.Users, "demo-users", d.Users, "demo: users")
	fs.IntVar(&d.Groups, "demo-groups", d.Groups, "demo: groups")
	fs.IntVar(&d.Apps, "demo-apps", d.Apps, "demo: apps")
	fs.IntVar(&d.Devices, "demo-devices", d.Devices, "demo: devices")
	fs.IntVar(&d.Logs, "demo-logs", d.Logs, "demo: System Log events")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "oktasync:", err)
		return 1
	}
	if *db != "" {
		cfg.Destination.Path = *db
	}
	if *tables != "" {
		cfg.Tables = strings.Split(*tables, ",")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opt := connector.SyncOptions{Logger: logger}
	if v := os.Getenv("OKTASYNC_NOW"); v != "" {
		// Fixes the sync clock (cursors, _fivetran_synced, the System Log start
		// window): for reproducible runs against a simulated org.
		now, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fmt.Fprintln(stderr, "oktasync: OKTASYNC_NOW:", err)
			return 2
		}
		opt.Now = func() time.Time { return now }
	}
	var live *connector.LiveProgress
	if isTerminal(stderr) && !*verbose {
		// The live line replaces per-table log lines on a terminal.
		live = connector.NewLiveProgress(stderr)
		opt.Progress = live.Update
		opt.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var sum *runtime.Summary
	if *demo {
		sum, err = connector.Demo(ctx, cfg, d, opt)
	} else {
		cfg.ApplyEnv(os.Getenv)
		sum, err = connector.Sync(ctx, cfg, opt)
	}
	if live != nil {
		live.Stop()
	}
	if sum != nil {
		connector.PrintSummary(stdout, sum)
	}
	switch {
	case errors.Is(err, runtime.ErrPartial):
		fmt.Fprintln(stderr, "oktasync: sync incomplete: some tables were skipped or failed (see NOTE)")
		return 3
	case err != nil:
		fmt.Fprintln(stderr, "oktasync:", err)
		return 1
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (YAML); optional: OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN suffice")
	tables := fs.String("tables", "", "comma-separated tables to check (default all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, "oktasync:", err)
		return 1
	}
	if *tables != "" {
		cfg.Tables = strings.Split(*tables, ",")
	}
	cfg.ApplyEnv(os.Getenv)
	results, ok, err := connector.Check(ctx, cfg, connector.SyncOptions{})
	if err != nil {
		fmt.Fprintln(stderr, "oktasync:", err)
		return 1
	}
	connector.PrintCheck(stdout, results)
	if !ok {
		fmt.Fprintln(stderr, "oktasync: some tables cannot be read")
		return 1
	}
	return 0
}

// loadConfig reads the config file, or starts from an empty config when no
// file is named (the environment then supplies the org and token).
func loadConfig(path string) (*connector.Config, error) {
	if path == "" {
		return &connector.Config{}, nil
	}
	return connector.LoadConfig(path)
}
