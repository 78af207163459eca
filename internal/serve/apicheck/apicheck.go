// Package apicheck holds HTTP handlers to an OpenAPI 3.1 document: which
// routes exist, which statuses and media types each may answer, and the JSON
// Schema their bodies must match. The server's tests use it so that a route
// and internal/serve/openapi.json cannot disagree unnoticed.
//
// It reads only what oktasync's document uses: local $refs, path templates,
// JSON and form bodies; it is no general OpenAPI validator.
package apicheck

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL is where the document sits for the schema compiler, so that the
// schemas' "#/components/schemas/..." refs resolve inside it.
const docURL = "mem:///openapi.json"

// Route is a documented operation: an upper-case method and a path template
// such as /v1/runs/{id}.
type Route struct{ Method, Path string }

// Doc is a loaded, checked document.
type Doc struct {
	ops []*operation
}

type operation struct {
	Route
	re *regexp.Regexp
	// rank orders the routes a request path matches: a literal segment
	// ('0') wins over a templated one ('1'), left to right, as OpenAPI says.
	rank      string
	responses map[string]*response // by status key: "200", "4XX", "default"
	request   *body                // nil when the operation takes no body
}

type response struct {
	headers []string // the headers the document says are required
	content map[string]*media
}

type body struct {
	required bool
	content  map[string]*media
}

type media struct {
	ptr    string // JSON pointer to the schema, for messages
	schema *jsonschema.Schema
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var templateRE = regexp.MustCompile(`\{([^{}/]*)\}`)

// Load parses and checks an OpenAPI 3.1 document and compiles every body
// schema in it. The error lists every problem found, each saying where.
func Load(doc []byte) (*Doc, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("openapi: not JSON: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("openapi: the document is not an object")
	}
	l := &loader{root: root, compiler: jsonschema.NewCompiler(), d: &Doc{}}
	l.compiler.DefaultDraft(jsonschema.Draft2020)
	l.compiler.AssertFormat() // a date-time that is not one is a bug worth a failure
	if err := l.compiler.AddResource(docURL, root); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	l.load()
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	slices.SortFunc(l.d.ops, func(a, b *operation) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
	return l.d, nil
}

type loader struct {
	root     map[string]any
	compiler *jsonschema.Compiler
	d        *Doc
	errs     []error
}

func (l *loader) errorf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("openapi: "+format, args...))
}

func (l *loader) load() {
	if s, _ := l.root["openapi"].(string); !strings.HasPrefix(s, "3.1.") {
		l.errorf("openapi is %q; want 3.1.x", s)
	}
	info, _ := l.root["info"].(map[string]any)
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			l.errorf("info.%s is missing", k)
		}
	}
	l.checkRefs(l.root, "")
	if len(l.errs) > 0 {
		return // the rest follows refs
	}
	schemes, _ := l.object("/components/securitySchemes")
	l.checkSecurity(l.root["security"], schemes, "security")

	paths, ok := l.root["paths"].(map[string]any)
	if !ok {
		l.errorf("paths is missing")
		return
	}
	ids := map[string]string{}
	shapes := map[string]string{}
	for _, path := range sortedKeys(paths) {
		if !strings.HasPrefix(path, "/") {
			l.errorf("path %q does not start with /", path)
			continue
		}
		shape := templateRE.ReplaceAllString(path, "{}")
		if other, dup := shapes[shape]; dup {
			l.errorf("paths %s and %s match the same requests", other, path)
		}
		shapes[shape] = path
		itemPtr := ptrJoin("/paths", path)
		item, itemPtr, ok := l.deref(paths[path], itemPtr)
		if !ok {
			l.errorf("%s: not an object", path)
			continue
		}
		names := templateNames(path)
		if len(names) != len(uniq(names)) {
			l.errorf("%s: a path parameter is named twice", path)
		}
		for _, m := range methods {
			if op, ok := item[m].(map[string]any); ok {
				l.operation(path, strings.ToUpper(m), op, ptrJoin(itemPtr, m), item, itemPtr, names, ids, schemes)
			}
		}
	}
}

func (l *loader) operation(path, method string, op map[string]any, opPtr string,
	item map[string]any, itemPtr string, names []string, ids map[string]string, schemes map[string]any) {
	where := method + " " + path
	id, _ := op["operationId"].(string)
	switch {
	case id == "":
		l.errorf("%s: no operationId", where)
	case ids[id] != "":
		l.errorf("%s: operationId %q is %s's too", where, id, ids[id])
	default:
		ids[id] = where
	}
	if s, _ := op["summary"].(string); s == "" {
		l.errorf("%s: no summary", where)
	}
	if sec, ok := op["security"]; ok {
		l.checkSecurity(sec, schemes, where+": security")
	}

	// Path parameters: the operation's override the path item's by name.
	declared := map[string]bool{}
	for _, src := range []struct {
		v   any
		ptr string
	}{{item["parameters"], ptrJoin(itemPtr, "parameters")}, {op["parameters"], ptrJoin(opPtr, "parameters")}} {
		list, _ := src.v.([]any)
		for i, p := range list {
			param, _, ok := l.deref(p, ptrJoin(src.ptr, strconv.Itoa(i)))
			if !ok {
				l.errorf("%s: parameter %d is not an object", where, i)
				continue
			}
			name, _ := param["name"].(string)
			in, _ := param["in"].(string)
			if name == "" || in == "" {
				l.errorf("%s: parameter %d has no name or no in", where, i)
				continue
			}
			if in != "path" {
				continue
			}
			if req, _ := param["required"].(bool); !req {
				l.errorf("%s: path parameter %q is not required: true", where, name)
			}
			declared[name] = true
		}
	}
	for _, n := range names {
		if !declared[n] {
			l.errorf("%s: path parameter {%s} is not declared", where, n)
		}
	}
	for _, n := range sortedKeys(declared) {
		if !slices.Contains(names, n) {
			l.errorf("%s: path parameter %q is not in the path", where, n)
		}
	}

	o := &operation{Route: Route{method, path}, responses: map[string]*response{}}
	o.re, o.rank = pathPattern(path)

	if rb, ok := op["requestBody"]; ok {
		b, bPtr, ok := l.deref(rb, ptrJoin(opPtr, "requestBody"))
		if !ok {
			l.errorf("%s: requestBody is not an object", where)
		} else {
			req, _ := b["required"].(bool)
			o.request = &body{required: req, content: l.content(b, bPtr, where+" request body")}
			if len(o.request.content) == 0 {
				l.errorf("%s: requestBody has no content", where)
			}
		}
	}

	responses, _ := op["responses"].(map[string]any)
	if len(responses) == 0 {
		l.errorf("%s: no responses", where)
	}
	for _, status := range sortedKeys(responses) {
		if !validStatusKey(status) {
			l.errorf("%s: response key %q is not a status", where, status)
			continue
		}
		rw := where + " " + status
		r, rPtr, ok := l.deref(responses[status], ptrJoin(opPtr, "responses", status))
		if !ok {
			l.errorf("%s: not an object", rw)
			continue
		}
		if s, _ := r["description"].(string); s == "" {
			l.errorf("%s: no description", rw)
		}
		resp := &response{content: l.content(r, rPtr, rw)}
		headers, _ := r["headers"].(map[string]any)
		for _, name := range sortedKeys(headers) {
			h, _, ok := l.deref(headers[name], ptrJoin(rPtr, "headers", name))
			if !ok {
				l.errorf("%s: header %s is not an object", rw, name)
				continue
			}
			// OpenAPI says a Content-Type header here is ignored.
			if req, _ := h["required"].(bool); req && !strings.EqualFold(name, "Content-Type") {
				resp.headers = append(resp.headers, name)
			}
		}
		o.responses[status] = resp
	}
	l.d.ops = append(l.d.ops, o)
}

// content compiles the schema of each media type of a request body or
// response object found at ptr.
func (l *loader) content(obj map[string]any, ptr, where string) map[string]*media {
	c, _ := obj["content"].(map[string]any)
	out := map[string]*media{}
	for _, key := range sortedKeys(c) {
		mt, _, err := mime.ParseMediaType(key)
		if err != nil {
			l.errorf("%s: media type %q: %v", where, key, err)
			continue
		}
		m := &media{}
		out[mt] = m
		mo, _ := c[key].(map[string]any)
		if _, ok := mo["schema"]; !ok {
			continue
		}
		m.ptr = ptrJoin(ptr, "content", key, "schema")
		sch, err := l.compiler.Compile(docURL + "#" + fragment(m.ptr))
		if err != nil {
			l.errorf("%s %s: schema %s: %v", where, key, m.ptr, err)
			continue
		}
		m.schema = sch
	}
	return out
}

// checkRefs requires every $ref in the document to be local and to resolve.
func (l *loader) checkRefs(v any, ptr string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			if ref, ok := v[k].(string); ok && k == "$ref" {
				if _, err := l.resolve(ref); err != nil {
					l.errorf("%s: %v", ptr, err)
				}
				continue
			}
			l.checkRefs(v[k], ptrJoin(ptr, k))
		}
	case []any:
		for i, e := range v {
			l.checkRefs(e, ptrJoin(ptr, strconv.Itoa(i)))
		}
	}
}

// resolve turns a local $ref into the JSON pointer it names.
func (l *loader) resolve(ref string) (string, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return "", fmt.Errorf("$ref %q is not local (#/...)", ref)
	}
	ptr, err := url.PathUnescape(frag)
	if err != nil {
		return "", fmt.Errorf("$ref %q: %v", ref, err)
	}
	if _, ok := lookup(l.root, ptr); !ok {
		return "", fmt.Errorf("$ref %q does not resolve", ref)
	}
	return ptr, nil
}

// deref follows a Reference Object to the object it names, returning that
// object and its pointer.
func (l *loader) deref(v any, ptr string) (map[string]any, string, bool) {
	for range 32 { // a longer chain is a loop
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, ptr, false
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr, true
		}
		p, err := l.resolve(ref)
		if err != nil {
			return nil, ptr, false
		}
		ptr = p
		v, _ = lookup(l.root, p)
	}
	return nil, ptr, false
}

func (l *loader) object(ptr string) (map[string]any, bool) {
	v, _ := lookup(l.root, ptr)
	m, ok := v.(map[string]any)
	return m, ok
}

// checkSecurity requires a security requirement list to name only declared
// schemes.
func (l *loader) checkSecurity(v any, schemes map[string]any, where string) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		l.errorf("%s is not an array", where)
		return
	}
	for _, r := range list {
		req, ok := r.(map[string]any)
		if !ok {
			l.errorf("%s: a requirement is not an object", where)
			continue
		}
		for _, name := range sortedKeys(req) {
			if _, ok := schemes[name]; !ok {
				l.errorf("%s: scheme %q is not in components.securitySchemes", where, name)
			}
		}
	}
}

// Routes returns the documented operations sorted by path, then method.
func (d *Doc) Routes() []Route {
	out := make([]Route, len(d.ops))
	for i, o := range d.ops {
		out[i] = o.Route
	}
	return out
}

// Match returns the documented route a request matches, urlPath being a
// concrete path such as /v1/runs/12 (a query is ignored).
func (d *Doc) Match(method, urlPath string) (Route, bool) {
	o := d.match(method, urlPath)
	if o == nil {
		return Route{}, false
	}
	return o.Route, true
}

func (d *Doc) match(method, urlPath string) *operation {
	urlPath, _, _ = strings.Cut(urlPath, "?")
	method = strings.ToUpper(method)
	var best *operation
	for _, o := range d.ops {
		if o.Method != method || !o.re.MatchString(urlPath) {
			continue
		}
		if best == nil || o.rank < best.rank {
			best = o
		}
	}
	return best
}

// CheckResponse checks a response against the document: its route and
// status must be documented, its Content-Type among the status's media
// types, its required headers present and a JSON body valid under the
// schema.
func (d *Doc) CheckResponse(method, urlPath string, status int, header http.Header, body []byte) error {
	o := d.match(method, urlPath)
	if o == nil {
		return fmt.Errorf("%s %s: no documented route", method, urlPath)
	}
	where := fmt.Sprintf("%s %s (%s) answered %d", o.Method, o.Path, urlPath, status)
	r := o.response(status)
	if r == nil {
		return fmt.Errorf("%s: status %d is not documented for this route (documented: %s)",
			where, status, strings.Join(sortedKeys(o.responses), ", "))
	}
	for _, h := range r.headers {
		if header.Get(h) == "" {
			return fmt.Errorf("%s: no %s header, which the document requires", where, h)
		}
	}
	if len(r.content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: a body of %d bytes; the document gives this status none", where, len(body))
		}
		return nil
	}
	ct := header.Get("Content-Type")
	if ct == "" {
		return fmt.Errorf("%s: no Content-Type (documented: %s)", where, strings.Join(sortedKeys(r.content), ", "))
	}
	return checkBody(where, r.content, ct, body)
}

// CheckRequest checks a request body against the operation's documented
// request body; meant for requests expected to succeed. A body without a
// Content-Type is taken to be of the one media type documented, as the
// server takes a JSON body without one.
func (d *Doc) CheckRequest(method, urlPath string, header http.Header, body []byte) error {
	o := d.match(method, urlPath)
	if o == nil {
		return fmt.Errorf("%s %s: no documented route", method, urlPath)
	}
	where := fmt.Sprintf("%s %s (%s) request", o.Method, o.Path, urlPath)
	if o.request == nil {
		if len(body) > 0 {
			return fmt.Errorf("%s: a body of %d bytes; the document gives this route none", where, len(body))
		}
		return nil
	}
	if len(body) == 0 {
		if o.request.required {
			return fmt.Errorf("%s: no body; the document requires one", where)
		}
		return nil
	}
	ct := header.Get("Content-Type")
	if ct == "" && len(o.request.content) == 1 {
		ct = sortedKeys(o.request.content)[0]
	}
	if ct == "" {
		return fmt.Errorf("%s: no Content-Type (documented: %s)", where, strings.Join(sortedKeys(o.request.content), ", "))
	}
	return checkBody(where, o.request.content, ct, body)
}

func (o *operation) response(status int) *response {
	s := strconv.Itoa(status)
	for _, k := range []string{s, s[:1] + "XX", "default"} {
		if r, ok := o.responses[k]; ok {
			return r
		}
	}
	return nil
}

func checkBody(where string, content map[string]*media, ct string, body []byte) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %v", where, ct, err)
	}
	m := content[mt]
	if m == nil {
		major, _, _ := strings.Cut(mt, "/")
		if m = content[major+"/*"]; m == nil {
			m = content["*/*"]
		}
	}
	if m == nil {
		return fmt.Errorf("%s: Content-Type %s is not documented (documented: %s)",
			where, mt, strings.Join(sortedKeys(content), ", "))
	}
	var v any
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if v, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("%s: the %s body is not JSON: %v", where, mt, err)
		}
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("%s: the form body does not parse: %v", where, err)
		}
		v = formValue(form)
	default:
		return nil // text, HTML: the media type is all the document says
	}
	if m.schema == nil {
		return nil
	}
	if err := m.schema.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%s: the body does not match the schema at %s:\n%s", where, m.ptr, ve.GoString())
		}
		return fmt.Errorf("%s: the body does not match the schema at %s: %v", where, m.ptr, err)
	}
	return nil
}

// formValue turns a form into the JSON object its schema describes: a field
// given once is a string, one given more often an array of them.
func formValue(form url.Values) map[string]any {
	out := map[string]any{}
	for k, vs := range form {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		a := make([]any, len(vs))
		for i, s := range vs {
			a[i] = s
		}
		out[k] = a
	}
	return out
}

// pathPattern turns a path template into a regexp matching concrete paths
// and its rank among templates matching the same path.
func pathPattern(path string) (*regexp.Regexp, string) {
	var re, rank strings.Builder
	re.WriteString("^")
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			re.WriteString("/")
		}
		if !templateRE.MatchString(seg) {
			re.WriteString(regexp.QuoteMeta(seg))
			rank.WriteByte('0')
			continue
		}
		rank.WriteByte('1')
		last := 0
		for _, m := range templateRE.FindAllStringIndex(seg, -1) {
			re.WriteString(regexp.QuoteMeta(seg[last:m[0]]))
			re.WriteString("[^/]+")
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(seg[last:]))
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()), rank.String()
}

func templateNames(path string) []string {
	var out []string
	for _, m := range templateRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

func validStatusKey(k string) bool {
	if k == "default" {
		return true
	}
	if len(k) != 3 || k[0] < '1' || k[0] > '5' {
		return false
	}
	if k[1:] == "XX" {
		return true
	}
	return k[1] >= '0' && k[1] <= '9' && k[2] >= '0' && k[2] <= '9'
}

// ptrJoin appends tokens to a JSON pointer, escaping ~ and / (RFC 6901).
func ptrJoin(ptr string, toks ...string) string {
	for _, t := range toks {
		ptr += "/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return ptr
}

// fragment is a JSON pointer as a URL fragment: the compiler unescapes
// fragments, so a path's {id} or % must be escaped.
func fragment(ptr string) string {
	toks := strings.Split(ptr, "/")
	for i, t := range toks {
		toks[i] = url.PathEscape(t)
	}
	return strings.Join(toks, "/")
}

// lookup finds the value at a JSON pointer.
func lookup(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || strconv.Itoa(i) != tok {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
