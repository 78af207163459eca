package duckdb

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
// batch's last row per key, joined with what the table knows of that key
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
const ms = "INTERVAL 1 MILLISECOND"

// historySys lists the system columns an insert fills, in the order of the
// values historyValues gives.
var historySys = []string{colStart, colEnd, colActive, colSynced}

// historyValues are the system values of a new active version starting at
// the SQL expression start.
func historyValues(start string, synced time.Time) string {
	return start + ", " + tsLiteral(runtime.HistoryEnd) + ", true, " + tsLiteral(synced)
}

func (h history) write(ctx context.Context, x *txn, t *tableInfo, stage string, synced time.Time) error {
	tmp := "temp.main." + quote("_oktasync_versions")
	table := quote(t.name)
	sk := stagedKey(t)

	// n: the batch's last row of each key, with its start; a: the active
	// version of each of its keys; g: per key, the latest start and the
	// latest end of a closed version. The versions' columns are read once,
	// from the active rows only: a window over every version of the
	// batch's keys, wide rows and all, cost ten times more.
	inStage := inSelect("t", t.pk, "", sk, stage)
	var q strings.Builder
	q.WriteString("CREATE TEMP TABLE " + tmp + " AS WITH n AS (SELECT ")
	for i, c := range t.cols {
		if c.typ == runtime.TypeJSON {
			q.WriteString("CAST(s." + quote(stageCol(i)) + " AS JSON) AS " + quote(stageCol(i)) + ", ")
		} else {
			q.WriteString("s." + quote(stageCol(i)) + ", ")
		}
	}
	q.WriteString("coalesce(s." + quote(colStageStart(t)) + ", " + tsLiteral(synced) + ") AS st FROM " + stage + " AS s" +
		lastPerKey(t, "s.") + "), a AS (SELECT ")
	for i, c := range t.cols {
		q.WriteString("t." + quote(c.name) + " AS " + quote("v"+stageCol(i)) + ", ")
	}
	for i, e := range t.extra {
		q.WriteString("t." + quote(e) + " AS " + quote("x"+stageCol(i)) + ", ")
	}
	// One active version per key; should an interrupted Append run have
	// left more, the latest stands for them (and all of them close).
	q.WriteString("true AS a FROM " + table + " AS t WHERE t." + quote(colActive) + " AND " + inStage +
		" QUALIFY row_number() OVER (PARTITION BY " + prefixed("t.", t.pk) + " ORDER BY t." + quote(colStart) +
		" DESC, t.rowid DESC) = 1), g AS (SELECT " + prefixed("t.", t.pk) + ", max(t." + quote(colStart) + ") AS maxstart, " +
		"max(t." + quote(colEnd) + ") FILTER (WHERE NOT t." + quote(colActive) + ") AS maxend FROM " + table +
		" AS t WHERE " + inStage + " GROUP BY ALL) SELECT n.*, ")
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
	err := x.exec(ctx, "UPDATE "+table+" AS t SET "+quote(colSynced)+" = $1 WHERE "+active+" AND "+
		inSelect("t", t.pk, "", sk, tmp+" WHERE same"), tsParam(synced))
	if err != nil {
		return fmt.Errorf("merge %s: confirm versions: %w", t.name, err)
	}
	// Changed: the active version closes 1ms before the new one starts.
	var on strings.Builder
	for _, k := range t.pk {
		on.WriteString(" AND t." + quote(k) + " = p." + quote(stageCol(t.pos[strings.ToLower(k)])))
	}
	err = x.exec(ctx, "UPDATE "+table+" AS t SET "+quote(colEnd)+" = p.ns - "+ms+", "+quote(colActive)+
		" = false FROM "+tmp+" AS p WHERE NOT p.same AND "+active+on.String()+" AND "+
		inSelect("t", t.pk, "", sk, tmp+" WHERE NOT same"))
	if err != nil {
		return fmt.Errorf("merge %s: close versions: %w", t.name, err)
	}
	var ins strings.Builder
	ins.WriteString("INSERT INTO " + table + " (" + insertList(t, t.extra, historySys...) + ") SELECT ")
	for i := range t.cols {
		ins.WriteString(quote(stageCol(i)) + ", ")
	}
	for i := range t.extra {
		ins.WriteString(quote("x"+stageCol(i)) + ", ")
	}
	ins.WriteString(historyValues("ns", synced) + " FROM " + tmp + " WHERE NOT same")
	if err := x.exec(ctx, ins.String()); err != nil {
		return fmt.Errorf("merge %s: insert versions: %w", t.name, err)
	}
	if err := x.exec(ctx, "DROP TABLE "+tmp); err != nil {
		return fmt.Errorf("merge %s: %w", t.name, err)
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

func (history) appendQuery(t *tableInfo, src string, synced time.Time) string {
	return "INSERT INTO " + quote(t.name) + " (" + insertList(t, nil, historySys...) + ") SELECT " +
		selectList(t, "") + ", " + historyValues("coalesce("+quote(colStageStart(t))+", "+tsLiteral(synced)+")", synced) +
		" FROM " + src
}

// dedupe keeps, of the active versions the run appended for a key, the last
// written (see upsert.dedupe for the probe). Appended keys are new to the
// table (Batch.Append), so they have no other versions but those of the
// run itself; of these, a closed one that overlaps the active version is
// a copy a replacement of the run closed before the row was appended
// again (a page read again after a resume, by a later sync): it goes too,
// as the soft-delete mode's deleted copy does.
func (history) dedupe(ctx context.Context, x *txn, t *tableInfo, synced time.Time) error {
	table := quote(t.name)
	keys := quoteAll(t.pk)
	run := quote(colSynced) + " >= $1 AND " + quote(colActive)
	dups := "SELECT hash(" + keys + ") FROM " + table + " WHERE " + run +
		" GROUP BY ALL HAVING count(*) > 1"
	var n int64
	if err := x.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+dups+")", tsParam(synced)).Scan(&n); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	if n > 0 {
		q := "DELETE FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table +
			" WHERE " + run + " AND hash(" + keys + ") IN (" + dups + ")" +
			" QUALIFY row_number() OVER (PARTITION BY " + keys + " ORDER BY rowid DESC) > 1)"
		if err := x.exec(ctx, q, tsParam(synced)); err != nil {
			return fmt.Errorf("dedupe %s: %w", t.name, err)
		}
	}
	closed := "c." + quote(colSynced) + " >= $1 AND NOT c." + quote(colActive)
	var found bool
	if err := x.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" AS c WHERE "+closed+")",
		tsParam(synced)).Scan(&found); err != nil {
		return fmt.Errorf("dedupe %s: %w", t.name, err)
	}
	if !found {
		return nil
	}
	var on strings.Builder
	for _, k := range t.pk {
		on.WriteString(" AND c." + quote(k) + " = a." + quote(k))
	}
	q := "DELETE FROM " + table + " WHERE rowid IN (SELECT c.rowid FROM " + table + " AS c JOIN " + table +
		" AS a ON a." + quote(colActive) + " AND a." + quote(colSynced) + " >= $1" + on.String() +
		" WHERE " + closed + " AND c." + quote(colEnd) + " >= a." + quote(colStart) + ")"
	if err := x.exec(ctx, q, tsParam(synced)); err != nil {
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
