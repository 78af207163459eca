package connector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"oktasync/oktasim"
)

// TestGroupMembershipUpdated: a membership change moves a group's
// lastMembershipUpdated but not its lastUpdated; the incremental sync of
// groups still reads the group, so last_membership_updated is never stale.
func TestGroupMembershipUpdated(t *testing.T) {
	e := newEnv(t, smallOrg)
	e.opt.Only = []string{"groups"}
	e.mustSync()
	res := e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, MembershipAdds: 3, MembershipRemoves: 2})
	var changed []string
	for _, m := range slices.Concat(res.MembershipsAdded, res.MembershipsRemoved) {
		if !slices.Contains(changed, m.GroupID) {
			changed = append(changed, m.GroupID)
		}
	}
	if len(changed) == 0 {
		t.Fatal("the churn changed no membership")
	}
	sum := e.mustSync()
	if r := findTable(sum, "groups"); r.Mode != "incremental" {
		t.Errorf("groups after churn: mode %s, want incremental", r.Mode)
	}
	for _, g := range changed {
		stale := e.count(fmt.Sprintf(`SELECT count(*) FROM groups WHERE id = '%s'
			AND last_membership_updated < TIMESTAMP '%s'`, g, res.From.Format("2006-01-02 15:04:05.000")))
		if stale != 0 {
			t.Errorf("group %s: last_membership_updated is older than its membership change (after %s)", g, res.From.Format(time.RFC3339))
		}
	}
	// The sync after reads only the groups that changed within the lookback
	// (5m) of the latest change, by either field: the cursor follows both.
	want := e.count(`WITH c AS (SELECT max(greatest(last_updated, last_membership_updated)) - INTERVAL 5 MINUTE AS since
		FROM groups) SELECT count(*) FROM groups, c WHERE last_updated > since OR last_membership_updated > since`)
	again := e.mustSync()
	if r := findTable(again, "groups"); r.Requests != 1 || r.Rows["groups"] != int64(want) {
		t.Errorf("groups with nothing changed: %d requests, %d rows; want 1 request and %d rows", r.Requests, r.Rows["groups"], want)
	}
}
