// Package duckdb keeps synced tables and their sync state in a DuckDB
// database: the DuckDB implementation of runtime.Destination.
//
// Tables carry the descriptor's names and columns plus _fivetran_synced and
// _fivetran_deleted, or, in history mode, versions with _fivetran_start,
// _fivetran_end, _fivetran_active and _fivetran_synced (see history). They
// have no PRIMARY KEY constraint, whose index DuckDB would hold in memory:
// each table's key is recorded in _oktasync_tables (TablesTable) and its key
// columns are NOT NULL. Values of the sync as a whole (the hashing salt)
// live in _oktasync_values (ValuesTable). A Commit is one
// transaction on one connection: rows go through the Appender into
// temporary staging tables and are merged by key (delete, then insert), or,
// in an Append batch, straight into their tables; replacements, the delete
// sweep and the table's state are applied with SQL, and all of it commits or
// none of it does.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"oktasync/runtime"
)

// Options tune a DB. The zero value is ready to use.
type Options struct {
	// Logger receives schema changes and commit summaries; nil discards them.
	Logger *slog.Logger
	// CrashPoint, when set, is called at every stage of a Commit (see
	// Stages), and an error it returns aborts the commit there as a crash
	// would, so tests can show that nothing partial lands.
	CrashPoint func(stage string) error
	// Now stamps updated_at in the state table; nil means time.Now.
	Now func() time.Time
	// Settings are DuckDB settings applied when the database opens, e.g.
	// memory_limit ("2GB"; DuckDB's default is 80% of the machine's memory),
	// threads, or checkpoint_threshold (16MB by default; bulk loads of wide
	// rows run about twice as fast at 256MB, at the price of a longer
	// write-ahead log to replay after a crash).
	Settings map[string]string
	// IdleCheckpoint is how long the writer waits after a commit, with no
	// other commit coming, before it checkpoints a file database whose
	// write-ahead log has grown past IdleCheckpointWAL; 0 means
	// DefaultIdleCheckpoint, a negative value never. A sync that waits on
	// rate limits then pays for its checkpoints while it waits, not when it
	// closes the database.
	IdleCheckpoint time.Duration
	// FreeMemorySlack bounds the memory DuckDB's allocator keeps freed but
	// resident while a database works (commits, checkpoints, closing):
	// past it, the freed pages go back to the OS (see memoryGovernor). 0
	// means DefaultFreeMemorySlack, a negative value leaves the allocator
	// alone. It needs DuckDB built with jemalloc, as on Linux x86-64; the
	// allocator is the process's, so the smallest slack of the databases
	// at work applies.
	FreeMemorySlack int64
}

// Stages returns the names CrashPoint is called with during a Commit, in
// order. "committed" comes after the transaction is durable: an error there
// stands for a crash between the commit and its acknowledgement, so the
// caller sees a failure although the batch landed, and replays it.
func Stages() []string {
	return []string{"begin", "staged", "replaced", "merged", "swept", "state", "before-commit", "committed"}
}

// DefaultIdleCheckpoint is Options.IdleCheckpoint's default: long enough
// that a sync committing batch after batch never stops for it.
const DefaultIdleCheckpoint = time.Second

// IdleCheckpointWAL is the smallest write-ahead log an idle checkpoint
// folds into the database file: below it, closing costs little anyway.
const IdleCheckpointWAL = 4 << 20

// StateTable holds each table's runtime.TableState as JSON.
const StateTable = "_oktasync_state"

// DB is a DuckDB database used as a runtime.Destination. It is safe for
// concurrent use. Prepare and Commit run one at a time: DuckDB's optimistic
// concurrency would abort one of two transactions touching the same table (a
// sweep of a fan-out table while that table's batches commit), and DuckDB
// already spreads each statement over the cores.
type DB struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	conn   *sql.Conn             // the writer's connection; nil after a failed rollback
	tables map[string]*tableInfo // prepared tables by lower-cased name
	closed bool

	path string // the database file; "" in memory
	// idle fires IdleCheckpoint after the last commit; commits counts
	// commits, so that a checkpoint due after one is dropped when another
	// came since.
	idle    *time.Timer
	commits uint64
	// flushes counts Appender flushes before an Appender's last (flushRows).
	flushes atomic.Int64
}

var _ runtime.Destination = (*DB)(nil)

// Open opens the DuckDB database at path, creating the file if needed; ""
// opens a private in-memory database.
func Open(path string, opts Options) (*DB, error) {
	// The driver reads settings from a URL query after the path, so these
	// characters would cut the settings off or misplace them.
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("duckdb: open %q: a path must not contain '?' or '#'", path)
	}
	cfg := url.Values{}
	for k, v := range opts.Settings {
		cfg.Set(k, v)
	}
	// Extension auto-install and auto-load are off, whatever Settings say: a
	// sync must never reach the network behind our back, and JSON is built in.
	cfg.Set("autoinstall_known_extensions", "false")
	cfg.Set("autoload_known_extensions", "false")
	conn, err := ddb.NewConnector(path+"?"+cfg.Encode(), nil)
	if err != nil {
		return nil, openError(path, err)
	}
	d := &DB{
		db:     sql.OpenDB(conn),
		opts:   opts,
		log:    opts.Logger,
		tables: make(map[string]*tableInfo),
		path:   path,
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	if _, err := d.writer(context.Background()); err != nil {
		d.db.Close()
		return nil, openError(path, err)
	}
	return d, nil
}

// ErrLocked is returned by Open when another process has the database file
// open: DuckDB lets one process write a file, and none read it meanwhile.
var ErrLocked = errors.New("the database is in use by another program")

// lockHolder finds DuckDB's words for the program holding a lock, with its
// PID.
var lockHolder = regexp.MustCompile(`Conflicting lock is held in .*? \(PID \d+\)`)

// openError explains a failed open; a lock held by another process says
// which and what to do about it.
func openError(path string, err error) error {
	holder := lockHolder.FindString(err.Error())
	if holder == "" {
		return fmt.Errorf("duckdb: open %q: %w", path, err)
	}
	read := strings.TrimSuffix(path, ".duckdb") + "-read.duckdb"
	return fmt.Errorf("duckdb: open %q: %w: %s; close that program, "+
		"or let it read a copy made between syncs, which no sync locks: "+
		"cp %s %s.tmp && mv %s.tmp %s, then open %s read-only",
		path, ErrLocked, holder, path, read, read, read, read)
}

// SQL returns the database for queries. Writes made through it bypass the
// destination's bookkeeping.
func (d *DB) SQL() *sql.DB { return d.db }

// Close checkpoints a file database, folding its write-ahead log into the
// file, and closes it. A checkpoint that fails (a full disk) is an error:
// DuckDB's own checkpoint on close fails silently, leaving the synced data
// in the log beside a file that lacks it.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer governor.work(d.freeMemorySlack())()
	if d.closed {
		return nil
	}
	if d.idle != nil {
		d.idle.Stop()
	}
	var errCheckpoint error
	if d.path != "" {
		// Another connection's open transaction can refuse it; the
		// log left after closing is what tells.
		if conn, err := d.writer(context.Background()); err == nil {
			_, errCheckpoint = conn.ExecContext(context.Background(), "CHECKPOINT")
		}
	}
	d.closed = true
	var errConn error
	if d.conn != nil {
		errConn = d.conn.Close()
		d.conn = nil
	}
	if err := errors.Join(errConn, d.db.Close()); err != nil {
		return fmt.Errorf("duckdb: close: %w", err)
	}
	if d.path == "" {
		return nil
	}
	// A clean close leaves no write-ahead log.
	if fi, err := os.Stat(d.path + ".wal"); err == nil && fi.Size() > 0 {
		cause := "DuckDB did not checkpoint it"
		if errCheckpoint != nil {
			cause = errCheckpoint.Error()
		}
		return fmt.Errorf("duckdb: close: the database was not checkpointed (%s): %s of synced data are in %s, "+
			"beside %s; keep the two files together (the database file alone lacks that data), "+
			"and open the database or run the sync again with at least that much free disk space to fold it in",
			cause, mib(fi.Size()), d.path+".wal", d.path)
	}
	return nil
}

// mib writes a size for people.
func mib(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// committed notes a commit and schedules a checkpoint for when the writer
// has been idle long enough. Callers hold d.mu.
func (d *DB) committed() {
	d.commits++
	wait := d.opts.IdleCheckpoint
	if wait == 0 {
		wait = DefaultIdleCheckpoint
	}
	if wait < 0 || d.path == "" {
		return
	}
	n := d.commits
	if d.idle != nil {
		d.idle.Stop()
	}
	d.idle = time.AfterFunc(wait, func() { d.idleCheckpoint(n) })
}

// idleCheckpoint checkpoints the database if no commit came after commit n
// and the write-ahead log is worth folding in. A commit that arrives
// meanwhile waits for it; a checkpoint that fails (another connection's
// open transaction, say) is left to the next one.
func (d *DB) idleCheckpoint(n uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer governor.work(d.freeMemorySlack())()
	if d.closed || d.commits != n {
		return
	}
	if fi, err := os.Stat(d.path + ".wal"); err != nil || fi.Size() < IdleCheckpointWAL {
		return
	}
	conn, err := d.writer(context.Background())
	if err != nil {
		return
	}
	start := time.Now()
	if _, err := conn.ExecContext(context.Background(), "CHECKPOINT"); err != nil {
		d.log.Debug("duckdb: idle checkpoint skipped", "err", err)
		return
	}
	d.log.Debug("duckdb: idle checkpoint", "elapsed", time.Since(start))
}

// freeMemorySlack is Options.FreeMemorySlack with its default.
func (d *DB) freeMemorySlack() int64 {
	if d.opts.FreeMemorySlack == 0 {
		return DefaultFreeMemorySlack
	}
	return d.opts.FreeMemorySlack
}

// writer returns the writer's connection, opening a new one if a failed
// rollback made the last one unusable. Callers hold d.mu.
func (d *DB) writer(ctx context.Context) (*sql.Conn, error) {
	if d.closed {
		return nil, errors.New("database is closed")
	}
	if d.conn == nil {
		c, err := d.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		d.conn = c
	}
	return d.conn, nil
}

// txn is a transaction on the writer's connection.
type txn struct {
	d    *DB
	conn *sql.Conn
	done bool
}

// begin starts a transaction; callers defer close, which rolls back unless
// commit was reached.
func (d *DB) begin(ctx context.Context) (*txn, error) {
	conn, err := d.writer(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		d.rollback(conn) // in case BEGIN ran before ctx stopped it
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &txn{d: d, conn: conn}, nil
}

func (x *txn) exec(ctx context.Context, query string, args ...any) error {
	_, err := x.conn.ExecContext(ctx, query, args...)
	return err
}

func (x *txn) commit(ctx context.Context) error {
	x.done = true
	if err := x.exec(ctx, "COMMIT"); err != nil {
		// DuckDB rolls a failed COMMIT back itself; make sure of it.
		x.d.rollback(x.conn)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (x *txn) close() {
	if !x.done {
		x.done = true
		x.d.rollback(x.conn)
	}
}

// rollback ends a transaction whatever ctx says; a connection whose rollback
// fails for any reason but there being nothing to roll back is discarded
// rather than reused in an unknown state.
func (d *DB) rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		if strings.Contains(err.Error(), "no transaction is active") {
			return
		}
		d.log.Warn("duckdb: rollback failed; discarding the connection", "err", err)
		d.discard()
	}
}

// discard drops the writer's connection from the pool for good.
func (d *DB) discard() {
	if d.conn == nil {
		return
	}
	_ = d.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = d.conn.Close()
	d.conn = nil
}

func (d *DB) crash(stage string) error {
	if d.opts.CrashPoint == nil {
		return nil
	}
	if err := d.opts.CrashPoint(stage); err != nil {
		return fmt.Errorf("crash point %s: %w", stage, err)
	}
	return nil
}

// quote makes an SQL identifier of any name: names come from specs and from
// source data (dynamic columns), so they are always quoted.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteAll quotes names into a comma-separated list.
func quoteAll(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(n))
	}
	return b.String()
}

// sqlType is the DuckDB type of a column type.
func sqlType(t runtime.ColumnType) (string, error) {
	switch t {
	case runtime.TypeString:
		return "VARCHAR", nil
	case runtime.TypeInteger:
		return "INTEGER", nil
	case runtime.TypeBigint:
		return "BIGINT", nil
	case runtime.TypeDouble:
		return "DOUBLE", nil
	case runtime.TypeBoolean:
		return "BOOLEAN", nil
	case runtime.TypeTimestamp:
		return "TIMESTAMP", nil
	case runtime.TypeJSON:
		return "JSON", nil
	}
	return "", fmt.Errorf("unknown column type %d", t)
}

// stageType is the type of a column in a staging table. JSON is staged as
// VARCHAR: the Appender would encode a Go string as a JSON string literal,
// while the raw JSON text we hold is cast to JSON by the merge.
func stageType(t runtime.ColumnType) string {
	if t == runtime.TypeJSON {
		return "VARCHAR"
	}
	s, _ := sqlType(t)
	return s
}

// duckType is the driver's type of a staged column (see stageType).
func duckType(t runtime.ColumnType) ddb.Type {
	switch t {
	case runtime.TypeInteger:
		return ddb.TYPE_INTEGER
	case runtime.TypeBigint:
		return ddb.TYPE_BIGINT
	case runtime.TypeDouble:
		return ddb.TYPE_DOUBLE
	case runtime.TypeBoolean:
		return ddb.TYPE_BOOLEAN
	case runtime.TypeTimestamp:
		return ddb.TYPE_TIMESTAMP
	}
	return ddb.TYPE_VARCHAR
}

// columnType maps a DuckDB type name back, for columns found in an existing table.
func columnType(s string) runtime.ColumnType {
	switch s {
	case "VARCHAR":
		return runtime.TypeString
	case "INTEGER":
		return runtime.TypeInteger
	case "BIGINT":
		return runtime.TypeBigint
	case "DOUBLE":
		return runtime.TypeDouble
	case "BOOLEAN":
		return runtime.TypeBoolean
	case "TIMESTAMP":
		return runtime.TypeTimestamp
	case "JSON":
		return runtime.TypeJSON
	}
	return 0
}

// tsParam passes a time to SQL as a TIMESTAMP parameter (UTC). Untyped, a
// time.Time binds as TIMESTAMPTZ, whose conversion to our naive UTC
// timestamps would depend on the session's time zone; and a plain parameter,
// unlike an expression of one, is a constant the optimizer can compare with
// zone maps, so `_fivetran_synced < $1` skips the row groups a run wrote.
func tsParam(t time.Time) any { return ddb.Typed(t.UTC(), ddb.TYPE_TIMESTAMP) }

// tsLiteral writes a time as a TIMESTAMP literal (UTC), for statements that
// take no parameters.
func tsLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}
