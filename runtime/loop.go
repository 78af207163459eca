package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/url"
	"time"

	"oktasync/runtime/fetch"
)

// ErrLoop marks a listing that goes round in circles: its pages lead back
// to a page already read, or keep returning records already read. Following
// it would never end and would write the same rows again and again.
var ErrLoop = errors.New("listing loops")

const (
	// loopPages is how many pages in a row may hold only records already
	// read in the pass before the listing counts as a loop. A record can
	// move to a later page while a listing is read, but not page after page.
	loopPages = 3
	// loopKeys bounds what a guard remembers of records: the keys of the
	// last loopKeys to 2*loopKeys records, 8 bytes each, so that memory does
	// not grow with the listing. Loops with a longer period are still
	// caught by their URLs.
	loopKeys = 1 << 15
)

// loopGuard watches one pass over a listing (a table's pages, a feed's, a
// fan-out parent's) for loops. The caller visits every URL before it
// fetches it, notes each record with sawKey or sawRaw and ends each page
// with endPage; while holding reports true, the caller commits nothing, so
// that no resume point is saved inside a loop. Not safe for concurrent use.
type loopGuard struct {
	table string
	seed  maphash.Seed
	urls  map[uint64]struct{}
	// keys and old hold the hashes of the records read, the older
	// generation dropped when keys is full.
	keys, old map[uint64]struct{}
	records   int // records of the current page
	fresh     bool
	stale     int // pages in a row without a fresh record
}

func newLoopGuard(table string) *loopGuard {
	return &loopGuard{table: table, seed: maphash.MakeSeed(), urls: map[uint64]struct{}{}, keys: map[uint64]struct{}{}}
}

// visit notes a page URL the pass is about to read; it fails if the pass
// read it before. URLs are compared by path and query: every page of a
// listing comes from the same origin.
func (g *loopGuard) visit(rawURL string) error {
	id := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		id = u.RequestURI()
	}
	h := maphash.String(g.seed, id)
	if _, ok := g.urls[h]; ok {
		return fmt.Errorf("%s: %w: the page %s was already read in this pass", g.table, ErrLoop, fetch.RedactURL(rawURL))
	}
	g.urls[h] = struct{}{}
	return nil
}

// sawKey notes a record by its row's primary key: the values of vals at
// the positions idx.
func (g *loopGuard) sawKey(vals []any, idx []int) {
	var h maphash.Hash
	h.SetSeed(g.seed)
	var buf [8]byte
	for _, i := range idx {
		var v any
		if i >= 0 && i < len(vals) {
			v = vals[i]
		}
		switch x := v.(type) {
		case string:
			h.WriteByte('s')
			h.WriteString(x)
			h.WriteByte(0)
		case int32:
			h.WriteByte('i')
			h.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(x)))
		case int64:
			h.WriteByte('i')
			h.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(x)))
		case float64:
			h.WriteByte('f')
			h.Write(binary.LittleEndian.AppendUint64(buf[:0], math.Float64bits(x)))
		case bool:
			h.WriteByte('b')
			if x {
				h.WriteByte(1)
			} else {
				h.WriteByte(0)
			}
		case time.Time:
			h.WriteByte('t')
			h.Write(binary.LittleEndian.AppendUint64(buf[:0], uint64(x.UnixNano())))
		case nil:
			h.WriteByte('n')
		default:
			h.WriteByte('?')
			h.WriteString(fmt.Sprint(x))
		}
	}
	g.saw(h.Sum64())
}

// sawRaw notes a record no key can be read from by its JSON text.
func (g *loopGuard) sawRaw(raw string) {
	g.saw(maphash.String(g.seed, "raw\x00"+raw))
}

func (g *loopGuard) saw(h uint64) {
	g.records++
	_, seen := g.keys[h]
	if !seen {
		_, seen = g.old[h]
	}
	if seen {
		return
	}
	g.fresh = true
	if len(g.keys) >= loopKeys {
		g.old, g.keys = g.keys, make(map[uint64]struct{}, loopKeys)
	}
	g.keys[h] = struct{}{}
}

// endPage ends the page read from pageURL; it fails when this page makes
// loopPages pages in a row whose records were all read before in the pass.
func (g *loopGuard) endPage(pageURL string) error {
	switch {
	case g.fresh:
		g.stale = 0
	case g.records > 0:
		g.stale++
	}
	g.records, g.fresh = 0, false
	if g.stale >= loopPages {
		return fmt.Errorf("%s: %w: %d pages in a row up to %s held only records already read in this pass",
			g.table, ErrLoop, g.stale, fetch.RedactURL(pageURL))
	}
	return nil
}

// holding reports whether the last pages held only records read before:
// they may be the start of a loop, so nothing is committed until a page
// brings a new record.
func (g *loopGuard) holding() bool { return g.stale > 0 }
