package pipeline

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden runs the generator on every case under gen/testdata: a case's
// specs/ folder is the input; want/ holds the generated files, or
// want/stderr.txt with the exact diagnostics for a spec that must fail.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("../testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases under gen/testdata")
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if !*update {
				t.Parallel()
			}
			got := map[string][]byte{}
			res, err := Run(Config{
				SpecDir: filepath.Join(dir, "specs"),
				Package: filepath.Base(dir),
				Runtime: "oktasync/runtime",
				Display: RelativeTo(dir),
			})
			switch {
			case err != nil:
				if _, ok := IsDiags(err); !ok {
					t.Fatalf("want diagnostics or success, got %v", err)
				}
				got["stderr.txt"] = []byte(err.Error() + "\n")
			default:
				got = res.Files
			}
			want := filepath.Join(dir, "want")
			if *update {
				if err := os.RemoveAll(want); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(want, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, data := range got {
					if err := os.WriteFile(filepath.Join(want, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			entries, err := os.ReadDir(want)
			if err != nil {
				t.Fatalf("%v (run go test ./gen/... -update to create it)", err)
			}
			seen := map[string]bool{}
			for _, e := range entries {
				seen[e.Name()] = true
				wantData, err := os.ReadFile(filepath.Join(want, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				gotData, ok := got[e.Name()]
				if !ok {
					t.Errorf("%s: not generated", e.Name())
					continue
				}
				if diff := cmp.Diff(string(wantData), string(gotData)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", e.Name(), diff)
				}
			}
			for name := range got {
				if !seen[name] {
					t.Errorf("%s: generated but not in want/ (run with -update)", name)
				}
			}
		})
	}
}

// TestGoldenCompiles builds the generated code of every successful case, so a
// golden file cannot pin code that does not compile (the non-Okta ticketing
// case proves the runtime is generic).
func TestGoldenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages")
	}
	wants, err := filepath.Glob("../testdata/*/want")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, w := range wants {
		if _, err := os.Stat(filepath.Join(w, "stderr.txt")); err == nil {
			continue
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(w))
	}
	if len(pkgs) == 0 {
		t.Fatal("no successful cases")
	}
	cmd := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go vet %s: %v\n%s", strings.Join(pkgs, " "), err, out.String())
	}
}

// TestGeneratedIsFresh regenerates generated/okta from specs/okta in memory
// and fails if the checked-in files differ.
func TestGeneratedIsFresh(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(Config{
		SpecDir: filepath.Join(root, "specs", "okta"),
		Package: "okta",
		Runtime: "oktasync/runtime",
		Display: RelativeTo(root),
	})
	if err != nil {
		t.Fatalf("specs/okta do not generate: %v", err)
	}
	outDir := filepath.Join(root, "generated", "okta")
	for name, data := range res.Files {
		have, err := os.ReadFile(filepath.Join(outDir, name))
		if err != nil || !bytes.Equal(have, data) {
			t.Errorf("generated/okta/%s is stale; run go generate ./...", name)
		}
	}
	existing, _ := filepath.Glob(filepath.Join(outDir, "*.gen.go"))
	for _, p := range existing {
		if _, ok := res.Files[filepath.Base(p)]; !ok {
			t.Errorf("generated/okta/%s has no spec any more; run go generate ./...", filepath.Base(p))
		}
	}
}
