package models

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// header returns a valid header for a model of that name, as a file has it.
func header(name, kind string) string {
	return `-- name: ` + name + `
-- title: A test model
-- grain: one row per thing
-- key: id
-- materialized: ` + kind + `
-- columns:
--   id: the thing
--   label: its label, which goes on
--     over two lines
-- description: Says what it is for.
--
--   A second paragraph.
-- example:
--   select *
--     from okta_models.` + name + `;
`
}

func TestParse(t *testing.T) {
	src := header("things", "table") + "select id, label\nfrom okta_current.users -- not okta_models.ignored\njoin okta_models.other using (id);\n"
	m, err := Parse("models/things.sql", src)
	if err != nil {
		t.Fatal(err)
	}
	want := &Model{Name: "things", Title: "A test model", Grain: "one row per thing", Key: []string{"id"},
		Materialized: "table",
		Columns:      []Column{{"id", "the thing"}, {"label", "its label, which goes on over two lines"}},
		Description:  "Says what it is for.\n\nA second paragraph.",
		Example:      "select *\n  from okta_models.things;",
		File:         "models/things.sql",
		SQL:          "select id, label\nfrom okta_current.users -- not okta_models.ignored\njoin okta_models.other using (id)",
		Line:         16, Reads: []string{"okta_current.users"}, Uses: []string{"other"}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestParseErrors: each problem is reported with the file and line, all at
// once.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"missing keys", "-- name: x\nselect 1", []string{
			"models/x.sql:1: header: -- title: missing", "-- grain: missing", "-- columns: missing", "-- example: missing"}},
		{"name is not the file's", strings.Replace(header("y", "table"), "name: y", "name: z", 1) + "select 1",
			[]string{`models/y.sql:1: name: "z" must be the file's name, "y"`}},
		{"unknown key", strings.Replace(header("y", "table"), "-- grain:", "-- grian:", 1) + "select 1",
			[]string{`models/y.sql:3: unknown header key "grian"`, "-- grain: missing"}},
		{"bad kind", header("y", "materialized view") + "select 1",
			[]string{`models/y.sql:5: materialized: "materialized view": want table or view`}},
		{"key not a column", strings.Replace(header("y", "table"), "key: id", "key: id, nope", 1) + "select 1",
			[]string{"models/y.sql:4: key: nope is not one of the columns"}},
		{"no query", header("y", "view"), []string{"models/y.sql:16: no query after the header"}},
		{"continuation not indented", strings.Replace(header("y", "table"), "--   A second", "-- A second", 1) + "select 1",
			[]string{`models/y.sql:12: "-- A second paragraph."`}},
		{"reads itself", header("y", "table") + "select 1\nfrom okta_models.y", []string{"models/y.sql:17: the query reads okta_models.y, itself"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("models/"+strings.Fields(c.src[strings.Index(c.src, "name: ")+6:])[0]+".sql", c.src)
			if c.name == "name is not the file's" {
				_, err = Parse("models/y.sql", c.src)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func model(name string, uses ...string) *Model {
	return &Model{Name: name, File: "models/" + name + ".sql", Uses: uses, SQL: "select 1", Line: 1}
}

func TestOrder(t *testing.T) {
	got, err := Order([]*Model{model("a", "c"), model("b"), model("c", "b"), model("d", "a", "b")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "c", "a", "d"}, Names(got)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	_, err = Order([]*Model{model("a", "b"), model("b", "c"), model("c", "a")})
	if err == nil || !strings.Contains(err.Error(), "cycle: a -> b -> c -> a") {
		t.Errorf("a cycle: %v", err)
	}
	_, err = Order([]*Model{model("a", "nope")})
	if err == nil || !strings.Contains(err.Error(), "models/a.sql:1: reads okta_models.nope, which is no model") {
		t.Errorf("an unknown model: %v", err)
	}
}

func TestSelect(t *testing.T) {
	ordered, err := Order([]*Model{model("a", "c"), model("b"), model("c", "b"), model("d", "a", "b"), model("e")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Select(ordered, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "c", "a"}, Names(got)); diff != "" {
		t.Errorf("--select a builds what a reads first (-want +got):\n%s", diff)
	}
	if _, err := Select(ordered, []string{"a", "zz"}); err == nil || !strings.Contains(err.Error(), "no model zz; the models are b, c, a, d, e") {
		t.Errorf("unknown: %v", err)
	}
}

// TestPackOrder: the shipped models load, and each comes after the models
// it reads.
func TestPackOrder(t *testing.T) {
	pack := mustPack(t)
	pos := map[string]int{}
	for i, m := range pack {
		pos[m.Name] = i
	}
	for _, m := range pack {
		for _, u := range m.Uses {
			if pos[u] >= pos[m.Name] {
				t.Errorf("%s runs before %s, which it reads", m.Name, u)
			}
		}
	}
}

// TestFailingModel: a model that fails names its file and line, keeps its
// previous materialisation, skips the models reading it, and the others
// still build.
func TestFailingModel(t *testing.T) {
	path := builtDB(t, false)
	db := openDB(t, path)
	before := queryRows(t, db, "select * from okta_models.app_usage")
	prevUser360 := queryRows(t, db, "select * from okta_models.user_360")
	db.Close()

	good := header("zeta", "table") + "select id, profile_login as label from okta_current.users"
	// app_usage breaks at line 17 of its file (the query's second line).
	broken := header("app_usage", "table") + "select id, label\nfrom okta_current.no_such_table"
	reader := header("reader", "view") + "select id, label from okta_models.app_usage"
	fsys := fstest.MapFS{
		"zeta.sql":      {Data: []byte(good)},
		"app_usage.sql": {Data: []byte(broken)},
		"reader.sql":    {Data: []byte(reader)},
	}
	ms, err := Load(fsys, "models")
	if err != nil {
		t.Fatal(err)
	}
	res := runModels(t, path, ms)
	status := map[string]Outcome{}
	for _, o := range res.Outcomes {
		status[o.Model.Name] = o
	}
	if o := status["app_usage"]; o.Status != StatusFailed || !strings.Contains(o.Err.Error(), "models/app_usage.sql:17: ") ||
		!strings.Contains(o.Err.Error(), "no_such_table") {
		t.Errorf("app_usage: %s, %v; want failed at models/app_usage.sql:17 naming the table", o.Status, o.Err)
	}
	if o := status["reader"]; o.Status != StatusSkipped || !strings.Contains(o.Err.Error(), "app_usage failed") {
		t.Errorf("reader: %s, %v; want skipped because app_usage failed", o.Status, o.Err)
	}
	if o := status["zeta"]; o.Status != StatusOK || o.Rows != 300 {
		t.Errorf("zeta: %s %d rows, %v; want ok with 300 rows", o.Status, o.Rows, o.Err)
	}
	db = openDB(t, path)
	if diff := cmp.Diff(before, queryRows(t, db, "select * from okta_models.app_usage")); diff != "" {
		t.Errorf("app_usage changed though its model failed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(prevUser360, queryRows(t, db, "select * from okta_models.user_360")); diff != "" {
		t.Errorf("user_360, not run, changed:\n%s", diff)
	}
	if n := queryInt(t, db, "select count(*) from information_schema.tables where table_schema = 'okta_models' and table_name = 'reader'"); n != 0 {
		t.Errorf("reader exists though it was skipped")
	}
}

// TestColumnsMustMatchHeader: a query whose columns are not the header's
// fails, and leaves nothing behind.
func TestColumnsMustMatchHeader(t *testing.T) {
	path := copyDB(t, demoDB(t, false))
	m, err := Parse("models/things.sql", header("things", "table")+"select id, profile_login as login from okta_current.users")
	if err != nil {
		t.Fatal(err)
	}
	res := runModels(t, path, []*Model{m})
	o := res.Outcomes[0]
	if o.Status != StatusFailed || !strings.Contains(o.Err.Error(), "models/things.sql:16: the query returns the columns id, login; the header lists id, label") {
		t.Errorf("got %s: %v", o.Status, o.Err)
	}
	db := openDB(t, path)
	if n := queryInt(t, db, "select count(*) from information_schema.tables where table_schema = 'okta_models' and table_name = 'things'"); n != 0 {
		t.Error("the table was created though its columns are wrong")
	}
}

// TestKindChange: a model switched between table and view replaces the
// other kind.
func TestKindChange(t *testing.T) {
	path := copyDB(t, demoDB(t, false))
	q := "select id, profile_login as label from okta_current.users"
	for _, kind := range []string{"table", "view", "table"} {
		m, err := Parse("models/things.sql", header("things", kind)+q)
		if err != nil {
			t.Fatal(err)
		}
		if res := runModels(t, path, []*Model{m}); res.Failed() > 0 {
			t.Fatalf("%s: %v", kind, res.Outcomes[0].Err)
		}
		db := openDB(t, path)
		var typ string
		if err := db.QueryRowContext(context.Background(), "select table_type from information_schema.tables where table_schema = 'okta_models' and table_name = 'things'").Scan(&typ); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"table": "BASE TABLE", "view": "VIEW"}[kind]; typ != want {
			t.Errorf("materialized %s: got %s", kind, typ)
		}
		db.Close()
	}
}
