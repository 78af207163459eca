package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"oktasync/internal/pgtest"
	"oktasync/runtime/dest/desttest"
)

func TestConformance(t *testing.T) {
	dsn := pgtest.DSN(t)
	var mu sync.Mutex
	schemas := map[string]string{}
	desttest.Run(t, func(t *testing.T, dir string, crash func(string) error) desttest.Destination {
		// The suite reopens a destination by its directory: one schema each.
		mu.Lock()
		schema, ok := schemas[dir]
		if !ok {
			sum := sha256.Sum256([]byte(dir))
			schema = "desttest_" + hex.EncodeToString(sum[:6])
			schemas[dir] = schema
			t.Cleanup(func() { pgtest.Exec(t, dsn, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`) })
		}
		mu.Unlock()
		d, err := Open(context.Background(), dsn, Options{Schema: schema, CrashPoint: crash})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}
