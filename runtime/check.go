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
			res.Status, res.Needs = CheckForbidden, run.needsFor(err)
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
	_, err := r.firstRecord(ctx, r.t, requests)
	return err
}

// firstRecord fetches the first page a sync of t would read and returns its
// first record (none if the page is empty): t's own endpoint, or, for a
// fan-out table, the endpoint of the first of its parents.
func (r *tableRun) firstRecord(ctx context.Context, t *Table, requests *int) (gjson.Result, error) {
	get := func(req *Request, url string) (gjson.Result, error) {
		*requests++
		page, err := r.e.Fetcher.Get(ctx, r.t.Name, req.Bucket, url)
		if err != nil {
			return gjson.Result{}, err
		}
		var first gjson.Result
		EachRecord(page.Body, req.Records, func(v gjson.Result) {
			if !first.Exists() {
				first = v
			}
		})
		return first, nil
	}
	fo := t.FanOut
	if fo == nil {
		return get(t.Request, listURL(t.Request, "", ""))
	}
	var parent gjson.Result
	var err error
	switch {
	case len(fo.Values) > 0:
		parent = gjson.Parse(fo.Values[0])
	case fo.Parent != "":
		parent, err = r.firstRecord(ctx, r.e.Registry.Lookup(fo.Parent), requests)
	default:
		parent, err = get(fo.Request, listURL(fo.Request, "", ""))
	}
	if err != nil || !parent.Exists() {
		return gjson.Result{}, err // no parent to ask about: the listing itself was readable
	}
	rec, err := get(t.Request, fanOutURL(t, parent))
	if errors.Is(err, fetch.ErrNotFound) {
		return gjson.Result{}, nil
	}
	return rec, err
}

// needsFor says what a refusal lacks: the scope the server named as
// insufficient, else the table's roles and scope.
func (r *tableRun) needsFor(err error) string {
	var ae *fetch.APIError
	if errors.As(err, &ae) && ae.Scope != "" {
		return "scope " + ae.Scope + ", which the credentials lack"
	}
	return r.needs()
}
