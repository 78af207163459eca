package ratelimit

import "context"

// A Lender lends out what the caller of a request holds (say, one of a
// limited number of slots to run in) while the request waits for its
// bucket's window to reset or for a block to end: a wait that only time ends
// and that can last a whole window. Waits for a response (a new window's
// first request, a probe) are short and lend nothing.
//
// Lend is called when such a wait begins and Reclaim when it ends, in pairs;
// waits of several requests under one Lender overlap, so an implementation
// counts them.
type Lender interface {
	Lend()
	Reclaim()
}

type lenderKey struct{}

// WithLender returns a context whose requests' long waits lend through l.
func WithLender(ctx context.Context, l Lender) context.Context {
	return context.WithValue(ctx, lenderKey{}, l)
}

func lenderFrom(ctx context.Context) Lender {
	l, _ := ctx.Value(lenderKey{}).(Lender)
	return l
}
