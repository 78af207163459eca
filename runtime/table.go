// Package runtime is the engine that generated table code runs on. It knows
// nothing about any particular API: every habit of a source arrives through the
// descriptors below, which the generator fills from the specs.
package runtime

import (
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// GenVersion1 is referenced by generated code (`const _ = runtime.GenVersion1`)
// so that code generated for another descriptor version fails to build instead
// of misbehaving. Bump the number, and the generator with it, on any change to
// the descriptor types that generated code must follow.
const GenVersion1 = 1

// ColumnType is the destination type of a column.
type ColumnType uint8

// Column types. Conversions from JSON are tolerant: a value that cannot be
// converted becomes NULL and is counted in ExtractStats.Invalid, never an error.
const (
	TypeString    ColumnType = iota + 1 // text; numbers and booleans keep their JSON text, arrays and objects their raw JSON
	TypeInteger                         // 32-bit; JSON numbers or numeric strings
	TypeBigint                          // 64-bit; JSON numbers or numeric strings
	TypeDouble                          // JSON numbers or numeric strings
	TypeBoolean                         // true/false, also as strings
	TypeTimestamp                       // RFC 3339 text in UTC; impossible dates become NULL
	TypeJSON                            // the raw JSON of the value
)

var columnTypeNames = [...]string{
	TypeString:    "string",
	TypeInteger:   "integer",
	TypeBigint:    "bigint",
	TypeDouble:    "double",
	TypeBoolean:   "boolean",
	TypeTimestamp: "timestamp",
	TypeJSON:      "json",
}

func (t ColumnType) String() string {
	if int(t) < len(columnTypeNames) && columnTypeNames[t] != "" {
		return columnTypeNames[t]
	}
	return "invalid"
}

// Column describes one destination column.
type Column struct {
	Name        string
	Type        ColumnType
	Source      string // how the value is found: a JSON path, or index, key, element, row_hash, parent.<column>
	Description string
}

// Table describes one destination table: where its records come from and how
// they are shaped. Child tables made from nested arrays or objects of a record
// hang off their parent in Children and have no Request of their own.
type Table struct {
	Name        string
	Description string
	SpecFile    string

	// Request is nil for breakout children: they come with their parent's records.
	Request     *Request
	Pagination  Pagination
	Incremental *Incremental
	Deletes     Deletes
	Permissions Permissions
	// FanOut is set for tables fetched once per row of another table.
	FanOut *FanOut

	PrimaryKey []string
	Columns    []Column
	// Dynamic columns: every key under a JSON object becomes a column.
	Dynamic []DynamicColumns

	// ParentKey names the columns that hold the parent's primary key, in the
	// order of the parent's key (breakout and fan-out children only).
	ParentKey []string
	Parent    *Table
	Children  []*Table
	// Breakout says how a breakout child's rows are cut out of the parent record.
	Breakout *Breakout

	// Set on the engine's views of tables, made from the registry's by the
	// sync's Settings (see Settings.Views); the registry's own are zero.
	//
	// History makes the destination keep versions of rows (see Destination).
	History bool
	// Blocked tables are read for their breakout children but never
	// written: a destination makes no table of them.
	Blocked bool
	// Drop names columns that a destination holding them drops in Prepare
	// (blocked after they were synced).
	Drop []string
	// hashedDynamic names dynamic columns whose values are hashed: they
	// are text whatever their prefix's type (see DynamicType).
	hashedDynamic map[string]bool

	// Extract walks one record of this table (top-level and fan-out tables)
	// and emits its row and the rows of its breakout children. parent is the
	// parent record of a fan-out table, which fills its parent key columns.
	Extract func(rec, parent gjson.Result, e *Emitter)
}

// DynamicType is the type of the dynamic column name: that of the longest
// prefix of the table's Dynamic it has (text when its values are hashed);
// ok is false when no prefix matches.
func (t *Table) DynamicType(name string) (typ ColumnType, ok bool) {
	best := -1
	for _, dc := range t.Dynamic {
		if strings.HasPrefix(name, dc.Prefix) && len(dc.Prefix) > best && len(name) > len(dc.Prefix) {
			best, typ = len(dc.Prefix), dc.Type
		}
	}
	if best >= 0 && t.hashedDynamic[name] {
		typ = TypeString
	}
	return typ, best >= 0
}

// Request is an HTTP list endpoint.
type Request struct {
	// Path is relative to the source's base URL; a fan-out path holds
	// {parent.<field>} placeholders.
	Path string
	// Params are fixed query parameters, sent in this order.
	Params []Param
	// Bucket names the rate-limit bucket the endpoint belongs to.
	Bucket string
	// Records is the gjson path of the record array in a response body; empty
	// when the body itself is the array.
	Records string
}

// Param is one query parameter.
type Param struct {
	Name, Value string
}

// PaginationKind says how the next page is found.
type PaginationKind uint8

const (
	PaginationNone       PaginationKind = iota + 1 // one request answers everything
	PaginationLinkHeader                           // follow the Link header with the configured rel verbatim
	PaginationBodyLink                             // follow the URL found at a JSON path of the body
)

// Pagination describes how to walk pages.
type Pagination struct {
	Kind PaginationKind
	// Rel is the Link relation of the next page (link_header).
	Rel string
	// NextPath is the gjson path of the next URL in the body (body_link).
	NextPath string
	// Poll marks endpoints whose next link never disappears: a sync stops at an
	// empty page and keeps the next URL as its cursor.
	Poll bool
}

// IncrementalKind says how a table resumes where the previous sync stopped.
type IncrementalKind uint8

const (
	// IncrementalFilter sends the highest cursor field value seen, minus a
	// lookback, in a query parameter.
	IncrementalFilter IncrementalKind = iota + 1
	// IncrementalNextURL stores the next-page URL of a polling endpoint and
	// resumes from it.
	IncrementalNextURL
)

// Incremental describes a table's cursor.
type Incremental struct {
	Kind IncrementalKind
	// CursorField is the gjson path, in a record, of the value the cursor follows.
	CursorField string
	// CursorFields, for records with several such values (each with its own
	// clock, such as a profile's last change and a membership's), lists
	// their paths, CursorField first: the cursor follows the latest of them
	// (see recordCursor). Nil for a cursor of one field.
	CursorFields []string
	// Param and Template: the query parameter and its value, where {cursor}
	// stands for the cursor (IncrementalFilter).
	Param    string
	Template string
	// Lookback is subtracted from the cursor before it is sent.
	Lookback time.Duration
	// Initial is the cursor of a first sync; empty means no filter (full import).
	Initial string
	// StartParam and StartLookback: a first sync of a polling endpoint sends
	// StartParam = now - StartLookback (IncrementalNextURL).
	StartParam    string
	StartLookback time.Duration
	// Backfill, for IncrementalNextURL, makes a first sync newest-first (see
	// Backfill); nil reads forward from StartLookback.
	Backfill *Backfill
}

// Backfill makes the first sync of a polling table newest-first: it reads
// forward from now - Newest and commits (the newest events are queryable at
// once), then reads the rest, back to now - StartLookback, with one bounded
// listing whose parameters are Params, newest to oldest, committing as it
// goes. Later syncs read forward from the cursor first, then go on with
// what is left of the backfill. The source must order the bounded listing
// newest first and end it (no next link at its end).
type Backfill struct {
	Newest time.Duration
	// Params replace or add to Request.Params in the bounded listing; in
	// their values {start} stands for the backfill's start (now -
	// StartLookback) and {end} for the forward read's start (now - Newest).
	Params []Param
}

// DeleteKind says how deletes at the source reach the destination.
type DeleteKind uint8

const (
	// DeletesNone never marks rows deleted (append-only sources such as logs).
	DeletesNone DeleteKind = iota + 1
	// DeletesFullReimport re-reads the whole table every Every (0: every sync)
	// and marks rows not seen as deleted, with their child rows.
	DeletesFullReimport
)

// Deletes is a table's delete capture policy.
type Deletes struct {
	Kind  DeleteKind
	Every time.Duration
}

// Permissions are what a caller needs to read a table; they name the roles
// in errors when the source refuses.
type Permissions struct {
	Roles []string
	Scope string
}

// FanOut describes a table read with one request per parent record. The
// parents are the rows of a table (Parent), the records of a listing that is
// no table of its own (Request), or fixed records (Values).
type FanOut struct {
	// Parent is the parent table's name, empty for listing and fixed parents.
	Parent string
	// Request and Pagination describe a listing parent.
	Request    *Request
	Pagination Pagination
	// Values are fixed parent records as JSON objects.
	Values []string
	// Key lists the gjson paths of a listing or fixed parent record that
	// fill ParentKey; a table parent's primary key fills it otherwise.
	Key []string
	// Fields are the parent record's gjson paths used by {parent.<field>}
	// placeholders in the request path and params, in order of appearance.
	Fields []string
	// ChangedSince limits fan-out to parents changed since the last sync: the
	// parent endpoint is listed with this filter instead of all parents.
	ChangedSince *Incremental
	// Changes, between the table's full passes (Deletes.Every), reads a
	// change feed instead of every parent and applies its events.
	Changes *Changes
}

// Feed is a change feed: a listing of events bounded in time (since and
// until) and filtered by event type, oldest first, whose events name the
// records that changed. A source declares its feeds; tables name one.
type Feed struct {
	Name       string
	Request    *Request
	Pagination Pagination
	// TypeField is the gjson path of an event's type.
	TypeField string
	// SinceParam and UntilParam carry the window, as RFC 3339 timestamps;
	// until is exclusive.
	SinceParam string
	UntilParam string
	// FilterParam, when set, asks for the wanted types only: FilterTemplate
	// with {type} for each type, joined with FilterJoin.
	FilterParam    string
	FilterTemplate string
	FilterJoin     string
	// Lookback is subtracted from the cursor before each read, for feeds
	// whose events appear late.
	Lookback time.Duration
}

// Changes says what the events of a feed do to a fan-out table.
type Changes struct {
	// Feed names a feed of the source (SourceInfo.Feeds).
	Feed   string
	Events []ChangeEvent
}

// ChangeAction is what an event does to a table.
type ChangeAction uint8

const (
	// ChangeRelist lists the parent named by the event again and replaces
	// its rows, as a full pass does; once per parent and sync.
	ChangeRelist ChangeAction = iota + 1
	// ChangeFetch reads the one record the event names from a detail URL: a
	// 200 upserts it, a 404 marks its row deleted; once per URL and sync.
	ChangeFetch
	// ChangeRow makes the record (and its parent) from the event's fields
	// and upserts the row the table's extractor makes of them.
	ChangeRow
	// ChangeDelete marks deleted every live row whose Match columns equal
	// the event's values.
	ChangeDelete
)

// ChangeEvent is what events of some types do. Paths are gjson paths into
// the event; an event lacking one of them is skipped.
type ChangeEvent struct {
	Types  []string
	Action ChangeAction
	// Path is ChangeFetch's detail path below the base URL, with
	// {parent.<field>} and {record.<field>} placeholders; Bucket its
	// rate-limit bucket.
	Path   string
	Bucket string
	// Parent and Record make the parent record and the record: each Field
	// (a dotted path, \. for a literal dot) gets the event's value at Path.
	Parent []FieldPath
	Record []FieldPath
	// Match pairs columns (Field) with event paths (ChangeDelete).
	Match []FieldPath
}

// FieldPath pairs a record field or column with a gjson path into an event.
type FieldPath struct {
	Field, Path string
}

// BreakoutKind says what part of a parent record a child table is made of.
type BreakoutKind uint8

const (
	BreakoutObjects    BreakoutKind = iota + 1 // an array of objects: a row per element
	BreakoutScalars                            // an array of scalars: a row per element
	BreakoutObjectKeys                         // the keys of an object: a row per key (unpivot)
)

// Breakout describes how a child table is cut out of its parent record.
type Breakout struct {
	Kind BreakoutKind
	// Path is the gjson path of the array or object in the parent record.
	Path string
	// Exclude lists object keys that do not become rows (BreakoutObjectKeys).
	Exclude []string
}

// DynamicColumns turns every key of a JSON object into a column.
type DynamicColumns struct {
	Path   string
	Prefix string
	Type   ColumnType
}

// SourceInfo describes an API as a whole: how to authenticate, read rate
// limits and understand error bodies.
type SourceInfo struct {
	Name string
	// Auth: the header carrying the credential and its scheme word.
	AuthHeader string
	AuthScheme string
	// OAuthTokenPath is the OAuth 2.0 token endpoint's path on the API's
	// origin; empty: the API takes only the token above.
	OAuthTokenPath string
	// Rate-limit headers; empty names mean the source sends none.
	RateLimitLimitHeader     string
	RateLimitRemainingHeader string
	RateLimitResetHeader     string
	// Buckets are the known rate-limit buckets with their per-minute limits.
	Buckets []Bucket
	// Error body paths and the error codes that mean a feature is not enabled.
	ErrorCodePath        string
	ErrorSummaryPath     string
	FeatureDisabledCodes []string
	// Feeds are the change feeds tables read between their full passes.
	Feeds []*Feed
}

// Feed finds a change feed by name; nil when the source has none of it.
func (s *SourceInfo) Feed(name string) *Feed {
	if s == nil {
		return nil
	}
	for _, f := range s.Feeds {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Bucket is one rate-limit bucket.
type Bucket struct {
	Name      string
	PerMinute int
}

// Registry is every table generated from one spec folder.
type Registry struct {
	Source *SourceInfo
	Tables []*Table // top-level and fan-out tables, in spec order; children hang below
}

// Lookup finds a table, child tables included, by name.
func (r *Registry) Lookup(name string) *Table {
	var find func(ts []*Table) *Table
	find = func(ts []*Table) *Table {
		for _, t := range ts {
			if t.Name == name {
				return t
			}
			if c := find(t.Children); c != nil {
				return c
			}
		}
		return nil
	}
	return find(r.Tables)
}

// Walk calls fn for every table, parents before children.
func (r *Registry) Walk(fn func(t *Table)) {
	var walk func(ts []*Table)
	walk = func(ts []*Table) {
		for _, t := range ts {
			fn(t)
			walk(t.Children)
		}
	}
	walk(r.Tables)
}
