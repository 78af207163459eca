// Package naming turns JSON keys into destination identifiers. The generator
// uses it for column names derived from paths and the runtime for dynamic
// columns, so both spell a key the same way.
package naming

import "strings"

// Snake turns a JSON key into snake_case the way Fivetran names columns:
// "lastMembershipUpdated" -> "last_membership_updated", "samAccountName" ->
// "sam_account_name", "HTMLParser" -> "html_parser". Characters other than
// ASCII letters, digits and underscores become underscores; runs of them
// collapse. A leading underscore is kept ("_links").
func Snake(key string) string {
	var b strings.Builder
	b.Grow(len(key) + 4)
	lastUnderscore := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if b.Len() > 0 && !lastUnderscore {
				prev := key[i-1]
				prevLowerOrDigit := prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9'
				nextLower := i+1 < len(key) && key[i+1] >= 'a' && key[i+1] <= 'z'
				prevUpper := prev >= 'A' && prev <= 'Z'
				if prevLowerOrDigit || prevUpper && nextLower {
					b.WriteByte('_')
				}
			}
			b.WriteByte(c + 'a' - 'A')
			lastUnderscore = false
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
			lastUnderscore = false
		default:
			if !lastUnderscore {
				b.WriteByte('_')
				lastUnderscore = true
			}
		}
	}
	return b.String()
}

// Path joins the snake_case forms of the segments of a dotted path with
// underscores: "profile.firstName" -> "profile_first_name".
func Path(segments []string) string {
	parts := make([]string, len(segments))
	for i, s := range segments {
		parts[i] = Snake(s)
	}
	return strings.Join(parts, "_")
}

// EditDistance counts the letters to insert, delete, change or swap with
// their neighbour to turn a into b: how far a misspelling is from a name
// (spec keys, config keys, setting names).
func EditDistance(a, b string) int {
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
