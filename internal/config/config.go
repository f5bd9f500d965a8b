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
	"strings"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
)

// Database is the connection setting shared by every subcommand.
type Database struct {
	// URL is a PostgreSQL connection string (DATABASE_URL).
	URL string
	// MaxConns bounds the connection pool (DB_MAX_CONNS).
	MaxConns int32
	// Pooler is what sits in front of the database (DB_POOLER): behind a
	// transaction pooler the pool uses no named prepared statements.
	Pooler dbpool.Pooler
}

// Auth is how bearer tokens are checked.
type Auth struct {
	// JWTSecret is the Supabase project's JWT secret, for HS256 tokens
	// (SUPABASE_JWT_SECRET, environment only).
	JWTSecret string
	// JWKSURL is where the public keys of RS256/ES256 tokens are: an http(s) URL
	// or a file path (SUPABASE_JWKS_URL).
	JWKSURL      string
	Audience     string
	RoleClaim    string
	AllowedRoles []string
	Leeway       time.Duration
}

// minSecretLen is the shortest HS256 secret accepted; Supabase's are longer.
const minSecretLen = 32

// Serve is the configuration of `contentd serve`.
type Serve struct {
	Database          Database
	Auth              Auth
	RPCTimeout        time.Duration
	ImportTimeout     time.Duration
	GRPCAddr          string
	HTTPAddr          string
	Environment       string
	LogLevel          slog.Level
	MaxRequestBytes   int
	ShutdownTimeout   time.Duration
	ReadinessInterval time.Duration
	// BackupSchedule is a cron expression (BACKUP_SCHEDULE) read in
	// BackupTimeZone (BACKUP_TZ); empty means no scheduled backups.
	BackupSchedule string
	BackupTimeZone string
	Backup         Backup
	// CORSAllowedOrigins are the browser origins that may call the REST API
	// (CORS_ALLOWED_ORIGINS); none by default.
	CORSAllowedOrigins []string
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
	fs.DurationVar(&c.RPCTimeout, "rpc-timeout", e.duration("RPC_TIMEOUT", time.Minute), "server-side deadline of ListCourses and ExportCourse (env RPC_TIMEOUT)")
	fs.DurationVar(&c.ImportTimeout, "import-timeout", e.duration("IMPORT_TIMEOUT", 5*time.Minute), "server-side deadline of AnalyzeImport and ApplyImport (env IMPORT_TIMEOUT)")
	fs.StringVar(&c.Auth.JWKSURL, "jwks-url", e.str("SUPABASE_JWKS_URL", ""), "JWKS of RS256/ES256 tokens: an http(s) URL or a file path (env SUPABASE_JWKS_URL)")
	fs.StringVar(&c.Auth.Audience, "auth-audience", e.str("AUTH_AUDIENCE", "authenticated"), "required token audience (env AUTH_AUDIENCE)")
	fs.StringVar(&c.Auth.RoleClaim, "auth-role-claim", e.str("AUTH_ROLE_CLAIM", "app_metadata.role"), "dotted path of the role claim (env AUTH_ROLE_CLAIM)")
	roles := fs.String("auth-allowed-roles", e.str("AUTH_ALLOWED_ROLES", "gestor,admin"), "comma-separated roles that may use the service (env AUTH_ALLOWED_ROLES)")
	fs.DurationVar(&c.Auth.Leeway, "auth-leeway", e.duration("AUTH_LEEWAY", 30*time.Second), "clock skew tolerated in exp and nbf (env AUTH_LEEWAY)")
	fs.StringVar(&c.BackupSchedule, "backup-schedule", e.str("BACKUP_SCHEDULE", ""), `when to take backups, a cron expression ("0 3 * * 0": Sundays at 03:00); none when empty (env BACKUP_SCHEDULE)`)
	fs.StringVar(&c.BackupTimeZone, "backup-tz", e.str("BACKUP_TZ", DefaultBackupTimeZone), "time zone of the backup schedule (env BACKUP_TZ)")
	finishBackup := backupFlags(fs, e, &c.Backup, "backup-")
	origins := fs.String("cors-allowed-origins", e.str("CORS_ALLOWED_ORIGINS", ""), "comma-separated origins whose pages may call the REST API from a browser, e.g. https://lms.example.com; none when empty (env CORS_ALLOWED_ORIGINS)")
	usage(fs, "serve", "Serves the transfer API over gRPC and REST. Every call but health and reflection needs a\nbearer token: set SUPABASE_JWT_SECRET (HS256), SUPABASE_JWKS_URL (RS256/ES256), or both.")
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
	if err := finishBackup(getenv); err != nil {
		return nil, err
	}
	if c.BackupSchedule != "" {
		if err := directBackupSource(getenv); err != nil {
			return nil, err
		}
	}
	c.Auth.JWTSecret = getenv("SUPABASE_JWT_SECRET")
	c.Auth.AllowedRoles = splitList(*roles)
	c.CORSAllowedOrigins = splitList(*origins)
	if err := c.Auth.check(); err != nil {
		return nil, err
	}
	if c.RPCTimeout <= 0 || c.ImportTimeout <= 0 {
		return nil, errors.New("rpc-timeout and import-timeout must be positive")
	}
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
	pooler, err := dbpool.ParsePooler(getenv("DB_POOLER"))
	if err != nil {
		return Database{}, err
	}
	return Database{URL: url, MaxConns: maxConns, Pooler: pooler}, nil
}

// notThroughTransactionPooler refuses DATABASE_URL for what needs one session
// from start to end (pg_dump, migrations) when it goes through a transaction
// pooler (DB_POOLER=transaction, or Supabase's port 6543); direct names the
// variable to set instead, if any.
func notThroughTransactionPooler(url string, getenv Getenv, what, direct string) error {
	if url == "" {
		return nil
	}
	pooler, err := dbpool.ParsePooler(getenv("DB_POOLER"))
	if err != nil {
		return err
	}
	if resolved, err := pooler.Resolve(url); err != nil || resolved != dbpool.Transaction {
		return nil //nolint:nilerr // a URL that does not parse is reported where it is opened
	}
	fix := "use the direct connection (port 5432) or the session pooler in DATABASE_URL"
	if direct != "" {
		fix = "set " + direct + " to the direct connection (port 5432) or the session pooler"
	}
	return fmt.Errorf("%s needs one database session from start to end, and DATABASE_URL goes through a transaction pooler (DB_POOLER=transaction or port %d): %s",
		what, dbpool.TransactionPoolerPort, fix)
}

func (a Auth) check() error {
	switch {
	case a.JWTSecret == "" && a.JWKSURL == "":
		return errors.New("no way to check tokens: set SUPABASE_JWT_SECRET, SUPABASE_JWKS_URL, or both (authentication cannot be turned off)")
	case a.JWTSecret != "" && len(a.JWTSecret) < minSecretLen:
		return fmt.Errorf("SUPABASE_JWT_SECRET is too short: at least %d characters", minSecretLen)
	case a.Audience == "" || a.RoleClaim == "" || len(a.AllowedRoles) == 0:
		return errors.New("auth-audience, auth-role-claim and auth-allowed-roles must not be empty")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// DevToken is the configuration of `contentd dev-token`.
type DevToken struct {
	Secret    string
	Subject   string
	Email     string
	Role      string
	RoleClaim string
	Audience  string
	TTL       time.Duration
}

// LoadDevToken parses the dev-token flags over the environment.
func LoadDevToken(args []string, getenv Getenv) (*DevToken, error) {
	fs := flag.NewFlagSet("contentd dev-token", flag.ContinueOnError)
	c := &DevToken{}
	e := &envReader{getenv: getenv}
	fs.StringVar(&c.Subject, "sub", "dev-gestor", "token subject (user id)")
	fs.StringVar(&c.Email, "email", "gestor@localhost", "token email")
	fs.StringVar(&c.Role, "role", "gestor", "role, written at the role claim")
	fs.StringVar(&c.RoleClaim, "role-claim", e.str("AUTH_ROLE_CLAIM", "app_metadata.role"), "dotted path of the role claim (env AUTH_ROLE_CLAIM)")
	fs.StringVar(&c.Audience, "audience", e.str("AUTH_AUDIENCE", "authenticated"), "token audience (env AUTH_AUDIENCE)")
	fs.DurationVar(&c.TTL, "ttl", 8*time.Hour, "validity")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "Usage: contentd dev-token [flags]\n\nPrints an HS256 token signed with SUPABASE_JWT_SECRET (environment only), for local use.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Secret = getenv("SUPABASE_JWT_SECRET")
	if len(c.Secret) < minSecretLen {
		return nil, fmt.Errorf("SUPABASE_JWT_SECRET must be set, at least %d characters", minSecretLen)
	}
	if c.TTL <= 0 {
		return nil, errors.New("ttl must be positive")
	}
	return c, nil
}

func usage(fs *flag.FlagSet, name, summary string) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: contentd %s [flags]\n\n%s\n\n", name, summary)
		fmt.Fprintln(out, "Environment:\n  DATABASE_URL\tPostgreSQL connection string (required; environment only, never a flag)")
		fmt.Fprintln(out, "  DB_POOLER\twhat DATABASE_URL goes through: transaction (Supabase's pooler, PgBouncer pool_mode=transaction:\n"+
			"\tno named prepared statements), session or none; by default transaction on port 6543, else none")
		if name == "serve" {
			fmt.Fprintln(out, "  SUPABASE_JWT_SECRET\tJWT secret of HS256 tokens (environment only, never a flag)")
		}
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

// Gen is the configuration of `contentd gen`.
type Gen struct {
	Shape coursegen.Shape
	Seed  uint64
	// Out is the file to write; "-" for standard output.
	Out string
}

// LoadGen parses the gen flags: a named size, then any count overridden.
func LoadGen(args []string) (*Gen, error) {
	fs := flag.NewFlagSet("contentd gen", flag.ContinueOnError)
	c := &Gen{}
	size := fs.String("size", "S", "named shape: S (typical), M (ten times S), L (very large) or XL (about 250 MiB)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed; the same seed and shape give the same file")
	fs.StringVar(&c.Out, "o", "-", "output file, - for standard output")
	counts := []struct {
		name, help string
		field      func(*coursegen.Shape) *int
	}{
		{"modules", "modules", func(s *coursegen.Shape) *int { return &s.Modules }},
		{"lessons", "lessons per module", func(s *coursegen.Shape) *int { return &s.LessonsPerModule }},
		{"quizzes", "quizzes, on modules and lessons", func(s *coursegen.Shape) *int { return &s.Quizzes }},
		{"questions", "questions per quiz", func(s *coursegen.Shape) *int { return &s.QuestionsPerQuiz }},
		{"options", "options per question", func(s *coursegen.Shape) *int { return &s.OptionsPerQuestion }},
		{"competencies", "competencies", func(s *coursegen.Shape) *int { return &s.Competencies }},
		{"bank", "bank questions per competency", func(s *coursegen.Shape) *int { return &s.BankPerCompetency }},
		{"bank-options", "options per bank question", func(s *coursegen.Shape) *int { return &s.BankOptions }},
		{"faq", "FAQ entries", func(s *coursegen.Shape) *int { return &s.FAQ }},
	}
	overrides := make([]*int, len(counts))
	for i, cnt := range counts {
		overrides[i] = fs.Int(cnt.name, -1, cnt.help+" (default: the size's)")
	}
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: contentd gen [-size S|M|L|XL] [-seed N] [-o FILE] [counts]\n\nWrites a valid transfer file of generated Portuguese content.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	shape, ok := coursegen.Sizes[strings.ToUpper(*size)]
	if !ok {
		return nil, fmt.Errorf("unknown size %q: use S, M or L", *size)
	}
	for i, cnt := range counts {
		if v := *overrides[i]; v >= 0 {
			*cnt.field(&shape) = v
		} else if v != -1 {
			return nil, fmt.Errorf("-%s must not be negative", cnt.name)
		}
	}
	c.Shape = shape
	return c, nil
}

func (e *envReader) boolean(name string, def bool) bool {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return b
}
