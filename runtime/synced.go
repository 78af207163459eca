package runtime

import "time"

// syncedStep is the smallest step between two runs' Synced times: the
// precision of a destination's timestamps (microseconds in DuckDB, as in
// most SQL databases), below which two times would compare equal there.
const syncedStep = time.Microsecond

// runSynced is the Synced of a table's new run, which starts at start: start
// itself, or, when the table's last batch was written at or after it (a
// fixed clock, or one that went back), just after that batch. A run must
// write later than every run before it: its replacements and its sweep mark
// only rows written before it, and would take older rows for its own.
func runSynced(start time.Time, st TableState) time.Time {
	start = start.Truncate(syncedStep)
	if last := st.LastSynced.Truncate(syncedStep); !start.After(last) {
		return last.Add(syncedStep)
	}
	return start
}

// lastSynced is the LastSynced a batch saves: the latest of the state's,
// the table's previous one and the batch's Synced.
func lastSynced(b *Batch, prev TableState) time.Time {
	last := b.Synced
	for _, t := range []time.Time{b.State.LastSynced, prev.LastSynced} {
		if t.After(last) {
			last = t
		}
	}
	return last
}
