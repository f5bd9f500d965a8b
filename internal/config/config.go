// Package config reads contentd's settings from environment variables, with
// command-line flags that override them. Secrets (DATABASE_URL) are read from the
// environment only, so that they never show in a process list.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Database is the connection setting shared by every subcommand.
type Database struct {
	// URL is a PostgreSQL connection string (DATABASE_URL).
	URL string
	// MaxConns bounds the connection pool (DB_MAX_CONNS).
	MaxConns int32
}

// Serve is the configuration of `contentd serve`.
type Serve struct {
	Database          Database
	GRPCAddr          string
	HTTPAddr          string
	Environment       string
	LogLevel          slog.Level
	MaxRequestBytes   int
	ShutdownTimeout   time.Duration
	ReadinessInterval time.Duration
}

// Getenv looks up an environment variable; os.Getenv in production.
type Getenv func(string) string

// ErrHelp is returned when -h or --help was asked for; the usage is already printed.
var ErrHelp = flag.ErrHelp

// LoadServe parses the serve flags in args over the environment.
func LoadServe(args []string, getenv Getenv) (*Serve, error) {
	fs := flag.NewFlagSet("contentd serve", flag.ContinueOnError)
	c := &Serve{}
	e := &envReader{getenv: getenv}
	fs.StringVar(&c.GRPCAddr, "grpc-addr", e.str("GRPC_ADDR", ":9090"), "gRPC listen address (env GRPC_ADDR)")
	fs.StringVar(&c.HTTPAddr, "http-addr", e.str("HTTP_ADDR", ":8080"), "REST gateway listen address (env HTTP_ADDR)")
	fs.StringVar(&c.Environment, "environment", e.str("ENVIRONMENT", "local"), "environment label written into exported files (env ENVIRONMENT)")
	fs.TextVar(&c.LogLevel, "log-level", e.level("LOG_LEVEL", slog.LevelInfo), "log level: debug, info, warn, error (env LOG_LEVEL)")
	fs.IntVar(&c.MaxRequestBytes, "max-request-bytes", e.integer("MAX_REQUEST_BYTES", 64<<20), "largest accepted request (an imported file), in bytes, over HTTP and gRPC (env MAX_REQUEST_BYTES)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", e.duration("SHUTDOWN_TIMEOUT", 20*time.Second), "graceful drain on SIGTERM/SIGINT (env SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.ReadinessInterval, "readiness-interval", e.duration("READINESS_INTERVAL", 5*time.Second), "how often gRPC health re-checks the database (env READINESS_INTERVAL)")
	maxConns := fs.Int("db-max-conns", e.integer("DB_MAX_CONNS", 10), "connection pool size (env DB_MAX_CONNS)")
	usage(fs, "serve", "Serves the transfer API over gRPC and REST.")
	if err := e.err(); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	db, err := loadDatabase(getenv, int32(*maxConns))
	if err != nil {
		return nil, err
	}
	c.Database = db
	if c.MaxRequestBytes <= 0 {
		return nil, errors.New("max-request-bytes must be positive")
	}
	if c.ReadinessInterval <= 0 {
		return nil, errors.New("readiness-interval must be positive")
	}
	return c, nil
}

// LoadDatabaseOnly parses the flags of a subcommand that needs only the database
// (migrate, seed-demo).
func LoadDatabaseOnly(name, summary string, args []string, getenv Getenv) (Database, error) {
	fs := flag.NewFlagSet("contentd "+name, flag.ContinueOnError)
	usage(fs, name, summary)
	if err := fs.Parse(args); err != nil {
		return Database{}, err
	}
	return loadDatabase(getenv, 2)
}

func loadDatabase(getenv Getenv, maxConns int32) (Database, error) {
	url := getenv("DATABASE_URL")
	if url == "" {
		return Database{}, errors.New("DATABASE_URL is required (a PostgreSQL connection string)")
	}
	if maxConns < 1 {
		return Database{}, errors.New("db-max-conns must be at least 1")
	}
	return Database{URL: url, MaxConns: maxConns}, nil
}

func usage(fs *flag.FlagSet, name, summary string) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: contentd %s [flags]\n\n%s\n\n", name, summary)
		fmt.Fprintln(out, "Environment:\n  DATABASE_URL\tPostgreSQL connection string (required; environment only, never a flag)")
		fmt.Fprintln(out, "\nFlags (each defaults to its environment variable):")
		fs.PrintDefaults()
	}
}

// envReader reads typed environment variables and remembers the first bad one.
type envReader struct {
	getenv Getenv
	bad    error
}

func (e *envReader) err() error { return e.bad }

func (e *envReader) fail(name, v string, err error) {
	if e.bad == nil {
		e.bad = fmt.Errorf("environment variable %s=%q: %w", name, v, err)
	}
}

func (e *envReader) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func (e *envReader) integer(name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return n
}

func (e *envReader) duration(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return d
}

func (e *envReader) level(name string, def slog.Level) *slog.Level {
	l := def
	if v := e.getenv(name); v != "" {
		if err := l.UnmarshalText([]byte(v)); err != nil {
			e.fail(name, v, err)
		}
	}
	return &l
}
