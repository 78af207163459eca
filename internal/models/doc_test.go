package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/internal/sqlfiles"
)

// TestDocsCatalogue: docs/MODELS.md describes every model as its header
// says (between the catalogue markers; -update rewrites it).
func TestDocsCatalogue(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "MODELS.md")
	want := "\n" + Catalogue(mustPack(t)) + "\n"
	got, err := sqlfiles.SyncSection(file, CatalogueBegin, CatalogueEnd, want, *update)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s is out of date with models/*.sql (go test ./internal/models -run TestDocsCatalogue -update) (-want +got):\n%s", file, diff)
	}
}

// TestDocsExamples: every model's example query runs on the demo org.
func TestDocsExamples(t *testing.T) {
	db := openDB(t, builtDB(t, false))
	for _, m := range mustPack(t) {
		rows, err := db.Query(m.Example)
		if err != nil {
			t.Errorf("%s: the example does not run: %v\n%s", m.File, err, m.Example)
			continue
		}
		rows.Close()
	}
}

// TestDocsWritingExample: the model shown under "Writing a model" parses
// and builds.
func TestDocsWritingExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "MODELS.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "## Writing a model")
	_, rest, ok := strings.Cut(rest, "```sql\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/MODELS.md: no sql block under ## Writing a model")
	}
	m, err := Parse("models/stale_admins.sql", src)
	if err != nil {
		t.Fatal(err)
	}
	path := builtDB(t, false)
	if res := runModels(t, path, []*Model{m}); res.Failed() > 0 {
		t.Fatalf("the example model fails: %v", res.Outcomes[0].Err)
	}
}
