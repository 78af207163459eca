// Package pgtest gives tests the throwaway PostgreSQL server that
// scripts/with-postgres starts (make test runs every test beside one).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable scripts/with-postgres sets to its server.
const EnvDSN = "OKTASYNC_TEST_PG_DSN"

// DSN returns the test server's DSN. Without one the test skips, saying how
// to get one, except in CI (CI=true), where the Postgres tests must run.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		msg := "no PostgreSQL for this test: " + EnvDSN + " is unset; run make test, which starts one (scripts/with-postgres)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; in CI the Postgres tests must run")
		}
		t.Skip(msg)
	}
	return dsn
}

// Schema returns a new schema name, dropped with everything in it when the
// test ends.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	dsn := DSN(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	t.Cleanup(func() { Exec(t, dsn, `DROP SCHEMA IF EXISTS "`+name+`" CASCADE`) })
	return name
}

// Exec runs SQL statements on the test server as its superuser.
func Exec(t testing.TB, dsn string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("pgtest: %s: %v", q, err)
		}
	}
}
