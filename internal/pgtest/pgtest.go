// Package pgtest runs tests against a real PostgreSQL: one throwaway cluster per
// test binary (initdb + pg_ctl, as the postgres user when running as root), a
// template database migrated once, and a fresh clone of it for every test.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and in a test:
//
//	pool := pgtest.NewDB(t)
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/migrations"
)

const templateDB = "pgtest_template"

var (
	current *cluster
	// cloneMu serialises CREATE DATABASE ... TEMPLATE, which fails while another
	// clone of the same template is in progress.
	cloneMu sync.Mutex
	seq     atomic.Int64
)

// Main starts the cluster, migrates the template, runs the tests and removes the
// cluster whatever happened.
func Main(m *testing.M) {
	c, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	current = c
	code := m.Run()
	c.stop()
	os.Exit(code)
}

// NewDB returns a pool on a fresh, migrated database that is dropped when the test ends.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDBURL(t))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewDBURL creates a fresh, migrated database and returns its connection string.
// The database is dropped when the test ends.
func NewDBURL(t testing.TB) string {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	cloneMu.Lock()
	_, err := current.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+templateDB)
	cloneMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := current.admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return current.url(name)
}

type cluster struct {
	dir    string
	bindir string
	port   int
	admin  *pgxpool.Pool
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func start() (*cluster, error) {
	bindir, err := findBindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, bindir: bindir}
	if err := c.init(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.migrateTemplate(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) init() error {
	if err := chownToPostgres(c.dir); err != nil {
		return err
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.pg("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		port, err := freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, c.dir)
		out, err := c.pg("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
		if err == nil {
			c.port = port
			return nil
		}
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		lastErr = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return lastErr
}

func (c *cluster) migrateTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	c.admin = admin
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	tmpl, err := pgxpool.New(ctx, c.url(templateDB))
	if err != nil {
		return err
	}
	defer tmpl.Close()
	if _, err := migrations.Up(ctx, tmpl); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func (c *cluster) stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.port != 0 {
		_ = c.pg("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	}
	os.RemoveAll(c.dir)
}

// pg runs a PostgreSQL server binary, as the postgres user when we are root
// (initdb and postgres refuse to run as root).
func (c *cluster) pg(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(c.bindir, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// findBindir finds the PostgreSQL server binaries: $PG_BINDIR, `pg_config
// --bindir`, or the newest /usr/lib/postgresql/*/bin.
func findBindir() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		return dir, nil
	}
	candidates := []string{}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(globbed) - 1; i >= 0; i-- {
		candidates = append(candidates, globbed[i])
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 or set PG_BINDIR")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
