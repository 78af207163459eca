// Command oktasync copies an Okta org into DuckDB.
//
//	oktasync sync [--config oktasync.yaml] [--db okta.duckdb] [--demo] [--json]
//	oktasync resync [--tables t1,t2] [the flags of sync]
//	oktasync check [--config oktasync.yaml] [--tables t1,t2]
//	oktasync tables [-v] [--config oktasync.yaml]
//	oktasync sim [--addr 127.0.0.1:0] [--seed 1] [--users N] ...
//	oktasync detect [--db okta.duckdb] [--since 72h] [--json]
//	oktasync models [--db okta.duckdb] [--select m1,m2] [--json]
//	oktasync export --out DIR [--db okta.duckdb | --config oktasync.yaml] [--tables t1,t2] [--include-deleted]
//	oktasync serve [--addr 127.0.0.1:8080] [--config oktasync.yaml] [--state FILE] | --create-key
//
// `oktasync help COMMAND` describes each command, its environment variables
// and exit statuses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"oktasync/internal/connector"
)

// Exit statuses shared by every command; a command stopped by a signal exits
// 128+signal (130 for SIGINT, 143 for SIGTERM).
const (
	exitOK      = connector.ExitOK
	exitError   = connector.ExitFailed
	exitUsage   = 2
	exitPartial = connector.ExitPartial
)

func main() {
	connector.UseDefaultGC()
	ctx, stop := notifyContext(context.Background())
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// interrupted is the cancel cause of a command stopped by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// notifyContext is signal.NotifyContext that remembers which signal ended
// it, for the exit status. After the first signal a second one takes its
// default action and ends the process at once; a sync resumes either way.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(interrupted{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// interruptStatus is the exit status of a command whose context a signal
// canceled, and whether one did.
func interruptStatus(ctx context.Context) (int, bool) {
	var i interrupted
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &i) {
		return 128 + int(i.sig), true
	}
	return 0, false
}

// command is one subcommand: its flags, its help and what it does.
type command struct {
	name    string
	summary string // one line in the command list
	usage   string // the synopsis after "usage: "
	// about is the help after the synopsis and before the flags; more
	// (environment, exit statuses, examples) comes after them.
	about, more string
	// setup defines the flags and returns what runs once they are parsed.
	setup func(fs *flag.FlagSet) func(ctx context.Context, stdout, stderr io.Writer) int
	// stray explains what to write instead of an unexpected argument.
	stray func(arg string) string
}

func commands() []*command {
	return []*command{syncCommand(), resyncCommand(), checkCommand(), tablesCommand(), simCommand(), detectCommand(), modelsCommand(), exportCommand(), serveCommand()}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			printUsage(stdout)
			return exitOK
		}
		c := lookup(args[1])
		if c == nil || len(args) > 2 {
			fmt.Fprintf(stderr, "oktasync help: no command %q; the commands are %s\n", strings.Join(args[1:], " "), commandNames())
			return exitUsage
		}
		fs := c.flags()
		c.setup(fs)
		c.printHelp(stdout, fs)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "oktasync: unknown command %q; the commands are %s (oktasync help)\n", args[0], commandNames())
		return exitUsage
	}
	return c.main(ctx, args[1:], stdout, stderr)
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `oktasync copies an Okta org into a DuckDB file, table for table.

usage: oktasync <command> [flags]

commands:
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help\thelp on a command: oktasync help sync\n")
	fmt.Fprintf(tw, "  version\tprint the version (also --version)\n")
	tw.Flush()
	fmt.Fprint(w, `
Try it without an Okta org:  oktasync sync --demo
With one:                    export OKTA_CLIENT_ORGURL=https://acme.okta.com OKTA_CLIENT_TOKEN=...
                             oktasync check && oktasync sync --db okta.duckdb
`)
}

// flags returns the command's flag set, for parsing and for help.
func (c *command) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	// Errors are printed by main with the command's name; help goes to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func (c *command) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := c.flags()
	body := c.setup(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "oktasync %s: %v\nusage: %s (oktasync help %s)\n", c.name, err, c.usage, c.name)
		return exitUsage
	}
	if fs.NArg() > 0 {
		// Arguments are never ignored: `sync my.duckdb` must not write to
		// ./okta.duckdb.
		arg := fs.Arg(0)
		hint := c.name + " takes no arguments, only flags"
		if c.stray != nil {
			if h := c.stray(arg); h != "" {
				hint = h
			}
		}
		fmt.Fprintf(stderr, "oktasync %s: unexpected argument %q: %s\nusage: %s (oktasync help %s)\n", c.name, arg, hint, c.usage, c.name)
		return exitUsage
	}
	return body(ctx, stdout, stderr)
}

func (c *command) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.usage, strings.TrimSpace(c.about))
	if hasFlags(fs) {
		fmt.Fprint(w, "\nflags:\n")
		printFlags(w, fs)
	}
	if c.more != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.more))
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags lists flags as --name VALUE  usage (default ...).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		name := "  --" + f.Name
		if len(f.Name) == 1 {
			name = "  -" + f.Name
		}
		if arg != "" {
			name += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, usage)
	})
	tw.Flush()
}

// version is the module version and the commit the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "oktasync (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", with uncommitted changes"
			}
		}
	}
	out := "oktasync " + v
	if rev != "" {
		out += " (commit " + rev
		if when != "" {
			out += " of " + when
		}
		out += modified + ")"
	}
	return out + " " + bi.GoVersion
}

// splitList splits a comma-separated flag value, trimming spaces and
// dropping empty and repeated items (" users, groups," is users and groups).
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

// tablesFlag is the value of --tables: nil when not given, a usage error
// when it names no table.
func tablesFlag(value string) ([]string, error) {
	if value == "" {
		return nil, nil
	}
	list := splitList(value)
	if len(list) == 0 {
		return nil, fmt.Errorf("--tables %q names no table; oktasync tables lists them", value)
	}
	return list, nil
}

// strayHint suggests the flag a stray argument was probably meant for.
func strayHint(arg string) string {
	lower := strings.ToLower(arg)
	switch {
	case strings.HasSuffix(lower, ".duckdb") || strings.HasSuffix(lower, ".db") || strings.HasSuffix(lower, ".ddb"):
		return "did you mean --db " + arg + "?"
	case strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml"):
		return "did you mean --config " + arg + "?"
	case connector.IsTable(strings.TrimSuffix(arg, ",")):
		return "did you mean --tables " + arg + "?"
	}
	return ""
}

// commandConfig is the config a command runs with, the file's if any, and
// the tables the --tables flag names (nil: all); a table that does not
// exist is a usage error. A nil config comes with the exit status.
func commandConfig(stderr io.Writer, cmd, configPath, tablesValue string) (*connector.Config, []string, int) {
	tables, err := tablesFlag(tablesValue)
	if err == nil {
		err = connector.CheckTableNames("--tables", tables)
	}
	if err != nil {
		return nil, nil, usageFailure(stderr, cmd, err)
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		fail(stderr, err)
		return nil, nil, exitError
	}
	return cfg, tables, 0
}

// usageFailure reports a flag value that makes no sense.
func usageFailure(w io.Writer, cmd string, err error) int {
	fmt.Fprintf(w, "oktasync %s: %v\nusage: oktasync %s [flags] (oktasync help %s)\n", cmd, err, cmd, cmd)
	return exitUsage
}

// fail prints an error, one "oktasync:" line per line of it.
func fail(w io.Writer, err error) {
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintln(w, "oktasync:", line)
	}
}

// loadConfig reads the config file, or starts from an empty config when no
// file is named (the environment then supplies the org and token).
func loadConfig(path string) (*connector.Config, error) {
	if path == "" {
		return &connector.Config{}, nil
	}
	return connector.LoadConfig(path)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
