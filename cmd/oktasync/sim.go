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

// simTokenFlag collects the values of a repeated flag (--token, --oauth-client).
type simTokenFlag []string

func (f *simTokenFlag) String() string     { return strings.Join(*f, ",") }
func (f *simTokenFlag) Set(v string) error { *f = append(*f, v); return nil }

func simCommand() *command {
	return &command{
		name:    "sim",
		summary: "serve a simulated Okta org on a loopback port",
		usage:   "oktasync sim [--addr 127.0.0.1:0] [--seed 1] [--users N] [--log-days 30] [--scenarios all|none|LIST] [flags]",
		about: `Serve a simulated Okta org (seeded and deterministic) until interrupted. The first line on
stdout is "listening on URL"; point a sync at it with OKTA_CLIENT_ORGURL=URL and
OKTA_CLIENT_TOKEN=demo-token (a Super Admin; --token adds tokens with other roles). The System
Log spans --log-days and tells the attack scenarios --scenarios names (default all; see
docs/SIMULATOR.md).

--oauth-client ID=PUBLIC_KEY_FILE:SCOPES[:dpop] registers an OAuth 2.0 service app (client
credentials with a private_key_jwt assertion at URL/oauth2/v1/token; it acts as a Super Admin):
PUBLIC_KEY_FILE is PEM (PUBLIC KEY or RSA PUBLIC KEY) or a JWK, SCOPES a comma-separated list
such as okta.users.read,okta.groups.read, and :dpop makes the app require DPoP. Sync with
OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey, OKTA_CLIENT_CLIENTID=ID, OKTA_CLIENT_PRIVATEKEY (the
private key) and OKTA_CLIENT_SCOPES.`,
		more: `exit status:
  0    served until stopped (Ctrl-C or SIGTERM)
  1    could not start (address in use, a bad --token)
  2    usage error

example:
  oktasync sim --users 1000 &       # prints: listening on http://127.0.0.1:PORT
  OKTA_CLIENT_ORGURL=http://127.0.0.1:PORT OKTA_CLIENT_TOKEN=demo-token oktasync sync
  oktasync sim --oauth-client 0oasync=app.pub.pem:okta.users.read,okta.groups.read:dpop`,
		setup: simFlags,
	}
}

// simFlags defines the flags of `oktasync sim`; what it returns serves until
// ctx is done.
func simFlags(fs *flag.FlagSet) func(context.Context, io.Writer, io.Writer) int {
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback only unless --allow-non-loopback)")
	seed := fs.Int64("seed", 1, "seed of the generated org")
	users := fs.Int("users", 0, "number of users (0: default 200, -1: none)")
	groups := fs.Int("groups", 0, "number of groups incl. Everyone (0: proportional, -1: none)")
	apps := fs.Int("apps", 0, "number of apps (0: default 12, -1: none)")
	devices := fs.Int("devices", 0, "number of devices (0: proportional, -1: none)")
	logs := fs.Int("logs", 0, "number of System Log events (0: proportional, -1: none)")
	logDays := fs.Int("log-days", 30, "days of System Log history before the clock")
	scenarios := fs.String("scenarios", "all", "attack scenarios told in the System Log: all, none or a comma-separated list of "+strings.Join(oktasim.Scenarios, ", "))
	now := fs.String("now", "", "a fixed org clock, RFC 3339, e.g. "+oktasim.DefaultNow.Format(time.RFC3339)+" (default: the real clock)")
	rateLimits := fs.String("rate-limits", "okta", "okta (enforce Okta's default limits) or off")
	timeScale := fs.Float64("time-scale", 1, "speed of the wire clock (Date, rate-limit windows) relative to real time")
	faults := fs.String("faults", "", "fault rates, e.g. 500=0.02,reset=0.01,truncate=0.01,slow=0.01:200ms,429storm=0.005")
	var tokens simTokenFlag
	fs.Var(&tokens, "token", "API token and its admin role, TOKEN=ROLE (repeatable; default demo-token=SUPER_ADMIN)")
	var oauthClients simTokenFlag
	fs.Var(&oauthClients, "oauth-client", "OAuth service app, ID=PUBLIC_KEY_FILE:SCOPES[:dpop], SCOPES comma-separated, :dpop to require DPoP (repeatable)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate")
	caOut := fs.String("ca-out", "", "with --tls, write the certificate (PEM) to this file")
	linkBase := fs.String("link-base-url", "", "base URL for _links in bodies (default: the URL the client called)")
	allowNonLoopback := fs.Bool("allow-non-loopback", false, "allow listening on non-loopback addresses")

	return func(ctx context.Context, stdout, stderr io.Writer) int {
		usage := func(err error) int { return usageFailure(stderr, "sim", err) }
		for _, n := range []struct {
			flag  string
			value int
		}{{"users", *users}, {"groups", *groups}, {"apps", *apps}, {"devices", *devices}, {"logs", *logs}} {
			if n.value < -1 {
				return usage(fmt.Errorf("--%s %d: want a count, 0 for the default or -1 for none", n.flag, n.value))
			}
		}
		if *logDays < 1 {
			return usage(fmt.Errorf("--log-days %d: want a number of days, at least 1", *logDays))
		}
		sc, err := oktasim.ParseScenarios(*scenarios)
		if err != nil {
			return usage(fmt.Errorf("--scenarios: %w", err))
		}
		if *timeScale <= 0 {
			return usage(fmt.Errorf("--time-scale %g: want a positive number", *timeScale))
		}
		if *caOut != "" && !*useTLS {
			return usage(errors.New("--ca-out needs --tls"))
		}
		cfg := oktasim.Config{Seed: *seed, Users: *users, Groups: *groups, Apps: *apps, Devices: *devices, Logs: *logs,
			TimeScale: *timeScale, LinkBaseURL: *linkBase, AllowNonLoopback: *allowNonLoopback,
			LogDays: *logDays, Scenarios: sc}
		if *now != "" {
			if cfg.Now, err = time.Parse(time.RFC3339, *now); err != nil {
				return usage(fmt.Errorf("--now: %w", err))
			}
		}
		if cfg.RateLimits, err = oktasim.ParseRateLimitMode(*rateLimits); err != nil {
			return usage(fmt.Errorf("--rate-limits: %w", err))
		}
		if cfg.Faults, err = oktasim.ParseFaults(*faults); err != nil {
			return usage(fmt.Errorf("--faults: %w", err))
		}
		if cfg.Tokens, err = oktasim.ParseTokens(tokens); err != nil {
			return usage(fmt.Errorf("--token: %w", err))
		}
		// An unreadable or unfit key file is a usage error too: the flag names it.
		if cfg.OAuthClients, err = oktasim.ParseOAuthClients(oauthClients); err != nil {
			return usage(fmt.Errorf("--oauth-client: %w", err))
		}
		sim, err := oktasim.New(cfg)
		if err != nil {
			fail(stderr, err) // already "oktasim: ..."
			return exitError
		}
		var url string
		if *useTLS {
			url, err = sim.StartTLS(*addr, *caOut)
		} else {
			url, err = sim.Start(*addr)
		}
		if err != nil {
			fail(stderr, err)
			return exitError
		}
		fmt.Fprintf(stdout, "listening on %s\n", url)
		info := sim.Info()
		toks := make([]string, 0, len(sim.Config().Tokens))
		for t, r := range sim.Config().Tokens {
			toks = append(toks, t+"="+r)
		}
		sort.Strings(toks)
		apps := make([]string, 0, len(sim.Config().OAuthClients))
		for id, c := range sim.Config().OAuthClients {
			a := id + "=" + strings.Join(c.Scopes, ",")
			if c.RequireDPoP {
				a += ":dpop"
			}
			apps = append(apps, a)
		}
		sort.Strings(apps)
		oauthApps := ""
		if len(apps) > 0 {
			oauthApps = "; oauth apps " + strings.Join(apps, " ")
		}
		told := "none"
		if len(sc) > 0 {
			told = strings.Join(sc, ",")
		}
		fmt.Fprintf(stderr, "oktasim: seed %d, %d users, %d groups, %d apps, %d devices, %d log events over %d days (scenarios: %s); rate limits %s, time scale %g; tokens %s%s; control at %s/__sim/\n",
			info.Seed, info.Users, info.Groups, info.Apps, info.Devices, info.LogEvents, *logDays, told, info.RateLimits, info.TimeScale, strings.Join(toks, " "), oauthApps, url)
		<-ctx.Done()
		if err := sim.Close(); err != nil {
			fail(stderr, err)
			return exitError
		}
		return exitOK
	}
}
