// Package spec is the spec language: its types (which are also the source of
// specs/schema.json), a strict YAML loader that keeps positions, and the
// validation that reports every problem at once.
package spec

// The struct tags drive both the loader and the JSON Schema:
//   yaml:"name"      the key in YAML
//   spec:"required"  the key must be present
//   doc:"..."        the description shown by editors

// Version is the only spec language version there is.
const Version = 1

// File is one spec file: a table family, and in exactly one file of a folder
// the description of the source API.
type File struct {
	Version int      `yaml:"version" spec:"required" doc:"Spec language version; must be 1."`
	Source  *Source  `yaml:"source" doc:"The API as a whole: auth, rate-limit headers, buckets, error bodies. Exactly one file of a folder has it."`
	Tables  []*Table `yaml:"tables" doc:"The tables of this family."`
}

// Source describes the API every table of the folder talks to.
type Source struct {
	Name      string     `yaml:"name" spec:"required" doc:"Short lowercase name of the API, used in the generated package's registry."`
	Auth      Auth       `yaml:"auth" spec:"required" doc:"How a credential is sent."`
	RateLimit *RateLimit `yaml:"rate_limit" doc:"Response headers that report the rate-limit budget. Leave out for APIs without them."`
	Buckets   []*Bucket  `yaml:"buckets" doc:"Rate-limit buckets that tables name in request.bucket, with their default per-minute limits."`
	Errors    *Errors    `yaml:"errors" doc:"Where an error body keeps its code and summary."`
	Feeds     []*Feed    `yaml:"feeds" doc:"Change feeds: event listings that fan-out tables read between their full passes (parent.changes) instead of asking every parent."`
}

// Auth is a token sent in a header.
type Auth struct {
	Header string `yaml:"header" doc:"Header that carries the credential. Default: Authorization."`
	Scheme string `yaml:"scheme" spec:"required" doc:"Word before the token, e.g. Bearer or SSWS."`
	// OAuthTokenPath is where OAuth 2.0 client credentials are exchanged for
	// access tokens (fetch.OAuthClientCredentials); tables name the scope
	// they need in permissions.scope.
	OAuthTokenPath string `yaml:"oauth_token_path" doc:"Path of the OAuth 2.0 token endpoint on the API's origin (client credentials with a private_key_jwt assertion, DPoP when the app requires it), e.g. /oauth2/v1/token. Leave out for an API that takes only the token above."`
}

// RateLimit names the rate-limit response headers.
type RateLimit struct {
	LimitHeader     string `yaml:"limit_header" spec:"required" doc:"Header with the request ceiling of the window."`
	RemainingHeader string `yaml:"remaining_header" spec:"required" doc:"Header with the requests left in the window."`
	ResetHeader     string `yaml:"reset_header" spec:"required" doc:"Header with the end of the window, in UTC epoch seconds."`
}

// Bucket is one rate-limit bucket.
type Bucket struct {
	Name      string `yaml:"name" spec:"required" doc:"Bucket name, lower snake_case."`
	PerMinute int    `yaml:"per_minute" spec:"required" doc:"Default requests per minute; the headers of live responses take precedence."`
}

// Errors says how to read an error body.
type Errors struct {
	CodePath             string   `yaml:"code_path" doc:"gjson path of the machine-readable error code."`
	SummaryPath          string   `yaml:"summary_path" doc:"gjson path of the human-readable summary."`
	FeatureDisabledCodes []string `yaml:"feature_disabled_codes" doc:"Error codes meaning the feature behind the endpoint is not enabled (not a credential failure)."`
}

// Feed is a change feed: a listing of events bounded in time and filtered by
// event type, whose events name the records that changed (an audit log, say).
// Tables name it in parent.changes.feed, so each API declares its own.
type Feed struct {
	Name       string      `yaml:"name" spec:"required" doc:"Feed name, lower snake_case, named by parent.changes.feed."`
	Request    *Request    `yaml:"request" spec:"required" doc:"The event listing. Its params must make the feed return events oldest first (e.g. sortOrder: ASCENDING): they are applied in that order."`
	Pagination *Pagination `yaml:"pagination" doc:"How pages follow each other. Default: link_header with rel next. A query bounded by since and until must end."`
	TypeField  string      `yaml:"type_field" spec:"required" doc:"gjson path of an event's type, matched against parent.changes.events[].types."`
	SinceParam string      `yaml:"since_param" spec:"required" doc:"Query parameter of the window's start (RFC 3339): the table's changes cursor minus the lookback."`
	UntilParam string      `yaml:"until_param" spec:"required" doc:"Query parameter of the window's end (RFC 3339, exclusive): the sync's start, the next cursor."`
	Filter     *FeedFilter `yaml:"filter" doc:"Filters the feed by event type on the server. Default: none; every event of the window is read and events of other types are skipped."`
	Lookback   Duration    `yaml:"lookback" doc:"Subtracted from the cursor before each read, for feeds whose events appear late. Default: 5m."`
}

// FeedFilter asks the feed for some event types only.
type FeedFilter struct {
	Param    string `yaml:"param" spec:"required" doc:"Query parameter of the filter."`
	Template string `yaml:"template" spec:"required" doc:"The condition for one event type; {type} stands for it, e.g. 'eventType eq \"{type}\"'."`
	Join     string `yaml:"join" spec:"required" doc:"What joins the conditions of several types, e.g. ' or '."`
}

// Table is a destination table with its own endpoint.
type Table struct {
	Name        string       `yaml:"name" spec:"required" doc:"Destination table name, lower snake_case."`
	Description string       `yaml:"description" doc:"What a row is."`
	Request     *Request     `yaml:"request" spec:"required" doc:"The list endpoint."`
	Pagination  *Pagination  `yaml:"pagination" doc:"How pages follow each other. Default: link_header with rel next."`
	Incremental *Incremental `yaml:"incremental" doc:"How a sync resumes. Default: none, every sync reads everything."`
	Deletes     *Deletes     `yaml:"deletes" doc:"How deletes at the source are captured. Default: full_reimport every sync for tables without incremental, none for the others."`
	Permissions *Permissions `yaml:"permissions" doc:"What a caller needs to read the table."`
	Parent      *FanOut      `yaml:"parent" doc:"Makes this a fan-out table: one request per row of the parent table."`
	ParentKey   Names        `yaml:"parent_key" doc:"Fan-out tables: columns holding the parent's primary key, in the parent key's order."`
	PrimaryKey  Names        `yaml:"primary_key" spec:"required" doc:"Column or columns that identify a row."`
	Columns     []*Column    `yaml:"columns" spec:"required" doc:"The columns, in destination order."`
	Dynamic     []*Dynamic   `yaml:"dynamic" doc:"Objects whose every key becomes a column."`
	Children    []*Child     `yaml:"children" doc:"Child tables broken out of nested arrays or objects of each record."`
}

// Request is a list endpoint.
type Request struct {
	Path    string `yaml:"path" spec:"required" doc:"Path below the base URL. Fan-out tables use {parent.<field>} placeholders."`
	Params  Params `yaml:"params" doc:"Fixed query parameters, sent in this order; fan-out tables may use {parent.<field>} in values."`
	Bucket  string `yaml:"bucket" doc:"Rate-limit bucket of the endpoint, declared in source.buckets. Default: default."`
	Records string `yaml:"records" doc:"gjson path of the record array in the body. Default: the body itself is the array."`
}

// PaginationType is the closed set of pagination kinds.
type PaginationType string

func (PaginationType) Enum() []string { return []string{"link_header", "body_link", "none"} }

// Pagination describes how pages follow each other.
type Pagination struct {
	Type     PaginationType `yaml:"type" spec:"required" doc:"link_header: follow the Link header; body_link: follow a URL in the body; none: one request."`
	Rel      string         `yaml:"rel" doc:"link_header: the relation of the next page. Default: next."`
	NextPath string         `yaml:"next_path" doc:"body_link: gjson path of the next URL."`
	Poll     bool           `yaml:"poll" doc:"link_header: the next link never disappears; stop on an empty page and keep the next URL as the cursor."`
}

// IncrementalType is the closed set of cursor kinds.
type IncrementalType string

func (IncrementalType) Enum() []string { return []string{"filter", "next_url"} }

// Incremental describes how a table resumes where the previous sync stopped.
type Incremental struct {
	Type          IncrementalType `yaml:"type" doc:"filter: send the highest cursor_field seen in a query parameter; next_url: resume from the stored next link of a polling endpoint. Default: filter."`
	CursorField   Names           `yaml:"cursor_field" doc:"filter: gjson path of the record field the cursor follows, a timestamp; or a list of them, for records whose changes move one of several timestamps (the template then tests each): the cursor follows the latest."`
	Param         string          `yaml:"param" doc:"filter: query parameter that carries the condition."`
	Template      string          `yaml:"template" doc:"filter: parameter value; {cursor} stands for the cursor."`
	Lookback      Duration        `yaml:"lookback" doc:"Subtracted from the cursor before it is sent, for eventually consistent sources. Default: 0."`
	Initial       string          `yaml:"initial" doc:"filter: cursor of a first sync. Default: empty, a first sync sends no condition."`
	StartParam    string          `yaml:"start_param" doc:"next_url: parameter of a first sync's start time."`
	StartLookback Duration        `yaml:"start_lookback" doc:"next_url: how far back a first sync starts."`
	Backfill      *Backfill       `yaml:"backfill" doc:"next_url: make a first sync newest-first: read forward from now - newest and commit, then backfill the older events, newest to oldest, back to now - start_lookback."`
}

// Backfill makes a polling table's first sync newest-first.
type Backfill struct {
	Newest Duration `yaml:"newest" spec:"required" doc:"How far back the forward read of a first sync starts; what is older is backfilled after it has caught up."`
	Params Params   `yaml:"params" spec:"required" doc:"Parameters of the backfill's bounded listing, replacing or added to request.params; {start} stands for now - start_lookback and {end} for now - newest. The listing must run newest first and end."`
}

// DeleteType is the closed set of delete capture strategies.
type DeleteType string

func (DeleteType) Enum() []string { return []string{"none", "full_reimport"} }

// Deletes is a table's delete capture policy.
type Deletes struct {
	Type  DeleteType `yaml:"type" spec:"required" doc:"none: never mark rows deleted; full_reimport: re-read the whole table and mark rows not seen deleted."`
	Every Duration   `yaml:"every" doc:"full_reimport: how often; 0 means every sync. Default: 0."`
}

// Permissions are the roles that can read a table and the OAuth scope.
type Permissions struct {
	Roles []string `yaml:"roles" doc:"Roles that can read the table, named in errors when the source refuses."`
	Scope string   `yaml:"scope" doc:"OAuth scope the table needs."`
}

// FanOut says which parent records a fan-out table is read for: the rows of
// a table of the folder, the records of a listing that is no table of its
// own, or a fixed list. Exactly one of table, request and values.
type FanOut struct {
	Table        string       `yaml:"table" doc:"The parent table; its records fill the {parent.<field>} placeholders and its primary key the parent_key columns."`
	Request      *Request     `yaml:"request" doc:"A listing whose records are the parents but which is no table of its own (e.g. the users that hold admin roles)."`
	Pagination   *Pagination  `yaml:"pagination" doc:"request parents: how the listing pages. Default: link_header with rel next."`
	Values       []Params     `yaml:"values" doc:"Fixed parent records, e.g. [{type: password}, {type: sign_on}] for an endpoint that wants one request per type."`
	Key          Names        `yaml:"key" doc:"request and values parents: gjson paths of the parent record that fill parent_key, in order."`
	ChangedSince *Incremental `yaml:"changed_since" doc:"Only parents changed since the last sync: the parent endpoint is listed with this filter."`
	Changes      *Changes     `yaml:"changes" doc:"Between the table's full passes (deletes.every), read a change feed instead of every parent and apply each event of the listed types."`
}

// Changes says how the events of a change feed update a fan-out table.
type Changes struct {
	Feed   string         `yaml:"feed" spec:"required" doc:"The feed, declared in source.feeds."`
	Events []*ChangeEvent `yaml:"events" spec:"required" doc:"What each event type does to the table, applied in the feed's order."`
}

// ChangeEvent is what events of some types do: exactly one of relist, fetch,
// row and delete. The values of its mappings are gjson paths into the event
// (e.g. target.#(type=="UserGroup").id); an event lacking one is skipped.
type ChangeEvent struct {
	Types  Names        `yaml:"types" spec:"required" doc:"Event types (the feed's type_field) this entry handles."`
	Relist Params       `yaml:"relist" doc:"List the parent named by the event again and replace its rows, as a full pass does: parent field -> event path. Must give every parent field the request and the parent key use. Each parent once per sync."`
	Fetch  *FetchChange `yaml:"fetch" doc:"Fetch the one record the event names: a 200 upserts it, a 404 marks its row deleted."`
	Row    *RowChange   `yaml:"row" doc:"Make the row from the event alone and upsert it; every column must be filled from the event."`
	Delete Params       `yaml:"delete" doc:"Mark deleted every live row whose columns equal the event's values: column -> event path."`
}

// FetchChange reads one record by a detail URL built from the event.
type FetchChange struct {
	Path   string `yaml:"path" spec:"required" doc:"Detail path below the base URL, with {parent.<field>} and {record.<field>} placeholders."`
	Bucket string `yaml:"bucket" doc:"Rate-limit bucket of the detail endpoint. Default: the table's request.bucket."`
	Parent Params `yaml:"parent" spec:"required" doc:"The parent record: field -> event path. Must give the parent key's fields."`
	Record Params `yaml:"record" spec:"required" doc:"The record: field -> event path. Must give the fields of the table's primary key, which a 404 marks deleted."`
}

// RowChange builds a record (and its parent) from event fields and runs the
// table's extractor on them.
type RowChange struct {
	Parent Params `yaml:"parent" doc:"The parent record: field -> event path. Must give the parent key's fields."`
	Record Params `yaml:"record" spec:"required" doc:"The record: field -> event path. Must give the field of every column."`
}

// ColumnType is the closed set of column types.
type ColumnType string

func (ColumnType) Enum() []string {
	return []string{"string", "integer", "bigint", "double", "boolean", "timestamp", "json"}
}

// ValueKind is the closed set of computed column values.
type ValueKind string

func (ValueKind) Enum() []string { return []string{"index", "key", "element", "row_hash", "record"} }

// Column is one destination column.
type Column struct {
	Name        string     `yaml:"name" doc:"Column name. Default: the path in snake_case joined with _ (profile.firstName -> profile_first_name)."`
	Path        string     `yaml:"path" doc:"gjson path of the value in the record: keys separated by dots, a literal dot escaped as \\."`
	Value       ValueKind  `yaml:"value" doc:"A computed value instead of a path: index (position in the broken-out array), key (object key of an object_keys breakout), element (the broken-out value itself), row_hash (Base64 SHA-1 of the row's other values), record (the whole record as the source sent it, type json; top-level and fan-out tables only)."`
	Type        ColumnType `yaml:"type" doc:"Destination type. Default: string. Values that do not convert become NULL."`
	Description string     `yaml:"description" doc:"What the column holds, and any deliberate departure from taste (e.g. timestamps kept as text)."`
}

// Dynamic turns every key of an object into a column.
type Dynamic struct {
	Path   string     `yaml:"path" spec:"required" doc:"gjson path of the object."`
	Prefix string     `yaml:"prefix" spec:"required" doc:"Prefix of the column names; the key in snake_case follows."`
	Type   ColumnType `yaml:"type" doc:"Type of every such column. Default: string."`
}

// BreakoutType is the closed set of breakout kinds.
type BreakoutType string

func (BreakoutType) Enum() []string { return []string{"objects", "scalars", "object_keys"} }

// Breakout says what part of the parent record a child is made of.
type Breakout struct {
	Type          BreakoutType `yaml:"type" spec:"required" doc:"objects: a row per element of an array of objects; scalars: a row per element of an array of scalars; object_keys: a row per key of an object."`
	Path          string       `yaml:"path" spec:"required" doc:"gjson path of the array or object in the parent record."`
	Exclude       []string     `yaml:"exclude" doc:"object_keys: keys that do not become rows."`
	ExcludeMapped bool         `yaml:"exclude_mapped" doc:"object_keys: also leave out every key the parent maps to a column of its own."`
}

// Child is a table broken out of its parent's records.
type Child struct {
	Name        string     `yaml:"name" spec:"required" doc:"Destination table name, lower snake_case."`
	Description string     `yaml:"description" doc:"What a row is."`
	Breakout    *Breakout  `yaml:"breakout" spec:"required" doc:"What part of the parent record the rows come from."`
	ParentKey   Names      `yaml:"parent_key" spec:"required" doc:"Columns holding the parent's primary key, in the parent key's order (e.g. users_id)."`
	PrimaryKey  Names      `yaml:"primary_key" spec:"required" doc:"Column or columns that identify a row, usually the parent key plus a field or the index."`
	Columns     []*Column  `yaml:"columns" doc:"Columns besides the parent key; paths are relative to the element."`
	Dynamic     []*Dynamic `yaml:"dynamic" doc:"Objects of the element whose every key becomes a column."`
	Children    []*Child   `yaml:"children" doc:"Children of this child."`
}
