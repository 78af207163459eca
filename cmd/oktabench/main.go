// Command oktabench measures oktasync: throughput into DuckDB against the
// simulator, the ceilings of each stage, a sync under Okta's rate limits
// against its lower bound, peak memory and incremental requests. It prints a
// report and a final BENCH line; docs/PERFORMANCE.md explains the figures.
//
//	oktabench [-quick] [-only throughput,ceilings,incremental,ratelimited,settings,memory,models]
//
// BENCH_QUICK=1 in the environment is -quick.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"oktasync/internal/bench"
	"oktasync/internal/connector"
)

func main() {
	connector.UseDefaultGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == bench.ChildCommand {
		if err := bench.Child(ctx, os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "oktabench:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("oktabench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := os.Getenv("BENCH_QUICK")
	quick := fs.Bool("quick", env != "" && env != "0", "smaller sizes, under a minute (default from BENCH_QUICK)")
	only := fs.String("only", "", "comma-separated sections to run: "+strings.Join(bench.Sections, ","))
	dir := fs.String("dir", "", "scratch directory for databases (default: a temporary one, removed)")
	cpu := fs.String("cpuprofile", "", "write a CPU profile of the throughput sync to this file")
	mem := fs.String("memprofile", "", "write the allocations up to the end of the throughput sync to this file")
	set := fs.String("duckdb", "", "DuckDB settings to try on top of the connector's defaults, name=value,... (experiments)")
	scale := fs.Float64("org-scale", 1, "multiply the throughput org's sizes (experiments at in-between sizes)")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := bench.Defaults(*quick)
	if *scale != 1 {
		if *scale <= 0 {
			fmt.Fprintln(stderr, "oktabench: -org-scale must be positive")
			return 2
		}
		cfg.Org = cfg.Org.Scaled(*scale)
	}
	if *only != "" {
		for _, s := range strings.Split(*only, ",") {
			if !slices.Contains(bench.Sections, s) {
				fmt.Fprintf(stderr, "oktabench: unknown section %q; want %s\n", s, strings.Join(bench.Sections, ", "))
				return 2
			}
			cfg.Only = append(cfg.Only, s)
		}
	}
	settings, err := bench.ParseSettings(*set)
	if err != nil {
		fmt.Fprintln(stderr, "oktabench:", err)
		return 2
	}
	cfg.Settings, cfg.Dir, cfg.CPUProfile, cfg.MemProfile = settings, *dir, *cpu, *mem
	if !*quiet {
		cfg.Log = stderr
	}
	if cfg.Self, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "oktabench:", err)
		return 1
	}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "oktabench:", err)
		return 1
	}
	res.Write(stdout)
	return 0
}
