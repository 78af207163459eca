package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocsCatalogue: docs/DETECTIONS.md lists every detection of the pack
// as its header says (between the catalogue markers; -update rewrites it).
func TestDocsCatalogue(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "DETECTIONS.md")
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), CatalogueBegin)
	_, after, ok2 := strings.Cut(rest, CatalogueEnd)
	if !ok || !ok2 {
		t.Fatalf("%s: no catalogue between %q and %q", file, CatalogueBegin, CatalogueEnd)
	}
	want := "\n" + Catalogue(mustPack(t)) + "\n"
	if *update {
		if err := os.WriteFile(file, []byte(before+CatalogueBegin+want+CatalogueEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, rest[:len(rest)-len(after)-len(CatalogueEnd)]); diff != "" {
		t.Errorf("%s is out of date with detections/*.sql (go test ./internal/detect -run TestDocsCatalogue -update) (-want +got):\n%s", file, diff)
	}
}
