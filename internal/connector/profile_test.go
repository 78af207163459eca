package connector

import (
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"oktasync/generated/okta"
	"oktasync/oktasim"
	"oktasync/runtime"
)

var nextLinkRe = regexp.MustCompile(`<([^>]*)>;\s*rel="next"`)

// TestProfilePathsMatchSimulator: every profile.<key> a spec reads is a key
// the simulator sends, spelled alike. A column whose key differs only in case
// (keyGuid read, keyGUID sent) is NULL in every row and the value lands in
// user_custom_profile instead; nothing else notices.
func TestProfilePathsMatchSimulator(t *testing.T) {
	sim, err := oktasim.New(oktasim.Config{Seed: 3, Users: 400, Groups: 60, Apps: 5, Devices: 80, Logs: -1, Now: oktasim.DefaultNow})
	if err != nil {
		t.Fatal(err)
	}
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })

	checked := 0
	okta.Registry.Walk(func(tb *runtime.Table) {
		var read []string // the profile keys the spec reads
		for _, c := range tb.Columns {
			if k, ok := strings.CutPrefix(c.Source, "profile."); ok {
				read = append(read, k)
			}
		}
		if len(read) == 0 {
			return
		}
		if tb.Request == nil || tb.FanOut != nil || strings.Contains(tb.Request.Path, "{") {
			t.Fatalf("%s reads profile keys but is not a top-level list; teach this test its parent", tb.Name)
		}
		checked++
		sent := profileKeys(t, base, tb.Request)
		for _, k := range read {
			if sent[k] {
				continue
			}
			var near []string
			for s := range sent {
				if strings.EqualFold(s, k) {
					near = append(near, s)
				}
			}
			if len(near) > 0 {
				t.Errorf("%s: the spec reads profile.%s, the simulator sends profile.%s", tb.Name, k, strings.Join(near, ", profile."))
			} else {
				t.Errorf("%s: the spec reads profile.%s, which the simulator never sends", tb.Name, k)
			}
		}
	})
	if checked != 3 { // users, groups, device
		t.Errorf("%d tables read profile keys, want 3: update this test", checked)
	}
}

// profileKeys pages through a list on the simulator and returns every key
// found under the records' profile.
func profileKeys(t *testing.T, base string, req *runtime.Request) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	q := make([]string, 0, len(req.Params))
	for _, p := range req.Params {
		q = append(q, p.Name+"="+p.Value)
	}
	url := base + req.Path + "?" + strings.Join(q, "&")
	for pages := 0; url != ""; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", req.Path)
		}
		hr, _ := http.NewRequest(http.MethodGet, url, nil)
		hr.Header.Set("Authorization", "SSWS demo-token")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v %s", url, resp.StatusCode, err, body)
		}
		runtime.EachRecord(body, req.Records, func(rec gjson.Result) {
			rec.Get("profile").ForEach(func(k, _ gjson.Result) bool {
				keys[k.String()] = true
				return true
			})
		})
		url = ""
		for _, l := range resp.Header.Values("Link") {
			if m := nextLinkRe.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no profile keys at all", req.Path)
	}
	all := make([]string, 0, len(keys))
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	t.Logf("%s sends profile keys %s", req.Path, strings.Join(all, " "))
	return keys
}
