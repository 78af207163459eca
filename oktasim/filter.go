package oktasim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A small SCIM-style filter language as Okta accepts in `search` and `filter`:
//   expr   := term { "or" term }
//   term   := factor { "and" factor }
//   factor := "(" expr ")" | attr "pr" | attr op value
//   op     := eq ne sw co ew gt ge lt le      (case-insensitive)
//   value  := "string" | number | true | false | null

type expr struct {
	op          string // "and", "or", or a comparison operator
	left, right *expr
	attr        string
	lit         string
	litIsStr    bool
}

// getter returns an attribute's value: string value, unix ms for dates, whether
// it is a date, and whether it is present. Multi-values are joined by NUL.
type getter func(name string) (string, int64, bool, bool)

var errFilter = errors.New("invalid filter")

type lexer struct {
	s   string
	pos int
}

func (l *lexer) skip() {
	for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\t' || l.s[l.pos] == '+') {
		l.pos++
	}
}

// token returns the next token; quoted strings come back with their quotes.
func (l *lexer) token() (string, error) {
	l.skip()
	if l.pos >= len(l.s) {
		return "", nil
	}
	c := l.s[l.pos]
	switch c {
	case '(', ')':
		l.pos++
		return string(c), nil
	case '"':
		var b strings.Builder
		b.WriteByte('"')
		for l.pos++; l.pos < len(l.s); l.pos++ {
			ch := l.s[l.pos]
			if ch == '\\' && l.pos+1 < len(l.s) {
				l.pos++
				b.WriteByte(l.s[l.pos])
				continue
			}
			if ch == '"' {
				l.pos++
				return b.String(), nil
			}
			b.WriteByte(ch)
		}
		return "", fmt.Errorf("%w: unterminated string", errFilter)
	}
	start := l.pos
	for l.pos < len(l.s) && !strings.ContainsRune(" \t()\"+", rune(l.s[l.pos])) {
		l.pos++
	}
	return l.s[start:l.pos], nil
}

func (l *lexer) peek() string {
	save := l.pos
	t, _ := l.token()
	l.pos = save
	return t
}

func parseFilter(s string) (*expr, error) {
	l := &lexer{s: s}
	e, err := parseOr(l)
	if err != nil {
		return nil, err
	}
	if t, _ := l.token(); t != "" {
		return nil, fmt.Errorf("%w: unexpected %q", errFilter, t)
	}
	return e, nil
}

func parseOr(l *lexer) (*expr, error) {
	left, err := parseAnd(l)
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(l.peek(), "or") {
		_, _ = l.token()
		right, err := parseAnd(l)
		if err != nil {
			return nil, err
		}
		left = &expr{op: "or", left: left, right: right}
	}
	return left, nil
}

func parseAnd(l *lexer) (*expr, error) {
	left, err := parseFactor(l)
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(l.peek(), "and") {
		_, _ = l.token()
		right, err := parseFactor(l)
		if err != nil {
			return nil, err
		}
		left = &expr{op: "and", left: left, right: right}
	}
	return left, nil
}

var filterOps = map[string]bool{"eq": true, "ne": true, "sw": true, "co": true, "ew": true,
	"gt": true, "ge": true, "lt": true, "le": true}

func parseFactor(l *lexer) (*expr, error) {
	t, err := l.token()
	if err != nil {
		return nil, err
	}
	if t == "(" {
		e, err := parseOr(l)
		if err != nil {
			return nil, err
		}
		if c, _ := l.token(); c != ")" {
			return nil, fmt.Errorf("%w: missing )", errFilter)
		}
		return e, nil
	}
	if t == "" || t == ")" || strings.HasPrefix(t, `"`) {
		return nil, fmt.Errorf("%w: expected an attribute", errFilter)
	}
	op, err := l.token()
	if err != nil {
		return nil, err
	}
	op = strings.ToLower(op)
	if op == "pr" {
		return &expr{op: "pr", attr: t}, nil
	}
	if !filterOps[op] {
		return nil, fmt.Errorf("%w: unknown operator %q", errFilter, op)
	}
	v, err := l.token()
	if err != nil {
		return nil, err
	}
	if v == "" || v == "(" || v == ")" {
		return nil, fmt.Errorf("%w: missing value for %s", errFilter, t)
	}
	e := &expr{op: op, attr: t}
	if strings.HasPrefix(v, `"`) {
		e.lit, e.litIsStr = v[1:], true
	} else {
		e.lit = strings.ToLower(v)
	}
	return e, nil
}

// walk calls f for every comparison in e.
func (e *expr) walk(f func(*expr) error) error {
	if e == nil {
		return nil
	}
	if e.op == "and" || e.op == "or" {
		if err := e.left.walk(f); err != nil {
			return err
		}
		return e.right.walk(f)
	}
	return f(e)
}

func parseFilterTime(s string) (int64, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000Z", time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func (e *expr) eval(get getter) bool {
	switch e.op {
	case "and":
		return e.left.eval(get) && e.right.eval(get)
	case "or":
		return e.left.eval(get) || e.right.eval(get)
	}
	val, ms, isDate, ok := get(e.attr)
	if e.op == "pr" {
		return ok
	}
	if e.lit == "null" && !e.litIsStr {
		switch e.op {
		case "eq":
			return !ok
		case "ne":
			return ok
		}
		return false
	}
	if isDate {
		if !ok {
			return e.op == "ne"
		}
		lit, good := parseFilterTime(e.lit)
		if !good {
			return false
		}
		switch e.op {
		case "eq":
			return ms == lit
		case "ne":
			return ms != lit
		case "gt":
			return ms > lit
		case "ge":
			return ms >= lit
		case "lt":
			return ms < lit
		case "le":
			return ms <= lit
		}
		return false
	}
	if !ok {
		return e.op == "ne"
	}
	lit := strings.ToLower(e.lit)
	for _, part := range strings.Split(val, "\x00") {
		if cmpString(e.op, strings.ToLower(part), lit) {
			return true
		}
	}
	return false
}

func cmpString(op, v, lit string) bool {
	switch op {
	case "eq":
		return v == lit
	case "ne":
		return v != lit
	case "sw":
		return strings.HasPrefix(v, lit)
	case "co":
		return strings.Contains(v, lit)
	case "ew":
		return strings.HasSuffix(v, lit)
	case "gt":
		return v > lit
	case "ge":
		return v >= lit
	case "lt":
		return v < lit
	case "le":
		return v <= lit
	}
	return false
}

// filterRules restricts which attributes and operators an endpoint accepts.
type filterRules struct {
	attrs     map[string]bool // nil: any
	prefixes  []string        // attribute prefixes accepted (e.g. "profile.")
	dates     map[string]bool // attributes that are dates (all comparison ops allowed)
	eqOnly    bool            // non-date attributes accept only eq
	coAttrs   map[string]bool // attributes allowing co (nil: co allowed everywhere)
	noNe      bool
	forbidden map[string]string // attribute -> error message
}

func (fr filterRules) check(e *expr) error {
	return e.walk(func(c *expr) error {
		if msg, bad := fr.forbidden[c.attr]; bad {
			return fmt.Errorf("%w: %s", errFilter, msg)
		}
		known := fr.attrs == nil || fr.attrs[c.attr] || fr.dates[c.attr]
		for _, p := range fr.prefixes {
			if strings.HasPrefix(c.attr, p) {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("%w: attribute %q is not supported", errFilter, c.attr)
		}
		if c.op == "ne" && fr.noNe {
			return fmt.Errorf("%w: operator ne is not supported", errFilter)
		}
		if fr.dates[c.attr] {
			if c.op != "pr" {
				if _, ok := parseFilterTime(c.lit); !ok && c.lit != "null" {
					return fmt.Errorf("%w: %q is not a date", errFilter, c.lit)
				}
			}
			return nil
		}
		if fr.eqOnly && c.op != "eq" {
			return fmt.Errorf("%w: operator %s is not supported for %s", errFilter, c.op, c.attr)
		}
		if c.op == "co" && fr.coAttrs != nil && !fr.coAttrs[c.attr] {
			return fmt.Errorf("%w: operator co is not supported for %s", errFilter, c.attr)
		}
		return nil
	})
}

var (
	userDates = map[string]bool{"lastUpdated": true, "created": true, "activated": true, "statusChanged": true,
		"lastLogin": true, "passwordChanged": true}
	userFilterRules = filterRules{
		attrs: map[string]bool{"status": true, "id": true, "profile.login": true, "profile.email": true,
			"profile.firstName": true, "profile.lastName": true},
		dates: map[string]bool{"lastUpdated": true}, eqOnly: true,
	}
	userSearchRules = filterRules{
		attrs:    map[string]bool{"status": true, "id": true, "type.id": true},
		prefixes: []string{"profile."}, dates: userDates, noNe: true,
		coAttrs: map[string]bool{"profile.firstName": true, "profile.lastName": true, "profile.email": true, "profile.login": true},
	}
	groupDates       = map[string]bool{"lastUpdated": true, "created": true, "lastMembershipUpdated": true}
	groupFilterRules = filterRules{attrs: map[string]bool{"id": true, "type": true},
		dates: groupDates, eqOnly: true}
	groupSearchRules = filterRules{attrs: map[string]bool{"id": true, "type": true, "source.id": true},
		prefixes: []string{"profile."}, dates: groupDates, noNe: true,
		coAttrs: map[string]bool{"profile.name": true, "profile.description": true}}
	deviceSearchRules = filterRules{attrs: map[string]bool{"id": true, "status": true},
		prefixes: []string{"profile."}, dates: map[string]bool{"lastUpdated": true, "created": true}, noNe: true,
		coAttrs: map[string]bool{"profile.displayName": true, "profile.serialNumber": true, "profile.imei": true,
			"profile.meid": true, "profile.udid": true, "profile.sid": true}}
	appFilterRules = filterRules{attrs: map[string]bool{"id": true, "status": true, "name": true,
		"credentials.signing.kid": true, "settings.slo.enabled": true}, eqOnly: true}
	logFilterRules = filterRules{
		prefixes: []string{"eventType", "legacyEventType", "displayMessage", "severity", "outcome.", "uuid",
			"transaction.", "actor.", "target.", "debugContext.", "client.", "authenticationContext.", "securityContext.", "request."},
		forbidden: map[string]string{"published": "published cannot be used in filter; use since and until"},
	}
)
