package detect

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"oktasync/internal/sqlfiles"
)

// TestDocsCatalogue: docs/DETECTIONS.md lists every detection of the pack
// as its header says (between the catalogue markers; -update rewrites it).
func TestDocsCatalogue(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "DETECTIONS.md")
	want := "\n" + Catalogue(mustPack(t)) + "\n"
	got, err := sqlfiles.SyncSection(file, CatalogueBegin, CatalogueEnd, want, *update)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s is out of date with detections/*.sql (go test ./internal/detect -run TestDocsCatalogue -update) (-want +got):\n%s", file, diff)
	}
}
