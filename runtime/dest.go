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
// History tables (Table.History) keep versions instead (type 2, as
// Fivetran's history mode), with no _fivetran_deleted:
//   - system columns _fivetran_start, _fivetran_end, _fivetran_active
//     (and _fivetran_synced); the destination key is the primary key plus
//     _fivetran_start; at most one version per key is active, and its
//     _fivetran_end is HistoryEnd;
//   - a row written whose values (system columns aside) equal its key's
//     active version adds no version: the active version's _fivetran_synced
//     moves to the batch's Synced;
//   - a row that differs, or whose key has no active version, opens a
//     version at its start (RowSet.Start, else Synced), moved later when
//     needed so that it starts after every earlier version of its key; the
//     active version, if any, closes at that start minus 1ms
//     (_fivetran_active false), so versions of a key never overlap or leave
//     a gap;
//   - marking a row deleted closes its active version at the batch's Synced
//     (or at its start, if later) and opens none; replacements, sweeps and
//     cutoffs on _fivetran_synced look at active versions only;
//   - a key is deleted when it has no active version (child rows follow a
//     deleted parent key as in soft-delete mode).
//
// A table's mode may change between syncs: Prepare turns a soft-delete
// table into a history table by making each live row an active version
// starting at the table's latest _fivetran_synced and each deleted row a
// closed version (start = end = HistoryMin), and a history table back by
// keeping the latest version of each key (deleted unless active).
//
// Commit may be called from several goroutines at once.
type Destination interface {
	// Prepare creates the tables that do not exist yet (columns, primary key,
	// system columns), adds columns a table lacks, drops the columns listed
	// in Table.Drop and switches write modes (see above). Blocked tables get
	// no table; their children do.
	Prepare(ctx context.Context, tables []*Table) error
	// State returns the saved state of every table that has one; before the
	// first Prepare of a new destination, none.
	State(ctx context.Context) (map[string]TableState, error)
	// Columns lists the columns of every table the destination holds,
	// system columns included, by lower-cased table name; before the first
	// Prepare of a new destination, none.
	Columns(ctx context.Context) (map[string][]string, error)
	// Commit applies one batch atomically: all of it, or nothing.
	Commit(ctx context.Context, b *Batch) error
	// Value and SetValue keep values of the sync as a whole with the sync
	// state (the hashing salt): Value's ok is false for a key never set.
	// They work before the first Prepare too.
	Value(ctx context.Context, key string) (value string, ok bool, err error)
	SetValue(ctx context.Context, key, value string) error
	Close() error
}

// HistoryEnd is the _fivetran_end of an active version; HistoryMin the
// start and end of a version made of a row that was already deleted when
// its table turned to history mode.
var (
	HistoryEnd = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
	HistoryMin = time.Unix(0, 0).UTC()
)

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
	// Truncate deletes every row of Table and its breakout children, for
	// good, before anything else of the batch: the first batch of a table
	// rebuilt from scratch (its hashing changed, and old values must not
	// mix with new ones).
	Truncate bool
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
	// Start holds, per row of a History table, when its values took effect
	// at the source (zero: the batch's Synced); nil for other tables, or
	// when every row starts at Synced.
	Start []time.Time
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
	// Backfill is what a newest-first table (Incremental.Backfill) still
	// has to read of the events before its forward read's start.
	Backfill *BackfillState `json:"backfill,omitempty"`

	// Resync, when set, says why the table's next run reads it whole from
	// scratch (a re-sync asked for, a column to fill, hashing changed); a
	// completed full import clears it.
	Resync string `json:"resync,omitempty"`
	// Rebuild marks a Resync that starts by deleting the table's rows
	// (Batch.Truncate): its hashing changed.
	Rebuild bool `json:"rebuild,omitempty"`
	// History is the table's write mode as last prepared.
	History bool `json:"history,omitempty"`
	// Hashed lists the hashed columns ("table.column", the table's and its
	// breakout children's) its rows were written with.
	Hashed []string `json:"hashed,omitempty"`
	// KeptOut lists the tables (by name) and dynamic columns
	// ("table.column") the schema-change policy kept out when they appeared
	// after the first sync: they stay out until a setting enables them. A
	// top-level or fan-out table kept out has a state of its own saying so.
	KeptOut []string `json:"kept_out,omitempty"`
	// Keys lists the keys seen of the unpivoted tables (Table.Unpivoted)
	// among the table's children, as "table.key"; "table." marks a table
	// whose keys are tracked. A key not in it is new (a schema change).
	Keys []string `json:"keys,omitempty"`
}

// BackfillState is where a newest-first table's backfill stands.
type BackfillState struct {
	// Start and End bound the backfill (cursor format): the events
	// published in [Start, End), End being where the forward read began.
	Start string `json:"start"`
	End   string `json:"end"`
	// URL is the next page of the bounded listing; empty before its first.
	URL string `json:"url,omitempty"`
	// Append: the table held no rows when the forward read began, so the
	// backfill appends (Batch.Append) and its last batch dedupes every row
	// written since Since, the forward read's rows included (an event late
	// to arrive can be in both).
	Append bool      `json:"append,omitempty"`
	Since  time.Time `json:"since,omitzero"`
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
