package runtime

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestRecordCursor: a cursor of several fields is the latest of them,
// compared as instants whatever their offsets.
func TestRecordCursor(t *testing.T) {
	two := &Incremental{CursorField: "a", CursorFields: []string{"a", "b"}}
	for _, tc := range []struct {
		in   *Incremental
		rec  string
		want string
	}{
		{&Incremental{CursorField: "a"}, `{"a":"2025-01-02T03:04:05.000Z","b":"2026-01-01T00:00:00.000Z"}`, "2025-01-02T03:04:05.000Z"},
		{two, `{"a":"2025-01-02T03:04:05.000Z","b":"2026-01-01T00:00:00.000Z"}`, "2026-01-01T00:00:00.000Z"},
		{two, `{"a":"2025-06-01T00:00:00.000Z","b":"2025-05-31T23:00:00.000-02:00"}`, "2025-06-01T01:00:00.000Z"},
		{two, `{"a":"2025-06-01T00:00:00.000Z","b":null}`, "2025-06-01T00:00:00.000Z"},
		{two, `{"b":"2025-06-01T00:00:00.000Z"}`, "2025-06-01T00:00:00.000Z"},
		{two, `{}`, ""},
	} {
		if got := recordCursor(gjson.Parse(tc.rec), tc.in); got != tc.want {
			t.Errorf("recordCursor(%s, %v) = %q, want %q", tc.rec, tc.in.Fields(), got, tc.want)
		}
	}
}
