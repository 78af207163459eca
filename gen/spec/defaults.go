package spec

import (
	"fmt"
	"strings"
	"time"

	"oktasync/naming"
)

// Every default of the spec language lives in this file, so that one look
// tells what an omitted key means. Validation and resolution both call these.

// DefaultAuthHeader is the header a credential goes in unless auth.header says otherwise.
const DefaultAuthHeader = "Authorization"

// DefaultBucket is the rate-limit bucket of a request that names none.
const DefaultBucket = "default"

// DefaultRel is the Link relation of the next page.
const DefaultRel = "next"

// DefaultFeedLookback is how far before its cursor a change feed is read:
// events may appear in a feed some time after they happened (audit logs are
// often eventually consistent), and applying one twice is harmless.
const DefaultFeedLookback = 5 * time.Minute

// LookbackOrDefault is the feed's lookback, or DefaultFeedLookback.
func (f *Feed) LookbackOrDefault() time.Duration {
	if f.Lookback.Set {
		return f.Lookback.D
	}
	return DefaultFeedLookback
}

// PaginationOrDefault is the feed's pagination; link_header with rel next
// when the spec says nothing.
func (f *Feed) PaginationOrDefault() Pagination {
	return (&Table{Pagination: f.Pagination}).PaginationOrDefault()
}

// BucketOrDefault is the fetch's bucket, or the table's request bucket.
func (f *FetchChange) BucketOrDefault(t *Table) string {
	if f.Bucket != "" {
		return f.Bucket
	}
	return t.Request.BucketName()
}

// ColumnName is the column's name, or its path in snake_case joined with _.
func (c *Column) ColumnName() string {
	if c.Name != "" {
		return c.Name
	}
	segs, err := SplitPath(c.Path)
	if err != nil {
		return ""
	}
	return naming.Path(segs)
}

// ColumnType is the column's type; string unless given.
func (c *Column) ColumnType() ColumnType {
	if c.Type == "" {
		return "string"
	}
	return c.Type
}

// DynamicType is the type of dynamic columns; string unless given.
func (d *Dynamic) DynamicType() ColumnType {
	if d.Type == "" {
		return "string"
	}
	return d.Type
}

// PaginationOrDefault is the table's pagination; link_header with rel next
// when the spec says nothing.
func (t *Table) PaginationOrDefault() Pagination {
	p := Pagination{Type: "link_header"}
	if t.Pagination != nil {
		p = *t.Pagination
	}
	if p.Type == "link_header" && p.Rel == "" {
		p.Rel = DefaultRel
	}
	return p
}

// IncrementalType is filter unless given.
func (i *Incremental) IncrementalType() IncrementalType {
	if i.Type == "" {
		return "filter"
	}
	return i.Type
}

// DeletesOrDefault is the table's delete policy: full_reimport on every sync
// for a table read whole each time (rows not seen are gone at the source);
// none for incremental tables, which cannot tell a delete from no change, and
// for fan-out tables read only for changed parents (their rows are replaced
// parent by parent instead).
func (t *Table) DeletesOrDefault() Deletes {
	if t.Deletes != nil {
		return *t.Deletes
	}
	if t.Incremental != nil || t.Parent != nil && t.Parent.ChangedSince != nil {
		return Deletes{Type: "none"}
	}
	return Deletes{Type: "full_reimport"}
}

// BucketName is the request's bucket, or DefaultBucket.
func (r *Request) BucketName() string {
	if r.Bucket == "" {
		return DefaultBucket
	}
	return r.Bucket
}

// AuthHeader is the credential's header, or DefaultAuthHeader.
func (a *Auth) AuthHeader() string {
	if a.Header == "" {
		return DefaultAuthHeader
	}
	return a.Header
}

// SplitPath cuts a column path into its keys. Paths are plain gjson paths of
// object keys separated by dots; a literal dot is written \. and wildcards,
// array queries and modifiers are refused, because extraction walks each
// record once by key rather than evaluating arbitrary gjson.
func SplitPath(p string) ([]string, error) {
	if p == "" {
		return nil, fmt.Errorf("empty path")
	}
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= len(p) {
				return nil, fmt.Errorf("path %q ends in a lone backslash", p)
			}
			i++
			cur.WriteByte(p[i])
		case '.':
			if cur.Len() == 0 {
				return nil, fmt.Errorf("path %q has an empty key", p)
			}
			segs = append(segs, cur.String())
			cur.Reset()
		case '*', '?', '#', '|', '@', '!', '(', ')', '[', ']', '{', '}', '=', '<', '>', '%', ' ', '\t':
			return nil, fmt.Errorf("path %q: %q is not allowed; want object keys separated by dots (escape a literal dot as \\.)", p, c)
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, fmt.Errorf("path %q has an empty key", p)
	}
	return append(segs, cur.String()), nil
}
