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
