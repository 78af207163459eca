// Package connector wires the Okta tables, the runtime, a destination and
// (for the demo) the simulator into the jobs the command line offers. It is
// the only place that knows all of them; cmd/oktasync only parses flags.
package connector

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"oktasync/gen/spec"
	"oktasync/naming"
)

// Config is the sync configuration: oktasync.yaml, environment variables
// and flags, in increasing precedence.
type Config struct {
	// OrgURL is the Okta org, e.g. https://acme.okta.com.
	OrgURL string `yaml:"org_url"`
	// Token is an SSWS API token. Prefer TokenEnv or OKTA_CLIENT_TOKEN: a
	// token in a file tends to end up in a repository.
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
	// Destination is where rows go.
	Destination Destination `yaml:"destination"`
	// Tables limits the sync to these tables (top-level or fan-out names);
	// empty means all. Exclude removes tables.
	Tables  []string `yaml:"tables"`
	Exclude []string `yaml:"exclude"`
	// Reimport overrides the period of the full re-import that captures
	// deletes, for every table that has one ("168h", "7d").
	Reimport string `yaml:"reimport_every"`
	// Parallel is how many tables sync at once.
	Parallel int `yaml:"parallel"`
	// CAFile trusts an extra certificate authority (a TLS simulator, a proxy).
	CAFile string `yaml:"ca_file"`
	// TimeScale is for simulators whose clock runs faster than real time.
	TimeScale float64 `yaml:"time_scale"`
}

// Destination names a destination.
type Destination struct {
	Type string `yaml:"type"` // duckdb (default)
	Path string `yaml:"path"` // database file
	// Settings are DuckDB settings (memory_limit, threads,
	// checkpoint_threshold, ...); they override DefaultDuckDBSettings.
	Settings map[string]string `yaml:"settings"`
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

// LoadConfig reads a config file strictly: an unknown key, a repeated key
// or a value of the wrong kind is an error naming the file, line and key,
// with the closest known key for a misspelt one.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var cfg Config
	if len(doc.Content) == 0 {
		return &cfg, nil // an empty file
	}
	var errs []error
	decodeMapping(path, doc.Content[0], reflect.ValueOf(&cfg).Elem(), "", &errs)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeMapping decodes a YAML mapping into the struct v, key by key, so
// that each mistake is reported at its line with the key's full name.
func decodeMapping(file string, n *yaml.Node, v reflect.Value, prefix string, errs *[]error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	where := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column) }
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		*errs = append(*errs, fmt.Errorf("%s: %s must be a mapping of keys to values", where(n), what))
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
		if !ok {
			msg := fmt.Sprintf("%s: unknown key %s", where(k), key)
			if c := closest(k.Value, names); c != "" {
				msg += "; did you mean " + prefix + c + "?"
			} else {
				msg += "; the keys are " + strings.Join(names, ", ")
			}
			*errs = append(*errs, errors.New(msg))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			*errs = append(*errs, fmt.Errorf("%s: %s is already set on line %d", where(k), key, line))
			continue
		}
		seen[k.Value] = k.Line
		f := v.Field(idx)
		if f.Kind() == reflect.Struct {
			decodeMapping(file, val, f, key+".", errs)
			continue
		}
		if err := val.Decode(f.Addr().Interface()); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %s must be %s", where(val), key, kindOf(f.Type())))
		}
	}
}

// kindOf says in words what a config value of type t looks like.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
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
	return nil
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
	} else {
		u, err := url.Parse(c.OrgURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, fmt.Errorf("org URL %q is not an http(s) URL", c.OrgURL))
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			errs = append(errs, fmt.Errorf("org URL %q: plain http is only accepted for loopback hosts; use https", c.OrgURL))
		default:
			c.OrgURL = u.Scheme + "://" + u.Host
		}
	}
	if c.Token == "" {
		errs = append(errs, fmt.Errorf("no API token: set %s (or token_env in the config)", EnvToken))
	}
	if c.Parallel < 0 {
		errs = append(errs, fmt.Errorf("parallel is %d; want the number of tables synced at once, 1 or more (default 4)", c.Parallel))
	}
	if c.TimeScale < 0 {
		errs = append(errs, fmt.Errorf("time_scale is %g; want a positive number (default 1)", c.TimeScale))
	}
	switch c.Destination.Type {
	case "", "duckdb":
	default:
		errs = append(errs, fmt.Errorf("destination type %q is not supported; want duckdb", c.Destination.Type))
	}
	if c.Reimport != "" {
		if _, err := spec.ParseDuration(c.Reimport); err != nil {
			errs = append(errs, fmt.Errorf("reimport_every: %w", err))
		}
	}
	return errors.Join(errs...)
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
