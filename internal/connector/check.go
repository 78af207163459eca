package connector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"text/tabwriter"

	"oktasync/generated/okta"
	"oktasync/runtime"
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
	client, err := newClient(cfg, opt)
	if err != nil {
		return nil, false, err
	}
	// A blocked table no written child needs is never read: whether the
	// token may read it does not matter.
	names, err := Selected(cfg, opt)
	if err != nil {
		return nil, false, err
	}
	sel := func(name string) bool { return slices.Contains(names, name) }
	if err := probeOrg(ctx, client); err != nil {
		return nil, false, err
	}
	eng := &runtime.Engine{Registry: okta.Registry, Fetcher: client, Select: sel, Logger: opt.Logger}
	results = eng.Check(ctx)
	ok = true
	for _, r := range results {
		ok = ok && r.Status == runtime.CheckOK
	}
	return results, ok, nil
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

// newClient builds the Okta HTTP client from the config.
func newClient(cfg *Config, opt SyncOptions) (*fetch.Client, error) {
	fc := okta.Source.FetchConfig(cfg.OrgURL, cfg.Token)
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
	if cfg.CAFile != "" {
		client, err := httpClientWithCA(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		fc.HTTPClient = client
	}
	if opt.Fetch != nil {
		opt.Fetch(&fc)
	}
	return fetch.New(fc)
}
