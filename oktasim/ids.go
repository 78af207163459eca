package oktasim

import (
	"encoding/hex"
	"strings"
)

// mix64 is the splitmix64 finalizer: a fast, well-distributed 64-bit hash step.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hash3 derives a value from three inputs; every procedural attribute of the org
// is a function of (seed, kind, index, field) so pages can be rendered on demand.
func hash3(a, b, c uint64) uint64 {
	return mix64(a ^ mix64(b+0x9e3779b97f4a7c15^mix64(c+0x632be59bd9b4e019)))
}

// rng is a splitmix64 stream; seeded per object so attributes are independent of
// the order in which objects are rendered.
type rng struct{ s uint64 }

func newRng(a, b, c uint64) *rng { return &rng{s: hash3(a, b, c)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); n <= 0 yields 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// Invertible 64-bit permutation (murmur3 fmix64) used to turn an object index into
// a random-looking id that can be decoded back to the index without a lookup table.
const (
	fmixC1 = 0xff51afd7ed558ccd
	fmixC2 = 0xc4ceb9fe1a85ec53
)

var (
	fmixC1Inv = modInverse(fmixC1)
	fmixC2Inv = modInverse(fmixC2)
)

func modInverse(a uint64) uint64 {
	x := a // Newton iteration for the inverse modulo 2^64; a must be odd
	for range 6 {
		x *= 2 - a*x
	}
	return x
}

func fmix(x uint64) uint64 {
	x ^= x >> 33
	x *= fmixC1
	x ^= x >> 33
	x *= fmixC2
	x ^= x >> 33
	return x
}

func fmixInv(x uint64) uint64 {
	x ^= x >> 33 // a right shift by >= 32 xor is its own inverse
	x *= fmixC2Inv
	x ^= x >> 33
	x *= fmixC1Inv
	x ^= x >> 33
	return x
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var base62Val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base62) {
		t[base62[i]] = int8(i)
	}
	return t
}()

// kind identifies an object family; each has its own Okta id prefix and its own
// permutation key so ids of different families never collide.
type kind uint8

const (
	kUser kind = iota + 1
	kGroup
	kApp
	kDevice
	kGroupRule
	kUserType
	kPolicy
	kPolicyRule
	kMapping
	kIdP
	kZone
	kAPIToken
	kCustomRole
	kResourceSet
	kResource
	kRoleAssignStd
	kRoleAssignCustom
	kFactorSMS
	kFactorEmail
	kFactorPush
	kFactorTOTP
	kFactorQuestion
	kFactorWebAuthn
	kEnrollEmail
	kEnrollPhone
	kEnrollApp
	kEnrollPassword
	kEnrollQuestion
	kInlineHook
	kOrg
	kAuthServer
	kSession
)

var kindPrefix = map[kind]string{
	kUser: "00u", kGroup: "00g", kApp: "0oa", kDevice: "guo", kGroupRule: "0pr",
	kUserType: "oty", kPolicy: "00p", kPolicyRule: "0pr", kMapping: "prm", kIdP: "0oa",
	kZone: "nzo", kAPIToken: "00T", kCustomRole: "cr0", kResourceSet: "iam", kResource: "ire",
	kRoleAssignStd: "ra1", kRoleAssignCustom: "irb", kFactorSMS: "mbl", kFactorEmail: "emf",
	kFactorPush: "opf", kFactorTOTP: "ost", kFactorQuestion: "ufs", kFactorWebAuthn: "fwf",
	kEnrollEmail: "eae", kEnrollPhone: "sms", kEnrollApp: "pfd", kEnrollPassword: "lae",
	kEnrollQuestion: "qae", kInlineHook: "cal", kOrg: "00o", kAuthServer: "aus", kSession: "102",
}

// idCodec builds and parses the 20-character Okta ids of one org:
// 3-char prefix + 11 base62 chars of a keyed permutation of the index + 3 check
// chars + a 3-char org suffix (real ids end in a per-cell suffix such as "4x6").
type idCodec struct {
	seed   uint64
	suffix string
}

func newIDCodec(seed uint64) idCodec {
	h := hash3(seed, 0x1d, 0)
	s := []byte{base62[h%10], base62[36+(h>>8)%26], base62[(h>>16)%10]}
	return idCodec{seed: seed, suffix: string(s)}
}

func (c idCodec) key(k kind) uint64 { return hash3(c.seed, 0x1d, uint64(k)) }

func (c idCodec) appendID(b []byte, k kind, idx int) []byte {
	v := fmix(uint64(idx) ^ c.key(k))
	b = append(b, kindPrefix[k]...)
	var tmp [11]byte
	x := v
	for i := 10; i >= 0; i-- {
		tmp[i] = base62[x%62]
		x /= 62
	}
	b = append(b, tmp[:]...)
	chk := mix64(v ^ uint64(k))
	b = append(b, base62[chk%62], base62[(chk>>8)%62], base62[(chk>>16)%62])
	return append(b, c.suffix...)
}

func (c idCodec) id(k kind, idx int) string {
	var buf [20]byte
	return string(c.appendID(buf[:0], k, idx))
}

// parse returns the index encoded in id for kind k, or -1 when id is not a
// well-formed id of this org and kind.
func (c idCodec) parse(k kind, id string) int {
	p := kindPrefix[k]
	if len(id) != 20 || !strings.HasPrefix(id, p) || id[17:] != c.suffix {
		return -1
	}
	var v uint64
	for i := 3; i < 14; i++ {
		d := base62Val[id[i]]
		if d < 0 {
			return -1
		}
		hi, lo := mulAdd62(v, uint64(d))
		if hi {
			return -1
		}
		v = lo
	}
	idx := fmixInv(v) ^ c.key(k)
	if idx > 1<<31 {
		return -1
	}
	if c.id(k, int(idx)) != id {
		return -1
	}
	return int(idx)
}

// mulAdd62 computes v*62+d reporting overflow.
func mulAdd62(v, d uint64) (overflow bool, r uint64) {
	if v > (^uint64(0)-d)/62 {
		return true, 0
	}
	return false, v*62 + d
}

// hexID returns n hex characters derived from the inputs (request ids).
func hexID(a, b, c uint64, n int) string {
	var raw [32]byte
	for i := 0; i < len(raw); i += 8 {
		h := hash3(a, b, c+uint64(i))
		for j := range 8 {
			raw[i+j] = byte(h >> (8 * j))
		}
	}
	s := hex.EncodeToString(raw[:])
	return s[:n]
}

const base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64id returns n base64url characters derived from the inputs (errorIds, sessions).
func b64id(a, b, c uint64, n int) string {
	out := make([]byte, n)
	h := hash3(a, b, c)
	for i := range n {
		if i%10 == 0 && i > 0 {
			h = hash3(a, b, c+uint64(i))
		}
		out[i] = base64url[h&63]
		h >>= 6
	}
	return string(out)
}

// appendUUID writes a version-4 style UUID derived from the inputs.
func appendUUID(b []byte, a, k, c uint64) []byte {
	h1, h2 := hash3(a, k, c), hash3(a, k+1, c)
	var raw [16]byte
	for i := range 8 {
		raw[i] = byte(h1 >> (8 * i))
		raw[8+i] = byte(h2 >> (8 * i))
	}
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	for i, x := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hx[x>>4], hx[x&15])
	}
	return b
}
