package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGoldenModels: every model built on the demo org (testDemo) equals
// testdata/golden/<model>.csv, rows in the order of all their columns
// (go test ./internal/models -run TestGoldenModels -update rewrites them;
// read the diff before committing).
func TestGoldenModels(t *testing.T) {
	path := builtDB(t, false)
	got := dumpModels(t, path, mustPack(t))
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, csv := range got {
			if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := got[strings.TrimSuffix(filepath.Base(f), ".csv")]; !ok {
			t.Errorf("%s: no model of that name (go test -run TestGoldenModels -update removes it)", f)
		}
	}
	for name, csv := range got {
		file := filepath.Join(dir, name+".csv")
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%v (go test ./internal/models -run TestGoldenModels -update writes it)", err)
			continue
		}
		if string(want) == csv {
			continue
		}
		if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(csv, "\n")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", file, diff)
		}
	}
}

// TestModelsIdempotent: building the models twice on one database gives
// the same rows in every model.
func TestModelsIdempotent(t *testing.T) {
	path := builtDB(t, false)
	first := dumpModels(t, path, mustPack(t))
	if res := runModels(t, path, mustPack(t)); res.Failed() > 0 {
		t.Fatalf("second run: %d models failed", res.Failed())
	}
	second := dumpModels(t, path, mustPack(t))
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second run differs (-first +second):\n%s", diff)
	}
}

// dumpModels renders every model as CSV with a header, rows ordered by all
// their columns, by model name.
func dumpModels(t *testing.T, path string, ms []*Model) map[string]string {
	t.Helper()
	db := openDB(t, path)
	dir := t.TempDir()
	out := map[string]string{}
	for _, m := range ms {
		file := filepath.Join(dir, m.Name+".csv")
		q := "copy (select * from " + Schema + "." + quote(m.Name) + " order by all) to " + literal(file) + " (header, delimiter ',')"
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out[m.Name] = string(b)
	}
	return out
}
