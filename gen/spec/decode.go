package spec

import (
	"bytes"
	"fmt"
	"oktasync/naming"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Pos is a position in a spec file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Names is one name or a list of names (`primary_key: id` or `[a, b]`).
type Names []string

// Params is an ordered mapping of query parameters.
type Params []Param

// Param is one query parameter.
type Param struct{ Name, Value string }

// Duration is a length of time written like Go's time.ParseDuration, with d
// for days also accepted ("168h", "7d", "90d", "5m").
type Duration struct {
	D   time.Duration
	Set bool
}

// ParseDuration reads a Duration's text.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q; want e.g. 5m, 168h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q; want e.g. 5m, 168h or 7d", s)
	}
	return d, nil
}

// enum is a string type with a closed set of values.
type enum interface{ Enum() []string }

// Loaded is a decoded spec file with the position of every value in it.
type Loaded struct {
	File *File
	Path string
	pos  map[any]Pos // pointer to a decoded value -> where it was written
	bad  map[any]bool
	// badFields are the field paths (tables[0].request.bucket) a decoding
	// problem was reported at.
	badFields []string
	Root      Pos
	// Broken is set when the file is not YAML at all; nothing else about it
	// can be said.
	Broken bool
}

// failed reports whether the value ptr points to was written but reported as
// malformed while decoding.
func (l *Loaded) failed(ptr any) bool { return l.bad[ptr] }

// failedNear reports whether decoding reported a problem at the field path,
// within it or around it, or at the type of the object it is in (the type
// picks the variant, so the object's other checks are unknown too): what
// validation would say about that field then follows from a problem
// already reported.
func (l *Loaded) failedNear(field string) bool {
	within := func(a, b string) bool {
		return strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[")
	}
	for _, f := range l.badFields {
		if f == field || within(f, field) || within(field, f) {
			return true
		}
		if obj, ok := strings.CutSuffix(f, ".type"); ok && within(field, obj) {
			return true
		}
	}
	return false
}

// PosOf returns where the value that ptr points to was written, or the
// position of the nearest enclosing value given as fallback.
func (l *Loaded) PosOf(ptr any, fallback Pos) Pos {
	if p, ok := l.pos[ptr]; ok {
		return p
	}
	return fallback
}

// Has reports whether the value ptr points to was written in the file and
// decoded; a value already reported as malformed does not count, so that
// validation does not pile a second complaint on it.
func (l *Loaded) Has(ptr any) bool {
	_, ok := l.pos[ptr]
	return ok && !l.bad[ptr]
}

// Load decodes one spec file strictly: unknown keys, duplicate keys, missing
// required keys and values of the wrong kind are all reported, with positions,
// and decoding goes on past them so one run shows every problem.
func Load(path string, data []byte) (*Loaded, Diags) {
	l := &Loaded{Path: path, pos: map[any]Pos{}, bad: map[any]bool{}, File: &File{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line, msg := splitYAMLError(err)
		col := 1
		if msg == "EOF" {
			msg = "empty file"
		} else if ln, c, ok := syntaxPos(data, line, msg); ok {
			line, col = ln, c
		}
		if hint, ok := yamlHints[msg]; ok {
			msg += "; " + hint
		}
		l.Broken = true
		return l, Diags{{Pos: Pos{path, max(line, 1), col}, Msg: "bad YAML: " + msg}}
	}
	root := doc.Content[0]
	l.Root = Pos{path, root.Line, root.Column}
	d := decoder{l: l}
	d.value(root, reflect.ValueOf(l.File).Elem(), "")
	return l, d.diags.unique()
}

// splitYAMLError takes yaml.v3's "yaml: line N: problem" apart; line is 0
// when the message names none.
func splitYAMLError(err error) (line int, msg string) {
	msg = err.Error()
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// yamlHints say what usually causes yaml.v3's terser problems.
var yamlHints = map[string]string{
	"did not find expected key":                       "is this line indented like the keys around it?",
	"did not find expected '-' indicator":             "is this line indented like the list items around it?",
	"found unexpected end of stream":                  "is a quote or bracket left open here?",
	"did not find expected ',' or '}'":                "is a { left open here?",
	"did not find expected ',' or ']'":                "is a [ left open here?",
	"mapping values are not allowed in this context":  "quote a value that contains \": \"",
	"found a tab character that violates indentation": "indent with spaces",
}

// syntaxPos finds where a YAML syntax error really is. yaml.v3 names the line
// where the enclosing block starts (0-based for parser errors), not the
// offending token: a list item indented one space too little is reported at
// the table's first line. The parser's own position is not exposed, so parse
// growing prefixes of the file: the first prefix, from the reported line on
// (the problem is never before its block), that fails with the same problem
// ends on the offending line, and the shortest prefix of that line that still
// does ends on the offending character. Spec files are small, and this runs
// only for a file that does not parse.
func syntaxPos(data []byte, reported int, problem string) (line, col int, ok bool) {
	// The search parses the file once per line and a line once per
	// character: bound it for inputs no spec is.
	const maxFile, maxLine = 256 << 10, 2000
	if len(data) > maxFile {
		return 0, 0, false
	}
	fails := func(prefix string) bool {
		var n yaml.Node
		err := yaml.NewDecoder(strings.NewReader(prefix)).Decode(&n)
		if err == nil {
			return false
		}
		_, msg := splitYAMLError(err)
		return msg == problem
	}
	lines := strings.SplitAfter(string(data), "\n")
	for k := max(reported, 1); k <= len(lines); k++ {
		before := strings.Join(lines[:k-1], "")
		if !fails(before + lines[k-1]) {
			continue
		}
		text := lines[k-1]
		if len(text) > maxLine {
			return k, 1, true
		}
		for c, size := 0, 0; c < len(text); c += size {
			var r rune
			r, size = utf8.DecodeRuneInString(text[c:])
			if !fails(before + text[:c+size]) {
				continue
			}
			// A missing key or item is detected at the ':' that makes
			// a word a key, but the offending token is the word.
			if r == ':' && strings.HasPrefix(problem, "did not find expected") {
				start := strings.LastIndexAny(text[:c], " \t{[,") + 1
				if w := strings.TrimSpace(text[start:c]); w != "" {
					c = start
				}
			}
			return k, utf8.RuneCountInString(text[:c]) + 1, true
		}
		return k, 1, true
	}
	return 0, 0, false
}

type decoder struct {
	l     *Loaded
	diags Diags
	cur   reflect.Value // the value being decoded, marked bad on error
}

// tableField drops the "tables[N]." of a field path: diagnostics name fields
// within their table, the position tells which table.
var tableField = regexp.MustCompile(`^tables\[\d+\]\.`)

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	if d.cur.IsValid() && d.cur.CanAddr() {
		d.l.bad[d.cur.Addr().Interface()] = true
	}
	d.l.badFields = append(d.l.badFields, field)
	field = tableField.ReplaceAllString(field, "")
	d.diags = append(d.diags, Diag{Pos: Pos{d.l.Path, n.Line, n.Column}, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) record(n *yaml.Node, v reflect.Value) {
	if v.CanAddr() {
		d.l.pos[v.Addr().Interface()] = Pos{d.l.Path, n.Line, n.Column}
	}
}

var (
	namesType    = reflect.TypeFor[Names]()
	paramsType   = reflect.TypeFor[Params]()
	durationType = reflect.TypeFor[Duration]()
	enumType     = reflect.TypeFor[enum]()
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "something else"
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.record(n, v)
	d.cur = v
	switch v.Type() {
	case namesType:
		d.names(n, v, field)
		return
	case paramsType:
		d.params(n, v, field)
		return
	case durationType:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, field, "want a duration such as 5m, 168h or 7d, got %s", kindName(n))
			return
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			d.errorf(n, field, "%v", err)
			return
		}
		v.Set(reflect.ValueOf(Duration{D: dur, Set: true}))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		d.record(n, v.Elem())
		d.value(n, v.Elem(), field)
	case reflect.Struct:
		d.structure(n, v, field)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, field, "want a list, got %s", kindName(n))
			return
		}
		// Sized once so element addresses stay put for the position table.
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", field, i)
			if el := s.Index(i); el.Kind() == reflect.Pointer && item.Tag == "!!null" {
				// Validation walks list items without nil checks.
				el.Set(reflect.New(el.Type().Elem()))
				d.errorf(item, sub, "want a mapping, got null")
				continue
			}
			d.value(item, s.Index(i), sub)
		}
		v.Set(s)
		d.cur = reflect.Value{}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, field, "want a string, got %s", kindName(n))
			return
		}
		if v.Type().Implements(enumType) {
			allowed := reflect.Zero(v.Type()).Interface().(enum).Enum()
			if !slices.Contains(allowed, n.Value) {
				d.errorf(n, field, "unknown value %q; want one of %s", n.Value, strings.Join(allowed, ", "))
				return
			}
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.errorf(n, field, "want an integer, got %s", kindName(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, field, "want true or false, got %s", kindName(n))
			return
		}
		b, _ := strconv.ParseBool(n.Value)
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("spec: no decoding for %s", v.Type()))
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "want a mapping, got %s", kindName(n))
		return
	}
	t := v.Type()
	written := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		written[n.Content[i].Value] = true
	}
	seen := map[string]bool{}
	// meant are the keys a misspelt key was taken for: reported once, as
	// the misspelling, not also as missing.
	meant := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		sub := join(field, name)
		if seen[name] {
			d.errorf(key, sub, "duplicate key")
			continue
		}
		seen[name] = true
		idx := fieldIndex(t, name)
		if idx < 0 {
			if guess := closest(name, keys(t), written); guess != "" {
				meant[guess] = true
				d.l.badFields = append(d.l.badFields, join(field, guess))
				d.errorf(key, sub, "unknown key; did you mean %s?", guess)
				continue
			}
			d.errorf(key, sub, "unknown key; want one of %s", strings.Join(keys(t), ", "))
			continue
		}
		d.value(val, v.Field(idx), sub)
		d.cur = v
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("spec") == "required" && !seen[yamlName(f)] && !meant[yamlName(f)] {
			d.errorf(n, join(field, yamlName(f)), "required key is missing")
		}
	}
}

func (d *decoder) names(n *yaml.Node, v reflect.Value, field string) {
	var out Names
	var at []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		out, at = Names{n.Value}, []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
				d.errorf(item, fmt.Sprintf("%s[%d]", field, i), "want a name, got %s", kindName(item))
				continue
			}
			out, at = append(out, item.Value), append(at, item)
		}
	default:
		d.errorf(n, field, "want a name or a list of names, got %s", kindName(n))
		return
	}
	v.Set(reflect.ValueOf(out))
	// Each name keeps its own position, for errors about one of a list.
	for i := range out {
		d.l.pos[&out[i]] = Pos{d.l.Path, at[i].Line, at[i].Column}
	}
}

func (d *decoder) params(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "want a mapping of parameter names to values, got %s", kindName(n))
		return
	}
	var out Params
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		sub := join(field, key.Value)
		if seen[key.Value] {
			d.errorf(key, sub, "duplicate key")
			continue
		}
		seen[key.Value] = true
		if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
			d.errorf(val, sub, "want a string, number or boolean, got %s", kindName(val))
			continue
		}
		out = append(out, Param{Name: key.Value, Value: val.Value})
	}
	v.Set(reflect.ValueOf(out))
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func fieldIndex(t reflect.Type, name string) int {
	for i := 0; i < t.NumField(); i++ {
		if yamlName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

// closest is the key among keys, not written already, that name is most
// likely a misspelling of (one or two letters off), or "".
func closest(name string, keys []string, written map[string]bool) string {
	best, bestDist := "", 3
	for _, k := range keys {
		if written[k] {
			continue
		}
		if d := naming.EditDistance(name, k); d < bestDist && d < len(k)/2+1 {
			best, bestDist = k, d
		}
	}
	return best
}

func keys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := yamlName(t.Field(i)); n != "" && n != "-" {
			out = append(out, n)
		}
	}
	return out
}
