package fetch

import (
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// bodyBuf is a pooled body buffer.
type bodyBuf struct{ b []byte }

// minBodyChunk is the first room given to a body of unknown length.
const minBodyChunk = 32 << 10

var errBodyTooLarge = errors.New("body too large")

// readBody reads the whole (decompressed) body into a pooled buffer, which is
// returned even on error. It never holds more than MaxBodyBytes of body, nor
// lets all bodies being read hold more than MaxInFlightBodyBytes together:
// the buffer grows by doubling, each step waiting for room in the shared
// budget, and a body that would pass the limit is refused as soon as one
// byte more arrives, unread beyond that.
func (c *Client) readBody(ctx context.Context, resp *http.Response) (*bodyBuf, error) {
	buf, _ := c.bufs.Get().(*bodyBuf)
	if buf == nil {
		buf = new(bodyBuf)
	}
	buf.b = buf.b[:0]
	limit := c.cfg.MaxBodyBytes
	var r io.Reader = resp.Body
	claim, known := limit, false // the most this body may hold; its exact length
	gzipped := strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip")
	switch {
	case gzipped:
		zr, err := c.gzipReader(resp.Body)
		if err == io.EOF {
			return buf, nil // an empty body, compressed or not
		}
		if err != nil {
			return buf, fmt.Errorf("gzip: %w", err)
		}
		defer c.gzips.Put(zr)
		r = zr
	case resp.ContentLength > limit:
		return buf, fmt.Errorf("%w: %d bytes announced, more than %d", errBodyTooLarge, resp.ContentLength, limit)
	case resp.ContentLength >= 0:
		claim, known = resp.ContentLength, true
	}
	hold := c.bodies.open(claim)
	defer hold.close()

	data := buf.b
	defer func() { buf.b = data }()
	usable := int64(0) // the part of data's capacity this body may fill, held in the budget
	for {
		if int64(len(data)) == usable {
			if usable == claim {
				// Full: the body must end here.
				var one [1]byte
				n, err := io.ReadAtLeast(r, one[:], 1)
				switch {
				case n > 0 && known:
					return buf, fmt.Errorf("body longer than its content length %d", claim)
				case n > 0:
					what := "bytes"
					if gzipped {
						what = "bytes decompressed"
					}
					return buf, fmt.Errorf("%w: more than %d %s", errBodyTooLarge, limit, what)
				case err == io.EOF:
					return buf, nil
				default:
					return buf, err
				}
			}
			next := claim
			if !known {
				next = min(max(2*usable, minBodyChunk), claim)
			}
			if err := hold.grow(ctx, next-usable); err != nil {
				return buf, err
			}
			if next > int64(cap(data)) {
				grown := make([]byte, len(data), next)
				copy(grown, data)
				data = grown
			}
			usable = next
		}
		n, err := r.Read(data[len(data):usable])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	if known && int64(len(data)) != claim {
		return buf, fmt.Errorf("read %d of %d bytes: %w", len(data), claim, io.ErrUnexpectedEOF)
	}
	return buf, nil
}

func (c *Client) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := c.gzips.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// bodyBudget bounds the bytes held by the buffers of all bodies being read.
// Each read declares the most it may hold (its claim: the content length, or
// MaxBodyBytes) and asks for room as it grows. Room is given only when every
// read could still reach its claim in some order (the banker's algorithm), so
// reads waiting for each other's room never deadlock; the others wait until a
// read ends. A growing buffer briefly also holds its previous array (half its
// size), which is not counted.
type bodyBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	peak  int64 // the most ever used, for tests
	holds map[*bodyHold]struct{}
	freed chan struct{} // closed and replaced whenever a read ends
	order []holdNeed    // scratch for safe
}

type bodyHold struct {
	b            *bodyBudget
	claim, owned int64
}

type holdNeed struct{ need, owned int64 }

func newBodyBudget(total int64) *bodyBudget {
	return &bodyBudget{total: total, holds: make(map[*bodyHold]struct{}), freed: make(chan struct{})}
}

// open registers a read that may hold up to claim bytes (at most the
// total). A read owning nothing cannot make the state unsafe: once the others
// have ended, the whole budget is free for it.
func (b *bodyBudget) open(claim int64) *bodyHold {
	h := &bodyHold{b: b, claim: claim}
	b.mu.Lock()
	b.holds[h] = struct{}{}
	b.mu.Unlock()
	return h
}

// grow waits until n more bytes can be given to h, then gives them.
func (h *bodyHold) grow(ctx context.Context, n int64) error {
	b := h.b
	for {
		b.mu.Lock()
		if b.safe(h, n) {
			h.owned += n
			b.used += n
			b.peak = max(b.peak, b.used)
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for room to read the body: %w", ctx.Err())
		}
	}
}

// close gives back everything h holds.
func (h *bodyHold) close() {
	b := h.b
	b.mu.Lock()
	b.used -= h.owned
	h.owned = 0
	delete(b.holds, h)
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// safe reports whether, with n more bytes given to h, every read could still
// run to its claim: taking them in order of what they still need, each fits
// in what is free once the ones before it have ended.
func (b *bodyBudget) safe(h *bodyHold, n int64) bool {
	free := b.total - b.used - n
	if free < 0 {
		return false
	}
	b.order = b.order[:0]
	for o := range b.holds {
		owned := o.owned
		if o == h {
			owned += n
		}
		b.order = append(b.order, holdNeed{need: o.claim - owned, owned: owned})
	}
	slices.SortFunc(b.order, func(x, y holdNeed) int { return cmp.Compare(x.need, y.need) })
	for _, o := range b.order {
		if o.need > free {
			return false
		}
		free += o.owned
	}
	return true
}

func (b *bodyBudget) stats() (used, peak int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak
}
