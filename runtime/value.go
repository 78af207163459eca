package runtime

import (
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Nullable column values held by generated row structs. Any returns the value
// as a database/sql driver value, nil for NULL.

// String is a nullable text value (also used for JSON columns).
type String struct {
	V     string
	Valid bool
}

// Int32 is a nullable 32-bit integer.
type Int32 struct {
	V     int32
	Valid bool
}

// Int64 is a nullable 64-bit integer.
type Int64 struct {
	V     int64
	Valid bool
}

// Float64 is a nullable double.
type Float64 struct {
	V     float64
	Valid bool
}

// Bool is a nullable boolean.
type Bool struct {
	V     bool
	Valid bool
}

// Time is a nullable timestamp in UTC.
type Time struct {
	V     time.Time
	Valid bool
}

func (v String) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

func (v Int32) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

func (v Int64) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

func (v Float64) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

func (v Bool) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

func (v Time) Any() any {
	if !v.Valid {
		return nil
	}
	return v.V
}

// Str makes a valid String.
func Str(s string) String { return String{V: s, Valid: true} }

// Index makes the value of a breakout index column.
func Index(i int) Int32 { return Int32{V: int32(i), Valid: true} }

// Index64 makes the value of a bigint breakout index column.
func Index64(i int) Int64 { return Int64{V: int64(i), Valid: true} }

// The conversions below are methods of Emitter so that a value that cannot be
// converted is counted (ExtractStats.Invalid) on its way to NULL.

// String converts any JSON value to text: strings as they are, numbers and
// booleans as their JSON text, arrays and objects as raw JSON, null as NULL.
func (e *Emitter) String(v gjson.Result) String {
	switch v.Type {
	case gjson.Null:
		return String{}
	case gjson.String:
		return String{V: e.keep(v.Str), Valid: true}
	default:
		return String{V: e.keep(v.Raw), Valid: true}
	}
}

// JSON keeps the raw JSON of a value; a JSON null is NULL.
func (e *Emitter) JSON(v gjson.Result) String {
	if v.Type == gjson.Null {
		return String{}
	}
	return String{V: e.keep(v.Raw), Valid: true}
}

// Int64 accepts integral JSON numbers and numeric strings.
func (e *Emitter) Int64(v gjson.Result) Int64 {
	switch v.Type {
	case gjson.Null:
		return Int64{}
	case gjson.Number:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err == nil {
			return Int64{V: n, Valid: true}
		}
		if v.Num == float64(int64(v.Num)) {
			return Int64{V: int64(v.Num), Valid: true}
		}
	case gjson.String:
		if n, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err == nil {
			return Int64{V: n, Valid: true}
		}
	}
	e.Stats.Invalid++
	return Int64{}
}

// Int32 is Int64 with a range check.
func (e *Emitter) Int32(v gjson.Result) Int32 {
	n := e.Int64(v)
	if !n.Valid {
		return Int32{}
	}
	if n.V != int64(int32(n.V)) {
		e.Stats.Invalid++
		return Int32{}
	}
	return Int32{V: int32(n.V), Valid: true}
}

// Float64 accepts JSON numbers and numeric strings.
func (e *Emitter) Float64(v gjson.Result) Float64 {
	switch v.Type {
	case gjson.Null:
		return Float64{}
	case gjson.Number:
		return Float64{V: v.Num, Valid: true}
	case gjson.String:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64); err == nil {
			return Float64{V: f, Valid: true}
		}
	}
	e.Stats.Invalid++
	return Float64{}
}

// Bool accepts JSON booleans, "true"/"false" in any case, and 0/1.
func (e *Emitter) Bool(v gjson.Result) Bool {
	switch v.Type {
	case gjson.Null:
		return Bool{}
	case gjson.True:
		return Bool{V: true, Valid: true}
	case gjson.False:
		return Bool{V: false, Valid: true}
	case gjson.Number:
		switch v.Raw {
		case "0":
			return Bool{V: false, Valid: true}
		case "1":
			return Bool{V: true, Valid: true}
		}
	case gjson.String:
		if b, err := strconv.ParseBool(strings.TrimSpace(v.Str)); err == nil {
			return Bool{V: b, Valid: true}
		}
	}
	e.Stats.Invalid++
	return Bool{}
}

// Timestamp parses RFC 3339 text (the common "2006-01-02T15:04:05.000Z" form
// without allocating); impossible dates such as 31 September become NULL
// rather than being rolled over into the next month.
func (e *Emitter) Timestamp(v gjson.Result) Time {
	if v.Type == gjson.Null {
		return Time{}
	}
	if v.Type == gjson.String {
		if t, ok := ParseTimestamp(v.Str); ok {
			return Time{V: t, Valid: true}
		}
	}
	e.Stats.Invalid++
	return Time{}
}

// Value converts v to the driver value of a column of type t.
func (e *Emitter) Value(t ColumnType, v gjson.Result) any {
	switch t {
	case TypeInteger:
		return e.Int32(v).Any()
	case TypeBigint:
		return e.Int64(v).Any()
	case TypeDouble:
		return e.Float64(v).Any()
	case TypeBoolean:
		return e.Bool(v).Any()
	case TypeTimestamp:
		return e.Timestamp(v).Any()
	case TypeJSON:
		return e.JSON(v).Any()
	}
	return e.String(v).Any()
}

// ParseTimestamp parses an RFC 3339 timestamp and returns it in UTC.
func ParseTimestamp(s string) (time.Time, bool) {
	if t, ok := parseUTCMillis(s); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	// time.Parse rejects day-of-month overflow, so no roll-over can slip in.
	return t.UTC(), true
}

// parseUTCMillis is the fast path for YYYY-MM-DDTHH:MM:SS[.fff]Z.
func parseUTCMillis(s string) (time.Time, bool) {
	n := len(s)
	if n != 20 && n != 24 || s[n-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	ms := 0
	if n == 24 {
		if s[19] != '.' {
			return time.Time{}, false
		}
		var ok bool
		if ms, ok = digits(s[20:23]); !ok {
			return time.Time{}, false
		}
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
