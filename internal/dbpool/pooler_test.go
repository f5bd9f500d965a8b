package dbpool_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTheSuiteRunsWhereItSays checks the harness itself: with
// PGTEST_POOLER=pgbouncer the connections really go through a proxy (the server
// answers on another port than the one dialled), and without it they do not.
func TestTheSuiteRunsWhereItSays(t *testing.T) {
	raw := pgtest.NewDBURL(t)
	pool := pgtest.Open(t, raw)
	var serverPort int
	if err := pool.QueryRow(context.Background(), `SELECT inet_server_port()`).Scan(&serverPort); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	dialled, _ := strconv.Atoi(u.Port())
	proxied := dialled != serverPort
	if want := len(pgtest.PoolerEnv()) > 0; proxied != want {
		t.Errorf("dialled %d, server on %d: proxied = %v, want %v", dialled, serverPort, proxied, want)
	}
	// Parameterised statements, many times, on many connections: in the pool's
	// query mode they never meet a missing prepared statement.
	for i := range 200 {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT $1::int + 1`, i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
}
