package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"oktasync/internal/detect"
)

// exitHits is detect's status when a detection found something.
const exitHits = 3

func detectCommand() *command {
	return &command{
		name:    "detect",
		summary: "run the detection pack (attacks in the System Log) over a synced database",
		usage:   "oktasync detect [--db FILE] [--since TIME|DURATION] [--only ID,ID] [--json] [--list]",
		about: `Run the detection pack over a DuckDB file a sync wrote, read-only: password spraying,
credential stuffing, MFA push fatigue, session replay, impossible travel, privilege
escalation, support impersonation, rogue identity providers, a password typed as a user
name, and more (--list; docs/DETECTIONS.md). Each detection is a SQL file with a header
naming its ATT&CK technique, severity and the tables and columns it reads. Hits print as
a table, or with --json one JSON object a line with the detection's evidence. A detection
whose tables or columns are missing (blocked in the config, never synced) fails with the
database's error and the others still run.`,
		more: `exit status:
  0    no detection found anything
  1    an error: the database cannot be opened, or a detection failed (its id, file and
       error are printed; the hits of the others are still printed)
  2    usage error
  3    hits: at least one detection found something, and none failed
  130  interrupted (SIGINT), 143 terminated (SIGTERM)

examples:
  oktasync detect --db okta.duckdb --since 72h
  oktasync detect --db okta.duckdb --only okta_password_spray,okta_mfa_push_fatigue --json
  oktasync detect --list`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			db := fs.String("db", "okta.duckdb", "DuckDB `file` a sync wrote (opened read-only)")
			since := fs.String("since", "", "only events published at or after `TIME`: RFC 3339, a date, or a duration back from now (72h) (default: the whole log)")
			only := fs.String("only", "", "comma-separated detection `ids` to run (default all; --list lists them)")
			jsonOut := fs.Bool("json", false, "print one JSON object a line (hits with their evidence; with --list, detections)")
			list := fs.Bool("list", false, "list the detections of the pack and exit")
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				pack, err := detect.Pack()
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				if *only != "" {
					ids := splitList(*only)
					if len(ids) == 0 {
						return usageFailure(stderr, "detect", fmt.Errorf("--only %q names no detection", *only))
					}
					if pack, err = detect.Select(pack, ids); err != nil {
						return usageFailure(stderr, "detect", fmt.Errorf("--only: %w", err))
					}
				}
				if *list {
					if *jsonOut {
						if err := detect.PrintListJSON(stdout, pack); err != nil {
							fail(stderr, err)
							return exitError
						}
						return exitOK
					}
					detect.PrintList(stdout, pack)
					return exitOK
				}
				from, err := detect.ParseSince(*since, time.Now())
				if err != nil {
					return usageFailure(stderr, "detect", err)
				}
				sqlDB, err := detect.Open(*db)
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				defer sqlDB.Close()
				res, err := detect.Run(ctx, sqlDB, pack, from)
				if code, stopped := interruptStatus(ctx); stopped {
					fmt.Fprintln(stderr, "oktasync: interrupted")
					return code
				}
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				if *jsonOut {
					if err := detect.PrintHitsJSON(stdout, res.Hits); err != nil {
						fail(stderr, err)
						return exitError
					}
				} else if len(res.Hits) > 0 {
					detect.PrintHits(stdout, res.Hits)
				}
				detect.PrintFailures(stderr, "oktasync: ", res.Failures)
				switch {
				case len(res.Failures) > 0:
					fmt.Fprintf(stderr, "oktasync: %d of %d detections failed; %d hits from the others\n", len(res.Failures), len(pack), len(res.Hits))
					return exitError
				case len(res.Hits) > 0:
					if !*jsonOut {
						fmt.Fprintf(stderr, "oktasync: %d hits from %d detections\n", len(res.Hits), len(pack))
					}
					return exitHits
				}
				if !*jsonOut {
					fmt.Fprintf(stderr, "oktasync: no hits from %d detections\n", len(pack))
				}
				return exitOK
			}
		},
	}
}
