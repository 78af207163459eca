package okta

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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

func TestSystemLogExtract(t *testing.T) {
	page := `[{"uuid":"e1","published":"2017-09-31T22:23:07.777Z","eventType":"user.session.start","version":0,
"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com","displayName":"Ada","detailEntry":null},
"client":{"ipAddress":"10.0.0.1","geographicalContext":{"city":"Toronto","postalCode":10013},"userAgent":{"browser":"CHROME","os":"Mac OS X"},"zone":"null"},
"securityContext":{"asNumber":"7922","isProxy":false},
"debugContext":{"debugData":{"requestUri":"/login","threatSuspected":"false","risk":{"level":"LOW"}}},
"request":{"ipChain":[{"ip":"10.0.0.1","version":"V4","source":null,"geographicalContext":{"city":"Toronto"}},{"ip":"10.0.0.2","version":"V4"}]},
"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Salesforce","displayName":"Salesforce","detailEntry":{"signOnModeType":"SAML_2_0"}}]},
{"uuid":"e2","published":"2026-01-15T12:00:00.000Z","eventType":"user.lifecycle.deactivate","debugContext":{"debugData":{}},"request":{"ipChain":[]},"target":[]}]`
	c, e := extractPage(SystemLog, page, "")
	if len(c["system_log"]) != 2 || len(c["system_log_target"]) != 1 || len(c["system_log_request"]) != 2 {
		t.Fatalf("rows: log %d target %d request %d", len(c["system_log"]), len(c["system_log_target"]), len(c["system_log_request"]))
	}
	first := c["system_log"][0]
	n := len(SystemLog.Columns)
	if got := first[n:]; !slices.Equal(got, []any{"debug_context_debug_data_request_uri=/login", "debug_context_debug_data_threat_suspected=false", `debug_context_debug_data_risk={"level":"LOW"}`}) {
		t.Errorf("dynamic columns = %v", got)
	}
	if e.Stats.Invalid != 1 {
		t.Errorf("the 31 September timestamp must count as invalid; Invalid = %d", e.Stats.Invalid)
	}
	for i, c := range SystemLog.Columns {
		switch c.Name {
		case "published":
			if first[i] != nil {
				t.Errorf("published of an impossible date = %v, want NULL", first[i])
			}
		case "security_context_as_number":
			if first[i] != int64(7922) {
				t.Errorf("asNumber sent as a string = %#v, want 7922", first[i])
			}
		case "version":
			if first[i] != "0" {
				t.Errorf("version sent as a number = %#v, want \"0\"", first[i])
			}
		case "client_geographical_context":
			if first[i] != `{"city":"Toronto","postalCode":10013}` {
				t.Errorf("geographical context = %#v", first[i])
			}
		}
	}
	req := c["system_log_request"]
	if req[0][1] == req[1][1] || len(req[0][1].(string)) != 28 {
		t.Errorf("_fivetran_id must differ per row and be 28 chars: %v %v", req[0][1], req[1][1])
	}
	again, _ := extractPage(SystemLog, page, "")
	if again["system_log_request"][0][1] != req[0][1] {
		t.Error("_fivetran_id is not stable across syncs")
	}
	if tgt := c["system_log_target"][0]; tgt[0] != "e1" || tgt[1] != "0oa1" || tgt[3] != `{"signOnModeType":"SAML_2_0"}` {
		t.Errorf("target row = %v", tgt)
	}
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
