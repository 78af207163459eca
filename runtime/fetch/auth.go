package fetch

import (
	"errors"
	"log/slog"
	"net/http"
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
// secrets in errors or in what String or LogValue return.
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

var errEmptyToken = errors.New("empty token")

func (h *headerToken) Authenticate(req *http.Request) error {
	if h.token == "" || h.header == "" {
		return errEmptyToken
	}
	req.Header.Set(h.header, h.value)
	return nil
}

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
