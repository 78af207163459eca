package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime"
)

const envHelp = `environment:
  OKTA_CLIENT_ORGURL  the org, e.g. https://acme.okta.com (the config's org_url wins)
  OKTA_CLIENT_TOKEN   an SSWS API token (the config's token_env names another variable)
  OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey, OKTA_CLIENT_CLIENTID, OKTA_CLIENT_PRIVATEKEY,
  OKTA_CLIENT_PRIVATEKEYID, OKTA_CLIENT_SCOPES
                      an OAuth 2.0 service app instead (the config's auth section wins)
  HTTPS_PROXY, NO_PROXY
                      a proxy, unless the config's proxy section names one`

const configHelp = `The config file (YAML; unknown keys are errors) takes org_url, token_env, auth (type oauth,
client_id, private_key_file or private_key_env, key_id, scopes, dpop), proxy (url, username,
password_env), destination (type, path, settings), reimport_every, parallel, rate_limit_reserve,
ca_file, time_scale, sync_frequency_minutes (oktasync serve), and the settings:
schema_change_handling, hash_salt_env and tables (blocking, hashing, history mode per table
and column; docs/SETTINGS.md); see README.md.`

const syncExit = `exit status:
  0    every table synced
  1    nothing synced: a config error, an unreachable org, a refused token, an error no
       request can survive (an untrusted certificate), or every table failed; with
       --models, also a model that failed after a complete sync (the others are built)
  2    usage error
  3    partial: some tables synced, others were skipped (forbidden, feature off) or failed;
       the summary's NOTE says why
  130  interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM): run the same command again
       to resume; a second Ctrl-C stops at once, and the next sync still resumes`

func syncCommand() *command {
	return &command{
		name:    "sync",
		summary: "copy an Okta org into DuckDB (--demo: a simulated org, no credentials)",
		usage:   "oktasync sync [--config FILE] [--db FILE] [--tables T1,T2] [--demo]",
		about: `Copy an Okta org into a DuckDB file. The first sync reads every table; later syncs
read only what changed, and a periodic full re-import captures deletes. Each batch commits
with the table's cursor, so an interrupted sync (Ctrl-C, kill -9) resumes where it stopped
when the same command runs again. --tables limits one run to some tables and leaves the
others as they are; to leave a table out for good, block it in the config.

` + configHelp,
		more: envHelp + "\n\n" + syncExit + `

examples:
  oktasync sync --demo                              # a simulated org, no credentials
  export OKTA_CLIENT_ORGURL=https://acme.okta.com OKTA_CLIENT_TOKEN=...
  oktasync sync --db okta.duckdb --tables users,groups,group_member`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			tables := fs.String("tables", "", "comma-separated `tables` to sync (default all; oktasync tables lists them)")
			run := syncFlags(fs)
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				return run(ctx, "sync", *tables, nil, stdout, stderr)
			}
		},
	}
}

func resyncCommand() *command {
	return &command{
		name:    "resync",
		summary: "sync, re-importing some tables (default all) from scratch",
		usage:   "oktasync resync [--tables T1,T2] [--config FILE] [--db FILE] [--demo]",
		about: `Run a sync that re-imports the named tables (default all) from scratch, for instance to
turn a table's history mode off or to start a table over; the other tables sync as usual. A
child table names its top-level table. Rows stay readable throughout: new and changed rows
land as they are read, and rows no longer in Okta are marked deleted (or their versions
closed, in history mode) only once the re-import completed. An interrupted re-sync resumes
with the next sync or resync. The System Log re-reads what Okta still serves (about 90 days)
and keeps older events.

` + configHelp + `

docs/SETTINGS.md says when a sync re-imports a table by itself (a column unblocked, hashing
changed, a column added to a spec).`,
		more: envHelp + "\n\n" + syncExit + `

examples:
  oktasync resync --db okta.duckdb --tables users   # users and its child tables
  oktasync resync --config oktasync.yaml            # every table`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			tables := fs.String("tables", "", "comma-separated `tables` to re-import (default all; a child table names its parent)")
			run := syncFlags(fs)
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				resync, err := tablesFlag(*tables)
				if err == nil {
					err = connector.CheckTableNames("--tables", resync)
				}
				if err != nil {
					return usageFailure(stderr, "resync", err)
				}
				if resync == nil {
					resync = []string{"*"}
				}
				return run(ctx, "resync", "", resync, stdout, stderr)
			}
		},
	}
}

// syncFlags defines the flags sync and resync share and returns what runs a
// sync with them: of the tables only names (nil: all), re-importing resync.
func syncFlags(fs *flag.FlagSet) func(ctx context.Context, cmd, only string, resync []string, stdout, stderr io.Writer) int {
	configPath := fs.String("config", "", "config `file` (YAML); optional: OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN suffice")
	db := fs.String("db", "", "DuckDB `file` (default okta.duckdb, or the config's destination.path)")
	demo := fs.Bool("demo", false, "sync a simulated org started in-process (no credentials)")
	jsonOut := fs.Bool("json", false, "print the summary as JSON on stdout, for scripts (see README.md)")
	verbose := fs.Bool("v", false, "debug logging")
	buildModels := fs.Bool("models", false, "after a sync that completed, build the data models (oktasync models; docs/MODELS.md)")
	d := connector.DefaultDemo
	fs.Int64Var(&d.Seed, "demo-seed", d.Seed, "demo: org seed")
	fs.IntVar(&d.Users, "demo-users", d.Users, "demo: users")
	fs.IntVar(&d.Groups, "demo-groups", d.Groups, "demo: groups")
	fs.IntVar(&d.Apps, "demo-apps", d.Apps, "demo: apps")
	fs.IntVar(&d.Devices, "demo-devices", d.Devices, "demo: devices")
	fs.IntVar(&d.Logs, "demo-logs", d.Logs, "demo: System Log events")
	return func(ctx context.Context, cmd, only string, resync []string, stdout, stderr io.Writer) int {
		cfg, tables, code := commandConfig(stderr, cmd, *configPath, only)
		if cfg == nil {
			return code
		}
		if !*demo {
			if err := cfg.ApplyEnv(os.Getenv); err != nil {
				fail(stderr, err)
				return exitError
			}
		}
		if cfg.Destination.IsPostgres() {
			// Refused before anything runs: the user meant another destination.
			if *db != "" {
				fmt.Fprintln(stderr, "oktasync: --db names a DuckDB file, and the config's destination is postgres; drop --db or the destination")
				return exitUsage
			}
			if *buildModels {
				fmt.Fprintln(stderr, "oktasync: --models: the data models are written in DuckDB's SQL and build on a DuckDB destination only (docs/MODELS.md)")
				return exitUsage
			}
		}
		if *db != "" {
			cfg.Destination.Path = *db
		}
		code = runSync(ctx, cfg, syncRun{demo: *demo, demoOrg: d, verbose: *verbose, jsonOut: *jsonOut, only: tables, resync: resync}, stdout, stderr)
		if !*buildModels {
			return code
		}
		if code != exitOK {
			fmt.Fprintln(stderr, "oktasync: models not built: the sync did not complete; the models keep their previous build")
			return code
		}
		return syncModels(ctx, cfg.Destination.DBPath(), *jsonOut, stdout, stderr)
	}
}

// syncOrg runs a sync of a real org; tests see what it is asked.
var syncOrg = connector.Sync

// syncRun is what a sync was asked to do, besides its config.
type syncRun struct {
	demo    bool
	demoOrg connector.DemoOptions
	verbose bool
	jsonOut bool
	only    []string // --tables of sync
	resync  []string
}

func runSync(ctx context.Context, cfg *connector.Config, o syncRun, stdout, stderr io.Writer) int {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opt := connector.SyncOptions{Logger: logger, Only: o.only, Resync: o.resync}
	var live *connector.LiveProgress
	if isTerminal(stderr) && !o.verbose {
		// The live line replaces per-table log lines on a terminal.
		total := 0
		if names, err := connector.Selected(cfg, opt); err == nil {
			total = len(names)
		}
		width, _ := strconv.Atoi(os.Getenv("COLUMNS"))
		live = connector.NewLiveProgress(stderr, total, width)
		opt.Progress = live.Update
		opt.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	begin := time.Now()
	var sum *runtime.Summary
	var err error
	if o.demo {
		sum, err = connector.Demo(ctx, cfg, o.demoOrg, opt)
	} else {
		sum, err = syncOrg(ctx, cfg, opt)
	}
	elapsed := time.Since(begin)
	if live != nil {
		live.Stop()
	}
	code, status, msg := syncResult(ctx, sum, err)
	switch {
	case o.jsonOut:
		doc := connector.NewSummaryJSON(sum, elapsed)
		doc.Status = status
		if status == "failed" && err != nil {
			doc.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fail(stderr, err)
			return exitError
		}
	case sum != nil:
		connector.PrintSummary(stdout, sum, elapsed)
	}
	if msg != "" {
		fail(stderr, errors.New(msg))
	}
	return code
}

// syncResult is a sync's exit status, its outcome in a word (complete,
// partial, failed, interrupted) and what to tell the user.
func syncResult(ctx context.Context, sum *runtime.Summary, err error) (code int, status, msg string) {
	if code, ok := interruptStatus(ctx); ok {
		if err != nil {
			return code, "interrupted", "interrupted; run the same command again to resume"
		}
	}
	return connector.SyncResult(sum, err)
}
