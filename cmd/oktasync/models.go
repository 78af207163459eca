package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"oktasync/internal/models"
)

func modelsCommand() *command {
	return &command{
		name:    "models",
		summary: "build the data models (access, admin privileges, MFA, dormant accounts, ...) in a synced database",
		usage:   "oktasync models [--db FILE] [--select M1,M2] [--json] [--list]",
		about: `Materialise the data models into the schema okta_models of a DuckDB file a sync wrote:
who can reach which application and why, who holds admin power, who has no strong factor,
dormant and orphaned accounts, group membership over time, sign-in facts, the admin audit
trail, application usage and policy coverage (--list; docs/MODELS.md). Each model is a SQL
file with a header giving its grain, key and columns; they run in the order their SQL reads
each other, each in one transaction. A model that fails is named with its file and line,
keeps its previous table or view, and the models reading it are skipped; the others run.
--select builds the models named and the models they read. sync --models runs them after a
successful sync.`,
		more: `exit status:
  0    every model built
  1    an error: the database cannot be opened, or a model failed or was skipped (each is
       named with its file, line and the database's error; the others were built)
  2    usage error
  130  interrupted (SIGINT), 143 terminated (SIGTERM)

examples:
  oktasync models --db okta.duckdb
  oktasync models --db okta.duckdb --select dormant_accounts --json
  oktasync models --list`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			db := fs.String("db", "okta.duckdb", "DuckDB `file` a sync wrote")
			sel := fs.String("select", "", "comma-separated `models` to build, with the models they read (default all; --list lists them)")
			jsonOut := fs.Bool("json", false, "print one JSON object a line per model")
			list := fs.Bool("list", false, "list the models in the order they run and exit")
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				pack, err := models.Pack()
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				if *sel != "" {
					names := splitList(*sel)
					if len(names) == 0 {
						return usageFailure(stderr, "models", fmt.Errorf("--select %q names no model", *sel))
					}
					if pack, err = models.Select(pack, names); err != nil {
						return usageFailure(stderr, "models", fmt.Errorf("--select: %w", err))
					}
				}
				if *list {
					models.PrintList(stdout, pack)
					return exitOK
				}
				return runModels(ctx, *db, pack, *jsonOut, stdout, stderr)
			}
		},
	}
}

// runModels builds models in the database file at path and reports them.
func runModels(ctx context.Context, path string, pack []*models.Model, jsonOut bool, stdout, stderr io.Writer) int {
	db, err := models.Open(path)
	if err != nil {
		fail(stderr, err)
		return exitError
	}
	defer db.Close()
	res, err := models.Run(ctx, db, pack)
	if code, stopped := interruptStatus(ctx); stopped {
		fmt.Fprintln(stderr, "oktasync: interrupted; the models built so far are kept")
		return code
	}
	if err != nil {
		fail(stderr, err)
		return exitError
	}
	if jsonOut {
		if err := models.PrintResultJSON(stdout, res); err != nil {
			fail(stderr, err)
			return exitError
		}
	} else {
		models.PrintResult(stdout, res)
	}
	models.PrintFailures(stderr, "oktasync: ", res)
	if n := res.Failed(); n > 0 {
		fmt.Fprintf(stderr, "oktasync: %d of %d models failed or were skipped; the others are built\n", n, len(res.Outcomes))
		return exitError
	}
	return exitOK
}

// syncModels builds every model after a sync. With --json the sync's
// document holds stdout, so the models' report goes to stderr.
func syncModels(ctx context.Context, path string, jsonOut bool, stdout, stderr io.Writer) int {
	pack, err := models.Pack()
	if err != nil {
		fail(stderr, err)
		return exitError
	}
	out := stdout
	if jsonOut {
		out = stderr
	} else {
		fmt.Fprintln(stdout)
	}
	return runModels(ctx, path, pack, false, out, stderr)
}
