package fetch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Authenticator adds credentials to a request.
//
// Authenticate is called once per attempt, retries included, right before the
// request is sent, with the request's final method and URL and a context that
// carries the attempt's timeout and the caller's cancellation. That is enough
// for the schemes beyond a static token:
//
//   - OAuth 2.0 client credentials with private_key_jwt: the authenticator
//     keeps an access token and its expiry behind a mutex, and when the token
//     is missing or about to expire it signs a client assertion and posts it
//     to the token endpoint using req.Context(), then sets
//     "Authorization: Bearer <token>". It should use its own *http.Client, so
//     that token requests do not count against a data bucket.
//   - DPoP: as above, plus a fresh proof JWT per call in the "DPoP" header,
//     whose htm and htu come from req.Method and req.URL and whose ath is the
//     hash of the access token; a new jti per attempt is why Authenticate runs
//     on every attempt rather than once per Get.
//
// A server may answer with a challenge that fresh credentials would satisfy
// (a nonce to put in the proof, a token revoked before its expiry); an
// authenticator that can act on that implements Challenger as well.
//
// Implementations must be safe for concurrent use and must never put their
// secrets in errors or in what String or LogValue return. One that can tell
// its credentials are unusable before any request (empty, not a valid header
// value) implements Validator, so that New fails at once.
type Authenticator interface {
	Authenticate(req *http.Request) error
}

// Challenger is implemented by authenticators that can recover from an
// authentication challenge. When a response has status 400 or 401 and the
// client's Authenticator is a Challenger, Get calls Challenge with that
// response (its body is readable and its Request is the request sent); if it
// returns true, the request is authenticated afresh and sent once more. Get
// does this at most once per call, so a challenge cannot loop.
type Challenger interface {
	Challenge(resp *http.Response) (retry bool, err error)
}

// Validator is implemented by authenticators that can check their
// credentials without a request. New calls Validate and refuses the
// configuration, with ErrFatal, when it fails; the error must not quote a
// secret.
type Validator interface {
	Validate() error
}

// SecretHolder is implemented by authenticators that hold secrets. The
// client removes each of them from every message it derives from a response
// (errors, logs), since a server may quote the credentials it was sent back
// in an error summary, a header or a link. Secrets is called for each such
// message, so it may return credentials that change (a refreshed access
// token); it must be safe for concurrent use.
type SecretHolder interface {
	Secrets() []string
}

// HeaderToken returns an Authenticator that sets header to "scheme token"
// (or just token when scheme is empty) on every request. Its String,
// GoString and LogValue name the header and scheme, never the token.
func HeaderToken(header, scheme, token string) Authenticator {
	value := token
	if scheme != "" {
		value = scheme + " " + token
	}
	return &headerToken{header: header, scheme: scheme, token: token, value: value}
}

type headerToken struct {
	header string
	scheme string
	token  string
	value  string // what the header is set to
}

var errEmptyToken = errors.New("the token is empty")

func (h *headerToken) Authenticate(req *http.Request) error {
	if err := h.Validate(); err != nil {
		return err
	}
	req.Header.Set(h.header, h.value)
	return nil
}

func (h *headerToken) Validate() error {
	switch {
	case !validHeaderName(h.header):
		return fmt.Errorf("%q is not a valid header name", h.header)
	case h.token == "":
		return errEmptyToken
	case !validHeaderValue(h.value):
		return errBadToken
	}
	return nil
}

var errBadToken = errors.New("the token is not a valid header value: it holds a line break or another control character")

func (h *headerToken) Secrets() []string {
	// The token alone covers the header value as well.
	return []string{h.token}
}

func (h *headerToken) String() string {
	s := "header token " + h.header + ": "
	if h.scheme != "" {
		s += h.scheme + " "
	}
	return s + redacted
}

func (h *headerToken) GoString() string { return h.String() }

func (h *headerToken) LogValue() slog.Value { return slog.StringValue(h.String()) }

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters but tab (RFC 9110 5.5), so no CR or LF to end the
// header early.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
