package runtime_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"oktasync/runtime"
	"oktasync/runtime/fetch"
)

func on(b bool) *bool { return &b }

// liveRows renders the live rows of a table, sorted.
func liveRows(h *harness, name string) []string {
	var out []string
	for _, r := range h.db.Rows(name) {
		if !r.Deleted {
			out = append(out, fmt.Sprint(r.Values...))
		}
	}
	slices.Sort(out)
	return out
}

func hmacHex(salt, v string) string {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// TestBlockedAndHashedColumns: a blocked column never reaches the
// destination; a hashed key is the keyed SHA-256 of the value, its child
// tables' parent keys follow it, so children are still replaced by parent
// and hashed keys join across tables and syncs.
func TestBlockedAndHashedColumns(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" || n == "parts" }
	h.eng.Settings = &runtime.Settings{Salt: "pepper", Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"id": {Hashed: true}, "name": {Enabled: on(false)}}},
	}}
	// The extractor is told which columns are written (Emitter.Writes):
	// the hashed id is, the blocked name is not.
	extract := items.Extract
	t.Cleanup(func() { items.Extract = extract })
	var writes []bool
	items.Extract = func(rec, parent gjson.Result, e *runtime.Emitter) {
		writes = append(writes[:0], e.Writes(items, 0), e.Writes(items, 1))
		extract(rec, parent, e)
	}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(writes, []bool{true, false}) {
		t.Errorf("Writes(items.id, items.name) = %v, want [true false]", writes)
	}
	for _, r := range h.db.Rows("items") {
		if len(r.Values) != 1 {
			t.Fatalf("items row %v: want only the id, name is blocked", r.Values)
		}
	}
	i0 := hmacHex("pepper", "i0")
	if got := liveRows(h, "items"); !slices.Contains(got, i0) || len(got) != 5 {
		t.Fatalf("items = %v, want 5 hashed ids among them %s", got, i0)
	}
	if got, want := liveRows(h, "item_tags"), i0+"a"; !slices.Contains(got, want) {
		t.Fatalf("item_tags = %v, want %q: the parent key follows the hashed key", got, want)
	}
	if got, want := liveRows(h, "parts"), i0+"p1"; !slices.Contains(got, want) {
		t.Fatalf("parts = %v, want %q", got, want)
	}
	// An incremental change replaces the children of the hashed parent.
	h.api.mu.Lock()
	h.api.items[0].tags, h.api.items[0].updated = []string{"c"}, t0.Add(30*time.Minute)
	h.api.mu.Unlock()
	h.now = t0.Add(time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	tags := liveRows(h, "item_tags")
	if !slices.Contains(tags, i0+"c") || slices.Contains(tags, i0+"a") {
		t.Fatalf("item_tags after the change = %v, want %sc and not %sa", tags, i0, i0)
	}
	for _, r := range h.db.Rows("items") {
		for _, v := range r.Values {
			if s, _ := v.(string); strings.HasPrefix(s, "item ") {
				t.Fatalf("a blocked value reached the destination: %v", r.Values)
			}
		}
	}
}

// TestDestinationSalt: without a salt in the settings the destination's is
// made once and kept, so hashes agree across syncs; it is never reported.
func TestDestinationSalt(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"name": {Hashed: true}}},
	}}
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	salt, ok, _ := h.db.Value(context.Background(), runtime.SaltKey)
	if !ok || len(salt) != 64 {
		t.Fatalf("salt %q (set %v): want 32 random bytes as hex", salt, ok)
	}
	if strings.Contains(fmt.Sprintf("%+v", sum), salt) {
		t.Fatal("the summary shows the salt")
	}
	want := hmacHex(salt, "item 0")
	if got := liveRows(h, "items"); !slices.Contains(got, "i0"+want) {
		t.Fatalf("items = %v, want i0 with %s", got, want)
	}
	h.eng.Resync = []string{"items"}
	h.now = t0.Add(time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got := liveRows(h, "items"); !slices.Contains(got, "i0"+want) || len(got) != 5 {
		t.Fatalf("items after a re-sync = %v: the salt must stay", got)
	}
}

// TestBlockedParentIsReadForItsChildren: a blocked table whose breakout
// child is written is read but not written; blocked with its child too, it
// is not requested at all.
func TestBlockedParentIsReadForItsChildren(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{"items": {Enabled: on(false)}}}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got := h.db.Rows("items"); len(got) != 0 {
		t.Fatalf("items has %d rows; a blocked table is not written", len(got))
	}
	if got := liveRows(h, "item_tags"); len(got) != 10 {
		t.Fatalf("item_tags = %v, want 10 rows read through the blocked parent", got)
	}
	// Deletes still reach the children: an item gone from the source takes
	// its tags at the next full import.
	h.api.mu.Lock()
	h.api.items = h.api.items[1:]
	h.api.mu.Unlock()
	h.eng.ReimportEvery = map[string]time.Duration{"items": time.Minute}
	h.now = t0.Add(time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got := liveRows(h, "item_tags"); len(got) != 8 || slices.Contains(got, "i0a") {
		t.Fatalf("item_tags after i0 left = %v, want the 8 tags of the others", got)
	}

	h = newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{
		"items": {Enabled: on(false)}, "item_tags": {Enabled: on(false)}}}
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if reqs := h.api.takeRequests(); slices.ContainsFunc(reqs, func(u string) bool { return strings.HasPrefix(u, "/items") }) {
		t.Fatalf("requests %v: a blocked table without written children is never requested", reqs)
	}
	if len(sum.Tables) != 0 {
		t.Fatalf("tables synced: %+v, want none", sum.Tables)
	}
}

// TestSettingProblems: keys cannot be blocked, a parent key is hashed only
// with its parent's key, names must exist.
func TestSettingProblems(t *testing.T) {
	s := &runtime.Settings{SchemaChange: "ALLOW_SOME", Tables: map[string]runtime.TableSettings{
		"items":     {Columns: map[string]runtime.ColumnSettings{"id": {Enabled: on(false)}, "nmae": {}}},
		"item_tags": {History: true, Columns: map[string]runtime.ColumnSettings{"item_id": {Hashed: true}}},
		"parts":     {Columns: map[string]runtime.ColumnSettings{"item_id": {Enabled: on(false)}}},
		"nope":      {},
	}}
	var got []string
	for _, p := range s.Problems(registry) {
		got = append(got, p.Error())
	}
	want := []string{
		`schema_change_handling: unknown policy "ALLOW_SOME"; want one of ALLOW_ALL, ALLOW_COLUMNS, BLOCK_ALL`,
		"item_tags: a child table follows its parent's history mode; set history on items",
		"item_tags.item_id: a parent key column is hashed when its parent's key is: hash items.id instead",
		"items.id: cannot be blocked: it is part of the primary key of items",
		"items.nmae: no such column; did you mean name?",
		"nope: no such table; `oktasync tables` lists them",
		"parts.item_id: cannot be blocked: it is part of the primary key of parts",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	h := newHarness(t)
	h.eng.Settings = s
	if _, err := h.sync(); err == nil || !strings.Contains(err.Error(), "items.id: cannot be blocked") {
		t.Fatalf("sync with bad settings: %v", err)
	}
}

// TestResync: a re-sync reads the table whole although its cursor says
// nothing changed, rows gone from the source end deleted only when it
// completes, and it resumes after a failure.
func TestResync(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.api.mu.Lock()
	h.api.items = h.api.items[1:] // i0 is gone; no cursor moves
	for i := 5; i < 11; i++ {
		h.api.items = append(h.api.items, &item{id: fmt.Sprintf("i%d", i), name: fmt.Sprintf("item %d", i), updated: t0.Add(-time.Hour)})
	}
	h.api.mu.Unlock()
	h.now = t0.Add(time.Hour)
	h.eng.Resync = []string{"item_tags"} // a child re-syncs its table
	// Between batches every row is still there: the sweep waits for the end
	// of the re-import.
	batches := 0
	h.eng.Progress = func(r runtime.TableReport) {
		if r.Status != runtime.StatusRunning || r.Deleted {
			return
		}
		batches++
		if got := liveRows(h, "items"); !slices.Contains(got, "i0item 0") {
			t.Errorf("after batch %d: items = %v, want i0 until the re-sync completes", batches, got)
		}
	}
	commits := 0
	h.db.FailCommit = func(b *runtime.Batch) error {
		if commits++; commits == 4 {
			return fmt.Errorf("injected crash")
		}
		return nil
	}
	if _, err := h.sync(); err == nil {
		t.Fatal("the injected crash must fail the sync")
	}
	if st, _ := h.db.State(context.Background()); st["items"].Resync == "" {
		t.Fatalf("state after an interrupted re-sync: %+v, want it still asked for", st["items"])
	}
	h.db.FailCommit = nil
	h.eng.Progress = nil
	if batches < 2 {
		t.Fatalf("%d batches before the crash; the test needs several", batches)
	}
	h.eng.Resync = nil
	h.now = t0.Add(2 * time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Resync != "re-sync requested" || r.Mode != "resume" {
		t.Fatalf("items after the crash: mode %s, resync %q; want the re-sync resumed", r.Mode, r.Resync)
	}
	if got := liveRows(h, "items"); len(got) != 10 || slices.Contains(got, "i0item 0") {
		t.Fatalf("items = %v, want i0 deleted by the completed re-sync", got)
	}
	if st, _ := h.db.State(context.Background()); st["items"].Resync != "" {
		t.Fatalf("state after the re-sync: %+v, want it done", st["items"])
	}
	h.now = t0.Add(3 * time.Hour)
	sum, err = h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Mode != "incremental" || r.Resync != "" {
		t.Fatalf("the sync after a re-sync: mode %s, resync %q; want incremental", r.Mode, r.Resync)
	}
}

// TestHashingChangeRebuilds: hashing a column of a synced table rebuilds
// it, so plain and hashed values never sit side by side.
func TestHashingChangeRebuilds(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.eng.Settings = &runtime.Settings{Salt: "pepper", Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"id": {Hashed: true}}}}}
	h.now = t0.Add(time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Resync != "hashing changed" {
		t.Fatalf("items: resync %q, want hashing changed", r.Resync)
	}
	for _, name := range []string{"items", "item_tags"} {
		for _, r := range h.db.Rows(name) {
			if id, _ := r.Values[0].(string); len(id) != 64 {
				t.Fatalf("%s still holds %v after hashing its key", name, r.Values)
			}
		}
	}
	if !slices.ContainsFunc(sum.SchemaChanges, func(c runtime.SchemaChange) bool {
		return c.Table == "items" && c.Decision == "re-import"
	}) {
		t.Fatalf("schema changes %+v: want the re-import recorded", sum.SchemaChanges)
	}
	if got := h.db.Rows(runtime.SchemaChangesTable.Name); len(got) == 0 {
		t.Fatal("no schema change recorded in the destination")
	}
}

// A table with dynamic columns: every key of "attrs" is a column.
var (
	gadgets = &runtime.Table{
		Name:       "gadgets",
		Request:    &runtime.Request{Path: "/gadgets", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
		Dynamic:    []runtime.DynamicColumns{{Path: "attrs", Prefix: "attr_", Type: runtime.TypeString}},
	}
	gadgetRegistry = &runtime.Registry{Tables: []*runtime.Table{gadgets}}
)

type dynRow struct {
	rowOf
	dyn []runtime.Field
}

func (r *dynRow) DynamicFields() []runtime.Field { return r.dyn }

func init() {
	gadgets.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		r := &dynRow{rowOf: rowOf{[]any{rec.Get("id").String()}}}
		rec.Get("attrs").ForEach(func(k, v gjson.Result) bool {
			r.dyn = append(r.dyn, runtime.Field{Name: e.DynamicName("attr_", k.String()), Value: v.String()})
			return true
		})
		e.Emit(gadgets, r)
	}
}

type gadgetFetcher struct{ body *string }

func (f gadgetFetcher) Get(_ context.Context, _, _, url string) (*fetch.Page, error) {
	return &fetch.Page{URL: url, Status: 200, Body: []byte(*f.body)}, nil
}

// TestSchemaChangePolicy: a dynamic column that appears after the first
// sync is added or kept out as the policy says, once, and recorded; the
// decision stays when the policy changes, until a setting enables it.
func TestSchemaChangePolicy(t *testing.T) {
	for _, tc := range []struct {
		policy runtime.SchemaChangePolicy
		added  bool
	}{{runtime.AllowAll, true}, {runtime.AllowColumns, true}, {runtime.BlockAll, false}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			body := `[{"id":"g1","attrs":{"color":"red"}}]`
			h := newHarness(t)
			h.eng.Registry = gadgetRegistry
			h.eng.Fetcher = gadgetFetcher{&body}
			h.eng.Settings = &runtime.Settings{SchemaChange: tc.policy}
			if _, err := h.sync(); err != nil {
				t.Fatal(err)
			}
			body = `[{"id":"g1","attrs":{"color":"blue","size":"L"}}]`
			h.now = t0.Add(time.Hour)
			sum, err := h.sync()
			if err != nil {
				t.Fatal(err)
			}
			row := h.db.Rows("gadgets")[0]
			if _, has := row.Dynamic["attr_size"]; has != tc.added || row.Dynamic["attr_color"] != "blue" {
				t.Fatalf("row %v: attr_size written %v, want %v", row.Dynamic, has, tc.added)
			}
			decision := "added"
			if !tc.added {
				decision = "not added"
			}
			if i := slices.IndexFunc(sum.SchemaChanges, func(c runtime.SchemaChange) bool { return c.Column == "attr_size" }); i < 0 || sum.SchemaChanges[i].Decision != decision {
				t.Fatalf("schema changes %+v: want attr_size %s", sum.SchemaChanges, decision)
			}
			// The decision stays: a third sync records nothing new, even under
			// another policy.
			h.eng.Settings = &runtime.Settings{SchemaChange: runtime.AllowAll}
			h.now = t0.Add(2 * time.Hour)
			if sum, err = h.sync(); err != nil {
				t.Fatal(err)
			}
			if len(sum.SchemaChanges) != 0 {
				t.Fatalf("third sync recorded %+v, want nothing new", sum.SchemaChanges)
			}
			row = h.db.Rows("gadgets")[0]
			if _, has := row.Dynamic["attr_size"]; has != tc.added {
				t.Fatalf("third sync: attr_size written %v, want %v", has, tc.added)
			}
			// A setting enables it.
			h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{
				"gadgets": {Columns: map[string]runtime.ColumnSettings{"attr_size": {Enabled: on(true)}}}}}
			h.now = t0.Add(3 * time.Hour)
			if _, err = h.sync(); err != nil {
				t.Fatal(err)
			}
			if row = h.db.Rows("gadgets")[0]; row.Dynamic["attr_size"] != "L" {
				t.Fatalf("enabled: row %v, want attr_size L", row.Dynamic)
			}
		})
	}
}

// TestNewTablePolicy: a table that appears after the first sync is synced
// under ALLOW_ALL only, unless a setting enables it.
func TestNewTablePolicy(t *testing.T) {
	for _, policy := range runtime.Policies {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t)
			h.eng.Settings = &runtime.Settings{SchemaChange: policy}
			h.eng.Registry = &runtime.Registry{Tables: []*runtime.Table{items}}
			if _, err := h.sync(); err != nil {
				t.Fatal(err)
			}
			h.eng.Registry = &runtime.Registry{Tables: []*runtime.Table{items, events}}
			h.now = t0.Add(time.Hour)
			sum, err := h.sync()
			if err != nil {
				t.Fatal(err)
			}
			synced := report(sum, "events").Status == runtime.StatusOK
			if synced != (policy == runtime.AllowAll) {
				t.Fatalf("events synced %v under %s", synced, policy)
			}
			h.eng.Settings.Tables = map[string]runtime.TableSettings{"events": {Enabled: on(true)}}
			h.now = t0.Add(2 * time.Hour)
			if sum, err = h.sync(); err != nil {
				t.Fatal(err)
			}
			if report(sum, "events").Status != runtime.StatusOK {
				t.Fatalf("events enabled explicitly: %+v", report(sum, "events"))
			}
		})
	}
}

// TestUnblockedColumnIsFilled: a column the destination lacks (new in a
// spec, or unblocked) makes the next sync re-import the table, so every row
// gets it.
func TestUnblockedColumnIsFilled(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"name": {Enabled: on(false)}}}}}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.eng.Settings = nil
	h.now = t0.Add(time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if r := report(sum, "items"); r.Mode != "full" || !strings.Contains(r.Resync, "items.name added") {
		t.Fatalf("items: mode %s, resync %q; want a re-import for the new column", r.Mode, r.Resync)
	}
	for _, r := range h.db.Rows("items") {
		if len(r.Values) != 2 || r.Values[1] == nil {
			t.Fatalf("row %v: name not filled", r.Values)
		}
	}
}

// An unpivoted table: one row per key of "props".
var (
	boxes = &runtime.Table{
		Name:       "boxes",
		Request:    &runtime.Request{Path: "/boxes", Bucket: "default"},
		Pagination: runtime.Pagination{Kind: runtime.PaginationNone},
		Deletes:    runtime.Deletes{Kind: runtime.DeletesFullReimport},
		PrimaryKey: []string{"id"},
		Columns:    []runtime.Column{{Name: "id", Type: runtime.TypeString, Source: "id"}},
	}
	boxProps = &runtime.Table{
		Name: "box_props", ParentKey: []string{"box_id"}, PrimaryKey: []string{"box_id", "name"},
		Columns: []runtime.Column{{Name: "box_id", Type: runtime.TypeString, Source: "parent.id"},
			{Name: "name", Type: runtime.TypeString, Source: "key"}, {Name: "value", Type: runtime.TypeString, Source: "element"}},
		Breakout: &runtime.Breakout{Kind: runtime.BreakoutObjectKeys, Path: "props"},
	}
	boxRegistry = &runtime.Registry{Tables: []*runtime.Table{boxes}}
)

func init() {
	boxes.Children, boxProps.Parent = []*runtime.Table{boxProps}, boxes
	boxes.Extract = func(rec, _ gjson.Result, e *runtime.Emitter) {
		id := rec.Get("id").String()
		e.Emit(boxes, &rowOf{[]any{id}})
		rec.Get("props").ForEach(func(k, v gjson.Result) bool {
			e.Emit(boxProps, &rowOf{[]any{id, k.String(), v.String()}})
			return true
		})
	}
}

// TestUnpivotedKeys: the keys of an unpivoted table are its columns in all
// but form: a setting blocks or hashes one, and one that appears after the
// first sync is a schema change the policy decides.
func TestUnpivotedKeys(t *testing.T) {
	body := `[{"id":"t1","props":{"color":"red","ssn":"123-45"}}]`
	h := newHarness(t)
	h.eng.Registry = boxRegistry
	h.eng.Fetcher = gadgetFetcher{&body}
	h.eng.Settings = &runtime.Settings{SchemaChange: runtime.BlockAll, Salt: "pepper", Tables: map[string]runtime.TableSettings{
		"box_props": {Columns: map[string]runtime.ColumnSettings{"ssn": {Hashed: true}, "secret": {Enabled: on(false)}}}}}
	if problems := h.eng.Settings.Problems(boxRegistry); len(problems) > 0 {
		t.Fatalf("keys of an unpivoted table are valid column settings: %v", problems)
	}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	want := []string{"t1colorred", "t1ssn" + hmacHex("pepper", "123-45")}
	if got := liveRows(h, "box_props"); !slices.Equal(got, want) {
		t.Fatalf("box_props = %v, want %v", got, want)
	}
	body = `[{"id":"t1","props":{"color":"red","ssn":"123-45","secret":"x","size":"L"}}]`
	h.now = t0.Add(time.Hour)
	sum, err := h.sync()
	if err != nil {
		t.Fatal(err)
	}
	if got := liveRows(h, "box_props"); !slices.Equal(got, want) {
		t.Fatalf("box_props = %v, want %v: secret is blocked, size new under BLOCK_ALL", got, want)
	}
	if len(sum.SchemaChanges) != 1 || sum.SchemaChanges[0].Column != "size" || sum.SchemaChanges[0].Decision != "not added" {
		t.Fatalf("schema changes %+v: want size not added", sum.SchemaChanges)
	}
	h.eng.Settings.SchemaChange = runtime.AllowAll
	h.now = t0.Add(2 * time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	if got := liveRows(h, "box_props"); slices.Contains(got, "t1sizeL") {
		t.Fatalf("box_props = %v: a key kept out stays out until a setting enables it", got)
	}
}

// TestSaltChangeRefused: a salt from outside is checked against the one the
// destination's hashes were made with.
func TestSaltChangeRefused(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Salt: "pepper", Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"name": {Hashed: true}}}}}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.now = t0.Add(time.Hour)
	if _, err := h.sync(); err != nil {
		t.Fatalf("the same salt again: %v", err)
	}
	h.eng.Settings.Salt = "paprika"
	_, err := h.sync()
	if err == nil || !strings.Contains(err.Error(), "not the one") {
		t.Fatalf("another salt: %v, want the sync refused", err)
	}
	if strings.Contains(err.Error(), "paprika") || strings.Contains(err.Error(), "pepper") {
		t.Fatalf("the error shows a salt: %v", err)
	}
	// Dropping the salt setting would make the destination a salt of its own.
	h.eng.Settings.Salt = ""
	if _, err := h.sync(); err == nil || !strings.Contains(err.Error(), "none is given") {
		t.Fatalf("no salt after one from outside: %v, want the sync refused", err)
	}
}

// TestSaltGivenAfterMadeRefused: a salt given after the destination made its
// own would hash differently from the rows written before.
func TestSaltGivenAfterMadeRefused(t *testing.T) {
	h := newHarness(t)
	h.eng.Select = func(n string) bool { return n == "items" }
	h.eng.Settings = &runtime.Settings{Tables: map[string]runtime.TableSettings{
		"items": {Columns: map[string]runtime.ColumnSettings{"name": {Hashed: true}}}}}
	if _, err := h.sync(); err != nil {
		t.Fatal(err)
	}
	h.now = t0.Add(time.Hour)
	h.eng.Settings.Salt = "pepper"
	if _, err := h.sync(); err == nil || !strings.Contains(err.Error(), "made itself") {
		t.Fatalf("a salt given after one was made: %v, want the sync refused", err)
	}
}
