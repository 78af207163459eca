package okta

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
)

// collect gathers emitted rows per table as driver values.
type collect map[string][][]any

func (c collect) Row(t *runtime.Table, r runtime.Row) {
	vals := r.AppendValues(nil)
	if d, ok := r.(runtime.DynamicRow); ok {
		for _, f := range d.DynamicFields() {
			vals = append(vals, f.Name+"="+fmt.Sprint(f.Value))
		}
	}
	c[t.Name] = append(c[t.Name], vals)
}

func extractPage(t *runtime.Table, page string, parent string) (collect, *runtime.Emitter) {
	c := collect{}
	e := runtime.NewEmitter(c)
	rec := gjson.Parse(page)
	if t.Request.Records != "" {
		rec = rec.Get(t.Request.Records)
	}
	rec.ForEach(func(_, v gjson.Result) bool {
		t.Extract(v, gjson.Parse(parent), e)
		return true
	})
	return c, e
}

// userJSON is a user as Okta's list endpoint returns it.
func userJSON(i int) string {
	status := []string{"ACTIVE", "DEPROVISIONED", "STAGED", "LOCKED_OUT"}[i%4]
	return fmt.Sprintf(`{"id":"00u%017d","status":%q,"created":"2025-03-0%dT10:00:00.000Z","activated":null,
"statusChanged":"2025-03-04T10:00:00.000Z","lastLogin":"2026-01-1%dT08:30:00.000Z","lastUpdated":"2026-01-14T09:00:00.000Z",
"passwordChanged":"2025-03-05T10:00:00.000Z","type":{"id":"oty1"},
"profile":{"firstName":"Ada%d","lastName":"Lovelace","mobilePhone":null,"secondEmail":null,"login":"ada%d@example.com",
"email":"ada%d@example.com","locale":"en_US","profileUrl":"https://example.com/ada","costCenter":"cc-%d","department":"R&D",
"employeeNumber":%d,"badgeColor":"blue","skills":["go","sql"],"clearance":{"level":%d}},
"credentials":{"password":{},"emails":[{"value":"ada%d@example.com","status":"VERIFIED","type":"PRIMARY"},{"value":"alt%d@example.com","status":"UNVERIFIED","type":"SECONDARY"}],
"provider":{"type":"OKTA","name":"OKTA"},"recovery_question":{"question":"Favourite engine?"}},
"_links":{"self":{"href":"https://org.example.com/api/v1/users/00u%017d"}}}`,
		i, status, 1+i%9, i%10, i, i, i, i, 1000+i, i%3, i, i, i)
}

func usersPage(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = userJSON(i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestUsersExtract(t *testing.T) {
	c, e := extractPage(Users, usersPage(20), "")
	if got := len(c["users"]); got != 20 {
		t.Fatalf("users rows = %d, want 20", got)
	}
	if got := len(c["user_credentials_email"]); got != 40 {
		t.Errorf("user_credentials_email rows = %d, want 40", got)
	}
	col := func(table, name string) int {
		t.Helper()
		tbl := Registry.Lookup(table)
		i := slices.IndexFunc(tbl.Columns, func(c runtime.Column) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("%s has no column %s", table, name)
		}
		return i
	}
	u := c["users"][3]
	if u[col("users", "id")] != "00u00000000000000003" || u[col("users", "status")] != "LOCKED_OUT" {
		t.Errorf("user 3 = %v", u)
	}
	if u[col("users", "profile_employee_number")] != "1003" {
		t.Errorf("a number sent for a string column must keep its text, got %#v", u[col("users", "profile_employee_number")])
	}
	if u[col("users", "profile_local")] != "en_US" || u[col("users", "profile_url")] != "https://example.com/ada" {
		t.Errorf("renamed profile columns wrong: %v", u)
	}
	if u[col("users", "activated")] != nil {
		t.Errorf("null timestamp must be NULL, got %v", u[col("users", "activated")])
	}
	if got := u[col("users", "last_login")]; got != time.Date(2026, 1, 13, 8, 30, 0, 0, time.UTC) {
		t.Errorf("last_login = %v", got)
	}
	if u[col("users", "credentials_recovery_question")] != "Favourite engine?" || u[col("users", "type_id")] != "oty1" {
		t.Errorf("nested columns wrong: %v", u)
	}
	// Custom profile: exactly the attributes users has no column for.
	var custom []string
	for _, r := range c["user_custom_profile"] {
		if r[0] == "00u00000000000000003" {
			custom = append(custom, fmt.Sprintf("%v=%v", r[1], r[2]))
		}
	}
	want := []string{"badgeColor=blue", `skills=["go","sql"]`, `clearance={"level":0}`}
	if !slices.Equal(custom, want) {
		t.Errorf("custom profile of user 3 = %q, want %q", custom, want)
	}
	if e.Stats.Invalid != 0 {
		t.Errorf("Invalid = %d, want 0", e.Stats.Invalid)
	}
	if want := int64(20 + 40 + 60); e.Stats.Rows != want {
		t.Errorf("Rows = %d, want %d", e.Stats.Rows, want)
	}
}

// systemLogEvent is an event as Okta's System Log returns it, with the
// fields beyond Fivetran's columns that security content reads.
const systemLogEvent = `{"uuid":"e1","published":"2017-09-31T22:23:07.777Z","eventType":"user.session.start","version":0,
"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com","displayName":"Ada","detailEntry":null},
"client":{"ipAddress":"10.0.0.1","geographicalContext":{"city":"Toronto","postalCode":10013},"userAgent":{"browser":"CHROME","os":"Mac OS X"},"zone":"null"},
"authenticationContext":{"externalSessionId":"102abc","rootSessionId":"idxROOT1","authenticatorContext":{"authenticatorKey":"okta_verify","methodType":"push"}},
"securityContext":{"asNumber":"7922","isProxy":false,"userBehaviors":[{"name":"New IP","result":"POSITIVE"}],"ipDetails":{"asOrg":"cogent"},"botProtection":{"level":"LOW"},"risk":{"level":"LOW"}},
"transaction":{"id":"W1","type":"WEB","detail":{"requestApiTokenId":"00T1"}},
"debugContext":{"debugData":{"requestUri":"/login","threatSuspected":"false","risk":{"level":"LOW"},"authnRequestId":"A1","request_uri":"/clash"}},
"request":{"ipChain":[{"ip":"10.0.0.1","version":"V4","source":null,"geographicalContext":{"city":"Toronto"},"ipDetails":{"asNumber":7922}},{"ip":"10.0.0.2","version":"V4"}]},
"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Salesforce","displayName":"Salesforce","detailEntry":{"signOnModeType":"SAML_2_0"}},
 {"id":"00u1","type":"User","changeDetails":{"from":{"status":"ACTIVE"},"to":{"status":"LOCKED_OUT"}}}]}`

func TestSystemLogExtract(t *testing.T) {
	page := "[" + systemLogEvent + `,
{"uuid":"e2","published":"2026-01-15T12:00:00.000Z","eventType":"user.lifecycle.deactivate","debugContext":{"debugData":{}},"request":{"ipChain":[]},"target":[]}]`
	c, e := extractPage(SystemLog, page, "")
	if len(c["system_log"]) != 2 || len(c["system_log_target"]) != 2 || len(c["system_log_request"]) != 2 {
		t.Fatalf("rows: log %d target %d request %d", len(c["system_log"]), len(c["system_log_target"]), len(c["system_log_request"]))
	}
	first, second := c["system_log"][0], c["system_log"][1]
	n := len(SystemLog.Columns)
	// Declared debug-data keys are columns of their own; the others are
	// dynamic (a key whose name clashes with a declared one included: the
	// destination keeps the declared column).
	if got := first[n:]; !slices.Equal(got, []any{"debug_context_debug_data_authn_request_id=A1", "debug_context_debug_data_request_uri=/clash"}) {
		t.Errorf("dynamic columns = %v", got)
	}
	if e.Stats.Invalid != 1 {
		t.Errorf("the 31 September timestamp must count as invalid; Invalid = %d", e.Stats.Invalid)
	}
	want := map[string]any{
		"published":                                  nil,
		"security_context_as_number":                 int64(7922),
		"version":                                    "0",
		"client_geographical_context":                `{"city":"Toronto","postalCode":10013}`,
		"raw_json":                                   systemLogEvent,
		"debug_context_debug_data_request_uri":       "/login",
		"debug_context_debug_data_threat_suspected":  "false",
		"debug_context_debug_data_risk":              `{"level":"LOW"}`,
		"debug_context_debug_data_privilege_granted": nil,
		"authentication_context_root_session_id":     "idxROOT1",
		"transaction_detail_request_api_token_id":    "00T1",
		"authenticator_context":                      `{"authenticatorKey":"okta_verify","methodType":"push"}`,
		"security_context_user_behaviors":            `[{"name":"New IP","result":"POSITIVE"}]`,
		"security_context_ip_details":                `{"asOrg":"cogent"}`,
		"security_context_bot_protection":            `{"level":"LOW"}`,
	}
	for name, w := range want {
		i := slices.IndexFunc(SystemLog.Columns, func(c runtime.Column) bool { return c.Name == name })
		if i < 0 {
			t.Errorf("system_log has no column %s", name)
			continue
		}
		if first[i] != w {
			t.Errorf("%s = %#v, want %#v", name, first[i], w)
		}
	}
	// An event without the extras: every one of them is NULL, raw_json is
	// the event itself.
	for i, col := range SystemLog.Columns {
		switch col.Name {
		case "raw_json":
			if !gjson.Valid(second[i].(string)) || gjson.Get(second[i].(string), "uuid").Str != "e2" {
				t.Errorf("raw_json of the second event = %v", second[i])
			}
		case "id", "event_type", "published":
		default:
			if second[i] != nil {
				t.Errorf("%s of an event without it = %#v, want NULL", col.Name, second[i])
			}
		}
	}
	if len(second) != n {
		t.Errorf("an empty debugData gives dynamic columns: %v", second[n:])
	}

	req := c["system_log_request"]
	if req[0][1] == req[1][1] || len(req[0][1].(string)) != 28 {
		t.Errorf("_fivetran_id must differ per row and be 28 chars: %v %v", req[0][1], req[1][1])
	}
	again, _ := extractPage(SystemLog, page, "")
	if again["system_log_request"][0][1] != req[0][1] {
		t.Error("_fivetran_id is not stable across syncs")
	}
	reqCol := func(name string) int { return columnIndex(t, SystemLogRequest, name) }
	if req[0][reqCol("hop_index")] != int32(0) || req[1][reqCol("hop_index")] != int32(1) {
		t.Errorf("hop_index = %v, %v; want 0, 1", req[0][reqCol("hop_index")], req[1][reqCol("hop_index")])
	}
	if req[0][reqCol("ip_details")] != `{"asNumber":7922}` || req[1][reqCol("ip_details")] != nil {
		t.Errorf("ip_details = %v, %v", req[0][reqCol("ip_details")], req[1][reqCol("ip_details")])
	}
	// Two equal hops of one chain are two rows: the hash covers hop_index.
	dup, _ := extractPage(SystemLog, `[{"uuid":"e3","request":{"ipChain":[{"ip":"10.0.0.9"},{"ip":"10.0.0.9"}]}}]`, "")
	if d := dup["system_log_request"]; d[0][1] == d[1][1] {
		t.Errorf("equal hops share the _fivetran_id %v", d[0][1])
	}

	tgt := c["system_log_target"]
	if tgt[0][0] != "e1" || tgt[0][1] != "0oa1" || tgt[0][3] != `{"signOnModeType":"SAML_2_0"}` {
		t.Errorf("target row = %v", tgt[0])
	}
	tCol := func(name string) int { return columnIndex(t, SystemLogTarget, name) }
	if tgt[0][tCol("target_index")] != int32(0) || tgt[1][tCol("target_index")] != int32(1) {
		t.Errorf("target_index = %v, %v; want 0, 1", tgt[0][tCol("target_index")], tgt[1][tCol("target_index")])
	}
	if tgt[0][tCol("change_details")] != nil || tgt[1][tCol("change_details")] != `{"from":{"status":"ACTIVE"},"to":{"status":"LOCKED_OUT"}}` {
		t.Errorf("change_details = %v, %v", tgt[0][tCol("change_details")], tgt[1][tCol("change_details")])
	}
}

// TestSystemLogRawJSONIsCopied: raw_json holds the event's own bytes, copied
// out of the page, so a row does not pin its page and a reused page buffer
// cannot change it.
func TestSystemLogRawJSONIsCopied(t *testing.T) {
	buf := []byte("[" + systemLogEvent + "]")
	var raw string
	e := runtime.NewEmitter(runtime.SinkFunc(func(tb *runtime.Table, r runtime.Row) {
		if tb == SystemLog {
			raw = r.(*SystemLogRow).RawJSON.V
		}
	}))
	// The page as the engine reads it: a string over the body's buffer.
	gjson.Parse(unsafe.String(&buf[0], len(buf))).ForEach(func(_, v gjson.Result) bool {
		SystemLog.Extract(v, gjson.Result{}, e)
		return true
	})
	for i := range buf {
		buf[i] = 'x'
	}
	if raw != systemLogEvent {
		t.Errorf("raw_json changed with its page: %.60q", raw)
	}
}

// TestRecordColumnSkippedWhenNotWritten: an extractor leaves a whole-record
// column (value: record) unread when the emitter says no destination writes
// it, and every other column as it was; the position it asks about is the
// column's own.
func TestRecordColumnSkippedWhenNotWritten(t *testing.T) {
	page := "[" + systemLogEvent + "]"
	at := columnIndex(t, SystemLog, "raw_json")
	all, _ := extractPage(SystemLog, page, "")
	c := collect{}
	e := runtime.NewEmitter(c)
	var asked []string
	e.Skip = func(tb *runtime.Table, column int) bool {
		asked = append(asked, tb.Name+"."+tb.Columns[column].Name)
		return tb == SystemLog && column == at
	}
	gjson.Parse(page).ForEach(func(_, v gjson.Result) bool {
		SystemLog.Extract(v, gjson.Result{}, e)
		return true
	})
	if !slices.Equal(asked, []string{"system_log.raw_json"}) {
		t.Errorf("the extractor asked about %v, want only system_log.raw_json", asked)
	}
	if all[SystemLog.Name][0][at] == nil {
		t.Fatal("raw_json is NULL without a skip")
	}
	got := c[SystemLog.Name][0]
	if got[at] != nil {
		t.Errorf("raw_json skipped but read: %.60v", got[at])
	}
	want := slices.Clone(all[SystemLog.Name][0])
	want[at] = nil
	if !slices.Equal(got, want) {
		t.Error("skipping raw_json changed other columns")
	}
	for _, child := range []string{SystemLogTarget.Name, SystemLogRequest.Name} {
		if len(c[child]) != len(all[child]) || len(all[child]) == 0 {
			t.Errorf("%s: %d rows with the skip, %d without", child, len(c[child]), len(all[child]))
		}
	}
}

func columnIndex(t *testing.T, tbl *runtime.Table, name string) int {
	t.Helper()
	i := slices.IndexFunc(tbl.Columns, func(c runtime.Column) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("%s has no column %s", tbl.Name, name)
	}
	return i
}

func TestFanOutParentKey(t *testing.T) {
	c, _ := extractPage(GroupMember, `[{"id":"00u1"},{"id":"00u2"}]`, `{"id":"00g9","profile":{"name":"Eng"}}`)
	want := [][]any{{"00g9", "00u1"}, {"00g9", "00u2"}}
	if fmt.Sprint(c["group_member"]) != fmt.Sprint(want) {
		t.Errorf("group_member = %v, want %v", c["group_member"], want)
	}
}

func TestApplicationBreakouts(t *testing.T) {
	page := `[{"id":"0oa1","name":"bookmark","label":"Wiki","signOnMode":"BOOKMARK","features":["PUSH_NEW_USERS","IMPORT_NEW_USERS"],
"settings":{"oauthClient":{"refresh_token":{"leeway":"30"}},"signOn":{"spCertificate":{"x5c":["MIIC"]}}},
"visibility":{"hide":{"iOS":true,"web":false}},
"_links":{"appLinks":[{"name":"login","href":"https://x/login","type":"text/html"}],"logo":[{"name":"medium","href":"https://x/logo.png","type":"image/png"}]}}]`
	c, _ := extractPage(Application, page, "")
	if fmt.Sprint(c["application_feature"]) != "[[0oa1 PUSH_NEW_USERS] [0oa1 IMPORT_NEW_USERS]]" {
		t.Errorf("features = %v", c["application_feature"])
	}
	if len(c["application_link"]) != 1 || len(c["application_logo_link"]) != 1 {
		t.Errorf("links %v logos %v", c["application_link"], c["application_logo_link"])
	}
	row := c["application"][0]
	for i, col := range Application.Columns {
		switch col.Name {
		case "settings_oauth_client_refresh_token_leeway":
			if row[i] != int32(30) {
				t.Errorf("leeway = %#v", row[i])
			}
		case "visibility_hide_ios":
			if row[i] != true {
				t.Errorf("hide iOS = %#v", row[i])
			}
		case "settings_sign_on_sp_certificate_x_5_c":
			if row[i] != `["MIIC"]` {
				t.Errorf("x5c = %#v", row[i])
			}
		}
	}
}

// BenchmarkUsersExtract runs the generated USERS extractor (children
// included) over a page of 200 realistic users; records/s is users per
// second on one core. The sink only counts, so this is extraction alone.
func BenchmarkUsersExtract(b *testing.B) {
	benchUsers(b, func(t *runtime.Table, r runtime.Row) {})
}

// BenchmarkUsersExtractValues adds what every destination does next: turn
// each row into driver values (which boxes every non-NULL value).
func BenchmarkUsersExtractValues(b *testing.B) {
	var vals []any
	benchUsers(b, func(t *runtime.Table, r runtime.Row) { vals = r.AppendValues(vals[:0]) })
}

func benchUsers(b *testing.B, sink runtime.SinkFunc) {
	page := []byte(usersPage(200))
	e := runtime.NewEmitter(sink)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		gjson.ParseBytes(page).ForEach(func(_, v gjson.Result) bool {
			Users.Extract(v, gjson.Result{}, e)
			return true
		})
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGjsonWalk is the floor: gjson visiting every key of the same page.
func BenchmarkGjsonWalk(b *testing.B) {
	page := []byte(usersPage(200))
	var walk func(v gjson.Result) int
	walk = func(v gjson.Result) int {
		n := 1
		if v.IsObject() || v.IsArray() {
			v.ForEach(func(_, x gjson.Result) bool { n += walk(x); return true })
		}
		return n
	}
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for b.Loop() {
		walk(gjson.ParseBytes(page))
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "records/s")
}
