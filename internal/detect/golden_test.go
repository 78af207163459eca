package detect

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"oktasync/oktasim"
)

// TestGoldenScenarios: on an org telling one scenario, exactly the
// detections written for it (their scenario header) fire; on an org telling
// none, none fires; on the org telling all of them, exactly the detections
// written for some scenario fire. The hits are kept in
// testdata/golden_hits.txt (go test -run TestGoldenScenarios -update).
func TestGoldenScenarios(t *testing.T) {
	pack := mustPack(t)
	orgs := append([]string{"none"}, oktasim.Scenarios...)
	orgs = append(orgs, "all")
	var got strings.Builder
	for _, org := range orgs {
		res := runPack(t, orgDB(t, org, false), pack, time.Time{})
		if len(res.Failures) > 0 {
			t.Fatalf("org %s: detections failed:\n%s", org, failures(res))
		}
		var want []string
		for _, d := range pack {
			if (org == "all" && len(d.Scenarios) > 0) || slices.Contains(d.Scenarios, org) {
				want = append(want, d.ID)
			}
		}
		if diff := cmp.Diff(want, fired(res)); diff != "" {
			t.Errorf("org telling %s: detections fired (-want +got):\n%s", org, diff)
		}
		fmt.Fprintf(&got, "== %s\n", org)
		for _, h := range res.Hits {
			fmt.Fprintf(&got, "%s\t%s\t%s\t%s\n", h.Detection.ID, h.DetectedAt.Format(time.RFC3339Nano), h.Actor, h.Summary)
		}
	}
	file := filepath.Join("testdata", "golden_hits.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -run TestGoldenScenarios -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

// TestEveryScenarioHasADetection: the pack covers every scenario the
// simulator tells, and names no scenario it does not.
func TestEveryScenarioHasADetection(t *testing.T) {
	covered := map[string]bool{}
	for _, d := range mustPack(t) {
		for _, s := range d.Scenarios {
			if !slices.Contains(oktasim.Scenarios, s) {
				t.Errorf("%s: scenario %q is not one of the simulator's: %s", d.File, s, strings.Join(oktasim.Scenarios, ", "))
			}
			covered[s] = true
		}
	}
	for _, s := range oktasim.Scenarios {
		if !covered[s] {
			t.Errorf("no detection is written for the scenario %s", s)
		}
	}
}
