package runtime

import (
	"context"
	"errors"

	"github.com/tidwall/gjson"

	"oktasync/runtime/fetch"
)

// CheckStatus is whether a table can be read with the configured credentials.
type CheckStatus string

const (
	CheckOK        CheckStatus = "ok"
	CheckForbidden CheckStatus = "forbidden"
	CheckFeature   CheckStatus = "feature not enabled"
	CheckError     CheckStatus = "error"
)

// CheckResult is one table's answer.
type CheckResult struct {
	Table  string
	Status CheckStatus
	// Needs names the roles and scope the spec lists, for forbidden tables.
	Needs    string
	Err      error
	Requests int
}

// Check asks, for every selected table, the first page of what a sync would
// read, without writing anything: a table's own endpoint, or for a fan-out
// table its parents' listing and the endpoint of the first parent.
func (e *Engine) Check(ctx context.Context) []CheckResult {
	e.defaults()
	var out []CheckResult
	for _, t := range e.selected() {
		run := &tableRun{e: e, t: t, em: NewEmitter(SinkFunc(func(*Table, Row) {}))}
		res := CheckResult{Table: t.Name, Status: CheckOK}
		err := run.probe(ctx, &res.Requests)
		switch {
		case err == nil:
		case errors.Is(err, fetch.ErrForbidden):
			res.Status, res.Needs = CheckForbidden, run.needs()
		case errors.Is(err, fetch.ErrFeatureDisabled):
			res.Status = CheckFeature
		default:
			res.Status = CheckError
		}
		res.Err = err
		out = append(out, res)
	}
	return out
}

func (r *tableRun) probe(ctx context.Context, requests *int) error {
	t := r.t
	get := func(bucket, url string) (*fetch.Page, error) {
		*requests++
		return r.e.Fetcher.Get(ctx, t.Name, bucket, url)
	}
	fo := t.FanOut
	if fo == nil {
		_, err := get(t.Request.Bucket, listURL(t.Request, "", ""))
		return err
	}
	var parent gjson.Result
	switch {
	case len(fo.Values) > 0:
		parent = gjson.Parse(fo.Values[0])
	default:
		listing := fo.Request
		if fo.Parent != "" {
			listing = r.e.Registry.Lookup(fo.Parent).Request
		}
		page, err := get(listing.Bucket, listURL(listing, "", ""))
		if err != nil {
			return err
		}
		eachRecord(page.Body, listing.Records, func(v gjson.Result) {
			if !parent.Exists() {
				parent = v
			}
		})
	}
	if !parent.Exists() {
		return nil // no parent to ask about; the listing itself was readable
	}
	_, err := get(t.Request.Bucket, fanOutURL(t, parent))
	if errors.Is(err, fetch.ErrNotFound) {
		return nil
	}
	return err
}
