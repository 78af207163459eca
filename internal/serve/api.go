package serve

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"oktasync/internal/connector"
	"oktasync/runtime"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI is the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

// maxBody caps request bodies: the largest, a schema patch, is far smaller.
const maxBody = 64 << 10

// apiError is an error answer; every refused request changes nothing.
type apiError struct {
	Status  int      `json:"status"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
	RunID   int      `json:"run_id,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func invalid(errs []error) *apiError {
	e := &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid"}
	for _, err := range errs {
		e.Details = append(e.Details, err.Error())
	}
	e.Message = strings.Join(e.Details, "; ")
	return e
}

func notFound(msg string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: msg}
}

// access is who may call a route.
type access int

const (
	public  access = iota // no key (health, the page and its login)
	reader                // any key
	writer                // a key that is not read-only
	session               // the page's forms: a session cookie and its form token
)

// route is one route of the API and the page.
type route struct {
	method, path string
	access       access
	handle       func(s *Service, w http.ResponseWriter, r *http.Request) error
}

// routes are every route the service answers; openapi.json documents each
// (TestOpenAPIMatchesRoutes).
var routes = []route{
	{"GET", "/v1/connection", reader, json200((*Service).getConnection)},
	{"PATCH", "/v1/connection", writer, json200((*Service).patchConnection)},
	{"PUT", "/v1/connection/credentials", writer, json200((*Service).putCredentials)},
	{"GET", "/v1/schema", reader, json200((*Service).getSchema)},
	{"PATCH", "/v1/schema", writer, json200((*Service).patchSchema)},
	{"GET", "/v1/schema/tables/{table}", reader, json200((*Service).getTable)},
	{"PATCH", "/v1/schema/tables/{table}", writer, json200((*Service).patchTable)},
	{"PATCH", "/v1/schema/tables/{table}/columns/{column}", writer, json200((*Service).patchColumn)},
	{"POST", "/v1/sync", writer, (*Service).postSync},
	{"POST", "/v1/resync", writer, (*Service).postResync},
	{"POST", "/v1/pause", writer, json200(func(s *Service, r *http.Request) (any, error) { return s.setPaused(r, true) })},
	{"POST", "/v1/resume", writer, json200(func(s *Service, r *http.Request) (any, error) { return s.setPaused(r, false) })},
	{"GET", "/v1/runs", reader, json200((*Service).listRuns)},
	{"GET", "/v1/runs/{id}", reader, json200((*Service).getRun)},
	{"GET", "/metrics", reader, func(s *Service, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.metrics.write(w)
		return nil
	}},
	{"GET", "/openapi.json", reader, func(s *Service, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(openAPIDoc)
		return err
	}},
	{"GET", "/healthz", public, func(s *Service, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(w, "ok\n")
		return err
	}},
	{"GET", "/", public, (*Service).page},
	{"POST", "/ui/login", public, (*Service).uiLogin},
	{"POST", "/ui/logout", session, (*Service).uiLogout},
	{"POST", "/ui/sync", session, (*Service).uiSync},
	{"POST", "/ui/resync", session, (*Service).uiSync},
}

func json200(f func(s *Service, r *http.Request) (any, error)) func(*Service, http.ResponseWriter, *http.Request) error {
	return func(s *Service, w http.ResponseWriter, r *http.Request) error {
		v, err := f(s, r)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// Handler serves the API, the metrics and the status page.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	var allowed []string
	for _, rt := range routes {
		params, ok := matchPath(rt.path, r.URL.Path)
		if !ok {
			continue
		}
		if rt.method != r.Method && !(rt.method == "GET" && r.Method == "HEAD") {
			allowed = append(allowed, rt.method)
			continue
		}
		for k, v := range params {
			r.SetPathValue(k, v)
		}
		if err := s.authorize(rt, w, r); err != nil {
			writeError(w, err)
			return
		}
		if err := rt.handle(s, w, r); err != nil {
			writeError(w, err)
		}
		return
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: fmt.Sprintf("%s %s is not a route; %s answers %s", r.Method, r.URL.Path, r.URL.Path, strings.Join(allowed, ", "))})
		return
	}
	writeError(w, notFound(fmt.Sprintf("no route %s; /openapi.json lists them", r.URL.Path)))
}

// matchPath matches a path against a pattern whose {name} segments match
// any one segment.
func matchPath(pattern, path string) (map[string]string, bool) {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && xs[i] != "" {
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return params, true
}

// authorize checks the bearer key (or the page's session) a route needs.
func (s *Service) authorize(rt route, w http.ResponseWriter, r *http.Request) error {
	switch rt.access {
	case public:
		return nil
	case session:
		return s.checkSession(r)
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	key, found := matchKey(s.store.keys(), strings.TrimSpace(token))
	if !ok || !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oktasync"`)
		msg := "no API key: send Authorization: Bearer <key> (oktasync serve --create-key makes one)"
		if ok {
			msg = "the API key is not known to this service (oktasync serve --create-key makes one)"
		}
		return &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
	}
	if rt.access == writer && key.ReadOnly {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "this API key is read-only: it may call GET routes only"}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
	}
	writeJSON(w, ae.Status, map[string]*apiError{"error": ae})
}

// decodeBody reads a JSON body into v strictly: an unknown field, a value
// of the wrong type or anything after the value is an error. An empty body
// is {} when optional.
func decodeBody(r *http.Request, v any, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: fmt.Sprintf("the body must be JSON (Content-Type: application/json), not %q", ct)}
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "reading the body: " + err.Error()}
	}
	if len(data) > maxBody {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("the body is over %d KiB", maxBody>>10)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optional {
			return nil
		}
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "the body is empty; send a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "the body is not what this route takes: " + jsonProblem(err, data)}
	}
	return nil
}

// jsonProblem says what is wrong with a body in the terms of its fields,
// never quoting its values (they may be credentials).
func jsonProblem(err error, data []byte) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("malformed JSON at line %d, byte %d", line, syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: it ends early"
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return err.Error()
}

// jsonKind says in words what a JSON value of Go type t looks like.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.Kind().String()
}

// connectionDoc is GET /v1/connection's answer.
type connectionDoc struct {
	Connection
	Credentials   credentialsDoc `json:"credentials"`
	State         string         `json:"state"`
	RunningRunID  int            `json:"running_run_id,omitempty"`
	NextSyncAt    *time.Time     `json:"next_sync_at"`
	LastSuccessAt *time.Time     `json:"last_success_at"`
	// Problem says why the connection cannot sync (not_configured).
	Problem string `json:"problem,omitempty"`
}

type credentialsDoc struct {
	Set       bool       `json:"set"`
	Kind      string     `json:"kind"`
	Source    string     `json:"source"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// Connection states.
const (
	StateNotConfigured = "not_configured"
	StatePaused        = "paused"
	StateIdle          = "idle"
	StateSyncing       = "syncing"
)

func (s *Service) connection() connectionDoc {
	st := s.store.get()
	d := connectionDoc{Connection: *st.Connection}
	d.Credentials.Source = s.credentialSource(st)
	if c := st.Credentials; c != nil {
		t := c.UpdatedAt
		d.Credentials.Set, d.Credentials.Kind, d.Credentials.UpdatedAt = true, c.Kind, &t
	} else if d.Credentials.Source == "environment" {
		d.Credentials.Set, d.Credentials.Kind = true, "token"
		if st.Connection.AuthType == connector.AuthOAuth {
			d.Credentials.Kind = "oauth"
		}
	}
	_, cfgErr := s.syncConfig()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.running != nil:
		d.State, d.RunningRunID = StateSyncing, s.running.ID
	case cfgErr != nil:
		d.State, d.Problem = StateNotConfigured, cfgErr.Error()
	case st.Connection.Paused:
		d.State = StatePaused
	default:
		d.State = StateIdle
	}
	if !s.next.IsZero() && !st.Connection.Paused {
		t := s.next.UTC()
		d.NextSyncAt = &t
	}
	for i := len(s.runs) - 1; i >= 0; i-- {
		if r := s.runs[i]; r.Status == "complete" && r.FinishedAt != nil {
			t := *r.FinishedAt
			d.LastSuccessAt = &t
			break
		}
	}
	return d
}

func (s *Service) getConnection(r *http.Request) (any, error) { return s.connection(), nil }

type connectionPatch struct {
	OrgURL               *string `json:"org_url"`
	AuthType             *string `json:"auth_type"`
	SyncFrequency        *int    `json:"sync_frequency_minutes"`
	Paused               *bool   `json:"paused"`
	SchemaChangeHandling *string `json:"schema_change_handling"`
}

func (s *Service) patchConnection(r *http.Request) (any, error) {
	var p connectionPatch
	if err := decodeBody(r, &p, false); err != nil {
		return nil, err
	}
	err := s.store.update(func(st *StateFile) error {
		c := st.Connection
		var errs []error
		if p.OrgURL != nil {
			c.OrgURL = strings.TrimSpace(*p.OrgURL)
			if c.OrgURL != "" {
				u, err := connector.NormalizeOrgURL(c.OrgURL)
				if err != nil {
					errs = append(errs, fmt.Errorf("org_url: %w", err))
				}
				c.OrgURL = u
			}
		}
		if p.AuthType != nil {
			if c.AuthType = *p.AuthType; c.AuthType != connector.AuthSSWS && c.AuthType != connector.AuthOAuth {
				errs = append(errs, fmt.Errorf("auth_type is %q; want ssws (an API token) or oauth (a service app)", c.AuthType))
			}
		}
		if p.SyncFrequency != nil {
			if c.SyncFrequency = *p.SyncFrequency; connector.CheckFrequency(c.SyncFrequency) != nil {
				errs = append(errs, connector.CheckFrequency(c.SyncFrequency))
			}
		}
		if p.Paused != nil {
			c.Paused = *p.Paused
		}
		if p.SchemaChangeHandling != nil {
			c.SchemaChangeHandling = *p.SchemaChangeHandling
			errs = append(errs, checkSettings(c.SchemaChangeHandling, st.Tables)...)
		}
		if len(errs) > 0 {
			return invalid(errs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.poke()
	return s.connection(), nil
}

func (s *Service) setPaused(r *http.Request, paused bool) (any, error) {
	if err := decodeBody(r, &struct{}{}, true); err != nil {
		return nil, err
	}
	if err := s.store.update(func(st *StateFile) error { st.Connection.Paused = paused; return nil }); err != nil {
		return nil, err
	}
	s.poke()
	return s.connection(), nil
}

func (s *Service) putCredentials(r *http.Request) (any, error) {
	var c Credentials
	if err := decodeBody(r, &c, false); err != nil {
		return nil, err
	}
	var errs []error
	switch {
	case c.Token != "" && (c.ClientID != "" || c.PrivateKey != ""):
		errs = append(errs, errors.New("send a token or a service app's client_id and private_key, not both"))
	case c.Token != "":
		if strings.ContainsAny(c.Token, " \t\r\n") {
			errs = append(errs, errors.New("token: an API token has no spaces or line breaks (the value is not shown)"))
		}
	case c.ClientID == "" && c.PrivateKey == "":
		errs = append(errs, errors.New("send {\"token\": ...} for an API token, or {\"client_id\": ..., \"private_key\": ...} for an OAuth service app"))
	default:
		if c.ClientID == "" {
			errs = append(errs, errors.New("client_id: missing"))
		}
		if k := strings.TrimSpace(c.PrivateKey); !strings.HasPrefix(k, "-----BEGIN") && !strings.HasPrefix(k, "{") {
			errs = append(errs, errors.New("private_key: want a PEM block or a JWK (the value is not shown)"))
		}
	}
	if len(errs) > 0 {
		return nil, invalid(errs)
	}
	if s.sealKey == nil {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "secret_unset", Message: errSecretUnset.Error()}
	}
	sealed, err := seal(s.sealKey, c, time.Now())
	if err != nil {
		return nil, err
	}
	err = s.store.update(func(st *StateFile) error {
		st.Credentials = sealed
		st.Connection.AuthType = connector.AuthSSWS
		if c.Kind() == "oauth" {
			st.Connection.AuthType = connector.AuthOAuth
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("credentials replaced", "kind", c.Kind())
	s.poke()
	return s.connection(), nil
}

// schemaDoc, tableDoc and columnDoc are what the schema routes answer.
type schemaDoc struct {
	SchemaChangeHandling string     `json:"schema_change_handling"`
	Tables               []tableDoc `json:"tables"`
}

type tableDoc struct {
	Name    string      `json:"name"`
	Parent  string      `json:"parent,omitempty"`
	Enabled bool        `json:"enabled"`
	History bool        `json:"history"`
	Columns []columnDoc `json:"columns"`
}

type columnDoc struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	PrimaryKey bool   `json:"primary_key"`
	Enabled    bool   `json:"enabled"`
	Hashed     bool   `json:"hashed"`
}

// settingsConfig is a config holding only table settings and the policy.
func settingsConfig(policy string, tables map[string]connector.TableConfig) *connector.Config {
	return &connector.Config{SchemaChangeHandling: policy, Tables: tables}
}

// checkSettings checks settings as the config file's are checked.
func checkSettings(policy string, tables map[string]connector.TableConfig) []error {
	return settingsConfig(policy, tables).CheckSettings()
}

func (s *Service) schema() schemaDoc {
	st := s.store.get()
	doc := schemaDoc{SchemaChangeHandling: st.Connection.SchemaChangeHandling, Tables: []tableDoc{}}
	for _, e := range settingsConfig(st.Connection.SchemaChangeHandling, st.Tables).Effective() {
		doc.Tables = append(doc.Tables, newTableDoc(e))
	}
	return doc
}

func newTableDoc(e runtime.TableEffect) tableDoc {
	t := e.Table
	d := tableDoc{Name: t.Name, Enabled: e.Written, History: e.History, Columns: []columnDoc{}}
	if t.Parent != nil {
		d.Parent = t.Parent.Name
	}
	for _, c := range e.Columns {
		typ := c.Type
		if i := slices.IndexFunc(t.Columns, func(x runtime.Column) bool { return x.Name == c.Name }); i >= 0 {
			typ = t.Columns[i].Type // as the source has it, not as hashing writes it
		}
		d.Columns = append(d.Columns, columnDoc{Name: c.Name, Type: typ.String(), PrimaryKey: slices.Contains(t.PrimaryKey, c.Name),
			Enabled: c.Enabled, Hashed: c.Hashed})
	}
	return d
}

func (s *Service) getSchema(r *http.Request) (any, error) { return s.schema(), nil }

func (s *Service) tableDoc(name string) (tableDoc, error) {
	for _, t := range s.schema().Tables {
		if t.Name == name {
			return t, nil
		}
	}
	return tableDoc{}, notFound(connector.CheckTableNames("", []string{name}).Error())
}

func (s *Service) getTable(r *http.Request) (any, error) { return s.tableDoc(r.PathValue("table")) }

type schemaPatch struct {
	SchemaChangeHandling *string               `json:"schema_change_handling"`
	Tables               map[string]tablePatch `json:"tables"`
}

type tablePatch struct {
	Enabled *bool                  `json:"enabled"`
	History *bool                  `json:"history"`
	Columns map[string]columnPatch `json:"columns"`
}

type columnPatch struct {
	Enabled *bool `json:"enabled"`
	Hashed  *bool `json:"hashed"`
}

// applySchema merges a patch into the settings and keeps the result only
// if the whole of it holds.
func (s *Service) applySchema(p schemaPatch) error {
	err := s.store.update(func(st *StateFile) error {
		if p.SchemaChangeHandling != nil {
			st.Connection.SchemaChangeHandling = *p.SchemaChangeHandling
		}
		if st.Tables == nil && len(p.Tables) > 0 {
			st.Tables = map[string]connector.TableConfig{}
		}
		for name, tp := range p.Tables {
			t := st.Tables[name]
			if tp.Enabled != nil {
				t.Enabled = tp.Enabled
			}
			if tp.History != nil {
				t.History = *tp.History
			}
			for cn, cp := range tp.Columns {
				if t.Columns == nil {
					t.Columns = map[string]connector.ColumnConfig{}
				}
				c := t.Columns[cn]
				if cp.Enabled != nil {
					c.Enabled = cp.Enabled
				}
				if cp.Hashed != nil {
					c.Hashed = *cp.Hashed
				}
				t.Columns[cn] = c
			}
			st.Tables[name] = t
		}
		if errs := checkSettings(st.Connection.SchemaChangeHandling, st.Tables); len(errs) > 0 {
			return invalid(errs)
		}
		return nil
	})
	if err == nil {
		s.poke()
	}
	return err
}

func (s *Service) patchSchema(r *http.Request) (any, error) {
	var p schemaPatch
	if err := decodeBody(r, &p, false); err != nil {
		return nil, err
	}
	if err := s.applySchema(p); err != nil {
		return nil, err
	}
	return s.schema(), nil
}

func (s *Service) patchTable(r *http.Request) (any, error) {
	name := r.PathValue("table")
	if _, err := s.tableDoc(name); err != nil {
		return nil, err
	}
	var p tablePatch
	if err := decodeBody(r, &p, false); err != nil {
		return nil, err
	}
	if err := s.applySchema(schemaPatch{Tables: map[string]tablePatch{name: p}}); err != nil {
		return nil, err
	}
	return s.tableDoc(name)
}

func (s *Service) patchColumn(r *http.Request) (any, error) {
	name, col := r.PathValue("table"), r.PathValue("column")
	if _, err := s.tableDoc(name); err != nil {
		return nil, err
	}
	// A column unknown to the table is a route that does not exist.
	probe := map[string]connector.TableConfig{name: {Columns: map[string]connector.ColumnConfig{col: {}}}}
	if errs := checkSettings("", probe); len(errs) > 0 {
		return nil, notFound(errs[0].Error())
	}
	var p columnPatch
	if err := decodeBody(r, &p, false); err != nil {
		return nil, err
	}
	if err := s.applySchema(schemaPatch{Tables: map[string]tablePatch{name: {Columns: map[string]columnPatch{col: p}}}}); err != nil {
		return nil, err
	}
	t, err := s.tableDoc(name)
	if err != nil {
		return nil, err
	}
	for _, c := range t.Columns {
		if c.Name == col {
			return c, nil
		}
	}
	// A dynamic column the table has not seen yet: its settings as set.
	st := s.store.get().Tables[name].Columns[col]
	return columnDoc{Name: col, Type: "string", Enabled: st.Enabled == nil || *st.Enabled, Hashed: st.Hashed}, nil
}

func (s *Service) postSync(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(r, &struct{}{}, true); err != nil {
		return err
	}
	run, err := s.start(KindSync, TriggerAPI, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

type resyncRequest struct {
	Tables []string `json:"tables"`
}

func (s *Service) postResync(w http.ResponseWriter, r *http.Request) error {
	var p resyncRequest
	if err := decodeBody(r, &p, true); err != nil {
		return err
	}
	tables, err := resyncTables(p.Tables)
	if err != nil {
		return err
	}
	run, err := s.start(KindResync, TriggerAPI, tables)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

// resyncTables checks the tables to re-import; none is all of them.
func resyncTables(names []string) ([]string, error) {
	if len(names) == 0 {
		return []string{"*"}, nil
	}
	if err := connector.CheckTableNames("tables", names); err != nil {
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		return nil, invalid(errs)
	}
	return names, nil
}

type runList struct {
	Runs []RunSummary `json:"runs"`
}

func (s *Service) listRuns(r *http.Request) (any, error) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, invalid([]error{fmt.Errorf("limit is %q; want a whole number from 1 to 1000", v)})
		}
		limit = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := runList{Runs: []RunSummary{}}
	for i := len(s.runs) - 1; i >= 0 && len(out.Runs) < limit; i-- {
		out.Runs = append(out.Runs, s.runs[i].clone().RunSummary)
	}
	return out, nil
}

func (s *Service) getRun(r *http.Request) (any, error) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		for _, run := range s.runs {
			if run.ID == id {
				return run.clone(), nil
			}
		}
	}
	return nil, notFound(fmt.Sprintf("no run %q in the history (it keeps the last %d)", r.PathValue("id"), historyLimit))
}
