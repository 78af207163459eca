package fetch

import (
	"errors"
	"fmt"
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

// Redact removes the secrets the client holds (those of an Authenticator
// that is a SecretHolder) from text, in the forms a server could quote them:
// as sent, and query- or path-escaped. Every message the client derives
// from a response passes through it, since a server may echo credentials in
// an error body, a header or a link; callers that print text taken from a
// response (a next link, a record's URL) should use it too.
func (c *Client) Redact(text string) string {
	h, ok := c.cfg.Auth.(SecretHolder)
	if !ok {
		return text
	}
	for _, s := range h.Secrets() {
		if s == "" {
			continue
		}
		for _, form := range [...]string{s, url.QueryEscape(s), url.PathEscape(s)} {
			text = strings.ReplaceAll(text, form, redacted)
		}
	}
	return text
}

// safeURL is rawURL fit for errors and logs: RedactURL, then Redact.
func (c *Client) safeURL(rawURL string) string { return c.Redact(RedactURL(rawURL)) }

// redactErr returns err with the client's secrets removed from its message
// and, for an *APIError in its chain, from every field. Causes further down
// the chain keep their text; only the message printed is rewritten.
func (c *Client) redactErr(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.URL = c.Redact(apiErr.URL)
		apiErr.Code = c.Redact(apiErr.Code)
		apiErr.Summary = c.Redact(apiErr.Summary)
		apiErr.Scope = c.Redact(apiErr.Scope)
	}
	msg := err.Error()
	if safe := c.Redact(msg); safe != msg {
		return &redactedError{msg: safe, err: err}
	}
	return err
}

// redactedError is an error whose message had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// CheckURL reports whether Get would request rawURL, and refuses one that
// carries the client's secrets: a caller that keeps a URL taken from a
// response (a next link saved as where a listing resumes) checks it first,
// so that neither a refused link nor a credential echoed into one is ever
// stored.
func (c *Client) CheckURL(table, rawURL string) error {
	if _, _, err := c.target(rawURL); err != nil {
		return requestError(table, c.safeURL(rawURL), err)
	}
	if c.Redact(rawURL) != rawURL {
		return requestError(table, c.safeURL(rawURL), fmt.Errorf("%w: url carries a credential", ErrForeignURL))
	}
	return nil
}
