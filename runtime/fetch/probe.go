package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Probe sends one GET of path (relative to BaseURL) to tell, before any
// real work, whether the origin answers and takes the credentials. It never
// retries nor waits for a rate limit, and gives up after ProbeTimeout, so an
// unreachable origin fails in seconds with one line: "cannot reach
// https://org.example.com: connection refused" (wrapping the cause; ErrFatal
// for TLS failures). A 401 is an *APIError wrapping ErrUnauthorized, with
// the status and the error code. 2xx, 403 (valid credentials without the
// role for path) and 429 (the origin answers) are nil; any other status is
// an *APIError. The response's Date is recorded for ServerNow.
func (c *Client) Probe(ctx context.Context, path string) error {
	target, _, err := c.target(path)
	if err != nil {
		return c.redactErr(requestError("", c.safeURL(path), err))
	}
	safe := c.safeURL(target)
	pctx, cancel := context.WithTimeout(ctx, c.cfg.ProbeTimeout)
	defer cancel()
	challenged, err := c.probeOnce(ctx, pctx, target, safe)
	if challenged {
		// A challenge fresh credentials answer (a DPoP nonce), as Get does.
		_, err = c.probeOnce(ctx, pctx, target, safe)
	}
	return err
}

// probeOnce is one attempt of Probe; challenged says the Authenticator
// answered a challenge of the response and asks for another attempt.
func (c *Client) probeOnce(ctx, pctx context.Context, target, safe string) (challenged bool, err error) {
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, target, nil)
	if err != nil {
		return false, requestError("", safe, errors.New("invalid url"))
	}
	// No Accept-Encoding: the transport asks for gzip and decodes it itself.
	req.Header.Set("Accept", "application/json")
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if c.cfg.Auth != nil {
		if err := c.cfg.Auth.Authenticate(req); err != nil {
			return false, c.redactErr(requestError("", safe, fmt.Errorf("authenticate: %w", err)))
		}
		if name := invalidHeader(req.Header); name != "" {
			return false, fatal(requestError("", safe, fmt.Errorf("authenticate: header %s: not a valid header value (a line break or another control character)", name)))
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the caller's, not the probe's deadline
			return false, requestError("", safe, ctx.Err())
		}
		return false, c.redactErr(c.unreachable(err))
	}
	defer resp.Body.Close()
	c.noteDate(resp.Header)
	// Enough for an error body; the rest is not needed.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s/100 == 2, s == http.StatusForbidden, s == http.StatusTooManyRequests:
		return false, nil
	case s == http.StatusUnauthorized || s == http.StatusBadRequest:
		if ch, ok := c.cfg.Auth.(Challenger); ok {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if retry, cerr := ch.Challenge(resp); cerr == nil && retry {
				return true, c.redactErr(c.apiError("", safe, resp, body, nil))
			}
		}
	}
	return false, c.redactErr(c.apiError("", safe, resp, body, nil))
}

// unreachable describes a failure to get any response from the origin in
// one line.
func (c *Client) unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // it quotes the whole URL
	}
	var (
		dnsErr *net.DNSError
		errno  syscall.Errno
		opErr  *net.OpError
	)
	why := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		why = fmt.Sprintf("no answer within %s", c.cfg.ProbeTimeout)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		why = "no such host"
	case errors.As(err, &errno):
		why = errno.Error() // "connection refused", "network is unreachable"
	case errors.As(err, &opErr):
		why = opErr.Err.Error()
	}
	e := &reachError{msg: "cannot reach " + c.base.Scheme + "://" + c.base.Host + ": " + why, err: err}
	if isTLSFailure(err) {
		return fatal(e)
	}
	return e
}

type reachError struct {
	msg string
	err error
}

func (e *reachError) Error() string { return e.msg }
func (e *reachError) Unwrap() error { return e.err }
