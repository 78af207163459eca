package fetch

import (
	"net/url"
	"strings"
)

// ParseLinks reads Link header values (RFC 8288) into a map from relation type
// to target. It accepts any number of header lines, each holding one or more
// comma-separated link-values; rel may be quoted or not and may name several
// relations ("next last"). Relation types are lower-cased. When two links share
// a relation the first wins. Targets are returned as written (possibly
// relative). Malformed parts are skipped, never fatal: a page is still usable
// when one of its links is not.
func ParseLinks(values []string) map[string]string {
	links := make(map[string]string)
	for _, v := range values {
		parseLinkValue(v, links)
	}
	return links
}

func parseLinkValue(s string, links map[string]string) {
	i := 0
	for i < len(s) {
		i = skipSpaceAnd(s, i, ',')
		if i >= len(s) {
			return
		}
		if s[i] != '<' {
			i = skipElement(s, i)
			continue
		}
		end := strings.IndexByte(s[i+1:], '>')
		if end < 0 {
			return
		}
		target := strings.TrimSpace(s[i+1 : i+1+end])
		i += end + 2
		var rels []string
		seenRel := false
		for {
			i = skipSpace(s, i)
			if i >= len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				// Trailing garbage: keep what was understood, resume at the next link.
				i = skipElement(s, i)
				break
			}
			i = skipSpace(s, i+1)
			var name, value string
			name, i = readToken(s, i)
			i = skipSpace(s, i)
			if i < len(s) && s[i] == '=' {
				i = skipSpace(s, i+1)
				if i < len(s) && s[i] == '"' {
					value, i = readQuoted(s, i)
				} else {
					value, i = readToken(s, i)
				}
			}
			// RFC 8288 3.3: occurrences of rel after the first are ignored.
			if strings.EqualFold(name, "rel") && !seenRel {
				seenRel = true
				rels = strings.Fields(strings.ToLower(value))
			}
		}
		if target == "" {
			continue
		}
		for _, rel := range rels {
			if _, ok := links[rel]; !ok {
				links[rel] = target
			}
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func skipSpaceAnd(s string, i int, sep byte) int {
	for i < len(s) && (isSpace(s[i]) || s[i] == sep) {
		i++
	}
	return i
}

// skipElement moves past the current list element: to the next comma that is
// not inside a quoted string or a <URI>.
func skipElement(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ',':
			return i
		case '"':
			_, i = readQuoted(s, i)
			continue
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return len(s)
			}
			i += end
		}
		i++
	}
	return i
}

// readToken reads an unquoted token or parameter value.
func readToken(s string, i int) (string, int) {
	start := i
	for i < len(s) && !isSpace(s[i]) && s[i] != ';' && s[i] != ',' && s[i] != '=' && s[i] != '"' {
		i++
	}
	return s[start:i], i
}

// readQuoted reads a quoted-string starting at the opening quote; an
// unterminated one runs to the end of s.
func readQuoted(s string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), i
}

// resolveLinks makes the targets absolute relative to the page's URL and
// drops those that are not URLs.
func resolveLinks(base *url.URL, links map[string]string) map[string]string {
	for rel, target := range links {
		ref, err := url.Parse(target)
		if err != nil {
			delete(links, rel)
			continue
		}
		if !ref.IsAbs() {
			links[rel] = base.ResolveReference(ref).String()
		}
	}
	return links
}
