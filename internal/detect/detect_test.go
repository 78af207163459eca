package detect

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const goodHeader = `-- id: x_demo
-- title: A demo
-- technique: T1110.003 Password Spraying
-- severity: high
-- scenario: password_spray, credential_stuffing
-- fields: system_log.published,
--   system_log.event_type
-- description: First line
--   goes on.
--
--   Second paragraph.
select published as detected_at, 'a' as actor, 'b' as summary from system_log where published >= $since::TIMESTAMP
`

func TestParse(t *testing.T) {
	d, err := Parse("detections/x_demo.sql", goodHeader)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "x_demo" || d.Severity != "high" || !slices.Equal(d.Scenarios, []string{"password_spray", "credential_stuffing"}) ||
		!slices.Equal(d.Fields, []string{"system_log.published", "system_log.event_type"}) ||
		d.Description != "First line goes on.\n\nSecond paragraph." || !strings.HasPrefix(d.SQL, "select ") {
		t.Errorf("parsed %+v", d)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"missing key":   {"-- title: A demo\n", "", "-- title: missing"},
		"bad severity":  {"severity: high", "severity: urgent", `severity: "urgent"`},
		"bad technique": {"T1110.003 Password Spraying", "password spraying", "technique:"},
		"id not file":   {"id: x_demo", "id: y_demo", `must be the file's name`},
		"unknown key":   {"-- title: A demo\n", "-- title: A demo\n-- author: me\n", "unknown header key"},
		"bad field":     {"system_log.event_type", "event_type", `fields: "event_type"`},
		"no since":      {"where published >= $since::TIMESTAMP", "", "does not use $since"},
		"no query":      {"select published as detected_at, 'a' as actor, 'b' as summary from system_log where published >= $since::TIMESTAMP\n", "", "no query"},
		"twice":         {"-- title: A demo\n", "-- title: A demo\n-- title: again\n", "given twice"},
	} {
		src := strings.Replace(goodHeader, c.from, c.to, 1)
		if _, err := Parse("detections/x_demo.sql", src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

func TestLoadAndSelect(t *testing.T) {
	fsys := fstest.MapFS{"x_demo.sql": {Data: []byte(goodHeader)}, "bad.sql": {Data: []byte("select 1")}}
	if _, err := Load(fsys, "detections"); err == nil || !strings.Contains(err.Error(), "detections/bad.sql:1") {
		t.Errorf("load with a bad file: %v", err)
	}
	delete(fsys, "bad.sql")
	pack, err := Load(fsys, "detections")
	if err != nil || len(pack) != 1 {
		t.Fatalf("load: %v %v", pack, err)
	}
	if _, err := Select(pack, []string{"nope"}); err == nil || !strings.Contains(err.Error(), "the pack has x_demo") {
		t.Errorf("select of an unknown id: %v", err)
	}
}

// TestPackHeaders: every file of the pack parses, with a complete header.
func TestPackHeaders(t *testing.T) {
	pack := mustPack(t)
	if len(pack) < 15 {
		t.Errorf("the pack has %d detections", len(pack))
	}
	for _, d := range pack {
		if d.Title == "" || d.Description == "" || len(d.Fields) == 0 {
			t.Errorf("%s: incomplete header %+v", d.File, d)
		}
		for _, tb := range d.Tables() {
			if !strings.Contains(d.SQL, tb) {
				t.Errorf("%s: fields name the table %s, which the query does not read", d.File, tb)
			}
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"72h":                  now.Add(-72 * time.Hour),
		"2026-01-02":           time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"2026-01-02T03:04:05Z": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		got, err := ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-5h"} {
		if _, err := ParseSince(in, now); err == nil {
			t.Errorf("ParseSince(%q): no error", in)
		}
	}
}

// TestPackCompilesOnASync: on a database a full sync wrote (no scenario, so
// no debug key the attacks send), every detection runs, and every field
// its header names exists.
func TestPackCompilesOnASync(t *testing.T) {
	db := orgDB(t, "none", true)
	pack := mustPack(t)
	res := runPack(t, db, pack, time.Time{})
	if len(res.Failures) > 0 {
		t.Fatalf("detections failed on a synced database:\n%s", failures(res))
	}
	if len(res.Hits) > 0 {
		t.Errorf("hits on an org without scenarios: %v", fired(res))
	}
	cols := map[string]bool{}
	sdb, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	rows, err := sdb.Query(`select table_name || '.' || column_name from information_schema.columns`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols[c] = true
	}
	rows.Close()
	for _, d := range pack {
		for _, f := range d.Fields {
			if !cols[f] {
				t.Errorf("%s: field %s is not a column of a synced database", d.File, f)
			}
		}
	}
}

// TestMissingTableOrColumnFailsLoudly: a detection whose table or column is
// not there (blocked in the config, never synced) fails with its id, its
// file and DuckDB's error; the others still run.
func TestMissingTableOrColumnFailsLoudly(t *testing.T) {
	db := copyDB(t, orgDB(t, "all", false))
	execDB(t, db, `drop table network_zone`, `alter table system_log drop column raw_json`)
	res := runPack(t, db, mustPack(t), time.Time{})
	var failed []string
	for _, f := range res.Failures {
		failed = append(failed, f.Detection.ID)
	}
	if !slices.Equal(failed, []string{"okta_blocklist_zone_disabled", "okta_user_reported_suspicious_activity"}) {
		t.Errorf("failed: %v\n%s", failed, failures(res))
	}
	msg := failures(res)
	for _, want := range []string{"detection okta_blocklist_zone_disabled failed (detections/okta_blocklist_zone_disabled.sql)", "network_zone", "raw_json"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failures do not say %q:\n%s", want, msg)
		}
	}
	if got := fired(res); !slices.Contains(got, "okta_password_spray") {
		t.Errorf("the others did not run: %v", got)
	}
}

// TestSince: --since leaves out what was published before it.
func TestSince(t *testing.T) {
	db := orgDB(t, "password_spray", false)
	pack, _ := Select(mustPack(t), []string{"okta_password_spray"})
	if res := runPack(t, db, pack, time.Date(2025, 12, 17, 12, 0, 0, 0, time.UTC)); len(res.Hits) != 1 {
		t.Errorf("since before the spray: %d hits", len(res.Hits))
	}
	if res := runPack(t, db, pack, time.Date(2025, 12, 17, 14, 0, 0, 0, time.UTC)); len(res.Hits) != 0 {
		t.Errorf("since after the spray: %d hits", len(res.Hits))
	}
}

// event is one System Log row of a fixture; cols are SQL literals.
type event map[string]string

func (e event) insert(id string) string {
	cols := slices.Sorted(maps.Keys(e))
	var vals []string
	for _, c := range cols {
		vals = append(vals, e[c])
	}
	return fmt.Sprintf("insert into system_log (id, %s) values ('%s', %s)", strings.Join(cols, ", "), id, strings.Join(vals, ", "))
}

func signIn(at time.Time, actorID, login, result, reason, ip, geo string) event {
	e := event{"published": "timestamp '" + at.Format("2006-01-02 15:04:05") + "'", "event_type": "'user.session.start'",
		"actor_id": "'" + actorID + "'", "actor_alternate_id": "'" + login + "'", "actor_type": "'User'",
		"outcome_result": "'" + result + "'", "client_ip_address": "'" + ip + "'", "security_context_is_proxy": "false"}
	if reason != "" {
		e["outcome_reason"] = "'" + reason + "'"
	}
	if geo != "" {
		e["client_geographical_context"] = "'" + geo + "'"
	}
	return e
}

const (
	geoBerlin = `{"city":"Berlin","country":"Germany","geolocation":{"lat":52.52,"lon":13.40}}`
	geoMunich = `{"city":"Munich","country":"Germany","geolocation":{"lat":48.14,"lon":11.58}}`
	geoSydney = `{"city":"Sydney","country":"Australia","geolocation":{"lat":-33.87,"lon":151.21}}`
)

// TestFixtures: minimal attack shapes inserted into a synced database make
// each detection fire, and a near miss does not.
func TestFixtures(t *testing.T) {
	t0 := time.Date(2026, 1, 20, 2, 0, 0, 0, time.UTC) // after the simulated log
	spray := func(accounts int) []string {
		var out []string
		for k := range accounts {
			out = append(out, signIn(t0.Add(time.Duration(k)*30*time.Second), fmt.Sprintf("00ufx%d", k), fmt.Sprintf("user%d@fixture.example", k),
				"FAILURE", "INVALID_CREDENTIALS", "203.0.113.7", geoBerlin).insert(fmt.Sprintf("fx-spray-%d", k)))
		}
		return out
	}
	travel := func(geo string, proxy bool) []string {
		a := signIn(t0, "00ufxT", "traveller@fixture.example", "SUCCESS", "", "198.51.100.1", geoBerlin)
		b := signIn(t0.Add(40*time.Minute), "00ufxT", "traveller@fixture.example", "SUCCESS", "", "198.51.100.2", geo)
		b["security_context_is_proxy"] = fmt.Sprint(proxy)
		return []string{a.insert("fx-tr-1"), b.insert("fx-tr-2")}
	}
	grant := func(at time.Time) []string {
		return []string{event{"published": "timestamp '" + at.Format("2006-01-02 15:04:05") + "'", "event_type": "'user.account.privilege.grant'",
			"actor_id": "'00ufxA'", "actor_alternate_id": "'admin@fixture.example'", "outcome_result": "'SUCCESS'",
			"debug_context_debug_data_privilege_granted": "'Application administrator'"}.insert("fx-grant"),
			`insert into system_log_target (system_log_id, id, type, alternate_id, target_index) values ('fx-grant', '00ufxB', 'User', 'bob@fixture.example', 0)`}
	}
	typed := func(name string) []string {
		f := signIn(t0, "unknown", name, "FAILURE", "VERIFICATION_ERROR", "192.0.2.9", geoBerlin)
		s := signIn(t0.Add(30*time.Second), "00ufxP", "pat@fixture.example", "SUCCESS", "", "192.0.2.9", geoBerlin)
		return []string{f.insert("fx-pw-1"), s.insert("fx-pw-2")}
	}
	reset := func(geo string) []string {
		prior := signIn(t0.Add(-5*24*time.Hour), "00ufxR", "rita@fixture.example", "SUCCESS", "", "198.51.100.5", geoBerlin)
		after := signIn(t0.Add(3*time.Hour), "00ufxR", "rita@fixture.example", "SUCCESS", "", "198.51.100.6", geo)
		return []string{prior.insert("fx-r-1"), after.insert("fx-r-3"),
			event{"published": "timestamp '" + t0.Format("2006-01-02 15:04:05") + "'", "event_type": "'user.mfa.factor.reset_all'",
				"actor_alternate_id": "'helpdesk@fixture.example'", "outcome_result": "'SUCCESS'"}.insert("fx-r-2"),
			`insert into system_log_target (system_log_id, id, type, alternate_id, target_index) values ('fx-r-2', '00ufxR', 'User', 'rita@fixture.example', 0)`}
	}
	saturday := time.Date(2026, 1, 24, 11, 0, 0, 0, time.UTC)
	tuesday := time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id          string
		attack, not []string
	}{
		{"okta_password_spray", spray(10), spray(9)},
		{"okta_impossible_travel", travel(geoSydney, false), travel(geoSydney, true)},
		{"okta_impossible_travel", travel(geoSydney, false), travel(geoMunich, false)},
		{"okta_admin_role_outside_change_window", grant(saturday), grant(tuesday)},
		{"okta_password_in_username", typed("Winter2024!7"), typed("pat.fixture")},
		{"okta_mfa_reset_then_new_country", reset(geoSydney), reset(geoMunich)},
	} {
		pack, err := Select(mustPack(t), []string{c.id})
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range []struct {
			name  string
			stmts []string
			want  int
		}{{"attack", c.attack, 1}, {"near miss", c.not, 0}} {
			db := copyDB(t, orgDB(t, "none", false))
			execDB(t, db, shape.stmts...)
			res := runPack(t, db, pack, t0.Add(-time.Hour))
			if len(res.Failures) > 0 {
				t.Fatalf("%s: %s", c.id, failures(res))
			}
			if len(res.Hits) != shape.want {
				t.Errorf("%s, %s: %d hits, want %d: %+v", c.id, shape.name, len(res.Hits), shape.want, res.Hits)
			}
		}
	}
}
