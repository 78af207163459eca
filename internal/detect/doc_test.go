package detect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/internal/sqlfiles"
)

// TestDocsCatalogue: docs/DETECTIONS.md lists every detection of the pack
// as its header says (between the catalogue markers; -update rewrites it).
func TestDocsCatalogue(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "DETECTIONS.md")
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, with, err := sqlfiles.Section(string(doc), CatalogueBegin, CatalogueEnd)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	want := "\n" + Catalogue(mustPack(t)) + "\n"
	if *update {
		if err := os.WriteFile(file, []byte(with(want)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s is out of date with detections/*.sql (go test ./internal/detect -run TestDocsCatalogue -update) (-want +got):\n%s", file, diff)
	}
}
