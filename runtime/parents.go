package runtime

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// parentProgress is which parents of a page of parents are complete: their
// listing has been read to its end into batches that are committed or being
// committed, in order, with it.
type parentProgress struct {
	sum  string
	done []bool
	// resumed counts the parents a resume found done (Pending.ParentsDone).
	resumed int
}

// newParentProgress starts the progress of the parents read from urls (their
// listings' first pages, in page order), with those that here says are done,
// if here is about the same parents.
func newParentProgress(urls []string, here *Pending) *parentProgress {
	p := &parentProgress{sum: parentsSum(urls), done: make([]bool, len(urls))}
	if here.ParentsDone != "" && here.ParentsSum == p.sum {
		p.resumed = decodeParents(here.ParentsDone, p.done)
	}
	return p
}

// pending is here with the parents done so far.
func (p *parentProgress) pending(here *Pending) *Pending {
	c := *here
	c.ParentsDone, c.ParentsSum = encodeParents(p.done), ""
	if c.ParentsDone != "" {
		c.ParentsSum = p.sum
	}
	return &c
}

// parentsSum identifies a page of parents by their listing URLs, in order:
// positions in ParentsDone mean nothing for a page that lists other parents.
func parentsSum(urls []string) string {
	h := fnv.New64a()
	for _, u := range urls {
		h.Write([]byte(u))
		h.Write([]byte{'\n'})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// encodeParents writes the positions of the parents done as ranges,
// "0-41,43": parents are handed out in order, so those done are mostly one
// run from the start, and the state stays small whatever the page's size.
func encodeParents(done []bool) string {
	var b strings.Builder
	for i := 0; i < len(done); {
		if !done[i] {
			i++
			continue
		}
		j := i
		for j+1 < len(done) && done[j+1] {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(j))
		}
		i = j + 1
	}
	return b.String()
}

// decodeParents marks the positions encodeParents wrote and returns how many
// it marked. A malformed or out-of-range list marks nothing: the page's
// parents are then all read again, which is safe.
func decodeParents(s string, done []bool) int {
	mark := make([]bool, len(done))
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0
			}
		}
		if a < 0 || b < a || b >= len(done) {
			return 0
		}
		for i := a; i <= b; i++ {
			if !mark[i] {
				mark[i] = true
				n++
			}
		}
	}
	copy(done, mark)
	return n
}
