package runtime

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestCountRecords: the prefetcher's count agrees with EachRecord.
func TestCountRecords(t *testing.T) {
	for _, tc := range []struct{ body, path string }{
		{`[]`, ""}, {`[{"a":1},{"a":2}]`, ""}, {`{"id":"x"}`, ""}, {`{"value":[{"a":1}]}`, "value"},
		{`{"value":[]}`, "value"}, {`{"other":1}`, "value"}, {` [ {"a":[1,2]} ] `, ""},
	} {
		n := 0
		EachRecord([]byte(tc.body), tc.path, func(gjson.Result) { n++ })
		if got := countRecords([]byte(tc.body), tc.path); got != n {
			t.Errorf("countRecords(%s, %q) = %d, EachRecord finds %d", tc.body, tc.path, got, n)
		}
	}
}
