package connector

import (
	"context"
	"fmt"
	"time"

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
}

// DefaultDemo is an org large enough to show paging, fan-out and rate-limit
// pacing, small enough to sync in seconds.
var DefaultDemo = DemoOptions{Seed: 1, Users: 5000, Groups: 200, Apps: 40, Devices: 1500, Logs: 50000, TimeScale: 60}

// Demo starts the simulator in-process on a loopback port with a seeded org
// and syncs it. The engine runs on the simulated org's clock, so that a
// System Log start window lands on its events.
func Demo(ctx context.Context, cfg *Config, demo DemoOptions, opt SyncOptions) (*runtime.Summary, error) {
	sim, err := oktasim.New(oktasim.Config{
		Seed: demo.Seed, Users: demo.Users, Groups: demo.Groups, Apps: demo.Apps, Devices: demo.Devices, Logs: demo.Logs,
		Tokens:    map[string]string{"demo-token": "SUPER_ADMIN"},
		TimeScale: demo.TimeScale, Now: oktasim.DefaultNow,
	})
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	opt.Logger.Info("simulated org listening", "url", url, "users", demo.Users, "logs", demo.Logs)
	c := *cfg
	c.OrgURL, c.Token, c.TimeScale = url, "demo-token", demo.TimeScale
	if opt.Now == nil {
		opt.Now = func() time.Time { return sim.Now() }
	}
	return Sync(ctx, &c, opt)
}
