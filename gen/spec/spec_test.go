package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestSchemaIsFresh(t *testing.T) {
	have, err := os.ReadFile(filepath.Join(repoRoot(t), "specs", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, Schema()) {
		t.Error("specs/schema.json is stale; run go generate ./...")
	}
}

// TestSpecsMatchSchema checks every spec in the repository, and every
// successful generator test case, against the generated JSON Schema, and
// that each names the schema for editors on its first line.
func TestSpecsMatchSchema(t *testing.T) {
	root := repoRoot(t)
	c := jsonschema.NewCompiler()
	var doc any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "specs", "*", "*.yaml"))
	for _, extra := range []string{"ticketing", "features"} {
		more, _ := filepath.Glob(filepath.Join(root, "gen", "testdata", extra, "specs", "*.yaml"))
		files = append(files, more...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d spec files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(toJSON(v)); err != nil {
			t.Errorf("%s does not match specs/schema.json: %v", f, err)
		}
		if strings.Contains(f, string(filepath.Separator)+"specs"+string(filepath.Separator)+"okta") &&
			!strings.HasPrefix(string(data), "# yaml-language-server: $schema=../schema.json\n") {
			t.Errorf("%s: first line must be # yaml-language-server: $schema=../schema.json", f)
		}
	}
}

// TestSchemaRejectsWhatLoaderRejects: the schema is strict like the loader.
func TestSchemaRejectsWhatLoaderRejects(t *testing.T) {
	c := jsonschema.NewCompiler()
	var doc any
	_ = json.Unmarshal(Schema(), &doc)
	_ = c.AddResource("schema.json", doc)
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"version: 1\ntables: [{name: t, request: {path: /t}, primary_key: id, columns: [{path: id}], paginaton: {}}]",
		"version: 1\ntables: [{name: t, request: {path: /t}, primary_key: id, columns: [{path: id, type: text}]}]",
		"version: 1\ntables: [{name: t, request: {path: /t}, columns: [{path: id}]}]",
		"tables: []",
		"version: 1\ntables: [{name: t, request: {path: /t}, primary_key: id, columns: [{path: id}], deletes: {type: full_reimport, every: soon}}]",
	} {
		var v any
		if err := yaml.Unmarshal([]byte(bad), &v); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(toJSON(v)); err == nil {
			t.Errorf("schema accepts %q", bad)
		}
		l, diags := Load("x.yaml", []byte(bad))
		diags = append(diags, Validate([]*Loaded{l})...)
		if len(diags) == 0 {
			t.Errorf("loader accepts %q", bad)
		}
	}
}

// toJSON turns YAML-decoded values into what a JSON decoder would give.
func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = toJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = toJSON(e)
		}
	case int:
		return json.Number(fmtInt(x))
	}
	return v
}

func fmtInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "id", want: []string{"id"}},
		{in: "profile.firstName", want: []string{"profile", "firstName"}},
		{in: `links.web\.address`, want: []string{"links", "web.address"}},
		{in: "", err: true},
		{in: "a..b", err: true},
		{in: "a.", err: true},
		{in: ".a", err: true},
		{in: "a.#", err: true},
		{in: "a|b", err: true},
		{in: `a\`, err: true},
		{in: "a*", err: true},
	} {
		got, err := SplitPath(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("SplitPath(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("SplitPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 168 * time.Hour, "5m": 5 * time.Minute, "90s": 90 * time.Second, "0": 0, "1h30m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "-5m", "soon", "1w"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{"users_id": "UsersID", "_links_self_href": "LinksSelfHref", "ip": "IP", "client_ip_address": "ClientIPAddress", "_fivetran_id": "FivetranID", "x_5_c": "X5C", "5abc": "X5abc"} {
		if got := GoName(in); got != want {
			t.Errorf("GoName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPositionsPointAtValues: a diagnostic's line:col is where the value
// was written, for scalars in block and flow style and for list items.
func TestPositionsPointAtValues(t *testing.T) {
	src := "version: 1\ntables:\n  - name: t\n    request: {path: /t}\n    pagination:\n      type: link\n    primary_key: id\n    columns:\n      - path: id\n        type: uuid\n"
	_, diags := Load("t.yaml", []byte(src))
	want := []string{
		`t.yaml:6:13: pagination.type: unknown value "link"; want one of link_header, body_link, none`,
		`t.yaml:10:15: columns[0].type: unknown value "uuid"; want one of string, integer, bigint, double, boolean, timestamp, json`,
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(diags), len(want), diags.Error())
	}
	for i, d := range diags {
		if d.String() != want[i] {
			t.Errorf("diag %d = %s\nwant %s", i, d, want[i])
		}
	}
}

// FuzzLoad: no input makes the loader or the validator panic.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../../specs/okta/*.yaml")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Add([]byte("version: 1\ntables: [{name: x, children: [{name: y, children: [{}]}]}]"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, _ := Load("f.yaml", data)
		if !l.Broken {
			Validate([]*Loaded{l})
		}
	})
}
