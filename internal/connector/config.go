// Package connector wires the Okta tables, the runtime, a destination and
// (for the demo) the simulator into the jobs the command line offers. It is
// the only place that knows all of them; cmd/oktasync only parses flags.
package connector

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"oktasync/gen/spec"
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

// LoadConfig reads a config file strictly: unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &cfg, nil
}

// ApplyEnv fills what the config leaves empty from the environment.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if c.OrgURL == "" {
		c.OrgURL = getenv(EnvOrgURL)
	}
	if c.Token == "" && c.TokenEnv != "" {
		c.Token = getenv(c.TokenEnv)
	}
	if c.Token == "" {
		c.Token = getenv(EnvToken)
	}
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
