package main

import (
	"context"
	"flag"
	"io"

	"oktasync/internal/connector"
)

func tablesCommand() *command {
	return &command{
		name:    "tables",
		summary: "list the tables: keys, how they are read, who may read them, their settings",
		usage:   "oktasync tables [-v] [--config FILE]",
		about: `List every table oktasync writes: its primary key, how it is read (in full, incrementally,
per row of another table), how deletes are captured, what the config's settings make of it
(written or blocked, history mode, hashed and blocked columns), and the admin roles that may
read it. Indented tables are child tables, written with their parent. -v adds descriptions,
the columns with their types as written, settings and sources, and for history tables what
opens a version.`,
		more: `exit status:
  0    listed
  1    a config error
  2    usage error

examples:
  oktasync tables -v | less
  oktasync tables --config oktasync.yaml   # the settings of this config`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			verbose := fs.Bool("v", false, "also describe each table and list its columns with their types, settings and sources")
			configPath := fs.String("config", "", "config `file` (YAML) whose settings to show (default: none, every table as it comes)")
			return func(_ context.Context, stdout, stderr io.Writer) int {
				cfg, err := loadConfig(*configPath)
				if err != nil {
					fail(stderr, err)
					return exitError
				}
				connector.PrintTables(stdout, *verbose, cfg)
				return exitOK
			}
		},
	}
}
