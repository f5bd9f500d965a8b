// Package pgcluster starts and stops throwaway PostgreSQL clusters (initdb +
// pg_ctl, as the postgres user when running as root, since initdb and postgres
// refuse root) for tests and benchmarks.
package pgcluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a running throwaway PostgreSQL cluster on 127.0.0.1.
type Cluster struct {
	dir    string
	bindir string
	port   int
}

// URL is the connection string of database db, as the superuser postgres.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Start creates and starts a cluster in a new temporary folder, with durability
// off (fsync, synchronous_commit, full_page_writes): it is for tests and benchmarks.
func Start() (*Cluster, error) {
	bindir, err := findBindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bindir: bindir}
	if err := c.init(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) init() error {
	if err := chownToPostgres(c.dir); err != nil {
		return err
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.pg("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		port, err := freePort()
		if err != nil {
			return err
		}
		c.port = port
		if lastErr = c.StartServer(); lastErr == nil {
			return nil
		}
		c.port = 0
	}
	return lastErr
}

// StartServer starts the cluster's server on its port: again, after StopServer.
func (c *Cluster) StartServer() error {
	data := filepath.Join(c.dir, "data")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", c.port, c.dir)
	out, err := c.pg("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return nil
}

// StopServer stops the server as an operator's restart does (pg_ctl -m fast:
// sessions are terminated, transactions rolled back), keeping the cluster.
func (c *Cluster) StopServer() error {
	if out, err := c.pg("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// ServerPID is the process id of the cluster's postmaster, from its
// postmaster.pid.
func (c *Cluster) ServerPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// Port is the TCP port the cluster listens on, at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Bindir is the folder of the server binaries (pgbench, psql, ...).
func (c *Cluster) Bindir() string { return c.bindir }

// Stop stops the cluster at once and removes its folder.
func (c *Cluster) Stop() {
	if c.port != 0 {
		_ = c.pg("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	}
	os.RemoveAll(c.dir)
}

// pg runs a PostgreSQL server binary, as the postgres user when we are root
// (initdb and postgres refuse to run as root).
func (c *Cluster) pg(name string, args ...string) *exec.Cmd {
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

// Bouncer is a PgBouncer in transaction mode in front of a cluster, as
// Supabase's pooler on port 6543 is.
type Bouncer struct {
	cluster *Cluster
	dir     string
	port    int
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has ended
}

// StartBouncer starts PgBouncer (pool_mode=transaction) in front of every
// database of the cluster, as the postgres user when we are root.
func (c *Cluster) StartBouncer() (*Bouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's, outside a user's PATH
		if _, err := os.Stat(bin); err != nil {
			return nil, errors.New("pgbouncer not found: apt-get install -y pgbouncer")
		}
	}
	dir := filepath.Join(c.dir, "pgbouncer")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if err := chownToPostgres(dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(`"postgres" ""`+"\n"), 0o644); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		ini := fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%d
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
max_db_connections = 40
server_lifetime = 60
server_idle_timeout = 10
server_login_retry = 1
ignore_startup_parameters = extra_float_digits,options
logfile = %s
`, c.port, port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "log"))
		conf := filepath.Join(dir, "pgbouncer.ini")
		if err := os.WriteFile(conf, []byte(ini), 0o644); err != nil {
			return nil, err
		}
		b := &Bouncer{cluster: c, dir: dir, port: port, done: make(chan struct{})}
		if os.Geteuid() == 0 {
			b.cmd = exec.Command("runuser", "-u", "postgres", "--", bin, conf)
		} else {
			b.cmd = exec.Command(bin, conf)
		}
		if err := b.cmd.Start(); err != nil {
			return nil, err
		}
		go func() {
			_ = b.cmd.Wait()
			close(b.done)
		}()
		err = waitListening(port, b.done)
		if err == nil {
			return b, nil
		}
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		lastErr = fmt.Errorf("pgbouncer: %w\n%s", err, log)
		b.Stop()
	}
	return nil, lastErr
}

// URL is the connection string of database db through the pooler.
func (b *Bouncer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.port, db)
}

// Port is the pooler's TCP port, at 127.0.0.1.
func (b *Bouncer) Port() int { return b.port }

// Stop stops the pooler at once (SIGTERM), closing its connections.
func (b *Bouncer) Stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// waitListening waits until something accepts connections on the port, or the
// process ends.
func waitListening(port int, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited at start")
		default:
		}
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not listening after 10s")
}
