package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"oktasync/internal/connector"
	"oktasync/internal/export"
	"oktasync/runtime/dest/postgres"
)

func exportCommand() *command {
	return &command{
		name:    "export",
		summary: "write a synced database's tables as Parquet, for Spark, Trino, Athena or DuckDB",
		usage:   "oktasync export --out DIR [--db FILE | --config FILE] [--tables T1,T2] [--include-deleted] [--overwrite]",
		about: `Write a snapshot of the tables a sync wrote as Parquet files, one directory per table
(DIR/users/data_0.parquet), the System Log in Hive partitions by UTC day of published
(DIR/system_log/day=2026-01-15/data_0.parquet), and DIR/_manifest.json listing each
table's files, rows, key, mode and columns (docs/EXPORT.md). Every table is read in one
transaction, so the snapshot is of one instant; it is written beside DIR and renamed into
place at the end, so a failed or interrupted export leaves no DIR (or the previous one,
untouched). Rows marked deleted, and closed versions of history-mode tables, are left out
unless --include-deleted.

The source is the DuckDB file --db names (default okta.duckdb, or the --config file's
destination.path), opened read-only: a sync running on it blocks the export, and the
other way round. When the --config file's destination is postgres, the source is its
schema, reached with the DSN in its dsn_env variable (OKTASYNC_PG_DSN by default): every
table is read in one REPEATABLE READ, READ ONLY transaction, so syncs go on meanwhile,
and copied into a temporary DuckDB file beside DIR, removed at the end.`,
		more: `exit status:
  0    exported
  1    an error: the database cannot be opened or holds no synced table, DIR is not empty
       (without --overwrite), or writing failed (nothing was written to DIR)
  2    usage error (--db with a postgres destination), or --tables names a table the
       database does not hold
  130  interrupted (SIGINT), 143 terminated (SIGTERM); nothing was written to DIR

examples:
  oktasync export --db okta.duckdb --out okta-parquet
  oktasync export --db okta.duckdb --out okta-parquet --overwrite --tables users,groups,group_member
  OKTASYNC_PG_DSN=postgres://... oktasync export --config oktasync.yaml --out okta-parquet`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			db := fs.String("db", "", "DuckDB `file` a sync wrote, opened read-only (default okta.duckdb, or the config's destination.path)")
			configPath := fs.String("config", "", "config `file` (YAML) whose destination to export: its DuckDB file or its postgres schema")
			out := fs.String("out", "", "output directory `DIR` (required); must not exist or be empty, unless --overwrite")
			format := fs.String("format", "parquet", "file `format`; only parquet")
			tables := fs.String("tables", "", "comma-separated `tables` to export (default every synced table)")
			includeDeleted := fs.Bool("include-deleted", false, "also export rows marked deleted and closed versions of history-mode tables")
			overwrite := fs.Bool("overwrite", false, "replace DIR when it holds a previous export")
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				if *format != "parquet" {
					return usageFailure(stderr, "export", fmt.Errorf("--format %q: only parquet is supported", *format))
				}
				if *out == "" {
					return usageFailure(stderr, "export", errors.New("--out DIR is required"))
				}
				opt := export.Options{Out: *out, Overwrite: *overwrite, IncludeDeleted: *includeDeleted}
				if *tables != "" {
					if opt.Tables = splitList(*tables); len(opt.Tables) == 0 {
						return usageFailure(stderr, "export", fmt.Errorf("--tables %q names no table", *tables))
					}
				}
				cfg, err := loadConfig(*configPath)
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				dest := cfg.Destination
				switch {
				case dest.IsPostgres():
					if *db != "" {
						return usageFailure(stderr, "export", errors.New("--db names a DuckDB file, and the config's destination is postgres; drop --db or --config"))
					}
					return runExport(ctx, opt, stdout, stderr, func(ctx context.Context, opt export.Options) (*export.Result, error) {
						d, err := connector.OpenDestination(ctx, dest, nil)
						if err != nil {
							return nil, err
						}
						defer d.Close()
						pg, ok := d.(*postgres.DB)
						if !ok {
							return nil, fmt.Errorf("export: destination %s is a %T, not postgres", dest.Name(), d)
						}
						return export.RunPostgres(ctx, pg, opt)
					})
				case dest.Type != "" && dest.Type != connector.DestDuckDB:
					fail(stderr, fmt.Errorf("%s: destination type %q is not supported; want duckdb or postgres", *configPath, dest.Type))
					return exitError
				}
				path := *db
				if path == "" {
					path = dest.DBPath()
				}
				return runExport(ctx, opt, stdout, stderr, func(ctx context.Context, opt export.Options) (*export.Result, error) {
					db, err := export.Open(path)
					if err != nil {
						return nil, err
					}
					defer db.Close()
					return export.Run(ctx, db, opt)
				})
			}
		},
	}
}

// runExport runs an export of one source (export.Run or RunPostgres) and
// reports it.
func runExport(ctx context.Context, opt export.Options, stdout, stderr io.Writer, run func(context.Context, export.Options) (*export.Result, error)) int {
	start := time.Now()
	if isTerminal(stderr) {
		opt.Progress = func(t export.Table, done, total int) {
			fmt.Fprintf(stderr, "\r\033[Kexported %d of %d tables: %s", done, total, t.Name)
		}
	}
	res, err := run(ctx, opt)
	if opt.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if code, stopped := interruptStatus(ctx); stopped {
		fmt.Fprintf(stderr, "oktasync: interrupted; nothing was written to %s\n", opt.Out)
		return code
	}
	var unknown *export.UnknownTableError
	if errors.As(err, &unknown) {
		return usageFailure(stderr, "export", fmt.Errorf("--tables: %w", err))
	}
	if err != nil {
		fail(stderr, err)
		return exitError
	}
	m := res.Manifest
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tFILES\tSIZE")
	var rows, size int64
	var files int
	for _, t := range m.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Name, t.Rows, len(t.Files), bytesText(t.Bytes))
		rows += t.Rows
		files += len(t.Files)
		size += t.Bytes
	}
	tw.Flush()
	deleted := "deleted rows left out"
	if m.IncludeDeleted {
		deleted = "deleted rows included"
	}
	fmt.Fprintf(stdout, "\nexported %d tables, %d rows, %d files, %s to %s in %s (%s)\n",
		len(m.Tables), rows, files, bytesText(size), res.Out, time.Since(start).Round(time.Millisecond), deleted)
	if res.Leftover != "" {
		fmt.Fprintf(stderr, "oktasync: the previous export, moved aside to %s, could not be removed: %v\n", res.Leftover, res.LeftoverErr)
	}
	return exitOK
}

// bytesText writes a size in B, kB, MB or GB (powers of 1000, as du --si).
func bytesText(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
