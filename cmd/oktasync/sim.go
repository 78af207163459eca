package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"oktasync/oktasim"
)

// simTokenFlag collects repeated --token TOKEN=ROLE values.
type simTokenFlag []string

func (f *simTokenFlag) String() string     { return strings.Join(*f, ",") }
func (f *simTokenFlag) Set(v string) error { *f = append(*f, v); return nil }

// runSim implements `oktasync sim`; args exclude the subcommand name. It prints
// "listening on http://127.0.0.1:PORT" as the first line on stdout and serves until ctx is done.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback only unless --allow-non-loopback)")
	seed := fs.Int64("seed", 1, "seed of the generated org")
	users := fs.Int("users", 0, "number of users (0: default 200)")
	groups := fs.Int("groups", 0, "number of groups incl. Everyone (0: proportional)")
	apps := fs.Int("apps", 0, "number of apps (0: default 12)")
	devices := fs.Int("devices", 0, "number of devices (0: proportional, -1: none)")
	logs := fs.Int("logs", 0, "number of System Log events (0: proportional)")
	now := fs.String("now", "", "a fixed org clock, RFC 3339, e.g. "+oktasim.DefaultNow.Format(time.RFC3339)+" (default: the real clock)")
	rateLimits := fs.String("rate-limits", "okta", "okta (enforce Okta's default limits) or off")
	timeScale := fs.Float64("time-scale", 1, "speed of the wire clock (Date, rate-limit windows) relative to real time")
	faults := fs.String("faults", "", "fault rates, e.g. 500=0.02,reset=0.01,truncate=0.01,slow=0.01:200ms,429storm=0.005")
	var tokens simTokenFlag
	fs.Var(&tokens, "token", "API token and its admin role, TOKEN=ROLE (repeatable; default demo-token=SUPER_ADMIN)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	caOut := fs.String("ca-out", "", "with --tls, write the certificate (PEM) to this file")
	linkBase := fs.String("link-base-url", "", "base URL for _links in bodies (default: the URL the client called)")
	allowNonLoopback := fs.Bool("allow-non-loopback", false, "allow listening on non-loopback addresses")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // usage already printed
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sim: unexpected arguments %q", fs.Args())
	}
	if *caOut != "" && !*useTLS {
		return errors.New("sim: --ca-out needs --tls")
	}
	cfg := oktasim.Config{Seed: *seed, Users: *users, Groups: *groups, Apps: *apps, Devices: *devices, Logs: *logs,
		TimeScale: *timeScale, LinkBaseURL: *linkBase, AllowNonLoopback: *allowNonLoopback}
	var err error
	if *now != "" {
		if cfg.Now, err = time.Parse(time.RFC3339, *now); err != nil {
			return fmt.Errorf("sim: --now: %w", err)
		}
	}
	if cfg.RateLimits, err = oktasim.ParseRateLimitMode(*rateLimits); err != nil {
		return fmt.Errorf("sim: --rate-limits: %w", err)
	}
	if cfg.Faults, err = oktasim.ParseFaults(*faults); err != nil {
		return fmt.Errorf("sim: --faults: %w", err)
	}
	if cfg.Tokens, err = oktasim.ParseTokens(tokens); err != nil {
		return fmt.Errorf("sim: --token: %w", err)
	}
	sim, err := oktasim.New(cfg)
	if err != nil {
		return err // already "oktasim: ..."
	}
	var url string
	if *useTLS {
		url, err = sim.StartTLS(*addr, *caOut)
	} else {
		url, err = sim.Start(*addr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	info := sim.Info()
	toks := make([]string, 0, len(sim.Config().Tokens))
	for t, r := range sim.Config().Tokens {
		toks = append(toks, t+"="+r)
	}
	sort.Strings(toks)
	fmt.Fprintf(stderr, "oktasim: seed %d, %d users, %d groups, %d apps, %d devices, %d log events; rate limits %s, time scale %g; tokens %s; control at %s/__sim/\n",
		info.Seed, info.Users, info.Groups, info.Apps, info.Devices, info.LogEvents, info.RateLimits, info.TimeScale, strings.Join(toks, " "), url)
	<-ctx.Done()
	return sim.Close()
}
