// Package connector wires the Okta tables, the runtime, a destination and
// (for the demo) the simulator into the jobs the command line offers. It is
// the only place that knows all of them; cmd/oktasync only parses flags.
package connector

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"oktasync/gen/spec"
	"oktasync/generated/okta"
	"oktasync/naming"
	"oktasync/runtime"
	"oktasync/runtime/ratelimit"
)

// envName is the form of an environment variable's name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Config is the sync configuration: oktasync.yaml, environment variables
// and flags, in increasing precedence.
type Config struct {
	// OrgURL is the Okta org, e.g. https://acme.okta.com.
	OrgURL string `yaml:"org_url"`
	// Token is an SSWS API token. Prefer TokenEnv or OKTA_CLIENT_TOKEN: a
	// token in a file tends to end up in a repository.
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
	// Auth selects an OAuth 2.0 service app instead of the token.
	Auth AuthConfig `yaml:"auth"`
	// Proxy sends every request through a proxy (else HTTPS_PROXY applies).
	Proxy ProxyConfig `yaml:"proxy"`
	// Destination is where rows go.
	Destination Destination `yaml:"destination"`
	// SchemaChangeHandling is what happens to columns and tables that
	// appear after the first sync: ALLOW_ALL (default), ALLOW_COLUMNS or
	// BLOCK_ALL (runtime.SchemaChangePolicy).
	SchemaChangeHandling string `yaml:"schema_change_handling"`
	// HashSaltEnv names the environment variable holding the salt of hashed
	// columns; empty keeps the destination's own salt.
	HashSaltEnv string `yaml:"hash_salt_env"`
	// Tables holds table settings by table name (docs/SETTINGS.md); a table
	// not named syncs as it comes.
	Tables map[string]TableConfig `yaml:"tables"`
	// Reimport overrides the period of the full re-import that captures
	// deletes, for every table that has one ("168h", "7d").
	Reimport string `yaml:"reimport_every"`
	// Parallel is how many tables sync at once.
	Parallel int `yaml:"parallel"`
	// CAFile trusts an extra certificate authority (a TLS simulator, a proxy).
	CAFile string `yaml:"ca_file"`
	// TimeScale is for simulators whose clock runs faster than real time.
	TimeScale float64 `yaml:"time_scale"`
	// RateLimitReserve is the share of every rate-limit window the sync
	// leaves to the org's other API clients (Okta's limits are the org's,
	// not the token's), from 0 (none) to below 1; unset is 0.02, at least
	// one request of each window.
	RateLimitReserve *float64 `yaml:"rate_limit_reserve"`
	// SyncFrequency is how often `oktasync serve` syncs, in minutes: one of
	// Frequencies (unset: DefaultFrequency).
	SyncFrequency int `yaml:"sync_frequency_minutes"`

	// file and pos locate the settings' nodes in the file the config was
	// loaded from ("tables.users.columns.id.enabled"), for errors found
	// after decoding.
	file string
	pos  map[string]yaml.Node
}

// TableConfig is one table's settings (runtime.TableSettings).
// The service keeps them in its state file as JSON.
type TableConfig struct {
	Enabled *bool                   `yaml:"enabled" json:"enabled,omitempty"`
	History bool                    `yaml:"history" json:"history,omitempty"`
	Columns map[string]ColumnConfig `yaml:"columns" json:"columns,omitempty"`
}

// ColumnConfig is one column's settings (runtime.ColumnSettings).
type ColumnConfig struct {
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	Hashed  bool  `yaml:"hashed" json:"hashed,omitempty"`
}

// Destination names a destination.
type Destination struct {
	Type string `yaml:"type"` // duckdb (default) or postgres
	Path string `yaml:"path"` // duckdb: database file
	// Settings are DuckDB settings (memory_limit, threads,
	// checkpoint_threshold, ...); they override DefaultDuckDBSettings.
	Settings map[string]string `yaml:"settings"`
	// DSNEnv names the environment variable holding a postgres
	// destination's connection string (default OKTASYNC_PG_DSN): a DSN
	// carries a password, which has no place in a config file.
	DSNEnv string `yaml:"dsn_env"`
	// Schema is a postgres destination's schema (default okta), created
	// when missing.
	Schema string `yaml:"schema"`
}

// Destination types.
const (
	DestDuckDB   = "duckdb"
	DestPostgres = "postgres"
)

// DefaultPostgresSchema is a postgres destination's schema when the config
// names none.
const DefaultPostgresSchema = "okta"

// DefaultDSNEnv is where a postgres destination's DSN is read by default.
const DefaultDSNEnv = "OKTASYNC_PG_DSN"

// IsPostgres reports a postgres destination.
func (d Destination) IsPostgres() bool { return d.Type == DestPostgres }

// DSNVar is the environment variable holding a postgres destination's DSN.
func (d Destination) DSNVar() string {
	if d.DSNEnv == "" {
		return DefaultDSNEnv
	}
	return d.DSNEnv
}

// PostgresSchema is a postgres destination's schema.
func (d Destination) PostgresSchema() string {
	if d.Schema == "" {
		return DefaultPostgresSchema
	}
	return d.Schema
}

// DefaultDBPath is the database file when the config names none.
const DefaultDBPath = "okta.duckdb"

// DBPath is the database file a sync writes.
func (d Destination) DBPath() string {
	if d.Path == "" {
		return DefaultDBPath
	}
	return d.Path
}

// Name names the destination in messages: a DuckDB file, or a postgres
// schema and the variable holding its DSN (never the DSN, which carries a
// password).
func (d Destination) Name() string {
	if d.IsPostgres() {
		return fmt.Sprintf("postgres schema %s (DSN from %s)", d.PostgresSchema(), d.DSNVar())
	}
	return d.DBPath()
}

// DefaultDuckDBSettings are what a sync runs DuckDB with unless the config
// says otherwise (measured by make bench; docs/PERFORMANCE.md):
//   - memory_limit 96MB caps DuckDB's buffer pool, which otherwise grows to
//     80% of the machine's memory caching blocks it has written. Tables have
//     no key index, so nothing must stay resident; but a checkpoint pins the
//     row groups it writes, and at 64MB the full benchmark sync failed one
//     ("failed to pin block"), which DuckDB treats as fatal; 96MB and 128MB
//     passed. A commit that runs out of memory within the limit (marking
//     millions of rows deleted) runs again with four times it. Raise it for
//     tables much wider than Okta's.
//   - checkpoint_threshold 256MB: fewer checkpoints made commits faster, and
//     under a memory limit lower thresholds also peaked higher and failed
//     checkpoints sooner; a crash replays at most that much write-ahead log.
var DefaultDuckDBSettings = map[string]string{"memory_limit": "96MB", "checkpoint_threshold": "256MB"}

// Environment variables of the official Okta SDKs, honoured so that a
// machine already set up for them needs no config file.
const (
	EnvOrgURL = "OKTA_CLIENT_ORGURL"
	EnvToken  = "OKTA_CLIENT_TOKEN"
)

// LoadConfig reads a config file strictly: an unknown key, a repeated key,
// a value of the wrong kind or a setting that cannot apply is an error
// naming the file, line and key, with the closest known key for a misspelt
// one; all of them at once, in the order of the file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg := Config{file: path, pos: map[string]yaml.Node{}}
	if len(doc.Content) == 0 {
		return &cfg, nil // an empty file
	}
	d := &decoder{file: path, pos: cfg.pos}
	d.mapping(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
	// What failed to decode is left zero, which no settings problem comes
	// of: every mistake is reported once.
	for _, p := range cfg.runtimeSettings().Problems(okta.Registry) {
		n := cfg.nodeOf(p)
		d.errs = append(d.errs, posError{n.Line, n.Column, cfg.where(n) + problemText(p)})
	}
	if n, ok := cfg.pos["hash_salt_env"]; ok && cfg.HashSaltEnv != "" && !showableEnvName(cfg.HashSaltEnv) {
		d.errs = append(d.errs, posError{n.Line, n.Column, cfg.where(n) + saltNameError})
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b posError) int {
			return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
		})
		errs := make([]error, len(d.errs))
		for i, e := range d.errs {
			errs[i] = errors.New(e.msg)
		}
		return nil, errors.Join(errs...)
	}
	return &cfg, nil
}

// posError is a config mistake and where it is, for sorting.
type posError struct {
	line, col int
	msg       string
}

// decoder decodes YAML nodes into the config's structs key by key, so that
// each mistake is reported at its line with the key's full name, and notes
// where each key and value is.
type decoder struct {
	file string
	errs []posError
	// pos holds nodes by dotted path: the value's; path + "#" the key's of
	// a table or column, where an unknown name is reported.
	pos map[string]yaml.Node
}

func (d *decoder) fail(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, posError{n.Line, n.Column, fmt.Sprintf("%s:%d:%d: ", d.file, n.Line, n.Column) + fmt.Sprintf(format, args...)})
}

// migrateNote points a config still in the list forms of tables and
// exclude, which table settings replace (one way to say a thing), at how
// to move on.
const migrateNote = "see README.md, 'Migrating from tables/exclude lists'"

// mapping decodes the YAML mapping n into the struct v.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, prefix string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		d.fail(n, "%s must be a mapping of keys to values", what)
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			fields[tag] = i
			names = append(names, tag)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		idx, ok := fields[k.Value]
		if key == "exclude" {
			d.fail(k, "exclude was removed: tables are left out by their settings now; for these tables write "+
				"%s (child tables included: a child table not blocked is still written); %s", blockSnippet(stringsOf(val)), migrateNote)
			continue
		}
		if !ok {
			msg := "unknown key " + key
			if c := closest(k.Value, names); c != "" {
				msg += "; did you mean " + prefix + c + "?"
			} else {
				msg += "; the keys are " + strings.Join(names, ", ")
			}
			d.fail(k, "%s", msg)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(k, "%s is already set on line %d", key, line)
			continue
		}
		seen[k.Value] = k.Line
		d.pos[key] = *val
		d.value(k, val, v.Field(idx), key)
	}
}

// value decodes one value into f: structs and maps of structs key by key,
// anything else as YAML does.
func (d *decoder) value(k, val *yaml.Node, f reflect.Value, key string) {
	if val.Kind == yaml.AliasNode {
		val = val.Alias
	}
	switch {
	case key == "tables" && val.Kind == yaml.SequenceNode:
		d.fail(val, "tables is now a mapping of table settings, not a list of tables: to leave a table out write "+
			"`tables: {groups: {enabled: false}}` (its child tables too, or they are still written); to sync some "+
			"tables once, `oktasync sync --tables %s`; %s", strings.Join(orDefault(stringsOf(val), "users,groups"), ","), migrateNote)
	case f.Kind() == reflect.Struct:
		if val.Tag == "!!null" {
			return // `users:` with nothing under it: the defaults
		}
		d.mapping(val, f, key+".")
	case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.Struct:
		if val.Tag == "!!null" {
			return
		}
		if val.Kind != yaml.MappingNode {
			d.fail(val, "%s must be a mapping of names to settings, e.g. %s", key, example(key))
			return
		}
		m := reflect.MakeMap(f.Type())
		seen := map[string]int{}
		for i := 0; i+1 < len(val.Content); i += 2 {
			nk, nv := val.Content[i], val.Content[i+1]
			if line, dup := seen[nk.Value]; dup {
				d.fail(nk, "%s.%s is already set on line %d", key, nk.Value, line)
				continue
			}
			seen[nk.Value] = nk.Line
			// The key's own node: an unknown table or column is reported there.
			d.pos[key+"."+nk.Value+"#"] = *nk
			d.pos[key+"."+nk.Value] = *nv
			e := reflect.New(f.Type().Elem()).Elem()
			d.value(nk, nv, e, key+"."+nk.Value)
			m.SetMapIndex(reflect.ValueOf(nk.Value), e)
		}
		f.Set(m)
	default:
		if err := val.Decode(f.Addr().Interface()); err != nil {
			d.fail(val, "%s must be %s", key, kindOf(f.Type()))
		}
	}
}

// example is a sample value of the settings mapping key.
func example(key string) string {
	if strings.HasSuffix(key, ".columns") {
		return "{profile_email: {hashed: true}}"
	}
	return "{users: {history: true}}"
}

// stringsOf lists the scalars of a sequence node (nil for anything else).
func stringsOf(n *yaml.Node) []string {
	var out []string
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				out = append(out, c.Value)
			}
		}
	}
	return out
}

func orDefault(xs []string, def string) []string {
	if len(xs) == 0 {
		return []string{def}
	}
	return xs
}

// blockSnippet is the settings that block the tables names and their child
// tables (or an example).
func blockSnippet(names []string) string {
	var parts []string
	for _, n := range orDefault(names, "user_enrolled_factor") {
		var walk func(t *runtime.Table)
		walk = func(t *runtime.Table) {
			parts = append(parts, t.Name+": {enabled: false}")
			for _, c := range t.Children {
				walk(c)
			}
		}
		if t := okta.Registry.Lookup(n); t != nil {
			walk(t)
		} else {
			parts = append(parts, n+": {enabled: false}")
		}
	}
	return "`tables: {" + strings.Join(parts, ", ") + "}`"
}

// kindOf says in words what a config value of type t looks like.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return kindOf(t.Elem())
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list, e.g. [users, groups]"
	case reflect.Map:
		return "a mapping, e.g. {memory_limit: 1GB}"
	}
	return "a single value"
}

// closest is the known key a misspelt one most likely meant, or "".
func closest(key string, known []string) string {
	best, bestDist := "", 3 // farther than two edits is a different word
	for _, k := range known {
		if d := naming.EditDistance(key, k); d < bestDist && d < max(len(key), len(k))/2+1 {
			best, bestDist = k, d
		}
	}
	return best
}

// runtimeSettings are the config's settings as the runtime takes them,
// without the salt.
func (c *Config) runtimeSettings() *runtime.Settings {
	s := &runtime.Settings{SchemaChange: runtime.SchemaChangePolicy(c.SchemaChangeHandling)}
	if len(c.Tables) > 0 {
		s.Tables = map[string]runtime.TableSettings{}
	}
	for name, t := range c.Tables {
		ts := runtime.TableSettings{Enabled: t.Enabled, History: t.History}
		if len(t.Columns) > 0 {
			ts.Columns = map[string]runtime.ColumnSettings{}
		}
		for col, cc := range t.Columns {
			ts.Columns[col] = runtime.ColumnSettings{Enabled: cc.Enabled, Hashed: cc.Hashed}
		}
		s.Tables[name] = ts
	}
	return s
}

// Frequencies are the sync frequencies, in minutes, that Fivetran offers.
var Frequencies = []int{5, 15, 30, 60, 120, 180, 360, 480, 720, 1440}

// DefaultFrequency is Fivetran's default: every six hours.
const DefaultFrequency = 360

// CheckFrequency says what is wrong with a sync frequency in minutes.
func CheckFrequency(minutes int) error {
	if slices.Contains(Frequencies, minutes) {
		return nil
	}
	s := make([]string, len(Frequencies))
	for i, f := range Frequencies {
		s[i] = strconv.Itoa(f)
	}
	return fmt.Errorf("sync_frequency_minutes is %d; want one of %s", minutes, strings.Join(s, ", "))
}

// CheckSettings lists what is wrong with the table and column settings and
// the schema-change policy, as LoadConfig reports them (without the file's
// positions): the service's schema API checks its changes with it too.
func (c *Config) CheckSettings() []error {
	var errs []error
	for _, p := range c.runtimeSettings().Problems(okta.Registry) {
		errs = append(errs, errors.New(c.where(c.nodeOf(p))+problemText(p)))
	}
	return errs
}

// Settings are the runtime settings the config asks for; the salt comes
// from the variable hash_salt_env names. A setting that cannot apply is an
// error (LoadConfig reports them with positions already).
func (c *Config) Settings() (*runtime.Settings, error) { return c.settings(os.Getenv) }

func (c *Config) settings(getenv func(string) string) (*runtime.Settings, error) {
	s := c.runtimeSettings()
	errs := c.CheckSettings()
	if c.HashSaltEnv != "" {
		where := c.where(c.pos["hash_salt_env"])
		switch {
		case !showableEnvName(c.HashSaltEnv):
			errs = append(errs, errors.New(where+saltNameError))
		default:
			if s.Salt = getenv(c.HashSaltEnv); s.Salt == "" {
				errs = append(errs, fmt.Errorf("%shash_salt_env: the environment variable %s is unset or empty; export %s=<a long "+
					"random secret>, the same on every run (another salt hashes every value differently)", where, c.HashSaltEnv, c.HashSaltEnv))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// saltNameError says hash_salt_env takes a name without repeating what it
// holds, which may be a pasted salt.
const saltNameError = "hash_salt_env: takes the NAME of an environment variable (upper case, digits and _, e.g. " +
	"OKTASYNC_HASH_SALT), which this is not (it is not shown: it may be a salt); if a salt was pasted there, move it " +
	"out of the file into that variable"

// showableEnvName reports whether s is a variable name as people write them
// (upper case, an underscore or no digit), so that an error may repeat it:
// a pasted salt, even in upper-case hex, is not.
func showableEnvName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	digits := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9':
			digits = true
		default:
			return false
		}
	}
	return !digits || strings.Contains(s, "_")
}

// problemText is a settings problem with the config key it is about.
func problemText(p runtime.SettingProblem) string {
	key := p.Field
	if p.Table != "" {
		key = "tables." + p.Table
		if p.Column != "" {
			key += ".columns." + p.Column
		}
		if p.Field != "" {
			key += "." + p.Field
		}
	}
	msg := p.Msg
	if p.Column == "" && p.Table != "" && okta.Registry.Lookup(p.Table) == nil {
		var names []string
		okta.Registry.Walk(func(t *runtime.Table) { names = append(names, t.Name) })
		if c := closest(p.Table, names); c != "" {
			msg = "no such table; did you mean " + c + "?"
		}
	}
	return key + ": " + msg
}

// nodeOf is where in the file a problem is: the field's value, else the
// column's or the table's key (an unknown name is reported at the name).
func (c *Config) nodeOf(p runtime.SettingProblem) yaml.Node {
	var paths []string
	if p.Table == "" {
		paths = []string{p.Field}
	} else {
		t := "tables." + p.Table
		col := t + ".columns." + p.Column
		if p.Column != "" {
			if p.Field != "" {
				paths = append(paths, col+"."+p.Field)
			}
			paths = append(paths, col+"#")
		}
		if p.Field != "" && p.Column == "" {
			paths = append(paths, t+"."+p.Field)
		}
		paths = append(paths, t+"#", "tables")
	}
	for _, path := range paths {
		if n, ok := c.pos[path]; ok {
			return n
		}
	}
	return yaml.Node{}
}

// where is "file:line:col: " for a node of the loaded file, or "" for a
// config made in code.
func (c *Config) where(n yaml.Node) string {
	if c.file == "" || n.Line == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d: ", c.file, n.Line, n.Column)
}

// ApplyEnv fills what the config leaves empty from the environment. A
// token_env whose variable is unset is an error rather than a silent fall
// back to OKTA_CLIENT_TOKEN; its value is never echoed if it may be a token.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if c.OrgURL == "" {
		c.OrgURL = getenv(EnvOrgURL)
	}
	if c.Token == "" && c.TokenEnv != "" {
		name := c.TokenEnv
		if !validEnvName(name) || looksLikeToken(name) {
			return errors.New("token_env: no environment variable of that name is set (the value is not shown: " +
				"it may be a token); token_env takes the NAME of the variable that holds the token, e.g. " +
				"token_env: OKTA_TOKEN with export OKTA_TOKEN=...; if a token was pasted there, move it out of the file")
		}
		if c.Token = getenv(name); c.Token == "" {
			return fmt.Errorf("token_env: the environment variable %s is unset or empty; export %s=<an API token>", name, name)
		}
	}
	if c.Token == "" {
		c.Token = getenv(EnvToken)
	}
	if n := c.Proxy.PasswordEnv; n != "" {
		if !validEnvName(n) {
			return errors.New("proxy.password_env takes the NAME of the variable holding the proxy's password (the value is not shown)")
		}
		c.Proxy.password = getenv(n)
	}
	return c.Auth.applyEnv(getenv)
}

// validEnvName reports whether s can name an environment variable in a shell.
func validEnvName(s string) bool {
	for i, r := range s {
		if r != '_' && !(r >= 'A' && r <= 'Z') && !(r >= 'a' && r <= 'z') && (i == 0 || !(r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != ""
}

// looksLikeToken: long, and mixing upper case, lower case and digits, as
// API tokens do and variable names rarely do.
func looksLikeToken(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		upper = upper || (r >= 'A' && r <= 'Z')
		lower = lower || (r >= 'a' && r <= 'z')
		digit = digit || (r >= '0' && r <= '9')
	}
	return len(s) >= 20 && upper && lower && digit
}

// Validate checks the config and normalises the org URL.
func (c *Config) Validate() error {
	var errs []error
	if c.OrgURL == "" {
		errs = append(errs, fmt.Errorf("no org URL: set org_url in the config or %s", EnvOrgURL))
	} else if u, err := NormalizeOrgURL(c.OrgURL); err != nil {
		errs = append(errs, err)
	} else {
		c.OrgURL = u
	}
	errs = append(errs, c.Auth.validate(c.Token)...)
	errs = append(errs, c.Proxy.validate()...)
	if c.Parallel < 0 {
		errs = append(errs, fmt.Errorf("parallel is %d; want the number of tables synced at once, 1 or more (default 4)", c.Parallel))
	}
	if c.TimeScale < 0 {
		errs = append(errs, fmt.Errorf("time_scale is %g; want a positive number (default 1)", c.TimeScale))
	}
	if r := c.RateLimitReserve; r != nil && !(*r >= 0 && *r < 1) {
		errs = append(errs, fmt.Errorf("rate_limit_reserve is %g; want the share of each window left to other clients, from 0 to below 1 (default %g)", *r, ratelimit.DefaultReserve))
	}
	switch d := c.Destination; d.Type {
	case "", DestDuckDB:
		if d.DSNEnv != "" || d.Schema != "" {
			errs = append(errs, errors.New("destination: dsn_env and schema are settings of a postgres destination; this one is duckdb (set type: postgres)"))
		}
	case DestPostgres:
		if d.Path != "" || len(d.Settings) > 0 {
			errs = append(errs, errors.New("destination: path and settings are settings of a duckdb destination; a postgres one takes dsn_env and schema"))
		}
		if !envName.MatchString(d.DSNVar()) {
			errs = append(errs, fmt.Errorf("destination: dsn_env %q is not an environment variable name", d.DSNEnv))
		}
	default:
		errs = append(errs, fmt.Errorf("destination type %q is not supported; want duckdb or postgres", d.Type))
	}
	if c.SyncFrequency != 0 {
		if err := CheckFrequency(c.SyncFrequency); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Reimport != "" {
		if _, err := spec.ParseDuration(c.Reimport); err != nil {
			errs = append(errs, fmt.Errorf("reimport_every: %w", err))
		}
	}
	return errors.Join(errs...)
}

// NormalizeOrgURL checks an org URL and cuts it to scheme and host.
func NormalizeOrgURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "", fmt.Errorf("org URL %q is not an http(s) URL", s)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", fmt.Errorf("org URL %q: plain http is only accepted for loopback hosts; use https", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Effective says what the config's settings make of every table.
func (c *Config) Effective() []runtime.TableEffect {
	return c.runtimeSettings().Effective(okta.Registry)
}

// ReimportEvery is the parsed re-import override, or 0 for none.
func (c *Config) ReimportEvery() time.Duration {
	d, _ := spec.ParseDuration(c.Reimport)
	return d
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
