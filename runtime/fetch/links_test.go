package fetch

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLinks(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   map[string]string
	}{
		{
			name: "two header lines",
			values: []string{
				`<https://h.example/items?limit=20>; rel="self"`,
				`<https://h.example/items?limit=20&after=a1>; rel="next"`,
			},
			want: map[string]string{"self": "https://h.example/items?limit=20", "next": "https://h.example/items?limit=20&after=a1"},
		},
		{
			name:   "comma joined",
			values: []string{`<https://h.example/a>; rel="self", <https://h.example/b>; rel="next"`},
			want:   map[string]string{"self": "https://h.example/a", "next": "https://h.example/b"},
		},
		{
			name:   "unquoted rel and odd spacing",
			values: []string{`<https://h.example/b>;rel=next ,<https://h.example/a> ;  rel = self`},
			want:   map[string]string{"self": "https://h.example/a", "next": "https://h.example/b"},
		},
		{
			name:   "several rels in one value, case folded",
			values: []string{`<https://h.example/z>; rel="Next LAST"`},
			want:   map[string]string{"next": "https://h.example/z", "last": "https://h.example/z"},
		},
		{
			name:   "other params, quoted commas and semicolons",
			values: []string{`<https://h.example/a>; title="a, b; c"; rel="next"; type=application/json, <https://h.example/p>; rel=prev`},
			want:   map[string]string{"next": "https://h.example/a", "prev": "https://h.example/p"},
		},
		{
			name:   "comma inside the target",
			values: []string{`<https://h.example/a?ids=1,2>; rel="next"`},
			want:   map[string]string{"next": "https://h.example/a?ids=1,2"},
		},
		{
			name:   "first of a repeated rel wins",
			values: []string{`<https://h.example/1>; rel=next`, `<https://h.example/2>; rel=next`},
			want:   map[string]string{"next": "https://h.example/1"},
		},
		{
			name:   "second rel param ignored",
			values: []string{`<https://h.example/1>; rel=next; rel=prev`},
			want:   map[string]string{"next": "https://h.example/1"},
		},
		{
			name:   "escaped quote in rel",
			values: []string{`<https://h.example/1>; rel="ne\xt"`},
			want:   map[string]string{"next": "https://h.example/1"},
		},
		{
			name:   "garbage before a good link",
			values: []string{`garbage; rel=next, <https://h.example/ok>; rel="next"`},
			want:   map[string]string{"next": "https://h.example/ok"},
		},
		{
			name:   "trailing garbage keeps the link",
			values: []string{`<https://h.example/ok>; rel=next junk, <https://h.example/s>; rel=self`},
			want:   map[string]string{"next": "https://h.example/ok", "self": "https://h.example/s"},
		},
		{
			name:   "unterminated target",
			values: []string{`<https://h.example/ok; rel=next`},
			want:   map[string]string{},
		},
		{
			name:   "no rel",
			values: []string{`<https://h.example/ok>; title="x"`},
			want:   map[string]string{},
		},
		{
			name:   "empty target skipped",
			values: []string{`<>; rel=next`},
			want:   map[string]string{},
		},
		{
			name:   "relative target kept as written",
			values: []string{`</items?after=x>; rel="next"`},
			want:   map[string]string{"next": "/items?after=x"},
		},
		{
			name:   "nothing",
			values: []string{"", " , ,"},
			want:   map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLinks(tt.values)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLinks(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`<https://h.example/a>; rel="self", <https://h.example/b>; rel="next"`,
		`<https://h.example/b>;rel=next ,<x> ;  rel = self`,
		`<a>; title="a, b; \"c"; rel="next last"`,
		`garbage; rel=next, <ok>; rel="next`,
		`<<>>;;;rel==,,"`,
	} {
		f.Add(s, "")
		f.Add(s, `<https://h.example/2>; rel=prev`)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		links := ParseLinks([]string{a, b})
		for rel, target := range links {
			if rel == "" || rel != strings.ToLower(rel) || strings.ContainsAny(rel, " \t") {
				t.Errorf("bad rel %q", rel)
			}
			if target == "" || strings.Contains(target, ">") {
				t.Errorf("bad target %q for rel %q", target, rel)
			}
			if !strings.Contains(a, target) && !strings.Contains(b, target) {
				t.Errorf("target %q is not from the input", target)
			}
		}
		if again := ParseLinks([]string{a, b}); !cmp.Equal(links, again) {
			t.Errorf("not deterministic: %v then %v", links, again)
		}
	})
}
