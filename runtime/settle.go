package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// settled is a sync's plan once its settings met the destination: the
// views its tables are written through, what each table's run must do
// first (re-import, rebuild), and the schema changes that made it so.
type settled struct {
	vs     *views
	policy SchemaChangePolicy
	salt   string
	// run lists the views of the top-level and fan-out tables the sync
	// reads; refused the reports of those it refuses to run.
	run     []*Table
	refused []TableReport
	// saves are state updates committed before anything is prepared, so
	// that what they ask for survives a crash before the tables' runs.
	saves []*Batch
	// known holds, per view table, the dynamic columns the destination has
	// (lower-cased); the policy decides on the others as they appear.
	known map[*Table]map[string]bool
	// fresh holds the view tables the destination does not have yet: their
	// first sync takes every dynamic column without asking the policy.
	fresh map[*Table]bool

	mu      sync.Mutex
	changes []SchemaChange
}

// stateful reports whether a table has been written before: a sync of it
// committed something.
func stateful(st TableState) bool {
	return !st.LastSynced.IsZero() || !st.LastFullImport.IsZero() || st.Cursor != "" || st.ParentCursor != "" || st.Pending != nil
}

// settle plans the sync: it resolves the settings, applies the
// schema-change policy to tables new since the first sync, and finds what
// changed since the tables were last written (columns to fill, hashing,
// history mode, re-syncs asked for).
func (e *Engine) settle(ctx context.Context, states map[string]TableState, cols map[string][]string, started time.Time) (*settled, error) {
	if problems := e.Settings.Problems(e.Registry); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("settings: %w", errors.Join(errs...))
	}
	s := &settled{vs: e.Settings.resolve(e.Registry), policy: AllowAll, known: map[*Table]map[string]bool{}, fresh: map[*Table]bool{}}
	if e.Settings != nil && e.Settings.SchemaChange != "" {
		s.policy = e.Settings.SchemaChange
	}
	first := true
	for _, t := range e.Registry.Tables {
		if stateful(states[t.Name]) {
			first = false
		}
	}
	explicit := func(name string) bool {
		if e.Settings == nil {
			return false
		}
		en := e.Settings.Tables[name].Enabled
		return en != nil && *en
	}
	newStates := map[string]TableState{}
	stateOf := func(owner string) TableState {
		if st, ok := newStates[owner]; ok {
			return st
		}
		st := states[owner]
		st.KeptOut = slices.Clone(st.KeptOut)
		return st
	}
	var changes []SchemaChange
	note := func(owner string, c SchemaChange) {
		c.At = started
		changes = append(changes, c)
		if _, ok := newStates[owner]; !ok {
			newStates[owner] = stateOf(owner)
		}
	}

	// Tables new since the first sync: the policy decides once, and the
	// decision stays until a setting enables the table.
	for _, v := range s.vs.order {
		owner := v.owner.src.Name
		st := stateOf(owner)
		if !v.written || (e.Select != nil && !e.Select(owner)) {
			continue
		}
		kept := slices.Contains(st.KeptOut, v.src.Name)
		switch {
		case kept && explicit(v.src.Name):
			st.KeptOut = slices.DeleteFunc(st.KeptOut, func(n string) bool { return n == v.src.Name })
			newStates[owner] = st
			note(owner, SchemaChange{Table: v.src.Name, Decision: "table added", Reason: "enabled in the settings"})
		case kept:
			v.written = false
		case first || cols[strings.ToLower(v.src.Name)] != nil:
		case s.policy != AllowAll && !explicit(v.src.Name):
			v.written = false
			st.KeptOut = append(st.KeptOut, v.src.Name)
			newStates[owner] = st
			note(owner, SchemaChange{Table: v.src.Name, Decision: "table not added",
				Reason: "new table; schema_change_handling is " + string(s.policy)})
		default:
			note(owner, SchemaChange{Table: v.src.Name, Decision: "table added", Reason: "new table"})
		}
	}
	s.vs.link()

	resync := map[string]string{}
	for _, name := range e.Resync {
		if name == "*" {
			for _, t := range s.vs.reg.Tables {
				resync[t.Name] = "re-sync requested"
			}
			continue
		}
		t := e.Registry.Lookup(name)
		if t == nil {
			return nil, fmt.Errorf("re-sync: no table %q", name)
		}
		resync[s.vs.of(t).owner.src.Name] = "re-sync requested"
	}

	for _, t := range s.vs.reg.Tables {
		if e.Select != nil && !e.Select(t.Name) {
			continue
		}
		owner := s.vs.byName[t.Name]
		st := stateOf(t.Name)
		before := states[t.Name]
		written := stateful(before)
		reason := resync[t.Name]
		for _, v := range s.vs.order {
			if v.owner != owner || !v.written && !v.t.Blocked {
				continue
			}
			have := map[string]bool{}
			for _, c := range cols[strings.ToLower(v.t.Name)] {
				have[strings.ToLower(c)] = true
			}
			known := map[string]bool{}
			for c := range have {
				if _, ok := v.t.DynamicType(c); ok {
					known[c] = true
				}
			}
			s.known[v.t] = known
			if len(have) == 0 {
				s.fresh[v.t] = true
			}
			if !v.written || len(have) == 0 {
				continue
			}
			// Columns blocked since they were written leave the destination.
			for _, c := range v.src.Columns {
				if have[strings.ToLower(c.Name)] && !slices.ContainsFunc(v.t.Columns, func(w Column) bool { return w.Name == c.Name }) {
					v.t.Drop = append(v.t.Drop, c.Name)
				}
			}
			for _, name := range sortedKeys(v.dynamic) {
				if !v.dynamic[name] && have[strings.ToLower(name)] {
					v.t.Drop = append(v.t.Drop, name)
				}
			}
			for _, c := range v.t.Drop {
				note(t.Name, SchemaChange{Table: v.t.Name, Column: c, Decision: "dropped", Reason: "blocked in the settings"})
			}
			// Columns the table lacks (new in the spec, or unblocked): a
			// re-import fills them for every row.
			for _, c := range v.t.Columns {
				if have[strings.ToLower(c.Name)] {
					continue
				}
				note(t.Name, SchemaChange{Table: v.t.Name, Column: c.Name, Type: c.Type.String(), Decision: "added",
					Reason: "new to the table; a re-import fills it"})
				if written && reason == "" {
					reason = "column " + v.t.Name + "." + c.Name + " added"
				}
			}
		}
		hashed := s.vs.hashedNames(owner)
		if written && !slices.Equal(hashed, before.Hashed) {
			if reason == "" || reason == resync[t.Name] {
				reason = "hashing changed"
			}
			st.Rebuild = true
			note(t.Name, SchemaChange{Table: t.Name, Decision: "re-import", Reason: "hashing changed: the table is rebuilt"})
		}
		st.Hashed = hashed
		switch {
		case before.History && !t.History && resync[t.Name] == "":
			s.refused = append(s.refused, TableReport{Table: t.Name, Status: StatusFailed,
				Reason: "history mode is on in the destination and off in the settings: turning it off keeps only " +
					"the latest version of each row, so it needs a re-sync of the table (or history on again)",
				Err: errors.New("history mode cannot be turned off without a re-sync")})
			continue
		case before.History != t.History && len(cols[strings.ToLower(t.Name)]) > 0:
			d := "history mode off"
			if t.History {
				d = "history mode on"
			}
			note(t.Name, SchemaChange{Table: t.Name, Decision: d, Reason: "set in the settings"})
		}
		st.History = t.History
		if reason != "" && reason != before.Resync {
			st.Resync = reason
			note(t.Name, SchemaChange{Table: t.Name, Decision: "re-import", Reason: reason})
		}
		// History mode is saved ahead only for a table written before: it is
		// what refuses to turn history off without a re-sync.
		if st.Resync != before.Resync || st.Rebuild != before.Rebuild || written && st.History != before.History {
			newStates[t.Name] = st
		}
		s.run = append(s.run, t)
	}

	for _, name := range sortedKeys(newStates) {
		st := newStates[name]
		b := &Batch{Table: e.Registry.Lookup(name), Synced: started, Rows: map[*Table]*RowSet{}, State: st}
		if v := s.vs.byName[name]; v != nil {
			b.Table = v.t
		}
		for _, c := range changes {
			if s.vs.byName[c.Table] != nil && s.vs.byName[c.Table].owner.src.Name == name {
				addChange(b, c)
			}
		}
		s.saves = append(s.saves, b)
	}
	s.changes = changes

	if len(s.vs.hashedAll()) > 0 {
		salt, err := e.salt(ctx)
		if err != nil {
			return nil, err
		}
		s.salt = salt
	}
	return s, nil
}

// addChange puts a schema change's row into a batch.
func addChange(b *Batch, c SchemaChange) {
	rs := b.Rows[SchemaChangesTable]
	if rs == nil {
		rs = &RowSet{}
		b.Rows[SchemaChangesTable] = rs
	}
	rs.Rows = append(rs.Rows, []any{c.At, c.Table, c.Column, c.Type, c.Decision, c.Reason})
}

// record notes a schema change made while a table runs.
func (s *settled) record(c SchemaChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes = append(s.changes, c)
}

// salt is the key of hashed columns: the settings', else the
// destination's, made on first use.
func (e *Engine) salt(ctx context.Context) (string, error) {
	if e.Settings != nil && e.Settings.Salt != "" {
		// A salt from outside is checked against the one the destination's
		// hashes were made with, by a hash of a constant kept there: another
		// salt would hash every value differently, and hashed keys written
		// before would no longer join or match.
		salt := e.Settings.Salt
		check := NewHasher(salt).Hash(saltCheckText).(string)
		have, ok, err := e.Dest.Value(ctx, SaltCheckKey)
		switch {
		case err != nil:
			return "", fmt.Errorf("read the hashing salt's check: %w", err)
		case !ok:
			if made, ok, err := e.Dest.Value(ctx, SaltKey); err != nil {
				return "", fmt.Errorf("read the hashing salt: %w", err)
			} else if ok && made != salt {
				return "", errors.New("this destination's columns were hashed with a salt it made itself, not the one given: " +
					"new hashes would not match the old ones; drop the salt setting, or start a new destination")
			}
			if err := e.Dest.SetValue(ctx, SaltCheckKey, check); err != nil {
				return "", fmt.Errorf("save the hashing salt's check: %w", err)
			}
		case have != check:
			return "", errors.New("the hashing salt is not the one this destination's columns were hashed with: " +
				"new hashes would not match the old ones; give the same salt, or start a new destination")
		}
		return salt, nil
	}
	if _, given, err := e.Dest.Value(ctx, SaltCheckKey); err != nil {
		return "", fmt.Errorf("read the hashing salt's check: %w", err)
	} else if given {
		return "", errors.New("this destination's columns were hashed with a salt given from outside, and none is given now: " +
			"give the same salt again, or start a new destination")
	}
	salt, ok, err := e.Dest.Value(ctx, SaltKey)
	if err != nil {
		return "", fmt.Errorf("read the hashing salt: %w", err)
	}
	if ok && salt != "" {
		return salt, nil
	}
	if salt, err = NewSalt(); err != nil {
		return "", fmt.Errorf("make a hashing salt: %w", err)
	}
	if err := e.Dest.SetValue(ctx, SaltKey, salt); err != nil {
		return "", fmt.Errorf("save the hashing salt: %w", err)
	}
	return salt, nil
}

// hashedAll lists every hashed column of every view.
func (vs *views) hashedAll() []string {
	var out []string
	for _, v := range vs.order {
		if v.owner == v {
			out = append(out, vs.hashedNames(v)...)
		}
	}
	return out
}
