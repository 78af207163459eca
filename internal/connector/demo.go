package connector

import (
	"context"
	"fmt"
	"log/slog"

	"oktasync/oktasim"
	"oktasync/runtime"
)

// DemoOptions size the simulated org of a demo sync.
type DemoOptions struct {
	Seed                               int64
	Users, Groups, Apps, Devices, Logs int
	// TimeScale runs the simulated org's rate-limit clock faster than real
	// time, so that Okta's per-minute limits, which the sync honours, pass in
	// seconds.
	TimeScale float64
	// Scenarios names the attack stories the org's System Log tells
	// (oktasim.Scenarios; "all", "none"); nil: none.
	Scenarios []string
}

// DefaultDemo is an org large enough to show paging, fan-out and rate-limit
// pacing, small enough to sync in seconds.
// Its System Log tells every attack scenario.
var DefaultDemo = DemoOptions{Seed: 1, Users: 5000, Groups: 200, Apps: 40, Devices: 1500, Logs: 50000, TimeScale: 60,
	Scenarios: []string{"all"}}

// DemoLinkBase is the canonical host of the demo org's links: every href in
// the data names it instead of the simulator's port, which changes from run
// to run, so that keys made of hrefs are the same on every run. The .example
// name never resolves; the client re-bases links onto the org URL.
const DemoLinkBase = "https://demo.okta.example"

// Demo starts the simulator in-process on a loopback port with a seeded org
// and syncs it. The org is on a fixed clock (oktasim.DefaultNow) so that its
// data are the same on every run; the sync itself runs on the real clock
// (_fivetran_synced is when it ran) and takes the System Log window from the
// server's clock.
func Demo(ctx context.Context, cfg *Config, demo DemoOptions, opt SyncOptions) (*runtime.Summary, error) {
	sim, err := oktasim.New(oktasim.Config{
		Seed: demo.Seed, Users: demo.Users, Groups: demo.Groups, Apps: demo.Apps, Devices: demo.Devices, Logs: demo.Logs,
		Tokens:    map[string]string{"demo-token": "SUPER_ADMIN"},
		TimeScale: demo.TimeScale, Now: oktasim.DefaultNow, LinkBaseURL: DemoLinkBase, Scenarios: demo.Scenarios,
	})
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.Logger.Info("simulated org listening", "url", url, "users", demo.Users, "logs", demo.Logs)
	c := *cfg
	c.OrgURL, c.Token, c.TimeScale = url, "demo-token", demo.TimeScale
	return Sync(ctx, &c, opt)
}
