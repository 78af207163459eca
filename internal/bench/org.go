package bench

import (
	"fmt"
	"time"

	"oktasync/oktasim"
)

// Org sizes a simulated org.
type Org struct {
	Seed                               int64
	Users, Groups, Apps, Devices, Logs int
}

func (o Org) String() string {
	return fmt.Sprintf("users=%d groups=%d apps=%d devices=%d logs=%d", o.Users, o.Groups, o.Apps, o.Devices, o.Logs)
}

// simConfig is the simulator configuration of the org.
func (o Org) simConfig(limits oktasim.RateLimitMode, scale float64) oktasim.Config {
	return oktasim.Config{
		Seed: o.Seed, Users: o.Users, Groups: o.Groups, Apps: o.Apps, Devices: o.Devices, Logs: o.Logs,
		RateLimits: limits, TimeScale: scale, Now: oktasim.DefaultNow,
		Tokens: map[string]string{token: oktasim.RoleSuperAdmin},
	}
}

// Scaled is the org with every size multiplied by f (at least 1 of each).
func (o Org) Scaled(f float64) Org {
	n := func(v int) int { return max(1, int(float64(v)*f+0.5)) }
	return Org{Seed: o.Seed, Users: n(o.Users), Groups: n(o.Groups), Apps: n(o.Apps), Devices: n(o.Devices), Logs: n(o.Logs)}
}

const token = "bench-token"

// ChurnFor is 1% churn of an org: 1% of users and groups changed (created,
// updated, deactivated, deleted), memberships and app assignments of that
// many users, 1% of devices touched and 1% more System Log events, spread
// over one hour of org time.
func ChurnFor(o Org) oktasim.ChurnSpec {
	pct := func(v int) int { return max(1, v/100) }
	u, g := pct(o.Users), pct(o.Groups)
	return oktasim.ChurnSpec{
		Advance:  time.Hour,
		NewUsers: max(1, u/5), UpdatedUsers: max(1, u*3/5), DeactivatedUsers: max(1, u/10), DeletedUsers: max(1, u/10),
		NewGroups: max(1, g/4), UpdatedGroups: max(1, g/2), DeletedGroups: max(1, g/4),
		MembershipAdds: u, MembershipRemoves: max(1, u/2),
		AppAssignmentAdds: max(1, u/10), AppAssignmentRemoves: max(1, u/20),
		DeviceUpdates: pct(o.Devices),
		LogEvents:     pct(o.Logs),
	}
}
