package fetch

import (
	"net/url"
	"strings"
)

const redacted = "REDACTED"

// RedactURL returns rawURL fit for errors and logs: the userinfo (user name
// and password) is removed, the values of query parameters whose names look
// like secrets are replaced, the fragment is dropped. Other parameters keep
// their exact encoding so the URL still says which page failed.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// The text could hold anything; say only that it was not a URL.
		return "(invalid url)"
	}
	u.User = nil
	if i := strings.LastIndexByte(u.Opaque, '@'); i >= 0 {
		// "user:password@host" without "//" parses as scheme "user" and
		// an opaque part: keep only what follows the credentials.
		u.Scheme, u.Opaque = "", u.Opaque[i+1:]
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if isSecretName(name) {
				if hasValue {
					parts[i] = url.QueryEscape(name) + "=" + redacted
				} else {
					parts[i] = redacted
				}
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// isSecretName reports whether a query parameter name suggests its value is a
// credential. It errs on the side of hiding: a hidden cursor costs less than a
// leaked token.
func isSecretName(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(name))
	switch n {
	case "key", "code", "sig", "auth", "authorization", "session", "sessionid", "sid", "jwt":
		return true
	}
	for _, s := range []string{"token", "secret", "password", "passwd", "pwd", "apikey", "signature", "assertion", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasSuffix(n, "key")
}
