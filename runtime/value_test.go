package runtime

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
)

func TestTimestamp(t *testing.T) {
	e := &Emitter{}
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`"2026-01-02T03:04:05.678Z"`, time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), true},
		{`"2026-01-02T03:04:05Z"`, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{`"2026-01-02T05:04:05+02:00"`, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{`"2024-02-29T00:00:00.000Z"`, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{`"2017-09-31T22:23:07.777Z"`, time.Time{}, false}, // 31 September, seen in a real API's documentation
		{`"2023-02-29T00:00:00.000Z"`, time.Time{}, false},
		{`"2026-13-01T00:00:00.000Z"`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, false},
		{`1700000000`, time.Time{}, false},
	} {
		got := e.Timestamp(gjson.Parse(tc.in))
		if got.Valid != tc.ok || !got.V.Equal(tc.want) {
			t.Errorf("Timestamp(%s) = %v, want %v (valid %v)", tc.in, got, tc.want, tc.ok)
		}
	}
	if e.Stats.Invalid != 5 {
		t.Errorf("Invalid = %d, want 5", e.Stats.Invalid)
	}
	if got := e.Timestamp(gjson.Parse(`null`)); got.Valid || e.Stats.Invalid != 5 {
		t.Error("null must be NULL without counting as invalid")
	}
}

func TestTolerantNumbers(t *testing.T) {
	e := &Emitter{}
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("Int64 number", e.Int64(gjson.Parse(`12`)).Any(), any(int64(12)))
	check("Int64 string", e.Int64(gjson.Parse(`" 12 "`)).Any(), any(int64(12)))
	check("Int64 float integral", e.Int64(gjson.Parse(`12.0`)).Any(), any(int64(12)))
	check("Int64 fraction", e.Int64(gjson.Parse(`12.5`)).Any(), nil)
	check("Int64 text", e.Int64(gjson.Parse(`"twelve"`)).Any(), nil)
	check("Int32 overflow", e.Int32(gjson.Parse(`3000000000`)).Any(), nil)
	check("Int32", e.Int32(gjson.Parse(`"7"`)).Any(), any(int32(7)))
	check("Float64 string", e.Float64(gjson.Parse(`"1.5"`)).Any(), any(1.5))
	check("Bool string", e.Bool(gjson.Parse(`"TRUE"`)).Any(), any(true))
	check("Bool number", e.Bool(gjson.Parse(`0`)).Any(), any(false))
	check("Bool junk", e.Bool(gjson.Parse(`"maybe"`)).Any(), nil)
	check("String number", e.String(gjson.Parse(`10013`)).Any(), any("10013"))
	check("String object", e.String(gjson.Parse(`{"a":1}`)).Any(), any(`{"a":1}`))
	check("String null", e.String(gjson.Parse(`null`)).Any(), nil)
	check("JSON array", e.JSON(gjson.Parse(`["x"]`)).Any(), any(`["x"]`))
	check("JSON string", e.JSON(gjson.Parse(`"x"`)).Any(), any(`"x"`))
	if e.Stats.Invalid != 4 {
		t.Errorf("Invalid = %d, want 4", e.Stats.Invalid)
	}
}

func TestRowHash(t *testing.T) {
	a := RowHash([]any{nil, "1.2.3.4", int64(5), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	b := RowHash([]any{nil, "1.2.3.4", int64(5), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if a != b || len(a) != 28 {
		t.Fatalf("RowHash not stable or not 28 chars: %q %q", a, b)
	}
	// NULL and the empty string, and column order, must give different keys.
	if RowHash([]any{nil}) == RowHash([]any{""}) {
		t.Error("NULL and empty string hash alike")
	}
	if RowHash([]any{"a", "b"}) == RowHash([]any{"b", "a"}) {
		t.Error("column order ignored")
	}
	if RowHash([]any{"a,b"}) == RowHash([]any{"a", "b"}) {
		t.Error("separators ambiguous")
	}
	// Pinned: changing the recipe changes every surrogate key in every
	// destination. Computed apart from Go with
	//   printf '["x",null,1]' | openssl dgst -sha1 -binary | base64
	if got := RowHash([]any{"x", nil, int64(1)}); got != "KlrqafR8anmIk6Z3KD/aIxuNzQ0=" {
		t.Errorf(`RowHash(["x",null,1]) = %q; the recipe changed`, got)
	}
}

func TestDynamicName(t *testing.T) {
	e := &Emitter{}
	for key, want := range map[string]string{"requestUri": "p_request_uri", "threatSuspected": "p_threat_suspected", "drop table x;--": "p_drop_table_x_"} {
		if got := e.DynamicName("p_", key); got != want {
			t.Errorf("DynamicName(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestValuesAreCopiedOutOfThePage: text values and dynamic column names
// must not alias the page they were read from (pages are reused, and a
// value that aliased one would keep it alive).
func TestValuesAreCopiedOutOfThePage(t *testing.T) {
	page := []byte(`{"a":"hello","b":{"x":[1,2]},"n":12,"long":"` + strings.Repeat("y", keepBlock) + `","dyn":{"someKey":"v"}}`)
	doc := gjson.Parse(unsafe.String(&page[0], len(page))) // a view of the bytes, as a page's buffer would be
	e := &Emitter{}
	a, b, n, long := e.String(doc.Get("a")), e.JSON(doc.Get("b")), e.String(doc.Get("n")), e.String(doc.Get("long"))
	var key string
	doc.Get("dyn").ForEach(func(k, _ gjson.Result) bool {
		e.DynamicName("d_", k.Str)
		key = strings.Clone(k.Str)
		return true
	})
	for i := range page {
		page[i] = '#'
	}
	if a.V != "hello" || b.V != `{"x":[1,2]}` || n.V != "12" || long.V != strings.Repeat("y", keepBlock) {
		t.Errorf("values changed with the page: %q %q %q (long: %d bytes)", a.V, b.V, n.V, len(long.V))
	}
	for k := range e.dynamicNames {
		if k[1] != key {
			t.Errorf("dynamic name cache key %q, want %q", k[1], key)
		}
	}
}
