package models

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/internal/connector"
)

// TestHistoryMode: with users and group_member in history mode every model
// builds; the current picture is the one soft-delete mode gives; and group
// membership over time comes from group_member's versions, a closed version
// becoming a finished period.
func TestHistoryMode(t *testing.T) {
	path := copyDB(t, demoDB(t, true))
	raw, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	// End one membership: close its version as a sync seeing it deleted would.
	var user, group string
	if err := raw.QueryRow(`update main.group_member set _fivetran_active = false, _fivetran_end = timestamp '2026-01-10 10:00:00'
		where (users_id, groups_id) = (select (users_id, groups_id) from main.group_member order by all limit 1)
		returning users_id, groups_id`).Scan(&user, &group); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	res := runModels(t, path, mustPack(t))
	if res.Failed() > 0 {
		t.Fatalf("%d models failed in history mode: %v", res.Failed(), res.Outcomes)
	}
	db := openDB(t, path)
	if got := queryRows(t, db, `select distinct source from okta_models.group_membership_history`); !cmp.Equal(got, []string{"history"}) {
		t.Errorf("sources in history mode: %v, want only history", got)
	}
	want := queryRows(t, db, `select users_id, groups_id, _fivetran_start, case when _fivetran_active then null else _fivetran_end end
		from main.group_member`)
	got := queryRows(t, db, `select user_id, group_id, valid_from, valid_to from okta_models.group_membership_history`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("periods are not group_member's versions (-versions +model):\n%s", diff)
	}
	if n := queryInt(t, db, `select count(*) from okta_models.group_membership_history
		where user_id = ? and group_id = ? and not is_current and valid_to = timestamp '2026-01-10 10:00:00'`, user, group); n != 1 {
		t.Errorf("the closed membership %s in %s: %d finished periods, want 1", user, group, n)
	}

	// The same org in soft-delete mode, with the same membership deleted.
	plainPath := copyDB(t, demoDB(t, false))
	raw, err = sql.Open("duckdb", plainPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`update main.group_member set _fivetran_deleted = true where users_id = ? and groups_id = ?`, user, group); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if res := runModels(t, plainPath, mustPack(t)); res.Failed() > 0 {
		t.Fatalf("%d models failed in soft-delete mode", res.Failed())
	}
	plain := openDB(t, plainPath)
	for _, q := range []string{
		"select * from okta_models.user_360",
		"select * exclude (member_since) from okta_models.effective_app_access",
		"select * from okta_models.effective_admin_privileges",
		"select * from okta_models.mfa_coverage",
		"select * from okta_models.orphaned_access",
	} {
		if diff := cmp.Diff(queryRows(t, plain, q), queryRows(t, db, q)); diff != "" {
			t.Errorf("%s: history mode differs from soft-delete mode (-soft delete +history):\n%s", q, diff)
		}
	}
}

// TestSyncAfterModels: a database with models built syncs again, even
// switching a table to history mode (which rebuilds it under the views),
// and the models build again on it.
func TestSyncAfterModels(t *testing.T) {
	path := builtDB(t, false)
	cfg := &connector.Config{Destination: connector.Destination{Path: path, Settings: map[string]string{"threads": "1"}},
		Tables: map[string]connector.TableConfig{"group_member": {History: true}}}
	if _, err := connector.Demo(context.Background(), cfg, testDemo, connector.SyncOptions{}); err != nil {
		t.Fatalf("sync after the models: %v", err)
	}
	if res := runModels(t, path, mustPack(t)); res.Failed() > 0 {
		t.Fatalf("%d models failed after the second sync: %v", res.Failed(), res.Outcomes)
	}
	db := openDB(t, path)
	if got := queryRows(t, db, `select distinct source from okta_models.group_membership_history`); !cmp.Equal(got, []string{"history"}) {
		t.Errorf("sources after switching group_member to history mode: %v", got)
	}
	if n := queryInt(t, db, `select count(*) from okta_current.group_member`); n != queryInt(t, db, `select count(*) from main.group_member where _fivetran_active`) {
		t.Errorf("okta_current.group_member has %d rows, not the active versions", n)
	}
}
