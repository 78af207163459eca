package connector

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/oktasim"
	"oktasync/runtime/dest/duckdb"
)

// The fan-out tables read from the System Log between their full passes.
var feedTables = []string{"group_member", "application_user", "application_group", "group_role", "policy_rule"}

// TestChangesMatchFullSync: after churn that makes every kind of change the
// System Log reports for these tables (memberships, the Everyone group, app
// assignments, app group assignments, group roles, policy rules, deleted
// users and groups), an incremental sync reads the log instead of every
// parent and leaves each table with the live rows a fresh full sync of the
// same org finds, with only the requests the events call for.
func TestChangesMatchFullSync(t *testing.T) {
	org := smallOrg
	org.Users, org.Groups, org.Apps = 120, 12, 8
	e := newEnv(t, org)
	e.mustSync()
	victims := e.query(`SELECT u.id FROM users u JOIN group_member m ON m.users_id = u.id
		GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 2`)
	churn := oktasim.ChurnSpec{Advance: time.Hour, NewUsers: 4, UpdatedUsers: 3, NewGroups: 1, DeletedGroups: 1,
		MembershipAdds: 8, MembershipRemoves: 4, AppAssignmentAdds: 5, AppAssignmentRemoves: 3,
		GroupRoleGrants: 2, GroupRoleRevokes: 1, AppGroupAdds: 2, AppGroupRemoves: 1, PolicyRuleUpdates: 3,
		DeleteUserIDs: victims, LogEvents: 20}
	r1 := e.sim.Churn(churn)
	// Deleted again, the users are gone for good (user.lifecycle.delete.completed).
	res := e.sim.Churn(oktasim.ChurnSpec{Advance: time.Hour, DeleteUserIDs: victims, MembershipAdds: 2, LogEvents: 5})
	if len(res.DeletedUsers) != 2 {
		t.Fatalf("deleted %v, want the two victims", res.DeletedUsers)
	}
	sum := e.mustSync()

	// One System Log page each, plus what the events call for: each app and
	// user an assignment event names, each app and group whose assignments
	// or roles changed; no listing of every parent.
	distinct := func(keys ...string) int {
		slices.Sort(keys)
		return len(slices.Compact(keys))
	}
	var pairs, apps, groups []string
	for _, a := range slices.Concat(r1.AppAssignmentsAdded, r1.AppAssignmentsRemoved) {
		pairs = append(pairs, a.AppID+"/"+a.UserID)
	}
	for _, ag := range slices.Concat(r1.AppGroupsAdded, r1.AppGroupsRemoved) {
		apps = append(apps, ag.AppID)
	}
	groups = slices.Concat(r1.GroupRolesGranted, r1.GroupRolesRevoked)
	want := map[string]int{"group_member": 1, "application_user": 1 + distinct(pairs...),
		"application_group": 1 + distinct(apps...), "group_role": 1 + distinct(groups...)}

	fresh := *e
	fresh.db = filepath.Join(t.TempDir(), "fresh.duckdb")
	cfg := *e.cfg
	cfg.Destination.Path = fresh.db
	fresh.cfg = &cfg
	fresh.mustSync()
	for _, name := range feedTables {
		r := findTable(sum, name)
		if r.Mode != "incremental" || r.Status != "ok" {
			t.Errorf("%s: %+v, want an incremental sync from the System Log", name, r)
		}
		if w, ok := want[name]; ok && r.Requests != w {
			t.Errorf("%s: %d requests, want %d", name, r.Requests, w)
		}
		if name == "policy_rule" && (r.Requests < 2 || r.Requests > 1+len(r1.PolicyRulesUpdated)) {
			t.Errorf("policy_rule: %d requests for %d rules updated", r.Requests, len(r1.PolicyRulesUpdated))
		}
	}
	for _, name := range append(feedTables, "policy_rule_condition_excluded_user") {
		got, want := e.live(name), fresh.live(name)
		if len(want) == 0 {
			t.Errorf("%s has no rows; the test proves nothing", name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: live rows after the incremental sync differ from a fresh full sync (-full +incremental):\n%s", name, diff)
		}
	}
	// The deleted users' memberships and assignments are marked deleted.
	for _, u := range victims {
		if n := e.count(`SELECT count(*) FROM group_member WHERE users_id = '` + u + `' AND NOT _fivetran_deleted`); n != 0 {
			t.Errorf("deleted user %s still in %d groups", u, n)
		}
		if n := e.count(`SELECT count(*) FROM group_member WHERE users_id = '` + u + `' AND _fivetran_deleted`); n == 0 {
			t.Errorf("deleted user %s had no membership to mark deleted", u)
		}
	}
}

// live is a table's live rows without the system columns, sorted.
func (e *env) live(table string) []string {
	e.t.Helper()
	return e.query(`SELECT CAST(COLUMNS(* EXCLUDE (_fivetran_synced, _fivetran_deleted)) AS VARCHAR) FROM ` + table +
		` WHERE NOT _fivetran_deleted`)
}

// query runs a query and returns its rows, each as its values joined by
// "|", sorted.
func (e *env) query(query string) []string {
	e.t.Helper()
	db, err := duckdb.Open(e.db, duckdb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(query)
	if err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
