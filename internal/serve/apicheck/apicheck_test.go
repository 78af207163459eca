package apicheck

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// tinyDoc exercises what the checker reads: a path-level parameter, a
// literal path beside a templated one, response $refs, a status range, a
// required header, a form body and a text body.
const tinyDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "tiny", "version": "1"},
  "security": [{"bearer": []}],
  "paths": {
    "/items": {
      "get": {
        "operationId": "listItems",
        "summary": "list",
        "responses": {
          "200": {"description": "items", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}
        }
      },
      "post": {
        "operationId": "addItem",
        "summary": "add",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
        "responses": {
          "201": {"description": "added", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
          "303": {"description": "moved", "headers": {"Location": {"required": true, "schema": {"type": "string"}}}},
          "4XX": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/items/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
      "get": {
        "operationId": "getItem",
        "summary": "one",
        "responses": {
          "200": {"description": "the item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
          "404": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/items/latest": {
      "get": {
        "operationId": "latestItem",
        "summary": "the newest",
        "responses": {"200": {"description": "the item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}
      }
    },
    "/form": {
      "post": {
        "operationId": "postForm",
        "summary": "a form",
        "security": [],
        "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
        "responses": {"204": {"description": "done"}}
      }
    },
    "/text": {
      "get": {
        "operationId": "getText",
        "summary": "text",
        "responses": {"200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    }
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Item": {
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "name"],
        "properties": {
          "id": {"type": "integer"},
          "name": {"type": "string"},
          "at": {"type": "string", "format": "date-time"}
        }
      },
      "Error": {
        "type": "object",
        "additionalProperties": false,
        "required": ["error"],
        "properties": {"error": {"type": "string"}}
      }
    },
    "responses": {
      "Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  }
}`

func loadTiny(t *testing.T) *Doc {
	t.Helper()
	d, err := Load([]byte(tinyDoc))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}}
}

// wantErr fails unless err is nil when no substrings are wanted, or holds
// every one of them.
func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Errorf("no error; want one with %q", want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func TestRoutes(t *testing.T) {
	d := loadTiny(t)
	want := []Route{
		{"POST", "/form"},
		{"GET", "/items"},
		{"POST", "/items"},
		{"GET", "/items/latest"},
		{"GET", "/items/{id}"},
		{"GET", "/text"},
	}
	if got := d.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %v; want %v", got, want)
	}
}

func TestMatch(t *testing.T) {
	d := loadTiny(t)
	for _, c := range []struct {
		method, path string
		want         Route
		ok           bool
	}{
		{"GET", "/items", Route{"GET", "/items"}, true},
		{"get", "/items?limit=3", Route{"GET", "/items"}, true},
		{"GET", "/items/12", Route{"GET", "/items/{id}"}, true},
		{"GET", "/items/latest", Route{"GET", "/items/latest"}, true}, // the literal path wins
		{"GET", "/items/", Route{}, false},
		{"GET", "/items/12/more", Route{}, false},
		{"DELETE", "/items/12", Route{}, false},
		{"GET", "/nope", Route{}, false},
	} {
		got, ok := d.Match(c.method, c.path)
		if got != c.want || ok != c.ok {
			t.Errorf("Match(%s, %s) = %v, %v; want %v, %v", c.method, c.path, got, ok, c.want, c.ok)
		}
	}
}

func TestCheckResponse(t *testing.T) {
	d := loadTiny(t)
	for _, c := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               []string
	}{
		{"good", "GET", "/items/3", 200, jsonHeader(), `{"id": 3, "name": "x", "at": "2026-01-02T03:04:05.123456789Z"}`, nil},
		{"good array", "GET", "/items", 200, jsonHeader(), "[{\"id\": 3, \"name\": \"x\"}]\n", nil}, // json.Encoder's newline
		{"status range", "POST", "/items", 409, jsonHeader(), `{"error": "taken"}`, nil},
		{"missing property", "GET", "/items/3", 200, jsonHeader(), `{"id": 3}`,
			[]string{"GET /items/{id} (/items/3) answered 200", "missing property", "name"}},
		{"extra property", "GET", "/items/latest", 200, jsonHeader(), `{"id": 3, "name": "x", "colour": "red"}`,
			[]string{"GET /items/latest", "colour"}},
		{"wrong type in array", "GET", "/items", 200, jsonHeader(), `[{"id": "3", "name": "x"}]`,
			[]string{"/0/id", "want integer"}},
		{"format asserted", "GET", "/items/3", 200, jsonHeader(), `{"id": 3, "name": "x", "at": "yesterday"}`,
			[]string{"date-time"}},
		{"error schema", "GET", "/items/3", 404, jsonHeader(), `{"message": "gone"}`,
			[]string{"answered 404", "/components/responses/Error", "message"}},
		{"undocumented status", "GET", "/items/3", 418, jsonHeader(), `{}`,
			[]string{"GET /items/{id}", "status 418 is not documented", "200, 404"}},
		{"undocumented route", "PUT", "/items/3", 200, jsonHeader(), `{}`, []string{"PUT /items/3: no documented route"}},
		{"not JSON", "GET", "/items/3", 200, jsonHeader(), `{"id": 3,`, []string{"not JSON"}},
		{"trailing data", "GET", "/items/3", 200, jsonHeader(), `{"id": 3, "name": "x"} {}`, []string{"not JSON"}},
		{"undocumented media type", "GET", "/items/3", 200, http.Header{"Content-Type": {"text/html"}}, `<p>`,
			[]string{"Content-Type text/html is not documented", "application/json"}},
		{"no content type", "GET", "/items/3", 200, http.Header{}, `{"id": 3, "name": "x"}`, []string{"no Content-Type"}},
		{"text", "GET", "/text", 200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "ok\n", nil},
		{"redirect", "POST", "/items", 303, http.Header{"Location": {"/items/4"}}, "", nil},
		{"redirect without location", "POST", "/items", 303, http.Header{}, "", []string{"no Location header"}},
		{"body where none", "POST", "/form", 204, http.Header{}, "x", []string{"body of 1 bytes", "none"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, d.CheckResponse(c.method, c.path, c.status, c.header, []byte(c.body)), c.want...)
		})
	}
}

func TestCheckRequest(t *testing.T) {
	d := loadTiny(t)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, c := range []struct {
		name, method, path string
		header             http.Header
		body               string
		want               []string
	}{
		{"good", "POST", "/items", jsonHeader(), `{"id": 1, "name": "x"}`, nil},
		{"bad", "POST", "/items", jsonHeader(), `{"id": 1}`, []string{"POST /items (/items) request", "missing property"}},
		{"missing body", "POST", "/items", jsonHeader(), ``, []string{"requires one"}},
		{"no content type", "POST", "/items", http.Header{}, `{"id": 1, "name": "x"}`, nil},
		{"no content type, bad", "POST", "/items", http.Header{}, `{"id": 1}`, []string{"missing property"}},
		{"body where none", "GET", "/items", jsonHeader(), `{}`, []string{"gives this route none"}},
		{"wrong media type", "POST", "/items", form, `id=1`, []string{"not documented"}},
		{"form", "POST", "/form", form, `name=x`, nil},
		{"form missing field", "POST", "/form", form, `other=x`, []string{"missing property", "other"}},
		{"form field twice", "POST", "/form", form, `name=x&name=y`, []string{"want string"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, d.CheckRequest(c.method, c.path, c.header, []byte(c.body)), c.want...)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	for _, c := range []struct {
		name, old, new string
		want           []string
	}{
		{"version", `"openapi": "3.1.0"`, `"openapi": "3.0.3"`, []string{`openapi is "3.0.3"`}},
		{"no title", `"title": "tiny", `, ``, []string{"info.title is missing"}},
		{"unresolved $ref", `"$ref": "#/components/responses/Error"}`, `"$ref": "#/components/responses/Nope"}`,
			[]string{`"#/components/responses/Nope" does not resolve`, "/paths/~1items/post/responses/4XX"}},
		{"unresolved schema $ref", `"items": {"$ref": "#/components/schemas/Item"}`, `"items": {"$ref": "#/components/schemas/Itme"}`,
			[]string{`"#/components/schemas/Itme" does not resolve`}},
		{"external $ref", `"$ref": "#/components/schemas/Error"`, `"$ref": "errors.json#/Error"`, []string{"not local"}},
		{"missing path param", `"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],`, ``,
			[]string{"GET /items/{id}: path parameter {id} is not declared"}},
		{"path param not in path", `"/items/{id}": {`, `"/items/{key}": {`,
			[]string{"path parameter {key} is not declared", `path parameter "id" is not in the path`}},
		{"optional path param", `"in": "path", "required": true`, `"in": "path", "required": false`, []string{"not required: true"}},
		{"duplicate operationId", `"operationId": "latestItem"`, `"operationId": "getItem"`, []string{`GET /items/{id}: operationId "getItem" is GET /items/latest's too`}},
		{"no operationId", `"operationId": "getText",`, ``, []string{"GET /text: no operationId"}},
		{"no summary", `"summary": "text",`, ``, []string{"GET /text: no summary"}},
		{"no responses", `"responses": {"200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}}`, `"responses": {}`,
			[]string{"GET /text: no responses"}},
		{"bad status key", `"201": {`, `"2O1": {`, []string{`"2O1" is not a status`}},
		{"bad schema", `"id": {"type": "integer"}`, `"id": {"type": "int"}`, []string{"GET /items 200 application/json: schema"}},
		{"unknown security scheme", `"security": [],`, `"security": [{"cookie": []}],`, []string{`scheme "cookie"`}},
		{"same shape twice", `"/text": {`, `"/items/{other}": {`, []string{"match the same requests"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(tinyDoc, c.old) {
				t.Fatalf("the document has no %q", c.old)
			}
			_, err := Load([]byte(strings.Replace(tinyDoc, c.old, c.new, 1)))
			wantErr(t, err, c.want...)
		})
	}
}

// serveRoutes is the routes table of docs/SERVE.md.
var serveRoutes = []Route{
	{"GET", "/v1/connection"},
	{"PATCH", "/v1/connection"},
	{"PUT", "/v1/connection/credentials"},
	{"GET", "/v1/schema"},
	{"PATCH", "/v1/schema"},
	{"GET", "/v1/schema/tables/{table}"},
	{"PATCH", "/v1/schema/tables/{table}"},
	{"PATCH", "/v1/schema/tables/{table}/columns/{column}"},
	{"POST", "/v1/sync"},
	{"POST", "/v1/resync"},
	{"POST", "/v1/pause"},
	{"POST", "/v1/resume"},
	{"GET", "/v1/runs"},
	{"GET", "/v1/runs/{id}"},
	{"GET", "/metrics"},
	{"GET", "/openapi.json"},
	{"GET", "/healthz"},
	{"GET", "/"},
	{"POST", "/ui/login"},
	{"POST", "/ui/logout"},
	{"POST", "/ui/sync"},
	{"POST", "/ui/resync"},
}

func loadServe(t *testing.T) *Doc {
	t.Helper()
	b, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(b)
	if err != nil {
		t.Fatalf("Load(../openapi.json): %v", err)
	}
	return d
}

func TestServeDocumentRoutes(t *testing.T) {
	got := loadServe(t).Routes()
	for _, r := range serveRoutes {
		if !slices.Contains(got, r) {
			t.Errorf("openapi.json lacks %s %s", r.Method, r.Path)
		}
	}
	for _, r := range got {
		if !slices.Contains(serveRoutes, r) {
			t.Errorf("openapi.json has %s %s, which SERVE.md does not list", r.Method, r.Path)
		}
	}
}

// The document's schemas say what SERVE.md says: these bodies, shaped as
// the server sends them, hold or fail for the reasons given.
func TestServeDocumentSchemas(t *testing.T) {
	d := loadServe(t)
	const conn = `{"org_url": "https://acme.okta.com", "auth_type": "ssws", "sync_frequency_minutes": 60, "paused": false,
		"schema_change_handling": "ALLOW_ALL", "credentials": {"set": true, "kind": "token", "source": "api", "updated_at": "2026-01-02T03:04:05Z"},
		"state": "syncing", "running_run_id": 7, "next_sync_at": null, "last_success_at": "2026-01-02T03:00:00.5Z"}`
	const run = `{"id": 7, "kind": "sync", "trigger": "api", "status": "partial", "exit_status": 3,
		"started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:05:05Z", "duration_seconds": 60.125,
		"rows": 12, "requests": 4, "rate_limited": 1, "rate_wait_seconds": 2.5, "bad_records": 1, "error": "sync incomplete",
		"tables": [{"table": "users", "status": "ok", "mode": "incremental", "rows": 12, "rows_by_table": {"users": 10, "user_factors": 2},
			"requests": 4, "rate_wait_seconds": 2.5, "duration_seconds": 59, "invalid_values": 0, "bad_records": 1,
			"bad_record_samples": [{"url": "https://acme.okta.com/api/v1/users/x", "reason": "no id"}], "deletes_captured": true},
			{"table": "groups", "status": "not started", "rows": 0, "rows_by_table": {}, "requests": 0, "rate_wait_seconds": 0,
			"duration_seconds": 0, "invalid_values": 0, "bad_records": 0, "deletes_captured": false, "error": "forbidden"}],
		"schema_changes": [{"at": "2026-01-02T03:04:06Z", "table": "users", "column": "profile_x", "type": "VARCHAR", "decision": "added", "reason": ""}],
		"buckets": [{"bucket": "users", "requests": 4, "windows": 1, "waiting_seconds": 2.5, "rate_limited": 1, "limit": 600}]}`
	running := strings.NewReplacer(`"status": "partial", "exit_status": 3`, `"status": "running", "exit_status": null`,
		`"finished_at": "2026-01-02T03:05:05Z"`, `"finished_at": null`).Replace(run)
	bearer401 := http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}}
	text := http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}}
	for _, c := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               []string
	}{
		{"connection", "GET", "/v1/connection", 200, jsonHeader(), conn, nil},
		{"frequency off the list", "PATCH", "/v1/connection", 200, jsonHeader(), strings.Replace(conn, `: 60`, `: 7`, 1), []string{"sync_frequency_minutes"}},
		{"credentials kind empty", "POST", "/v1/pause", 200, jsonHeader(),
			strings.Replace(conn, `"set": true, "kind": "token", "source": "api", "updated_at": "2026-01-02T03:04:05Z"`, `"set": false, "kind": "", "source": "none", "updated_at": null`, 1), nil},
		{"run", "GET", "/v1/runs/7", 200, jsonHeader(), run, nil},
		{"running run", "POST", "/v1/sync", 202, jsonHeader(), running, nil},
		{"nil slice", "POST", "/v1/resync", 202, jsonHeader(), strings.Replace(running, `"buckets": [{"bucket": "users", "requests": 4, "windows": 1, "waiting_seconds": 2.5, "rate_limited": 1, "limit": 600}]`, `"buckets": null`, 1), []string{"buckets", "want array"}},
		{"empty error sent", "GET", "/v1/runs/7", 200, jsonHeader(), strings.Replace(run, `"sync incomplete"`, `""`, 1), []string{"/error"}},
		{"runs", "GET", "/v1/runs?limit=5", 200, jsonHeader(), `{"runs": []}`, nil},
		{"summary has no tables", "GET", "/v1/runs", 200, jsonHeader(), `{"runs": [` + run + `]}`, []string{"additional properties"}},
		{"schema", "GET", "/v1/schema", 200, jsonHeader(), `{"schema_change_handling": "BLOCK_ALL", "tables": [{"name": "user_factors", "parent": "users",
			"enabled": true, "history": false, "columns": [{"name": "id", "type": "VARCHAR", "primary_key": true, "enabled": true, "hashed": false}]}]}`, nil},
		{"column", "PATCH", "/v1/schema/tables/users/columns/profile_email", 200, jsonHeader(),
			`{"name": "profile_email", "type": "VARCHAR", "primary_key": false, "enabled": true, "hashed": true}`, nil},
		{"sync running", "POST", "/v1/sync", 409, jsonHeader(), `{"error": {"status": 409, "code": "sync_running", "message": "a sync is running", "run_id": 7}}`, nil},
		{"sync running without run", "POST", "/v1/sync", 409, jsonHeader(), `{"error": {"status": 409, "code": "sync_running", "message": "a sync is running"}}`, []string{"run_id"}},
		{"code for another status", "PATCH", "/v1/schema", 422, jsonHeader(), `{"error": {"status": 422, "code": "bad_json", "message": "x"}}`, []string{"invalid"}},
		{"invalid with details", "PATCH", "/v1/schema", 422, jsonHeader(),
			`{"error": {"status": 422, "code": "invalid", "message": "2 problems", "details": ["tables.users.columns.nope: no such column", "x"]}}`, nil},
		{"no 403 for a GET", "GET", "/v1/runs", 403, jsonHeader(), `{}`, []string{"status 403 is not documented"}},
		{"shutting down", "POST", "/v1/sync", 503, jsonHeader(), `{"error": {"status": 503, "code": "shutting_down", "message": "x"}}`, nil},
		{"paused", "POST", "/v1/pause", 415, jsonHeader(), `{"error": {"status": 415, "code": "unsupported_media_type", "message": "x"}}`, nil},
		{"unauthorized", "GET", "/v1/runs", 401, bearer401, `{"error": {"status": 401, "code": "unauthorized", "message": "no key"}}`, nil},
		{"unauthorized without challenge", "GET", "/v1/runs", 401, jsonHeader(), `{"error": {"status": 401, "code": "unauthorized", "message": "no key"}}`, []string{"WWW-Authenticate"}},
		{"secret unset", "PUT", "/v1/connection/credentials", 503, jsonHeader(), `{"error": {"status": 503, "code": "secret_unset", "message": "x"}}`, nil},
		{"not found", "GET", "/v1/schema/tables/nope", 404, jsonHeader(), `{"error": {"status": 404, "code": "not_found", "message": "x"}}`, nil},
		{"no 404 without a parameter", "GET", "/v1/schema", 404, jsonHeader(), `{}`, []string{"status 404 is not documented"}},
		{"metrics", "GET", "/metrics", 200, text, "oktasync_sync_running 0\n", nil},
		{"healthz", "GET", "/healthz", 200, text, "ok\n", nil},
		{"page", "GET", "/", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<!doctype html>", nil},
		{"page form", "POST", "/ui/resync", 303, http.Header{"Location": {"/"}}, "", nil},
		{"login refused", "POST", "/ui/login", 401, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<!doctype html>", nil},
		{"form unreadable", "POST", "/ui/logout", 400, jsonHeader(), `{"error": {"status": 400, "code": "bad_json", "message": "the form could not be read"}}`, nil},
		{"page form refused", "POST", "/ui/sync", 403, jsonHeader(), `{"error": {"status": 403, "code": "forbidden", "message": "bad form token"}}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, d.CheckResponse(c.method, c.path, c.status, c.header, []byte(c.body)), c.want...)
		})
	}

	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, c := range []struct {
		name, method, path string
		header             http.Header
		body               string
		want               []string
	}{
		{"patch connection", "PATCH", "/v1/connection", jsonHeader(), `{"org_url": "https://acme.okta.com", "sync_frequency_minutes": 60}`, nil},
		{"frequency checked by the server", "PATCH", "/v1/connection", jsonHeader(), `{"sync_frequency_minutes": 7}`, nil},
		{"token", "PUT", "/v1/connection/credentials", jsonHeader(), `{"token": "00abc"}`, nil},
		{"oauth", "PUT", "/v1/connection/credentials", jsonHeader(), `{"client_id": "0oa", "private_key": "{}", "key_id": "k", "scopes": ["okta.users.read"]}`, nil},
		{"both credentials", "PUT", "/v1/connection/credentials", jsonHeader(), `{"token": "00abc", "client_id": "0oa", "private_key": "{}"}`, []string{"oneOf"}},
		{"patch schema", "PATCH", "/v1/schema", jsonHeader(),
			`{"schema_change_handling": "ALLOW_COLUMNS", "tables": {"users": {"history": true, "columns": {"profile_email": {"hashed": true}}}}}`, nil},
		{"unknown field", "PATCH", "/v1/schema/tables/users", jsonHeader(), `{"hashed": true}`, []string{"hashed"}},
		{"resync all", "POST", "/v1/resync", jsonHeader(), ``, nil},
		{"sync", "POST", "/v1/sync", http.Header{}, ``, nil},
		{"sync with {}", "POST", "/v1/sync", jsonHeader(), `{}`, nil},
		{"sync takes no field", "POST", "/v1/pause", jsonHeader(), `{"paused": true}`, []string{"paused"}},
		{"resync some", "POST", "/v1/resync", jsonHeader(), `{"tables": ["users"]}`, nil},
		{"login", "POST", "/ui/login", form, `key=oks_x`, nil},
		{"login has no token", "POST", "/ui/login", form, `key=oks_x&csrf=t`, []string{"csrf"}},
		{"page resync", "POST", "/ui/resync", form, `csrf=t&tables=users,groups`, nil},
		{"page sync without token", "POST", "/ui/sync", form, ``, []string{"requires one"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, d.CheckRequest(c.method, c.path, c.header, []byte(c.body)), c.want...)
		})
	}
}
