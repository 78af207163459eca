// Package pipeline runs the generator's stages in order: load every spec of a
// folder, validate them all, resolve the IR, emit Go. Nothing touches the disk
// until every stage has succeeded for every file.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"oktasync/gen/emit"
	"oktasync/gen/ir"
	"oktasync/gen/spec"
)

// Config is what a generator run needs.
type Config struct {
	SpecDir string // folder of *.yaml specs
	Package string // package name of the generated code
	Runtime string // import path of the runtime package
	// Display turns a file path into the form shown in diagnostics and
	// headers; the identity if nil.
	Display func(string) string
}

// Result is the rendered output of a run.
type Result struct {
	Files map[string][]byte // file name -> Go source
}

// Run loads, validates, resolves and emits. Spec mistakes come back as
// spec.Diags (every one of them, sorted); other failures as plain errors.
func Run(cfg Config) (*Result, error) {
	display := cfg.Display
	if display == nil {
		display = func(p string) string { return filepath.ToSlash(p) }
	}
	names, err := filepath.Glob(filepath.Join(cfg.SpecDir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml spec files", display(cfg.SpecDir))
	}
	var loaded []*spec.Loaded
	var diags spec.Diags
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		l, ds := spec.Load(display(name), data)
		loaded = append(loaded, l)
		diags = append(diags, ds...)
	}
	// A file that is not YAML at all would only add confusing follow-on
	// complaints (a missing source, unknown tables); report it alone.
	broken := false
	for _, l := range loaded {
		broken = broken || l.Broken
	}
	if !broken {
		diags = append(diags, spec.Validate(loaded)...)
	}
	if len(diags) > 0 {
		diags.Sort()
		return nil, diags
	}
	reg, err := ir.Resolve(loaded)
	if err != nil {
		return nil, err
	}
	files, err := emit.Files(reg, emit.Config{
		Package:   cfg.Package,
		Runtime:   cfg.Runtime,
		SpecPath:  func(p string) string { return p }, // already displayed
		Generator: "oktasync/gen",
	})
	if err != nil {
		return nil, err
	}
	return &Result{Files: files}, nil
}

// generatedHeader matches the first line of a file this generator wrote.
var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)

// Write puts the files in dir and removes generated files that no spec
// produces any more. Hand-written files are never touched.
func Write(dir string, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	existing, err := filepath.Glob(filepath.Join(dir, "*.gen.go"))
	if err != nil {
		return err
	}
	for _, p := range existing {
		if _, ok := res.Files[filepath.Base(p)]; ok {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		first, _, _ := bytes.Cut(data, []byte("\n"))
		if generatedHeader.Match(first) {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	for _, name := range emit.SortedNames(res.Files) {
		if err := writeIfChanged(filepath.Join(dir, name), res.Files[name]); err != nil {
			return err
		}
	}
	return nil
}

// writeIfChanged leaves an identical file alone so that build caches and
// file watchers see no change.
func writeIfChanged(path string, data []byte) error {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}

// WriteSchema writes the JSON Schema of the spec language.
func WriteSchema(path string) error {
	return writeIfChanged(path, spec.Schema())
}

// IsDiags reports whether err is a set of spec diagnostics.
func IsDiags(err error) (spec.Diags, bool) {
	var d spec.Diags
	ok := errors.As(err, &d)
	return d, ok
}

// RelativeTo returns a Display function that shows paths relative to root.
func RelativeTo(root string) func(string) string {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return filepath.ToSlash
	}
	return func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return filepath.ToSlash(p)
		}
		rel, err := filepath.Rel(absRoot, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(p)
		}
		return filepath.ToSlash(rel)
	}
}

// ModuleRoot finds the folder holding go.mod at or above dir.
func ModuleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s", abs)
		}
	}
}
