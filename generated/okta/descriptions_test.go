package okta

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"oktasync/gen/spec"
	"oktasync/runtime"
)

// TestDescriptions: every table of specs/okta, children included, has a
// description, and every description of a table or column in the specs is
// the one its descriptor carries (the destination's comments and `tables -v`
// read them there).
func TestDescriptions(t *testing.T) {
	files, err := filepath.Glob("../../specs/okta/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no specs: %v", err)
	}
	tables, columns := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		l, diags := spec.Load(f, data)
		if len(diags) > 0 {
			t.Fatal(diags)
		}
		check := func(name, desc string, cols []*spec.Column) {
			tables++
			rt := Registry.Lookup(name)
			switch {
			case rt == nil:
				t.Errorf("%s: table %s is not in the registry", f, name)
				return
			case strings.TrimSpace(desc) == "":
				t.Errorf("%s: table %s has no description", f, name)
			case rt.Description != desc:
				t.Errorf("%s: table %s: descriptor says %q, spec %q", f, name, rt.Description, desc)
			}
			for _, c := range cols {
				if c.Description == "" {
					continue
				}
				columns++
				i := slices.IndexFunc(rt.Columns, func(rc runtime.Column) bool { return rc.Name == c.ColumnName() })
				if i < 0 {
					t.Errorf("%s: %s.%s is not in the descriptor", f, name, c.ColumnName())
				} else if got := rt.Columns[i].Description; got != c.Description {
					t.Errorf("%s: %s.%s: descriptor says %q, spec %q", f, name, c.ColumnName(), got, c.Description)
				}
			}
		}
		var children func(cs []*spec.Child)
		children = func(cs []*spec.Child) {
			for _, c := range cs {
				check(c.Name, c.Description, c.Columns)
				children(c.Children)
			}
		}
		for _, tb := range l.File.Tables {
			check(tb.Name, tb.Description, tb.Columns)
			children(tb.Children)
		}
	}
	if tables < 49 || columns == 0 {
		t.Errorf("checked %d tables and %d column descriptions; want all 49 tables", tables, columns)
	}
}
