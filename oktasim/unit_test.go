package oktasim

import (
	"encoding/json"
	"strings"
	"testing"
)

// Ids round-trip to their index; tampered or foreign ids are rejected.
func TestIDCodec(t *testing.T) {
	c := newIDCodec(99)
	other := newIDCodec(100)
	for _, k := range []kind{kUser, kGroup, kApp, kDevice} {
		for _, i := range []int{0, 1, 7, 99_999, 1 << 24} {
			id := c.id(k, i)
			if len(id) != 20 || !strings.HasPrefix(id, kindPrefix[k]) {
				t.Fatalf("id %q", id)
			}
			if got := c.parse(k, id); got != i {
				t.Errorf("parse(%q) = %d, want %d", id, got, i)
			}
			if other.parse(k, id) >= 0 {
				t.Errorf("an id of another org parsed: %q", id)
			}
			bad := []byte(id)
			bad[8] ^= 1
			if c.parse(k, string(bad)) >= 0 {
				t.Errorf("tampered id %q parsed", bad)
			}
		}
	}
	if c.parse(kUser, c.id(kGroup, 3)) >= 0 {
		t.Error("a group id parsed as a user id")
	}
}

// The JSON writer produces valid JSON that decodes to the original values.
func TestJSONWriter(t *testing.T) {
	var w jw
	tricky := "quote\" back\\slash \n\t\x01 é 日本 \u2028 <&>"
	w.obj().ks("s", tricky).kn("n").ki("i", -42).kb("b", true).k("f").float(1.5).kt("t", 1768478400123)
	w.ka("a").str("x").obj().ks("y", "z").end().arr().endArr().endArr()
	w.ks("bad", "a\xffb").end()
	var got map[string]any
	if err := json.Unmarshal(w.b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", w.b, err)
	}
	if got["s"] != tricky || got["n"] != nil || got["i"] != -42.0 || got["b"] != true || got["f"] != 1.5 ||
		got["t"] != "2026-01-15T12:00:00.123Z" || got["bad"] != "a\ufffdb" {
		t.Errorf("decoded %v", got)
	}
	if a := got["a"].([]any); len(a) != 3 {
		t.Errorf("array %v", a)
	}
}

func TestFilterParser(t *testing.T) {
	vals := map[string]string{"status": "ACTIVE", "profile.login": "ann@example.com", "profile.skills": "go\x00sql"}
	get := func(name string) (string, int64, bool, bool) {
		if name == "lastUpdated" {
			return "", 1768478400000, true, true
		}
		v, ok := vals[name]
		return v, 0, false, ok
	}
	cases := []struct {
		f    string
		want bool
	}{
		{`status eq "active"`, true},
		{`STATUS EQ "ACTIVE"`, false}, // attribute names are case-sensitive
		{`status eq "ACTIVE" and profile.login sw "ann"`, true},
		{`status eq "STAGED" or profile.login co "example"`, true},
		{`status eq "STAGED" or status eq "SUSPENDED" and profile.login pr`, false},
		{`(status eq "STAGED" or status eq "ACTIVE") and lastUpdated gt "2026-01-15T11:59:59.999Z"`, true},
		{`lastUpdated ge "2026-01-15T12:00:00.000Z" and lastUpdated lt "2026-01-15T12:00:00.001Z"`, true},
		{`lastUpdated eq "2026-01-15T12:00:00Z"`, true},
		{`profile.skills eq "sql"`, true},
		{`profile.missing pr`, false},
		{`profile.login ew ".com"`, true},
	}
	for _, c := range cases {
		e, err := parseFilter(c.f)
		if err != nil {
			t.Errorf("parse %q: %v", c.f, err)
			continue
		}
		if got := e.eval(get); got != c.want {
			t.Errorf("%q = %v, want %v", c.f, got, c.want)
		}
	}
	for _, bad := range []string{``, `status`, `status eq`, `status xx "a"`, `(status eq "a"`, `status eq "a" and`, `"a" eq status`, `status eq "unterminated`} {
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("parse %q: want an error", bad)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`status eq "ACTIVE"`, `lastUpdated gt "2026-01-01T00:00:00.000Z" and (a pr or b sw "x")`, `((`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseFilter(s)
		if err != nil {
			return
		}
		_ = e.eval(func(string) (string, int64, bool, bool) { return "v", 1, false, true })
		_ = userSearchRules.check(e)
	})
}

func TestJWKs2(t *testing.T) {
	var w jw
	w.obj().ks2("href", `https://a"b`, "/p\\q\n").ks2("e", "", "").ks2("x", "only", "").end()
	want := `{"href":"https://a\"b/p\\q\n","e":"","x":"only"}`
	if got := string(w.b); got != want {
		t.Errorf("ks2: got %s, want %s", got, want)
	}
}
