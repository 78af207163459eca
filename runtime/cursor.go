package runtime

import "github.com/tidwall/gjson"

// Fields lists the gjson paths of the values the cursor follows.
func (in *Incremental) Fields() []string {
	if len(in.CursorFields) > 0 {
		return in.CursorFields
	}
	if in.CursorField == "" {
		return nil
	}
	return []string{in.CursorField}
}

// recordCursor is a record's cursor value, in cursorValue's comparable form:
// the latest of its cursor fields ("" when it has none). A table filtered on
// several fields (`a gt "{cursor}" or b gt "{cursor}"`) must keep the latest
// over all of them, or each sync would read again every record whose other
// field moved past the cursor.
func recordCursor(rec gjson.Result, in *Incremental) string {
	if len(in.CursorFields) == 0 {
		return cursorValue(rec, in.CursorField)
	}
	c := ""
	for _, f := range in.CursorFields {
		c = maxString(c, cursorValue(rec, f))
	}
	return c
}
