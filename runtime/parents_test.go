package runtime

import (
	"slices"
	"testing"
)

func TestParentsDoneRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		done []bool
		want string
	}{
		{[]bool{}, ""},
		{[]bool{false, false}, ""},
		{[]bool{true, true, true, false, true, false, true, true}, "0-2,4,6-7"},
		{[]bool{false, true}, "1"},
	} {
		got := encodeParents(tc.done)
		if got != tc.want {
			t.Errorf("encodeParents(%v) = %q, want %q", tc.done, got, tc.want)
		}
		back := make([]bool, len(tc.done))
		n := decodeParents(got, back)
		if !slices.Equal(back, tc.done) || n != countTrue(tc.done) {
			t.Errorf("decodeParents(%q) = %v (%d), want %v", got, back, n, tc.done)
		}
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// A list that does not fit the page marks nothing: reading a parent again
// is safe, skipping one that is not done is not.
func TestParentsDoneMalformed(t *testing.T) {
	for _, s := range []string{"0-4", "x", "2-1", "-1", "1,,2", "0-", "5"} {
		done := make([]bool, 4)
		if n := decodeParents(s, done); n != 0 || slices.Contains(done, true) {
			t.Errorf("decodeParents(%q) marked %v", s, done)
		}
	}
}

// Progress applies only to the page of parents it was saved for.
func TestParentProgressOtherPage(t *testing.T) {
	urls := []string{"/g/1/users", "/g/2/users", "/g/3/users"}
	p := newParentProgress(urls, &Pending{})
	p.done[0], p.done[2] = true, true
	saved := p.pending(&Pending{ParentURL: "/g"})
	if saved.ParentsDone != "0,2" || saved.ParentURL != "/g" {
		t.Fatalf("saved %+v", saved)
	}
	if q := newParentProgress(urls, saved); !slices.Equal(q.done, []bool{true, false, true}) || q.resumed != 2 {
		t.Errorf("same page: %v", q.done)
	}
	other := []string{"/g/1/users", "/g/4/users", "/g/2/users"}
	if q := newParentProgress(other, saved); slices.Contains(q.done, true) {
		t.Errorf("another page: %v, want nothing done", q.done)
	}
}
