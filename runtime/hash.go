package runtime

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// SaltKey is the destination value (Destination.Value) holding the salt of
// hashed columns when the settings give none.
const SaltKey = "hash_salt"

// SaltCheckKey is the destination value holding the hash of saltCheckText
// under a salt given from outside (Settings.Salt): a sync with another salt
// is refused.
const SaltCheckKey = "hash_salt_check"

const saltCheckText = "oktasync salt check"

// NewSalt makes a random salt: 32 bytes, as hex.
func NewSalt() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Hasher hashes column values: HMAC-SHA-256 keyed by the salt over the
// value's text, as 64 lowercase hex digits. The text of a value is the
// same whatever table it is in (see ValueText), so equal values hash
// equal across tables and syncs, and hashed keys still join. NULL stays
// NULL. Not safe for concurrent use.
type Hasher struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// NewHasher returns a Hasher keyed by salt.
func NewHasher(salt string) *Hasher {
	return &Hasher{mac: hmac.New(sha256.New, []byte(salt))}
}

// Hash returns the hash of a driver value, nil for nil.
func (h *Hasher) Hash(v any) any {
	if v == nil {
		return nil
	}
	h.buf = AppendValueText(h.buf[:0], v)
	h.mac.Reset()
	h.mac.Write(h.buf)
	h.sum = h.mac.Sum(h.sum[:0])
	return hex.EncodeToString(h.sum)
}

// AppendValueText appends the text a driver value is hashed as: strings as
// they are, numbers in Go's shortest form, booleans as true or false,
// timestamps as RFC 3339 in UTC with milliseconds.
func AppendValueText(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return x.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	return fmt.Append(b, v)
}
