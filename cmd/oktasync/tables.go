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
		summary: "list the tables: keys, how they are read, who may read them",
		usage:   "oktasync tables [-v]",
		about: `List every table oktasync writes: its primary key, how it is read (in full, incrementally,
per row of another table), how deletes are captured, and the admin roles that may read it.
Indented tables are child tables, written with their parent. -v adds descriptions and the
columns with their types and sources.`,
		more: `exit status:
  0    listed
  2    usage error

example:
  oktasync tables -v | less`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
			verbose := fs.Bool("v", false, "also describe each table and list its columns with their types and sources")
			return func(_ context.Context, stdout, _ io.Writer) int {
				connector.PrintTables(stdout, *verbose)
				return exitOK
			}
		},
	}
}
