// Package postgres keeps synced tables and their sync state in a PostgreSQL
// schema: the PostgreSQL implementation of runtime.Destination, held to the
// same conformance suite (runtime/dest/desttest) as DuckDB.
//
// Tables carry the descriptor's columns plus the write mode's system columns
// (see runtime.Destination), with a PRIMARY KEY constraint on the
// destination key: PostgreSQL keeps its indexes on disk, so the upserts use
// them (INSERT ... ON CONFLICT), unlike DuckDB's in-memory ones. Each
// table's key and parent are also recorded in _oktasync_tables, the state in
// _oktasync_state and values of the sync as a whole in _oktasync_values,
// all in the configured schema.
//
// A Commit is one transaction: rows are copied (COPY, binary) into
// temporary staging tables, merged by set-based statements, replacements,
// deletes and the sweep applied, and the table's state saved; all of it
// commits or none of it does. A connection lost mid-commit leaves nothing:
// the server rolls the transaction back, and the next commit reconnects.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"oktasync/runtime"
)

// Options tune a DB. The zero value is ready to use.
type Options struct {
	// Schema holds the tables (required). It is created when missing,
	// which needs the CREATE privilege on the database.
	Schema string
	// Logger receives schema changes and commit summaries; nil discards them.
	Logger *slog.Logger
	// CrashPoint, when set, is called at every stage of a Commit (see
	// Stages), and an error it returns aborts the commit there as a crash
	// would.
	CrashPoint func(stage string) error
	// Now stamps updated_at in the state table; nil means time.Now.
	Now func() time.Time
}

// Stages returns the names CrashPoint is called with during a Commit, in
// order; "committed" comes after the transaction is durable.
func Stages() []string {
	return []string{"begin", "staged", "replaced", "merged", "swept", "state", "before-commit", "committed"}
}

// Table names of the writer's own bookkeeping, in the schema.
const (
	StateTable  = "_oktasync_state"
	TablesTable = "_oktasync_tables"
	ValuesTable = "_oktasync_values"
)

// DB is a PostgreSQL schema used as a runtime.Destination. It is safe for
// concurrent use. Commits of different tables run at once, each on a
// connection of its own, so that the server loads one table while the
// engine reads the next; commits of one table (and its breakout children)
// run one at a time, which keeps their dynamic columns in order. Prepare
// and SetValue run alone.
type DB struct {
	pool   *pgxpool.Pool
	opts   Options
	log    *slog.Logger
	schema string
	// where names the server for errors: host:port/database, schema; never
	// the password.
	where string

	// mu: Prepare, SetValue and Close hold it; commits share it.
	mu     sync.RWMutex
	closed bool
	// families serializes the commits of a batch table (by lookup name).
	families sync.Map

	tablesMu sync.Mutex
	tables   map[string]*tableInfo // prepared tables by lookup name
	// noneBefore: per table (lookup name), a cutoff before which it was
	// found to hold no live row (see commit.OlderRows).
	noneBefore map[string]time.Time
}

// family is the lock of the commits of a batch table.
func (d *DB) family(table string) *sync.Mutex {
	m, _ := d.families.LoadOrStore(lowerIdent(table), new(sync.Mutex))
	return m.(*sync.Mutex)
}

// table is what the writer knows of a prepared table; nil if not prepared.
func (d *DB) table(name string) *tableInfo {
	d.tablesMu.Lock()
	defer d.tablesMu.Unlock()
	return d.tables[lowerIdent(name)]
}

// install records the tables as a commit left them.
func (d *DB) install(infos map[*runtime.Table]*tableInfo) {
	d.tablesMu.Lock()
	defer d.tablesMu.Unlock()
	for _, info := range infos {
		d.tables[lowerIdent(info.name)] = info
	}
}

var _ runtime.Destination = (*DB)(nil)

// Open connects to the server at dsn (a postgres:// URL or key=value
// string) and checks that it answers. Nothing is created before Prepare or
// SetValue.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Schema == "" {
		return nil, errors.New("postgres: no schema given: the destination's tables need one")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors may quote the DSN, password and all.
		return nil, errors.New("postgres: the connection string (DSN) does not parse; want postgres://user:password@host:port/database or host=... dbname=... key=value pairs")
	}
	d := &DB{
		opts:       opts,
		log:        opts.Logger,
		schema:     opts.Schema,
		tables:     make(map[string]*tableInfo),
		noneBefore: make(map[string]time.Time),
		where:      describe(cfg.ConnConfig.Config, opts.Schema),
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	// Unqualified names are the schema's: statements stay readable, and
	// temporary tables still go to the session's own schema.
	cfg.ConnConfig.RuntimeParams["search_path"] = quote(opts.Schema)
	cfg.ConnConfig.RuntimeParams["application_name"] = "oktasync"
	// Timestamps are naive UTC, as in DuckDB; the session's zone only
	// matters to now() and casts from timestamptz, neither used, but a
	// fixed zone rules it out.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// A commit per table synced at once (the engine's parallel, 4 by
	// default) and readers.
	cfg.MaxConns = 8
	cfg.ConnConfig.ConnectTimeout = 15 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, d.errorf(err, "connect")
	}
	d.pool = pool
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, d.errorf(err, "connect")
	}
	return d, nil
}

// describe names a server for messages: host:port/database (user), schema.
func describe(c pgconn.Config, schema string) string {
	return fmt.Sprintf("%s:%d/%s (user %s, schema %s)", c.Host, c.Port, c.Database, c.User, schema)
}

// Where names the server, database, user and schema, never the password.
func (d *DB) Where() string { return d.where }

// Pool returns the connection pool for queries. Writes made through it
// bypass the destination's bookkeeping.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Schema is the schema holding the tables.
func (d *DB) Schema() string { return d.schema }

// Close closes the connections.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.pool.Close()
	}
	return nil
}

// errorf wraps err with what was being done and where, adding what to do
// about the failures a user can fix: a refused login, a missing privilege,
// a server that is gone.
func (d *DB) errorf(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var pe *pgconn.PgError
	hint := ""
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28P01" || pe.Code == "28000":
			hint = "; check the user and password in the DSN"
		case pe.Code == "3D000":
			hint = "; create the database or fix its name in the DSN"
		case pe.Code == "42501":
			hint = fmt.Sprintf("; the user needs CREATE on the database (to create schema %s) or on the schema, "+
				"e.g. GRANT CREATE ON DATABASE ... TO ...; or CREATE SCHEMA %s AUTHORIZATION <user>", quote(d.schema), quote(d.schema))
		}
	} else if pgconn.SafeToRetry(err) || isConnError(err) {
		hint = "; the server is unreachable or went away: nothing of the failed batch was committed, and the next sync resumes where this one stopped"
	}
	return fmt.Errorf("postgres %s: %s: %w%s", d.where, what, err, hint)
}

// isConnError reports an error of the connection rather than of a statement.
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	s := err.Error()
	return strings.Contains(s, "conn closed") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "unexpected EOF") || strings.Contains(s, "EOF")
}

// txn is a transaction on a connection of the pool.
type txn struct {
	d    *DB
	conn *pgxpool.Conn
	tx   pgx.Tx
	done bool
}

// begin starts a transaction; callers defer close, which rolls back unless
// commit was reached.
func (d *DB) begin(ctx context.Context) (*txn, error) {
	if d.closed {
		return nil, errors.New("database is closed")
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &txn{d: d, conn: conn, tx: tx}, nil
}

// ensureSchema creates the schema unless it exists. CREATE SCHEMA IF NOT
// EXISTS would need the CREATE privilege on the database even when the
// schema exists, which a user given only its own schema lacks.
func (x *txn) ensureSchema(ctx context.Context) error {
	var found bool
	if err := x.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, x.d.schema).Scan(&found); err != nil {
		return err
	}
	if found {
		return nil
	}
	return x.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quote(x.d.schema))
}

func (x *txn) exec(ctx context.Context, query string, args ...any) error {
	_, err := x.tx.Exec(ctx, query, args...)
	return err
}

func (x *txn) commit(ctx context.Context) error {
	x.done = true
	err := x.tx.Commit(ctx)
	x.conn.Release()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (x *txn) close() {
	if !x.done {
		x.done = true
		// A rollback that fails leaves a connection in an unknown state:
		// pgx closes it, and the pool drops it on release.
		_ = x.tx.Rollback(context.Background())
		x.conn.Release()
	}
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

// maxIdent is PostgreSQL's longest identifier in bytes (NAMEDATALEN - 1);
// longer names are cut silently by the server.
const maxIdent = 63

// Ident is the name a column or table gets in PostgreSQL: the name itself,
// or, when longer than maxIdent bytes, its start and a hash of the whole,
// so that two long names sharing a start stay apart and the same name
// always maps the same way.
func Ident(name string) string {
	if len(name) <= maxIdent {
		return name
	}
	h := fnv64(name)
	cut := maxIdent - 9
	for cut > 0 && !isRuneStart(name[cut]) {
		cut--
	}
	return fmt.Sprintf("%s_%08x", name[:cut], uint32(h^(h>>32)))
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// lowerIdent is the lookup key of a name: PostgreSQL's name for it,
// lower-cased, since the writer matches names without regard to case as
// DuckDB does.
func lowerIdent(name string) string { return strings.ToLower(Ident(name)) }

// quote makes an SQL identifier of any name: names come from specs and from
// source data (dynamic columns), so they are always quoted.
func quote(name string) string {
	return `"` + strings.ReplaceAll(Ident(name), `"`, `""`) + `"`
}

// quoteAll quotes names into a comma-separated list.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// sqlType is the PostgreSQL type of a column type (docs/DESTINATIONS.md).
// JSON is json, not jsonb: it keeps the text as the source sent it, as
// DuckDB does, and loads without being parsed into a binary form.
func sqlType(t runtime.ColumnType) (string, error) {
	switch t {
	case runtime.TypeString:
		return "text", nil
	case runtime.TypeInteger:
		return "integer", nil
	case runtime.TypeBigint:
		return "bigint", nil
	case runtime.TypeDouble:
		return "double precision", nil
	case runtime.TypeBoolean:
		return "boolean", nil
	case runtime.TypeTimestamp:
		return "timestamp", nil
	case runtime.TypeJSON:
		return "json", nil
	}
	return "", fmt.Errorf("unknown column type %d", t)
}

// stageType is the type of a column in a staging table: JSON is staged as
// text, cast by the merge.
func stageType(t runtime.ColumnType) string {
	if t == runtime.TypeJSON {
		return "text"
	}
	s, _ := sqlType(t)
	return s
}

// columnType maps a PostgreSQL type (format_type's words) back, for columns
// found in an existing table.
func columnType(s string) runtime.ColumnType {
	switch s {
	case "text", "character varying":
		return runtime.TypeString
	case "integer":
		return runtime.TypeInteger
	case "bigint":
		return runtime.TypeBigint
	case "double precision":
		return runtime.TypeDouble
	case "boolean":
		return runtime.TypeBoolean
	case "timestamp without time zone":
		return runtime.TypeTimestamp
	case "json", "jsonb":
		return runtime.TypeJSON
	}
	return 0
}

// tsLiteral writes a time as a timestamp literal (UTC).
func tsLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// tsParam passes a time as a timestamp parameter: its UTC wall clock.
func tsParam(t time.Time) any { return t.UTC() }

// sqlString quotes a string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tempName names a new temporary table. Names are never reused: pgx caches
// the description of a COPY's target by its statement's text, and a staging
// table of the same name made anew with other columns would be copied to by
// the stale description.
func (x *txn) tempName(prefix string) string {
	return prefix + strconv.FormatUint(tempSeq.Add(1), 10)
}

// tempSeq numbers temporary tables across the process.
var tempSeq atomic.Uint64
