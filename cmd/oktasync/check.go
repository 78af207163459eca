package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"oktasync/internal/connector"
)

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "report, per table, whether the token can read it (writes nothing)",
		usage:   "oktasync check [--config FILE] [--tables T1,T2]",
		about: `Ask the org, per table, for the first page a sync would read, and report whether the
token may read it; for the tables it may not, the admin roles and scope they need. Tables
the config blocks are not asked, unless a child table written needs them read. A postgres
destination is checked too: it must connect and let the user create the tables (or their
schema). Nothing is written.

` + configHelp,
		more: envHelp + `

exit status:
  0    every table can be read
  1    a config error, an unreachable org, a refused token, no table can be read, or
       the destination (postgres) cannot be reached or written
  2    usage error
  3    some tables cannot be read (forbidden, feature off, or an error): a sync would be
       partial (sync exits 3 too)
  130  interrupted (SIGINT), 143 terminated (SIGTERM)

example:
  export OKTA_CLIENT_ORGURL=https://acme.okta.com OKTA_CLIENT_TOKEN=...
  oktasync check`,
		stray: strayHint,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			configPath := fs.String("config", "", "config `file` (YAML); optional: OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN suffice")
			tables := fs.String("tables", "", "comma-separated `tables` to check (default all)")
			return func(ctx context.Context, stdout, stderr io.Writer) int {
				cfg, only, code := commandConfig(stderr, "check", *configPath, *tables)
				if cfg == nil {
					return code
				}
				if err := cfg.ApplyEnv(os.Getenv); err != nil {
					fail(stderr, err)
					return exitError
				}
				results, ok, err := connector.Check(ctx, cfg, connector.SyncOptions{Only: only})
				if code, stopped := interruptStatus(ctx); stopped {
					fmt.Fprintln(stderr, "oktasync: interrupted")
					return code
				}
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				connector.PrintCheck(stdout, results)
				// The destination too: a sync that can read but not write fails.
				if what, err := connector.CheckDestination(ctx, cfg.Destination); what != "" {
					if err != nil {
						fail(stderr, err)
						return exitError
					}
					fmt.Fprintf(stdout, "destination %s: writable\n", what)
				}
				if connector.NoneReadable(results) {
					fmt.Fprintln(stderr, "oktasync: no table can be read (see DETAIL)")
					return exitError
				}
				if !ok {
					fmt.Fprintln(stderr, "oktasync: some tables cannot be read (see DETAIL); a sync would be partial")
					return exitPartial
				}
				return exitOK
			}
		},
	}
}
