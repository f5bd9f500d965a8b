package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
)

// ManifestVersion is the version of the manifest format this package writes.
const ManifestVersion = 1

// Manifest describes one backup; it is written beside the dump as
// <name>.manifest.json, and restores and verifications check the dump against it.
type Manifest struct {
	FormatVersion int    `json:"formatVersion"`
	Name          string `json:"name"`
	// File is the dump, <name>.dump, in pg_dump's custom format.
	File      string `json:"file"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"sizeBytes"`
	// CreatedAt is when the backup's snapshot was taken.
	CreatedAt       time.Time `json:"createdAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Trigger         Trigger   `json:"trigger"`
	// Database is the connection URL, without its password.
	Database        string          `json:"database"`
	ServerVersion   string          `json:"serverVersion"`
	PgDumpVersion   string          `json:"pgDumpVersion"`
	PgDumpMajor     int             `json:"pgDumpMajor"`
	ContentdVersion string          `json:"contentdVersion"`
	Scope           integrity.Scope `json:"scope"`
	// ExcludedTableData are tables whose rows the dump leaves out.
	ExcludedTableData []string `json:"excludedTableData,omitempty"`
	// Integrity holds the migration version and the row count of every table,
	// read in the very snapshot that was dumped.
	Integrity *integrity.Report `json:"integrity"`
}

// maxManifestBytes bounds what is read as a manifest.
const maxManifestBytes = 4 << 20

const (
	dumpSuffix     = ".dump"
	manifestSuffix = ".manifest.json"
	nameLayout     = "20060102-150405"
)

// nameRE matches this package's backup names: backup-YYYYMMDD-HHMMSS.
var nameRE = regexp.MustCompile(`^backup-(\d{8}-\d{6})$`)

// nameAt is the name of a backup taken at t: its UTC time to the second.
func nameAt(t time.Time) string { return "backup-" + t.UTC().Format(nameLayout) }

// stemOf returns the backup name a file belongs to ("backup-…" of
// "backup-….dump", "backup-….manifest.json" or any other "backup-….*"), or "".
func stemOf(file string) string {
	stem, _, _ := strings.Cut(file, ".")
	if !nameRE.MatchString(stem) {
		return ""
	}
	if _, err := time.Parse(nameLayout, strings.TrimPrefix(stem, "backup-")); err != nil {
		return ""
	}
	return stem
}

// NameOf turns what an operator types — a name, a dump or manifest file name —
// into a backup name.
func NameOf(arg string) (string, error) {
	base := arg[strings.LastIndex(arg, "/")+1:]
	name := stemOf(base)
	if name == "" || (base != name && base != name+dumpSuffix && base != name+manifestSuffix) {
		return "", &Error{Code: CodeNotFound, Err: fmt.Errorf("%q is not a backup name (backup-YYYYMMDD-HHMMSS, or its .dump file)", arg)}
	}
	return name, nil
}

func encodeManifest(m *Manifest) ([]byte, error) {
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ReadManifest reads the manifest of backup name.
func ReadManifest(ctx context.Context, dest backupdest.Destination, name string) (*Manifest, error) {
	data, err := backupdest.ReadSmall(ctx, dest, name+manifestSuffix, maxManifestBytes)
	if errors.Is(err, backupdest.ErrNotExist) {
		if _, derr := dest.Open(ctx, name+dumpSuffix); derr == nil {
			return nil, &Error{Code: CodeManifestInvalid, Err: fmt.Errorf("%s has no manifest (%s): it was not written by a complete backup", name+dumpSuffix, name+manifestSuffix)}
		}
		return nil, &Error{Code: CodeNotFound, Err: fmt.Errorf("no backup %s in %s", name, dest)}
	}
	if err != nil {
		return nil, fail(CodeDestinationFailed, fmt.Errorf("read %s: %w", name+manifestSuffix, err))
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &Error{Code: CodeManifestInvalid, Err: fmt.Errorf("%s is not a valid manifest: %w", name+manifestSuffix, err)}
	}
	switch {
	case m.FormatVersion < 1 || m.FormatVersion > ManifestVersion:
		return nil, &Error{Code: CodeManifestInvalid, Err: fmt.Errorf("%s has format version %d; this contentd reads up to %d", name+manifestSuffix, m.FormatVersion, ManifestVersion)}
	case m.Name != name || m.File != name+dumpSuffix || len(m.SHA256) != 64 || m.Integrity == nil:
		return nil, &Error{Code: CodeManifestInvalid, Err: fmt.Errorf("%s does not describe %s", name+manifestSuffix, name+dumpSuffix)}
	}
	return &m, nil
}

// Entry is a backup found at a destination.
type Entry struct {
	Name string
	// Manifest is nil when it could not be read (Problem says why).
	Manifest *Manifest
	Problem  string
}

// List returns the backups at dest, newest first: every dump of this package's
// naming that has its manifest beside it. Other files are ignored.
func List(ctx context.Context, dest backupdest.Destination) ([]Entry, error) {
	objects, err := dest.List(ctx)
	if err != nil {
		return nil, fail(CodeDestinationFailed, err)
	}
	files := map[string]bool{}
	for _, o := range objects {
		files[o.Name] = true
	}
	var names []string
	for f := range files {
		if name := stemOf(f); name != "" && f == name+dumpSuffix && files[name+manifestSuffix] {
			names = append(names, name)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	entries := make([]Entry, 0, len(names))
	for _, name := range names {
		e := Entry{Name: name}
		if e.Manifest, err = ReadManifest(ctx, dest, name); err != nil {
			e.Problem = err.Error()
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Latest returns the name of the newest backup at dest.
func Latest(ctx context.Context, dest backupdest.Destination) (string, error) {
	entries, err := List(ctx, dest)
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "", &Error{Code: CodeNotFound, Err: fmt.Errorf("no backup in %s", dest)}
	}
	return entries[0].Name, nil
}
