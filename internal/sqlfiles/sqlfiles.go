// Package sqlfiles holds what the detection pack (internal/detect) and the
// data models (internal/models) share: folders of SQL files under a header
// of `-- key: value` lines, loaded all at once, run on a DuckDB file a sync
// wrote, and described in a Markdown file between two markers.
package sqlfiles

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	ddb "github.com/duckdb/duckdb-go/v2"
)

// Load parses every .sql file of fsys's root with parse, which is given
// the file's path under dir (for errors) and its text. Problems of every
// file are reported at once; no file is an error naming what (detections,
// models) the folder should hold.
func Load[T any](fsys fs.FS, dir, what string, parse func(name, src string) (T, error)) ([]T, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []T
	var errs []error
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v, err := parse(path.Join(dir, n), string(src))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no %s", dir, what)
	}
	return out, nil
}

// SplitList splits a comma-separated header value, trimming spaces,
// dropping empty items.
func SplitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Open opens a DuckDB file a sync wrote, read-only or not, with extension
// auto-install and auto-load off as a sync has them: nothing reaches the
// network.
func Open(file string, readOnly bool) (*sql.DB, error) {
	what := "open %q"
	if readOnly {
		what = "open %q read-only"
	}
	if strings.ContainsAny(file, "?#") {
		return nil, fmt.Errorf("open %q: a path must not contain '?' or '#'", file)
	}
	if _, err := os.Stat(file); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open %q: no such database; sync one first (oktasync sync --db %s)", file, file)
		}
		return nil, fmt.Errorf("open %q: %w", file, err)
	}
	cfg := url.Values{}
	if readOnly {
		cfg.Set("access_mode", "read_only")
	}
	cfg.Set("autoinstall_known_extensions", "false")
	cfg.Set("autoload_known_extensions", "false")
	conn, err := ddb.NewConnector(file+"?"+cfg.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf(what+": %w", file, err)
	}
	db := sql.OpenDB(conn)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf(what+": %w", file, err)
	}
	return db, nil
}

// Section finds the text between the markers begin and end of doc, and
// returns it with doc rewritten to hold another text there instead.
func Section(doc, begin, end string) (inside string, with func(string) string, err error) {
	before, rest, ok := strings.Cut(doc, begin)
	inside, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		return "", nil, fmt.Errorf("no section between %q and %q", begin, end)
	}
	return inside, func(s string) string { return before + begin + s + end + after }, nil
}

// SyncSection reads file and returns its section between begin and end;
// with update it first rewrites the section to want.
func SyncSection(file, begin, end, want string, update bool) (string, error) {
	doc, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	got, with, err := Section(string(doc), begin, end)
	if err != nil {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	if update {
		return want, os.WriteFile(file, []byte(with(want)), 0o644)
	}
	return got, nil
}
