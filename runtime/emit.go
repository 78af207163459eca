package runtime

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"oktasync/naming"
)

// Row is a generated row struct.
type Row interface {
	// AppendValues appends the row's column values in Table.Columns order as
	// driver values: nil for NULL, else string, int32, int64, float64, bool or
	// time.Time.
	AppendValues(dst []any) []any
}

// DynamicRow is a row that also carries dynamic columns.
type DynamicRow interface {
	Row
	DynamicFields() []Field
}

// Field is one dynamic column value; Name is the full column name and Value
// a driver value of the type the table's DynamicColumns declare.
type Field struct {
	Name  string
	Value any
}

// Sink receives rows as the extractors make them. It must consume the row
// before returning: generated code reuses nothing, but the row's fields may
// alias the page buffer.
type Sink interface {
	Row(t *Table, r Row)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(t *Table, r Row)

func (f SinkFunc) Row(t *Table, r Row) { f(t, r) }

// ExtractStats counts what extraction did.
type ExtractStats struct {
	Rows    int64 // rows emitted, children included
	Invalid int64 // values that could not be converted to their column's type and became NULL
}

// Emitter carries extracted rows to a Sink. It is not safe for concurrent
// use: give each worker its own.
type Emitter struct {
	Sink  Sink
	Stats ExtractStats

	// Skip, when set, tells the columns no destination writes: an extractor
	// leaves costly values of those unread (see Writes).
	Skip func(t *Table, column int) bool

	dynamicNames map[[2]string]string
	block        []byte // see keep
}

// Writes tells whether the column at that position of t is written. The
// generated extractors ask it before copying a whole record into a column
// (`value: record`): a blocked copy would cost nothing in the destination
// but its bytes would stay in memory as long as the batch, sharing keep's
// blocks with the values that are written.
func (e *Emitter) Writes(t *Table, column int) bool {
	return e.Skip == nil || !e.Skip(t, column)
}

// NewEmitter returns an Emitter writing to sink.
func NewEmitter(sink Sink) *Emitter { return &Emitter{Sink: sink} }

// Emit hands one row to the sink.
func (e *Emitter) Emit(t *Table, r Row) {
	e.Stats.Rows++
	e.Sink.Row(t, r)
}

// DynamicName is the column name of a dynamic key: prefix + snake_case(key).
// Names are cached because the same few keys recur on every record.
func (e *Emitter) DynamicName(prefix, key string) string {
	k := [2]string{prefix, key}
	if n, ok := e.dynamicNames[k]; ok {
		return n
	}
	if e.dynamicNames == nil {
		e.dynamicNames = make(map[[2]string]string)
	}
	n := prefix + naming.Snake(key)
	// The key is a substring of its page: a copy keeps the cache from
	// pinning the page.
	e.dynamicNames[[2]string{prefix, strings.Clone(key)}] = n
	return n
}

// keepBlock is the size of the blocks keep cuts copies from.
const keepBlock = 32 << 10

// keep copies a value out of the page it was read from. gjson's values are
// substrings of the page's text, so a row holding one would keep the whole
// page alive until its batch is written; copies cut from a shared block
// keep only the values' bytes, with one allocation per block. A block is
// only ever appended to, so the bytes behind a returned string never change.
func (e *Emitter) keep(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) > keepBlock/8:
		return strings.Clone(s)
	}
	if cap(e.block)-len(e.block) < len(s) {
		e.block = make([]byte, 0, keepBlock)
	}
	at := len(e.block)
	e.block = append(e.block, s...)
	return unsafe.String(&e.block[at], len(s))
}

// RowHash derives a surrogate key from a row's values, so a re-sync of the
// same row yields the same key. The recipe, kept stable on purpose: the values
// in column order (the hash column itself NULL) are written as a JSON array
// (NULL as null, timestamps as RFC 3339 with milliseconds in UTC, NaN and
// infinities as strings), and the key is the standard Base64 of the SHA-1 of
// that text: 28 characters, the shape of Fivetran's _fivetran_id.
func RowHash(values []any) string {
	buf := make([]byte, 0, 256)
	buf = append(buf, '[')
	for i, v := range values {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch x := v.(type) {
		case nil:
			buf = append(buf, "null"...)
		case string:
			b, _ := json.Marshal(x)
			buf = append(buf, b...)
		case int32:
			buf = strconv.AppendInt(buf, int64(x), 10)
		case int64:
			buf = strconv.AppendInt(buf, x, 10)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				buf = strconv.AppendQuote(buf, strconv.FormatFloat(x, 'g', -1, 64))
			} else {
				buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
			}
		case bool:
			buf = strconv.AppendBool(buf, x)
		case time.Time:
			buf = strconv.AppendQuote(buf, x.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		default:
			b, _ := json.Marshal(x)
			buf = append(buf, b...)
		}
	}
	buf = append(buf, ']')
	sum := sha1.Sum(buf)
	return base64.StdEncoding.EncodeToString(sum[:])
}
