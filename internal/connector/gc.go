package connector

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the Go collector's target (GOGC) for a program that
// syncs, unless the environment sets GOGC. The engine's heap is mostly the
// two batches in flight, one committing and one collecting; at the
// runtime's default of 100 the heap grows to twice that before a
// collection. At 50 the System Log sync of make bench peaked about 15 MB
// lower (docs/PERFORMANCE.md).
const DefaultGCPercent = 50

// UseDefaultGC sets DefaultGCPercent unless GOGC is set. Commands call it
// once, first thing.
func UseDefaultGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
}
