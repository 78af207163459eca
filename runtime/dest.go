package runtime

import (
	"context"
	"time"
)

// Destination is where synced rows and sync state live. Keeping the state in
// the destination means moving the database moves the sync with it, and lets
// a batch of rows and the cursor that follows them commit together.
//
// Row semantics (soft deletes, like Fivetran):
//   - every row carries _fivetran_synced (the Synced time of its batch) and
//     _fivetran_deleted (false when written);
//   - rows are upserted by primary key and replaced whole, dynamic columns
//     included; a row written again flips _fivetran_deleted back to false;
//   - deletes never remove rows, they set _fivetran_deleted and leave
//     _fivetran_synced alone;
//   - a NULL primary key value fails the commit.
//
// Commit may be called from several goroutines at once.
type Destination interface {
	// Prepare creates the tables that do not exist yet (columns, primary key,
	// system columns) and adds columns a table lacks. It never drops anything.
	Prepare(ctx context.Context, tables []*Table) error
	// State returns the saved state of every table that has one.
	State(ctx context.Context) (map[string]TableState, error)
	// Commit applies one batch atomically: all of it, or nothing.
	Commit(ctx context.Context, b *Batch) error
	Close() error
}

// Batch is a unit of exactly-once delivery: the rows of some pages of one
// table (with its breakout children), the replacement of child rows of the
// parents it rewrites, an optional delete sweep, and the table's new state.
// Replaying a batch is harmless: upserts by key and sweeps are idempotent.
type Batch struct {
	// Table is the table whose pages made the batch (a top-level or fan-out
	// table); State is saved under its name.
	Table *Table
	// Synced is the _fivetran_synced of every row written and the cutoff of
	// replacements and sweeps: rows already written by the same run (same
	// Synced) are never touched by them.
	Synced time.Time
	// Rows per table: Table itself and its breakout children.
	Rows map[*Table]*RowSet
	// Replace lists, per table, parent keys whose existing rows not written
	// by this run are marked deleted before the batch's rows are upserted:
	// breakout children of rewritten parents, and the rows of a fan-out table
	// for the parents whose listing is in this batch. The marking cascades to
	// the children of the rows it marks.
	Replace map[*Table][][]any
	// Delete lists, per table, rows to mark deleted by column values (the
	// deletes a change feed reports): every live row whose Columns equal
	// Values is marked deleted whenever it was written (this run's earlier
	// batches included), and so are its breakout children. Deletes apply
	// after Replace and before the batch's rows are upserted, so a row in
	// Rows outlives a match of the same batch.
	Delete map[*Table][]Match
	// Sweep, when set, ends a full import: rows of Table and its breakout
	// children not written since Sweep.Before are marked deleted, and so are
	// rows of Sweep.FanOut tables (and their children) whose parent row is
	// deleted.
	Sweep *Sweep
	// State is Table's new state, saved in the same transaction.
	State TableState
	// Append promises that no row of the batch has the key of a row written
	// before the table's current run: the run is the table's first import, or
	// it continues a stream whose cursor commits with its rows. Rows written
	// earlier in the same run may repeat (a page read again after a resume),
	// so the destination may add the rows without looking for existing ones
	// as long as the run's last batch, marked Dedupe, leaves one row per key.
	Append bool
	// Dedupe ends a run of Append batches, or a part of it that a failure
	// or a crash ended: for Table and its breakout children, only the last
	// row written of each key since the run began is kept.
	Dedupe bool
	// DedupeSince, when before Synced, is where the run that Dedupe covers
	// began: a run resumed by a later sync writes at that sync's Synced,
	// and the rows of the earlier syncs are deduplicated too.
	DedupeSince time.Time
}

// RowSet is the rows of one table in a batch, values in Table.Columns order.
type RowSet struct {
	Rows [][]any
	// Dynamic holds, per row (same index as Rows), its dynamic columns; nil
	// for tables without them.
	Dynamic [][]Field
}

// Match selects rows by column values: Values[i], a driver value of the
// column's type, for the column named Columns[i].
type Match struct {
	Columns []string
	Values  []any
}

// Sweep marks rows deleted at the end of a full import.
type Sweep struct {
	Before time.Time
	// FanOut lists tables read per row of Table, whose rows follow their
	// parent into deletion.
	FanOut []*Table
}

// TableState is what a table remembers between syncs.
type TableState struct {
	// Cursor is the incremental cursor: the highest cursor field value of the
	// last complete listing, a timestamp no later than the listing's start on
	// the server's clock (see Pending.ServerStart), or the next URL of a
	// polling endpoint.
	Cursor string `json:"cursor,omitempty"`
	// ParentCursor is the changed_since cursor of a fan-out table, bounded
	// like Cursor.
	ParentCursor string `json:"parent_cursor,omitempty"`
	// ChangesCursor is the end of the last complete read of a change feed:
	// its events published before it are applied (Table.FanOut.Changes).
	ChangesCursor string `json:"changes_cursor,omitempty"`
	// LastFullImport is when the last complete full import started, on the
	// engine's clock (the _fivetran_synced of its rows).
	LastFullImport time.Time `json:"last_full_import,omitzero"`
	// LastFullImportServer is the same start on the server's clock, where a
	// change feed's window begins after a full pass (ChangesCursor is on the
	// server's clock too). Zero in state saved before it existed:
	// LastFullImport stands in.
	LastFullImportServer time.Time `json:"last_full_import_server,omitzero"`
	// LastSynced is the latest Synced of the table's batches: the next run
	// writes strictly later (see runSynced), so that its replacements and
	// sweeps tell the rows it writes from older ones even when the clock
	// stands still or goes back.
	LastSynced time.Time `json:"last_synced,omitzero"`
	// Pending is an unfinished run, resumed by the next sync.
	Pending *Pending `json:"pending,omitempty"`
}

// Pending is where an interrupted run stands.
type Pending struct {
	// Synced is the run's start; resumed pages keep it so that replacements
	// and the final sweep still see the pages written before the interruption.
	Synced time.Time `json:"synced"`
	// ServerStart is the run's start on the server's clock: the latest
	// cursor the run may claim when it completes, however long after it
	// resumes, and the full pass's start for a change feed (see
	// TableState.LastFullImportServer). Zero in state saved before it
	// existed: Synced stands in.
	ServerStart time.Time `json:"server_start,omitzero"`
	// Full marks a full import, which ends with a delete sweep.
	Full bool `json:"full,omitempty"`
	// URL is the next page to fetch.
	URL string `json:"url,omitempty"`
	// MaxCursor is the highest cursor field value seen so far.
	MaxCursor string `json:"max_cursor,omitempty"`
	// ParentURL is the next page of parents of a fan-out table; URL is then
	// the next page of the current parent's listing.
	ParentURL string `json:"parent_url,omitempty"`
	// Parent is the raw JSON of the parent whose listing URL continues.
	Parent string `json:"parent,omitempty"`
	// MaxParentCursor is the highest changed_since field value seen so far.
	MaxParentCursor string `json:"max_parent_cursor,omitempty"`
	// ParentsDone lists the parents of the current page of parents (the
	// page at ParentURL, or the fixed parents) whose rows are all committed,
	// as ranges of their positions on the page ("0-41,43"); a resume skips
	// them. ParentsSum identifies the page's parents: when the page lists
	// other parents on resume, it is read whole.
	ParentsDone string `json:"parents_done,omitempty"`
	ParentsSum  string `json:"parents_sum,omitempty"`
	// ChangesURL is the change feed page a run of changes resumes at; its
	// events are applied again, which is harmless. ChangesUntil is the end
	// of that run's window, the table's next ChangesCursor.
	ChangesURL   string `json:"changes_url,omitempty"`
	ChangesUntil string `json:"changes_until,omitempty"`
	// Append marks a run whose batches are appended (Batch.Append): its last
	// batch dedupes. A list resumes appending; a fan-out pass resumes merging
	// (see syncFanOut).
	Append bool `json:"append,omitempty"`
}
