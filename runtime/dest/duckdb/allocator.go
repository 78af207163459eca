package duckdb

/*
#include <stddef.h>
#include <stdint.h>

// DuckDB's Linux x86-64 builds link jemalloc under this prefixed name; other
// builds do not, and the weak reference is then NULL.
#pragma weak duckdb_je_mallctl
int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

static int oktasync_allocator_linked(void) {
	return duckdb_je_mallctl != NULL;
}

// oktasync_allocator_free is the memory jemalloc holds freed but resident
// (dirty and muzzy pages of all arenas), in bytes; -1 when unknown.
static long long oktasync_allocator_free(void) {
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	if (!duckdb_je_mallctl || duckdb_je_mallctl("epoch", &epoch, &len, &epoch, len)) {
		return -1;
	}
	size_t pages = 0, dirty = 0, muzzy = 0;
	len = sizeof(size_t);
	if (duckdb_je_mallctl("arenas.page", &pages, &len, NULL, 0)) {
		return -1;
	}
	// 4096 is MALLCTL_ARENAS_ALL: the sum over the arenas.
	len = sizeof(size_t);
	if (duckdb_je_mallctl("stats.arenas.4096.pdirty", &dirty, &len, NULL, 0)) {
		return -1;
	}
	len = sizeof(size_t);
	if (duckdb_je_mallctl("stats.arenas.4096.pmuzzy", &muzzy, &len, NULL, 0)) {
		return -1;
	}
	return (long long)((dirty + muzzy) * pages);
}

static int oktasync_allocator_purge(void) {
	if (!duckdb_je_mallctl) {
		return -1;
	}
	return duckdb_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}
*/
import "C"

import (
	"sync"
	"time"
)

// DefaultFreeMemorySlack is Options.FreeMemorySlack's default. Pages freed
// and taken again within a batch stay below it, so returning the excess
// costs little: with 8 MB the full benchmark sync ran 15% slower, with 32 MB
// 5%, and both kept the peak of the benchmark's memory run equally low
// (docs/PERFORMANCE.md).
const DefaultFreeMemorySlack = 32 << 20

// allocatorCheck is how often the governor looks at the allocator while a
// database works; allocatorLinger how long it goes on after the last work.
const (
	allocatorCheck  = 10 * time.Millisecond
	allocatorLinger = time.Second
)

// allocatorLinked tells whether DuckDB was built with jemalloc, whose
// statistics the governor reads.
var allocatorLinked = C.oktasync_allocator_linked() != 0

// allocatorFree is the memory DuckDB's allocator holds freed but resident.
func allocatorFree() (int64, bool) {
	n := int64(C.oktasync_allocator_free())
	return n, n >= 0
}

// purgeAllocator returns every freed page of DuckDB's allocator to the OS.
func purgeAllocator() bool {
	return C.oktasync_allocator_purge() == 0
}

// memoryGovernor returns DuckDB's freed memory to the OS once it passes a
// slack, and all of it when a piece of work ends. jemalloc keeps freed pages for about a second (DuckDB's decay time)
// for reuse; a checkpoint frees the buffers of the rows it wrote in a burst
// and a burst of allocations follows, which then takes fresh pages while the
// freed ones wait: those bursts set the peak resident memory of a bulk sync.
// Purging at once (decay 0) removes them but made every free a system call
// and every reuse a page fault, 20% of the full sync's time. The allocator
// is the process's, so there is one governor, running while any database
// works and a little after.
type memoryGovernor struct {
	mu      sync.Mutex
	working int       // databases inside a commit, prepare or close
	last    time.Time // when the last of them finished
	slack   int64     // the smallest asked for by a database at work
	running bool
}

var governor memoryGovernor

// work marks a database at work with the slack it asks for (negative: none)
// and returns the call that ends it and purges.
func (g *memoryGovernor) work(slack int64) func() {
	if !allocatorLinked || slack < 0 {
		return func() {}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.working == 0 || slack < g.slack {
		g.slack = slack
	}
	g.working++
	if !g.running {
		g.running = true
		go g.run()
	}
	return func() {
		// What the work freed goes back before the next work allocates:
		// the ticks catch the bursts inside a piece of work, this its end.
		// Without it the benchmark's memory run peaked 15-20 MB higher.
		purgeAllocator()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.working--
		g.last = time.Now()
	}
}

func (g *memoryGovernor) run() {
	tick := time.NewTicker(allocatorCheck)
	defer tick.Stop()
	for range tick.C {
		g.mu.Lock()
		if g.working == 0 && time.Since(g.last) > allocatorLinger {
			g.running = false
			g.mu.Unlock()
			return
		}
		slack := g.slack
		g.mu.Unlock()
		if free, ok := allocatorFree(); ok && free > slack {
			purgeAllocator()
		}
	}
}
