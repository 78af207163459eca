package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"text/tabwriter"

	"oktasync/generated/okta"
	"oktasync/runtime"
	"oktasync/runtime/dest/postgres"
	"oktasync/runtime/fetch"
)

// Check reports, per table, whether the configured credentials can read it,
// without syncing anything. ok is true only if every selected table is
// readable.
func Check(ctx context.Context, cfg *Config, opt SyncOptions) (results []runtime.CheckResult, ok bool, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, false, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	// A blocked table no written child needs is never read: whether the
	// token may read it does not matter.
	names, err := Selected(cfg, opt)
	if err != nil {
		return nil, false, err
	}
	// A service app lacking some scopes is checked with those it has; the
	// tables needing the others are forbidden without a request.
	var scopes, missing []string
	if cfg.Auth.OAuth() {
		if scopes = cfg.Auth.Scopes; len(scopes) == 0 {
			scopes = TableScopes(names)
		}
	}
	client, err := newClient(ctx, cfg, opt, scopes)
	var ms *MissingScopesError
	if errors.As(err, &ms) {
		missing = ms.Missing
		granted := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return slices.Contains(missing, s) })
		client, err = nil, nil
		if len(granted) > 0 {
			client, err = newClient(ctx, cfg, opt, granted)
		}
	}
	if err != nil {
		return nil, false, err
	}
	for _, n := range names {
		if s := okta.Registry.Lookup(n).Permissions.Scope; slices.Contains(missing, s) {
			results = append(results, runtime.CheckResult{Table: n, Status: runtime.CheckForbidden,
				Needs: "scope " + s + ", not granted to the OAuth app (Admin Console > Applications > the app > Okta API Scopes)"})
		}
	}
	sel := func(name string) bool {
		return slices.Contains(names, name) && !slices.ContainsFunc(results, func(r runtime.CheckResult) bool { return r.Table == name })
	}
	if client != nil {
		if err := probeOrg(ctx, cfg, client); err != nil {
			return nil, false, err
		}
		eng := &runtime.Engine{Registry: okta.Registry, Fetcher: client, Select: sel, Logger: opt.Logger}
		results = append(results, eng.Check(ctx)...)
		slices.SortStableFunc(results, func(a, b runtime.CheckResult) int {
			return slices.Index(names, a.Table) - slices.Index(names, b.Table)
		})
	}
	ok = true
	for _, r := range results {
		ok = ok && r.Status == runtime.CheckOK
	}
	return results, ok, nil
}

// CheckDestination tells whether a sync could write to the configured
// destination, writing nothing: a postgres destination must connect and
// let the user create its tables (or their schema). A DuckDB file is
// created by the sync itself; nothing is checked for it. what names the
// destination for a report.
func CheckDestination(ctx context.Context, d Destination) (what string, err error) {
	if !d.IsPostgres() {
		return "", nil
	}
	dest, err := OpenDestination(ctx, d, nil)
	if err != nil {
		return d.Name(), err
	}
	defer dest.Close()
	pg := dest.(*postgres.DB)
	return "postgres " + pg.Where(), pg.CheckWritable(ctx)
}

// NoneReadable reports whether no checked table can be read.
func NoneReadable(results []runtime.CheckResult) bool {
	for _, r := range results {
		if r.Status == runtime.CheckOK {
			return false
		}
	}
	return true
}

// PrintCheck writes check results as a table.
func PrintCheck(w io.Writer, results []runtime.CheckResult) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tSTATUS\tDETAIL")
	for _, r := range results {
		detail := ""
		switch r.Status {
		case runtime.CheckForbidden:
			detail = r.Needs
		case runtime.CheckFeature, runtime.CheckError:
			detail = fmt.Sprint(r.Err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Table, r.Status, detail)
	}
	tw.Flush()
}

// newClient builds the Okta HTTP client from the config. A service app
// (auth.type oauth) gets its first token here, asking for scopes (nil: the
// config's, else those of the tables the run reads), which proves the
// credentials as the probe does a token's.
func newClient(ctx context.Context, cfg *Config, opt SyncOptions, scopes []string) (*fetch.Client, error) {
	token := cfg.Token
	if cfg.Auth.OAuth() {
		token = ""
	}
	fc := okta.Source.FetchConfig(cfg.OrgURL, token)
	fc.Logger = opt.Logger
	fc.TimeScale = cfg.TimeScale
	fc.MaxConcurrent = 16
	if r := cfg.RateLimitReserve; r != nil {
		// fetch takes 0 for its default and a negative value for none.
		fc.RateLimit.Reserve = *r
		if *r == 0 {
			fc.RateLimit.Reserve = -1
		}
	}
	// Okta's links may name the org's other canonical host (the -admin one
	// for /iam); their path and query are re-based onto the org URL, so
	// credentials still only go there.
	fc.RebaseForeignLinks = true
	hc, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	fc.HTTPClient = hc
	if opt.Fetch != nil {
		opt.Fetch(&fc)
	}
	if cfg.Auth.OAuth() {
		if scopes == nil {
			scopes = cfg.Auth.Scopes
		}
		if len(scopes) == 0 {
			names, err := Selected(cfg, opt)
			if err != nil {
				return nil, err
			}
			scopes = TableScopes(names)
		}
		a, err := cfg.newOAuth(ctx, fc.HTTPClient, scopes)
		if err != nil {
			return nil, fmt.Errorf("OAuth service app %s: %w", cfg.Auth.ClientID, err)
		}
		fc.Auth = a
	}
	return fetch.New(fc)
}
