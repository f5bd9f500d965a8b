package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/educacao-continuada/content-transfer/internal/integrity"
)

// Backup is the configuration shared by the backup commands and by the
// schedule of serve.
type Backup struct {
	// URL is the database backed up: BACKUP_DATABASE_URL, else DATABASE_URL.
	// It must be a direct connection (Supabase's port 5432), not the transaction
	// pooler: pg_dump holds one session for the whole dump.
	URL string
	// Dest is a directory or s3://bucket/prefix (BACKUP_DEST, -dest).
	Dest string
	// Keep is how many backups to keep (BACKUP_KEEP, -keep); 0 keeps all.
	Keep int
	// Scope is what is backed up (BACKUP_SCHEMAS, -schemas, -all-schemas).
	Scope integrity.Scope
}

// Defaults of the backup routine.
const (
	DefaultBackupDest     = "./backups"
	DefaultBackupKeep     = 4
	DefaultBackupSchemas  = "public"
	DefaultBackupTimeZone = "America/Sao_Paulo"
)

// backupFlags registers the flags of Backup on fs, each prefixed with prefix
// ("" for the backup commands, "backup-" for serve); finish reads them back.
func backupFlags(fs *flag.FlagSet, e *envReader, b *Backup, prefix string) (finish func(getenv Getenv) error) {
	destFlag(fs, e, &b.Dest, prefix)
	fs.IntVar(&b.Keep, prefix+"keep", e.integer("BACKUP_KEEP", DefaultBackupKeep), "backups to keep after a new one is verified; 0 keeps all (env BACKUP_KEEP)")
	scope := scopeFlags(fs, e, prefix)
	return func(getenv Getenv) error {
		b.URL = getenv("BACKUP_DATABASE_URL")
		if b.URL == "" {
			b.URL = getenv("DATABASE_URL")
		}
		var err error
		if b.Scope, err = scope(); err != nil {
			return err
		}
		if b.Keep < 0 {
			return errors.New(prefix + "keep must not be negative")
		}
		if b.Dest == "" {
			return errors.New(prefix + "dest must not be empty")
		}
		return nil
	}
}

func destFlag(fs *flag.FlagSet, e *envReader, dest *string, prefix string) {
	fs.StringVar(dest, prefix+"dest", e.str("BACKUP_DEST", DefaultBackupDest), "where backups are kept: a directory, or s3://bucket/prefix (env BACKUP_DEST)")
}

// scopeFlags registers -schemas and -all-schemas; scope reads them back.
func scopeFlags(fs *flag.FlagSet, e *envReader, prefix string) (scope func() (integrity.Scope, error)) {
	schemas := fs.String(prefix+"schemas", e.str("BACKUP_SCHEMAS", DefaultBackupSchemas), "comma-separated schemas to back up and count (env BACKUP_SCHEMAS)")
	all := fs.Bool(prefix+"all-schemas", e.boolean("BACKUP_ALL_SCHEMAS", false), "every schema, for a self-hosted database: a Supabase project's own schemas do not restore into another project (env BACKUP_ALL_SCHEMAS)")
	return func() (integrity.Scope, error) {
		if *all {
			return integrity.Scope{All: true}, nil
		}
		s := integrity.Scope{Schemas: splitList(*schemas)}
		if len(s.Schemas) == 0 {
			return s, errors.New(prefix + "schemas must name at least one schema, or use -" + prefix + "all-schemas")
		}
		return s, nil
	}
}

// directBackupSource refuses to back up through a transaction pooler: pg_dump
// holds one session for the whole dump.
func directBackupSource(getenv Getenv) error {
	if getenv("BACKUP_DATABASE_URL") != "" {
		return nil
	}
	return notThroughTransactionPooler(getenv("DATABASE_URL"), getenv, "a backup", "BACKUP_DATABASE_URL")
}

func requireURL(b *Backup, getenv Getenv) error {
	if b.URL == "" {
		return errors.New("DATABASE_URL (or BACKUP_DATABASE_URL) is required: the direct connection string of the database")
	}
	return directBackupSource(getenv)
}

// BackupRun is `contentd backup`.
type BackupRun struct {
	Backup
}

// LoadBackupRun parses `contentd backup [flags]`.
func LoadBackupRun(args []string, getenv Getenv) (*BackupRun, error) {
	c := &BackupRun{}
	fs, e := newFlagSet("backup", getenv)
	finish := backupFlags(fs, e, &c.Backup, "")
	setUsage(fs, "backup [flags]", "Takes a backup now: pg_dump of the database into the destination, verified, with its manifest;\n"+
		"then deletes the oldest beyond -keep. Prints the backup's name. Subcommands: 'backup list', 'backup verify'.", backupEnv)
	if _, err := parse(fs, e, args, 0); err != nil {
		return nil, err
	}
	if err := finish(getenv); err != nil {
		return nil, err
	}
	return c, requireURL(&c.Backup, getenv)
}

// BackupList is `contentd backup list`.
type BackupList struct {
	Backup
	JSON bool
}

// LoadBackupList parses `contentd backup list [-json]`.
func LoadBackupList(args []string, getenv Getenv) (*BackupList, error) {
	c := &BackupList{}
	fs, e := newFlagSet("backup list", getenv)
	destFlag(fs, e, &c.Dest, "")
	fs.BoolVar(&c.JSON, "json", false, "print the manifests as JSON")
	setUsage(fs, "backup list [-json]", "Lists the backups at the destination, newest first.", "")
	if _, err := parse(fs, e, args, 0); err != nil {
		return nil, err
	}
	return c, nil
}

// BackupVerify is `contentd backup verify`.
type BackupVerify struct {
	Backup
	// Name is the backup to verify; empty with Latest.
	Name   string
	Latest bool
	// TestRestore is a server to restore into a scratch database, or empty.
	TestRestore string
}

// LoadBackupVerify parses `contentd backup verify NAME|FILE|-latest [-test-restore URL]`.
func LoadBackupVerify(args []string, getenv Getenv) (*BackupVerify, error) {
	c := &BackupVerify{}
	fs, e := newFlagSet("backup verify", getenv)
	destFlag(fs, e, &c.Dest, "")
	fs.BoolVar(&c.Latest, "latest", false, "verify the newest backup")
	testRestore := fs.String("test-restore", "", "also restore into a scratch database created on this server (dropped afterwards) and compare the counts; "+urlFlagHelp)
	setUsage(fs, "backup verify NAME|FILE|-latest [flags]", "Checks a backup: the dump's SHA-256 and size against its manifest, then a full read by pg_restore.\n"+
		"NAME is backup-YYYYMMDD-HHMMSS at the destination; FILE a .dump with its manifest beside it.", "")
	pos, err := parse(fs, e, args, 1)
	if err != nil {
		return nil, err
	}
	if c.TestRestore, err = resolveURL("test-restore", *testRestore, getenv); err != nil {
		return nil, err
	}
	if (len(pos) == 1) == c.Latest {
		return nil, errors.New("name one backup, or -latest")
	}
	if len(pos) == 1 {
		c.Dest, c.Name = locate(c.Dest, pos[0])
	}
	return c, nil
}

// Restore is `contentd restore`.
type Restore struct {
	Backup
	Name   string
	Target string
	Clean  bool
}

// LoadRestore parses `contentd restore NAME|FILE -target-url URL [-clean]`.
func LoadRestore(args []string, getenv Getenv) (*Restore, error) {
	c := &Restore{}
	fs, e := newFlagSet("restore", getenv)
	destFlag(fs, e, &c.Dest, "")
	target := fs.String("target-url", "", "the database to restore into (required); "+urlFlagHelp)
	fs.BoolVar(&c.Clean, "clean", false, "allow a target that already holds tables of the backup's schemas: they are dropped and recreated")
	setUsage(fs, "restore NAME|FILE -target-url URL [flags]", "Restores a backup: checks the dump against its manifest, pg_restore --clean --if-exists --no-owner --no-acl\n"+
		"in one transaction, this service's migrations, then the integrity check against the manifest's counts\n"+
		"(exit status 1 when they differ). Refuses the database of DATABASE_URL, and a target holding data without -clean.", "")
	pos, err := parse(fs, e, args, 1)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, errors.New("name the backup to restore (backup-YYYYMMDD-HHMMSS, or its .dump file)")
	}
	c.Dest, c.Name = locate(c.Dest, pos[0])
	if c.Target, err = resolveURL("target-url", *target, getenv); err != nil {
		return nil, err
	}
	if c.Target == "" {
		return nil, errors.New("-target-url is required: the database to restore into")
	}
	c.URL = getenv("DATABASE_URL") // the database that must never be the target
	return c, nil
}

// Integrity is `contentd integrity`.
type Integrity struct {
	URL   string
	Scope integrity.Scope
	JSON  bool
	// Compare is another database to compare with; Manifest a backup manifest.
	Compare  string
	Manifest string
}

// LoadIntegrity parses `contentd integrity [-json] [-compare URL | -manifest FILE]`.
func LoadIntegrity(args []string, getenv Getenv) (*Integrity, error) {
	c := &Integrity{}
	fs, e := newFlagSet("integrity", getenv)
	scope := scopeFlags(fs, e, "")
	fs.BoolVar(&c.JSON, "json", false, "print JSON")
	compare := fs.String("compare", "", "compare with another database; "+urlFlagHelp)
	fs.StringVar(&c.Manifest, "manifest", "", "compare with the counts of a backup's manifest (a .manifest.json file)")
	setUsage(fs, "integrity [flags]", "Counts the rows of every table (courses, modules, lessons, quizzes, users and certificates first),\n"+
		"checks every foreign key for rows whose parent is gone, and shows the migration version. With -compare\n"+
		"or -manifest, prints both side by side and exits 1 on any difference.", "")
	if _, err := parse(fs, e, args, 0); err != nil {
		return nil, err
	}
	var err error
	if c.Scope, err = scope(); err != nil {
		return nil, err
	}
	if c.Compare, err = resolveURL("compare", *compare, getenv); err != nil {
		return nil, err
	}
	if c.Compare != "" && c.Manifest != "" {
		return nil, errors.New("use -compare or -manifest, not both")
	}
	c.URL = getenv("DATABASE_URL")
	if c.URL == "" {
		return nil, errors.New("DATABASE_URL is required (a PostgreSQL connection string)")
	}
	return c, nil
}

// Migrate is `contentd migrate`.
type Migrate struct {
	Database Database
	// BackupFirst takes a backup before applying pending migrations
	// (-backup-first, MIGRATE_BACKUP_FIRST).
	BackupFirst bool
	Backup      Backup
}

// LoadMigrate parses `contentd migrate [-backup-first]`.
func LoadMigrate(args []string, getenv Getenv) (*Migrate, error) {
	c := &Migrate{}
	fs, e := newFlagSet("migrate", getenv)
	finish := backupFlags(fs, e, &c.Backup, "")
	fs.BoolVar(&c.BackupFirst, "backup-first", e.boolean("MIGRATE_BACKUP_FIRST", false), "when migrations are pending, take a backup first (env MIGRATE_BACKUP_FIRST)")
	setUsage(fs, "migrate [flags]", "Applies pending database migrations, each in its own transaction; with -backup-first, after a\n"+
		"verified backup (the -dest, -keep and -schemas flags are the backup's).", "")
	if _, err := parse(fs, e, args, 0); err != nil {
		return nil, err
	}
	if err := finish(getenv); err != nil {
		return nil, err
	}
	db, err := loadDatabase(getenv, 2)
	if err != nil {
		return nil, err
	}
	if err := notThroughTransactionPooler(db.URL, getenv, "migrate", ""); err != nil {
		return nil, err
	}
	c.Database = db
	return c, nil
}

// ReleaseCheck is `contentd release-check`.
type ReleaseCheck struct {
	Backup
	Staging string
	Courses []string
	// Environment is written into the exported files (ENVIRONMENT).
	Environment string
}

// LoadReleaseCheck parses `contentd release-check -staging-url URL [-courses ID,...]`.
func LoadReleaseCheck(args []string, getenv Getenv) (*ReleaseCheck, error) {
	c := &ReleaseCheck{}
	fs, e := newFlagSet("release-check", getenv)
	finish := backupFlags(fs, e, &c.Backup, "")
	staging := fs.String("staging-url", "", "the staging database the backup is test-restored into; its data is replaced (required); "+urlFlagHelp)
	courses := fs.String("courses", "", "comma-separated ids of the courses to export (default: every published course)")
	fs.StringVar(&c.Environment, "environment", e.str("ENVIRONMENT", "local"), "label written into exported files (env ENVIRONMENT)")
	setUsage(fs, "release-check -staging-url URL [flags]", "The pre-release checklist of backup-e-restore.md as one command: a verified backup; the courses\n"+
		"exported as JSON files next to it; free space at the destination (twice the backup); a restore of the\n"+
		"backup into staging compared with its manifest. Prints the checklist in Portuguese; exit status 1 if an item failed.", backupEnv)
	if _, err := parse(fs, e, args, 0); err != nil {
		return nil, err
	}
	if err := finish(getenv); err != nil {
		return nil, err
	}
	var err error
	if c.Staging, err = resolveURL("staging-url", *staging, getenv); err != nil {
		return nil, err
	}
	if c.Staging == "" {
		return nil, errors.New("-staging-url is required: the staging database to test the restore in")
	}
	c.Courses = splitList(*courses)
	return c, requireURL(&c.Backup, getenv)
}

const urlFlagHelp = "env:NAME reads the URL from the environment variable NAME, keeping the password out of the process list"

const backupEnv = `  BACKUP_DATABASE_URL	the direct connection to back up, when DATABASE_URL is the transaction pooler
  PG_BINDIR	where pg_dump and pg_restore are, before /usr/lib/postgresql/<major>/bin and PATH
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3	for an s3:// destination`

// resolveURL reads a URL flag: "env:NAME" stands for the variable NAME.
func resolveURL(flagName, v string, getenv Getenv) (string, error) {
	name, ok := strings.CutPrefix(v, "env:")
	if !ok {
		return v, nil
	}
	if u := getenv(name); u != "" {
		return u, nil
	}
	return "", fmt.Errorf("-%s env:%s: the environment variable %s is not set", flagName, name, name)
}

// locate splits a backup argument: a path (its folder becomes the
// destination), a file in the working directory, or a name at dest.
func locate(dest, arg string) (string, string) {
	if dir, file := filepath.Split(arg); dir != "" {
		return filepath.Clean(dir), file
	}
	if _, err := os.Stat(arg); err == nil {
		return ".", arg
	}
	return dest, arg
}

func newFlagSet(name string, getenv Getenv) (*flag.FlagSet, *envReader) {
	return flag.NewFlagSet("contentd "+name, flag.ContinueOnError), &envReader{getenv: getenv}
}

// parse parses flags given before or after at most maxArgs positional
// arguments, and returns those.
func parse(fs *flag.FlagSet, e *envReader, args []string, maxArgs int) ([]string, error) {
	if err := e.err(); err != nil {
		return nil, err
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > maxArgs {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(pos[maxArgs:], " "))
	}
	return pos, nil
}

func setUsage(fs *flag.FlagSet, synopsis, summary, env string) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: contentd %s\n\n%s\n\n", synopsis, summary)
		fmt.Fprintln(out, "Environment:\n  DATABASE_URL\tPostgreSQL connection string (environment only, never a flag)")
		if env != "" {
			fmt.Fprintln(out, env)
		}
		fmt.Fprintln(out, "\nFlags (each defaults to its environment variable):")
		fs.PrintDefaults()
	}
}
