package oktasim

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestGroupSearchByMembership: a membership change (an add or a remove)
// moves the group's lastMembershipUpdated and not its lastUpdated, and a
// group search on either field joined by or returns exactly the groups
// whose profile or membership changed, as an incremental sync asks Okta.
func TestGroupSearchByMembership(t *testing.T) {
	s, base := startSim(t, Config{Seed: 5, Users: 120, Groups: 15, Apps: 3, Logs: 10})
	from := fmtTS(s.o.now)
	res := s.Churn(ChurnSpec{Advance: time.Hour, UpdatedGroups: 1, MembershipAdds: 3, MembershipRemoves: 2})
	var membership, all []string
	for _, m := range slices.Concat(res.MembershipsAdded, res.MembershipsRemoved) {
		membership = append(membership, m.GroupID)
	}
	all = slices.Concat(membership, res.UpdatedGroups)
	slices.Sort(membership)
	slices.Sort(all)
	membership, all = slices.Compact(membership), slices.Compact(all)
	if len(res.MembershipsRemoved) == 0 || len(res.UpdatedGroups) != 1 {
		t.Fatalf("churn result: %+v", res)
	}
	search := func(q string) []string {
		t.Helper()
		groups, _ := pageAll(t, base+"/api/v1/groups?search="+url.QueryEscape(q))
		var ids []string
		for _, g := range groups {
			ids = append(ids, g["id"].(string))
		}
		slices.Sort(ids)
		return ids
	}
	if got := search(`lastMembershipUpdated gt "` + from + `"`); !slices.Equal(got, membership) {
		t.Errorf("groups with a membership change: %q, want %q", got, membership)
	}
	if got := search(`lastUpdated gt "` + from + `"`); !slices.Equal(got, res.UpdatedGroups) {
		t.Errorf("groups with a profile change: %q, want %q (a membership change must not move lastUpdated)", got, res.UpdatedGroups)
	}
	if got := search(`lastUpdated gt "` + from + `" or lastMembershipUpdated gt "` + from + `"`); !slices.Equal(got, all) {
		t.Errorf("groups with either change: %q, want %q", got, all)
	}
}
