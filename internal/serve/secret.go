package serve

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SecretEnv holds the key that seals the credentials sent to the API.
const SecretEnv = "OKTASYNC_SERVE_SECRET"

// errSecretUnset: credentials cannot be kept without a key to seal them.
var errSecretUnset = errors.New(SecretEnv + " is not set: the service seals credentials with it; " +
	"set it to 32 random bytes in base64 (openssl rand -base64 32) and restart the service")

// sealKey parses the sealing key: 32 bytes in standard or URL base64.
func sealKey(env string) ([]byte, error) {
	if env == "" {
		return nil, errSecretUnset
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(strings.TrimSpace(env)); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New(SecretEnv + " must be 32 bytes in base64 (openssl rand -base64 32); the value is not shown")
}

// Credentials are what PUT /v1/connection/credentials takes: an API token,
// or an OAuth service app's client ID and private key.
type Credentials struct {
	Token      string   `json:"token,omitempty"`
	ClientID   string   `json:"client_id,omitempty"`
	PrivateKey string   `json:"private_key,omitempty"`
	KeyID      string   `json:"key_id,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
}

// Kind is token or oauth.
func (c Credentials) Kind() string {
	if c.Token != "" {
		return "token"
	}
	return "oauth"
}

// SealedSecret is credentials sealed with AES-256-GCM: only their kind and
// when they were set are readable.
type SealedSecret struct {
	Kind      string    `json:"kind"`
	UpdatedAt time.Time `json:"updated_at"`
	Nonce     string    `json:"nonce"`
	Sealed    string    `json:"sealed"`
}

func seal(key []byte, c Credentials, now time.Time) (*SealedSecret, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	// The kind is bound as additional data: swapping it fails to open.
	out := aead.Seal(nil, nonce, plain, []byte(c.Kind()))
	return &SealedSecret{Kind: c.Kind(), UpdatedAt: now.UTC(), Nonce: base64.StdEncoding.EncodeToString(nonce),
		Sealed: base64.StdEncoding.EncodeToString(out)}, nil
}

func (s *SealedSecret) open(key []byte) (Credentials, error) {
	var c Credentials
	aead, err := newAEAD(key)
	if err != nil {
		return c, err
	}
	nonce, err1 := base64.StdEncoding.DecodeString(s.Nonce)
	sealed, err2 := base64.StdEncoding.DecodeString(s.Sealed)
	if err1 != nil || err2 != nil || len(nonce) != aead.NonceSize() {
		return c, errors.New("the state file's credentials are damaged; send them again (PUT /v1/connection/credentials)")
	}
	plain, err := aead.Open(nil, nonce, sealed, []byte(s.Kind))
	if err != nil {
		return c, errors.New("the state file's credentials do not open with " + SecretEnv +
			": the key changed since they were sent; restore it, or send the credentials again")
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("sealed credentials: %w", err)
	}
	return c, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// APIKey is an API key as the state file keeps it: its ID and the SHA-256
// of its secret part, never the key. A key is "oks_" + ID + "_" + secret;
// the secret has 256 bits, so a plain hash suffices (no password stretching).
type APIKey struct {
	ID       string    `json:"id"`
	Hash     string    `json:"sha256"`
	ReadOnly bool      `json:"read_only,omitempty"`
	Created  time.Time `json:"created"`
}

const keyPrefix = "oks_"

// newAPIKey makes a key; the caller shows the first value once and keeps
// the second.
func newAPIKey(readOnly bool, now time.Time) (string, APIKey, error) {
	id := make([]byte, 6)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return "", APIKey{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", APIKey{}, err
	}
	k := APIKey{ID: hex.EncodeToString(id), ReadOnly: readOnly, Created: now.UTC()}
	s := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(s))
	k.Hash = hex.EncodeToString(sum[:])
	return keyPrefix + k.ID + "_" + s, k, nil
}

// matchKey finds the key a bearer token is, comparing hashes in constant
// time; the ID only picks the candidate.
func matchKey(keys []APIKey, token string) (APIKey, bool) {
	rest, ok := strings.CutPrefix(token, keyPrefix)
	if !ok {
		return APIKey{}, false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok {
		return APIKey{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	got := hex.EncodeToString(sum[:])
	for _, k := range keys {
		if k.ID == id && subtle.ConstantTimeCompare([]byte(k.Hash), []byte(got)) == 1 {
			return k, true
		}
	}
	return APIKey{}, false
}

// CreateKey makes an API key, keeps its hash in the state file at path and
// returns the key, which is shown once and kept nowhere.
func CreateKey(path string, readOnly bool) (key, id string, err error) {
	st, err := openStore(path)
	if err != nil {
		return "", "", err
	}
	key, k, err := newAPIKey(readOnly, time.Now())
	if err != nil {
		return "", "", err
	}
	if err := st.update(func(s *StateFile) error { s.Keys = append(s.Keys, k); return nil }); err != nil {
		return "", "", err
	}
	return key, k.ID, nil
}

// RevokeKey removes the API key with the ID from the state file.
func RevokeKey(path, id string) error {
	st, err := openStore(path)
	if err != nil {
		return err
	}
	return st.update(func(s *StateFile) error {
		n := len(s.Keys)
		s.Keys = slices.DeleteFunc(s.Keys, func(k APIKey) bool { return k.ID == id })
		if len(s.Keys) == n {
			return fmt.Errorf("no API key %q in %s", id, path)
		}
		return nil
	})
}
