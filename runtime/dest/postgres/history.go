package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"oktasync/runtime"
	"oktasync/runtime/dest/internal/sqldest"
)

// System columns of the history mode (besides colSynced).
const (
	colStart  = sqldest.ColStart
	colEnd    = sqldest.ColEnd
	colActive = sqldest.ColActive
)

// colStageStart is the name of the staging column that holds a history
// row's start (RowSet.Start; NULL for the batch's Synced).
func colStageStart(t *tableInfo) string { return stageCol(len(t.cols)) }

// history keeps versions of rows (type 2, see runtime.Destination): the
// destination key is the source key plus _fivetran_start, one version per
// key is active, and a version closes 1ms before its successor starts.
//
// A merge is four set-based statements around a temporary table of the
// batch's row per key, joined with what the table knows of that key
// (its active version, its latest start and latest closed end): the active
// versions of unchanged rows get the batch's _fivetran_synced; those of
// changed rows close; changed and new rows insert a version. Each
// statement touches the table's rows of the batch's keys only, found as in
// upsert (inSelect), so an incremental merge costs what a soft-delete merge
// does plus the comparison.
//
// A row written again by the same run (a page read again after a resume)
// with other values opens a new version too, 1ms after the one the run
// wrote: never in place, so that no rule has an exception. Columns the
// writer does not fill (see tableInfo.extra) carry over from the active
// version; a key that comes back after a delete starts them empty.
//
// Replacements and deletes of a batch leave alone the rows whose keys the
// batch writes to the same table (commit.unstaged): the merge decides for
// them, so a rewritten parent's unchanged children keep one version and a
// replayed batch adds none. The rows below such a row are not cascaded to
// either; they have their own replacements.
type history struct{}

func (history) name() string { return sqldest.ModeHistory }

func (history) systemColumns() []column {
	ts := runtime.TypeTimestamp
	return []column{
		{name: colStart, typ: ts, desc: sqldest.DescStart},
		{name: colEnd, typ: ts, desc: sqldest.DescEnd},
		{name: colActive, typ: runtime.TypeBoolean, desc: sqldest.DescActive},
		{name: colSynced, typ: ts, desc: sqldest.DescVersionSynced},
	}
}

func (history) key(pk []string) []string { return append(pk[:len(pk):len(pk)], colStart) }

func (history) versioned() bool { return true }

func (history) live(alias string) string { return alias + "." + quote(colActive) }

// ms is one millisecond, the step between versions.
const ms = "INTERVAL '1 millisecond'"

// historySys lists the system columns an insert fills, in the order of the
// values historyValues gives.
var historySys = []string{colStart, colEnd, colActive, colSynced}

// historyValues are the system values of a new active version starting at
// the SQL expression start.
func historyValues(start string, synced time.Time) string {
	return start + ", " + tsLiteral(runtime.HistoryEnd) + ", true, " + tsLiteral(synced)
}

// comparable is a column's value under alias in a form PostgreSQL compares:
// json has no equality operator, its text does (and is what was written).
func comparable(c column, expr string) string {
	if c.typ == runtime.TypeJSON {
		return expr + "::text"
	}
	return expr
}

func (h history) write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	tmp := quote(x.tempName("_oktasync_versions_"))
	table := quote(t.name)
	sk := stagedKey(t)

	// n: the batch's row of each key, with its start; a: the active
	// version of each of its keys; g: per key, the latest start and the
	// latest end of a closed version.
	inStage := inSelect("t", t.pk, "", sk, stage)
	var q strings.Builder
	q.WriteString("CREATE TEMP TABLE " + tmp + " ON COMMIT DROP AS WITH n AS (SELECT ")
	for i := range t.cols {
		q.WriteString("s." + quote(stageCol(i)) + ", ")
	}
	q.WriteString("coalesce(s." + quote(colStageStart(t)) + ", " + tsLiteral(synced) + ") AS st FROM " + stage + " AS s), a AS (SELECT DISTINCT ON (" +
		prefixed("t.", t.pk) + ") ")
	for i, c := range t.cols {
		q.WriteString(comparable(c, "t."+quote(c.name)) + " AS " + quote("v"+stageCol(i)) + ", ")
	}
	for i, e := range t.extra {
		q.WriteString("t." + quote(e) + " AS " + quote("x"+stageCol(i)) + ", ")
	}
	// One active version per key; should there be more, the latest stands
	// for them (and all of them close).
	q.WriteString("true AS a FROM " + table + " AS t WHERE t." + quote(colActive) + " AND " + inStage +
		" ORDER BY " + prefixed("t.", t.pk) + ", t." + quote(colStart) + " DESC), g AS (SELECT " + prefixed("t.", t.pk) +
		", max(t." + quote(colStart) + ") AS maxstart, " +
		"max(t." + quote(colEnd) + ") FILTER (WHERE NOT t." + quote(colActive) + ") AS maxend FROM " + table +
		" AS t WHERE " + inStage + " GROUP BY " + prefixed("t.", t.pk) + ") SELECT n.*, ")
	for i := range t.extra {
		q.WriteString("a." + quote("x"+stageCol(i)) + ", ")
	}
	q.WriteString("coalesce(a.a, false)")
	for i := range t.cols {
		q.WriteString(" AND n." + quote(stageCol(i)) + " IS NOT DISTINCT FROM a." + quote("v"+stageCol(i)))
	}
	q.WriteString(" AS same, greatest(n.st, g.maxstart + " + ms + ", g.maxend + " + ms + ") AS ns FROM n LEFT JOIN a ON ")
	for i, c := range sk {
		if i > 0 {
			q.WriteString(" AND ")
		}
		q.WriteString("n." + quote(c) + " = a." + quote("v"+c))
	}
	q.WriteString(" LEFT JOIN g ON ")
	for i, c := range sk {
		if i > 0 {
			q.WriteString(" AND ")
		}
		q.WriteString("n." + quote(c) + " = g." + quote(t.pk[i]))
	}
	if err := x.exec(ctx, q.String()); err != nil {
		return fmt.Errorf("merge %s: compare versions: %w", t.name, err)
	}

	active := "t." + quote(colActive)
	// Unchanged: the active version is confirmed.
	err := x.exec(ctx, "UPDATE "+table+" AS t SET "+quote(colSynced)+" = $1::timestamp WHERE "+active+" AND "+
		inSelect("t", t.pk, "", sk, tmp+" WHERE same"), tsParam(synced))
	if err != nil {
		return fmt.Errorf("merge %s: confirm versions: %w", t.name, err)
	}
	// Changed: the active version closes 1ms before the new one starts.
	var on strings.Builder
	for _, k := range t.pk {
		on.WriteString(" AND t." + quote(k) + " = p." + quote(stageCol(t.pos[lowerIdent(k)])))
	}
	err = x.exec(ctx, "UPDATE "+table+" AS t SET "+quote(colEnd)+" = p.ns - "+ms+", "+quote(colActive)+
		" = false FROM "+tmp+" AS p WHERE NOT p.same AND "+active+on.String())
	if err != nil {
		return fmt.Errorf("merge %s: close versions: %w", t.name, err)
	}
	var ins strings.Builder
	ins.WriteString("INSERT INTO " + table + " (" + insertList(t, t.extra, historySys...) + ") SELECT ")
	for i, c := range t.cols {
		if c.typ == runtime.TypeJSON {
			ins.WriteString(quote(stageCol(i)) + "::json, ")
		} else {
			ins.WriteString(quote(stageCol(i)) + ", ")
		}
	}
	for i := range t.extra {
		ins.WriteString(quote("x"+stageCol(i)) + ", ")
	}
	ins.WriteString(historyValues("ns", synced) + " FROM " + tmp + " WHERE NOT same")
	if err := x.exec(ctx, ins.String()); err != nil {
		return fmt.Errorf("merge %s: insert versions: %w", t.name, err)
	}
	return nil
}

// prefixed qualifies quoted names with alias.
func prefixed(alias string, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = alias + quote(n)
	}
	return strings.Join(q, ", ")
}

func (history) directValues(synced time.Time) func(sys, stage []any) {
	synced = synced.UTC()
	return func(sys, stage []any) {
		start := synced
		if s, ok := stage[0].(time.Time); ok {
			start = s
		}
		sys[0], sys[1], sys[2], sys[3] = start, runtime.HistoryEnd, true, synced
	}
}

// appendWrite adds each row as an active version at its start without
// comparing it with the key's versions, as the Append contract allows: the
// run's Dedupe then keeps the last written. A row whose version (key and
// start) the run already wrote replaces it, reopened if a replacement of the
// run closed it: the primary key admits one version per start.
func (history) appendWrite(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(t.name) + " (" + insertList(t, nil, historySys...) + ") SELECT ")
	b.WriteString(selectList(t, "s.") + ", " +
		historyValues("coalesce(s."+quote(colStageStart(t))+", "+tsLiteral(synced)+")", synced) + " FROM " + stage + " AS s")
	b.WriteString(" ON CONFLICT (" + quoteAll(t.key) + ") DO UPDATE SET ")
	for _, c := range t.cols {
		b.WriteString(quote(c.name) + " = excluded." + quote(c.name) + ", ")
	}
	b.WriteString(quote(colEnd) + " = excluded." + quote(colEnd) + ", " + quote(colActive) + " = true, " +
		quote(colSynced) + " = excluded." + quote(colSynced))
	if err := x.exec(ctx, b.String()); err != nil {
		return fmt.Errorf("append %s: %w", t.name, err)
	}
	return nil
}

// dedupe keeps, of the active versions the run wrote for a key, the last
// written: the latest _fivetran_synced (a resumed run writes at its own
// sync's time), then the latest start (within one sync, a version written
// again at the same start replaced the earlier one in place). Of the run's
// closed versions, one that overlaps the kept active version is a copy a
// replacement of the run closed before the row was appended again (a page
// read again after a resume, by a later sync): it goes too, as the
// soft-delete mode's deleted copy does.
func (history) dedupe(ctx context.Context, x *txn, t *tableInfo, since time.Time) error {
	table := quote(t.name)
	run := quote(colSynced) + " >= $1::timestamp AND " + quote(colActive)
	q := "DELETE FROM " + table + " WHERE ctid IN (SELECT ctid FROM (SELECT ctid, row_number() OVER (PARTITION BY " +
		quoteAll(t.pk) + " ORDER BY " + quote(colSynced) + " DESC, " + quote(colStart) + " DESC) AS n FROM " + table +
		" WHERE " + run + ") AS r WHERE n > 1)"
	if err := x.exec(ctx, q, tsParam(since)); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	var on strings.Builder
	for _, k := range t.pk {
		on.WriteString(" AND c." + quote(k) + " = a." + quote(k))
	}
	q = "DELETE FROM " + table + " AS c USING " + table + " AS a WHERE a." + quote(colActive) + " AND a." +
		quote(colSynced) + " >= $1::timestamp" + on.String() + " AND c." + quote(colSynced) + " >= $1::timestamp AND NOT c." +
		quote(colActive) + " AND c." + quote(colEnd) + " >= a." + quote(colStart)
	if err := x.exec(ctx, q, tsParam(since)); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	return nil
}

// markDeleted closes active versions as of synced (or their start, if
// later) and opens none.
func (history) markDeleted(ctx context.Context, x *txn, t *tableInfo, synced time.Time, cond string, args ...any) error {
	q := "UPDATE " + quote(t.name) + " AS t SET " + quote(colActive) + " = false, " + quote(colEnd) +
		" = greatest(" + tsLiteral(synced) + ", t." + quote(colStart) + ") WHERE t." + quote(colActive) +
		" AND (" + cond + ")"
	if err := x.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("mark deleted in %s: %w", t.name, err)
	}
	return nil
}

// deleted: a key is deleted when none of its versions is active; an old
// closed version of a live key is not.
func (history) deleted(t *tableInfo, alias string) string {
	live := alias + "l"
	return "NOT " + alias + "." + quote(colActive) + " AND " + inSelectNot(alias, t.pk, live, t.pk,
		quote(t.name)+" AS "+live+" WHERE "+live+"."+quote(colActive))
}

// inSelectNot is sqldest.InSelectNot with this destination's quoting.
func inSelectNot(alias string, cols []string, fromAlias string, fromCols []string, from string) string {
	return sqldest.InSelectNot(quote, alias, cols, fromAlias, fromCols, from)
}
