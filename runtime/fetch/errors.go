package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Sentinels for errors.Is. An *APIError wraps exactly one of them.
var (
	// ErrUnauthorized: the credentials were refused (a 401 that is not a
	// feature code). Nothing else will work either; stop.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the credentials lack a role or scope for this resource
	// (403, or any status with an insufficient_scope challenge).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: 404 or 410.
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: still rate limited after the allowed number of waits.
	ErrRateLimited = errors.New("rate limited")
	// ErrFeatureDisabled: the error code says the feature is not enabled for
	// this account, whatever the status.
	ErrFeatureDisabled = errors.New("feature disabled")
	// ErrBadRequest: 400 or 422, the request itself is wrong (a bad cursor,
	// a bad filter).
	ErrBadRequest = errors.New("bad request")
	// ErrServer: 5xx after the allowed number of retries.
	ErrServer = errors.New("server error")
	// ErrInvalidBody: the body was truncated, not JSON, or too large, after
	// the allowed number of retries.
	ErrInvalidBody = errors.New("invalid response body")
	// ErrForeignURL: the URL does not point at the configured origin (or is
	// not a URL); it is refused so that a Link header cannot send our
	// credentials elsewhere.
	ErrForeignURL = errors.New("url outside the configured origin")
	// ErrFatal: no request of the sync can succeed, whatever its URL: the
	// configuration is wrong (New's errors), the credentials cannot be sent
	// (not a valid header value), or the server's TLS certificate is not
	// trusted. Never retried; a caller stops the whole sync. It is joined to
	// the error's cause, so errors.Is finds both.
	ErrFatal = errors.New("fatal")
)

// APIError is an HTTP error response. It never holds credentials: URL has
// its query secrets redacted and no request header is kept.
type APIError struct {
	Table   string
	URL     string // redacted
	Status  int
	Code    string // error code from the body, if any
	Summary string // error summary from the body, if any
	// Scope is the scope the server asked for in an insufficient_scope
	// challenge, if any.
	Scope string
	kind  error
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Table != "" {
		b.WriteString(e.Table)
		b.WriteString(": ")
	}
	b.WriteString("GET ")
	b.WriteString(e.URL)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	switch {
	case e.Code != "" && e.Summary != "":
		fmt.Fprintf(&b, " %s: %s", e.Code, strings.TrimRight(e.Summary, ". "))
	case e.Code != "":
		b.WriteString(" " + e.Code)
	case e.Summary != "":
		b.WriteString(": " + strings.TrimRight(e.Summary, ". "))
	default:
		b.WriteString(" " + strings.ToLower(http.StatusText(e.Status)))
	}
	if e.Scope != "" {
		fmt.Fprintf(&b, " (insufficient scope, needs %s)", e.Scope)
	}
	return strings.TrimSpace(b.String())
}

// Unwrap returns the sentinel for the error's class, or nil.
func (e *APIError) Unwrap() error { return e.kind }

// requestError wraps a failure that has no HTTP status (network, body,
// refused URL) with the table and the redacted URL.
func requestError(table, redactedURL string, err error) error {
	if table == "" {
		return fmt.Errorf("GET %s: %w", redactedURL, err)
	}
	return fmt.Errorf("%s: GET %s: %w", table, redactedURL, err)
}

// fatal marks err as ErrFatal without changing its message.
func fatal(err error) error { return &fatalError{err} }

type fatalError struct{ err error }

func (e *fatalError) Error() string   { return e.err.Error() }
func (e *fatalError) Unwrap() []error { return []error{ErrFatal, e.err} }
