// Package fetch is the HTTP layer of the runtime: it fetches one page of a
// JSON API at a time, with credentials, retries, rate limiting and the safety
// checks a connector needs. It knows nothing about a particular API; header
// names, error-body paths, feature codes and known limits come in Config from
// the API's spec.
//
// # What Get does
//
// Get resolves the URL against Config.BaseURL and refuses any other origin
// (a Link header cannot send credentials elsewhere; links on other hosts are
// re-based onto BaseURL only when Config says so) and any scheme but http and
// https. It waits for its rate-limit bucket and for a free slot under the
// concurrency cap, then sends the request under a per-attempt timeout that
// starts only after those waits. It reads the whole body (gzip decoded, at
// most MaxBodyBytes, within MaxInFlightBodyBytes shared by every request in
// flight), checks it is complete and valid JSON, and parses every Link
// header line.
//
// Failures are retried with jittered exponential backoff when another try can
// help: 5xx, network errors, truncated or unparsable bodies; a connection
// that cannot be opened at all, only twice and quickly. 400, 401, 403 and
// 404 are returned at once as *APIError, classified by sentinels
// (ErrUnauthorized, ErrForbidden, ErrFeatureDisabled, ...). What no request
// could survive (New's configuration errors, an untrusted TLS certificate,
// credentials that are not a valid header value) is ErrFatal, never retried.
//
// # Rate limits
//
// Each bucket (runtime/ratelimit.Bucket) is shared by every goroutine that
// names it. It learns the limit, the requests remaining and the reset from the
// response headers, converting the reset to our clock with the server's Date
// header (Reset - Date + 1 second, divided by TimeScale), so a server clock
// that is hours off does not matter. It spends what a window has left, minus
// a small reserve (RateLimitHeaders.Reserve) and minus the requests in
// flight, at once: only the concurrency cap holds those requests back. When
// only the reserve is left it sleeps until the reset, then sends one request
// and spends what its response says the new window has; if that response
// says the server's window is still open (its reset came later than our
// clock thought), the bucket spends what is left of it and waits for the
// reset it now announces. The reserve (default
// ratelimit.DefaultReserve, 2% of the limit and at least one request) is
// left to the other clients of the same limit. A 429 holds the whole bucket
// back until the reset it announces. A 429 whose limit header is 0 reports
// too many concurrent requests: the concurrency cap is halved and grows
// back slowly. Stats counts, per bucket, the requests, the server's windows
// they fell in and the wall time requests waited on the bucket (Held).
package fetch
