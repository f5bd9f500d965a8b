package pgtools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tool is one PostgreSQL client program of a known version.
type Tool struct {
	// Name is the program, "pg_dump" or "pg_restore".
	Name string
	// Path is where it is.
	Path string
	// Version is what it reports, e.g. "15.18"; Major is 15.
	Version string
	Major   int
}

// Locator says where to look for the client programs.
type Locator struct {
	// Bindir is looked in first (PG_BINDIR).
	Bindir string
	// LibRoot holds one folder per major version, <LibRoot>/<major>/bin, as
	// Debian's and PGDG's packages install them ("/usr/lib/postgresql").
	LibRoot string
	// Path is the search path looked in last (PATH).
	Path string
}

// DefaultLocator looks in PG_BINDIR, then /usr/lib/postgresql/<major>/bin, then PATH.
func DefaultLocator() Locator {
	return Locator{Bindir: os.Getenv("PG_BINDIR"), LibRoot: "/usr/lib/postgresql", Path: os.Getenv("PATH")}
}

// ErrToolMissing is returned when no build of a program fits the server; the
// message says which package to install.
var ErrToolMissing = errors.New("postgresql client program missing")

// Find returns the build of program name that fits a server of major version
// serverMajor: the same major if there is one (PG_BINDIR, then
// <LibRoot>/<major>/bin, then PATH), else the oldest newer one. An older build
// cannot read a newer server (pg_dump aborts on the version mismatch, pg_restore
// cannot read its archives): when only older ones exist, the error names the
// package that brings the right one.
func (l Locator) Find(ctx context.Context, name string, serverMajor int) (Tool, error) {
	var found []Tool
	seen := map[string]bool{}
	for _, path := range l.candidates(name, serverMajor) {
		real, err := filepath.EvalSymlinks(path)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		t, err := probe(ctx, name, path)
		if ctx.Err() != nil {
			return Tool{}, fmt.Errorf("look for %s: %w", name, ctx.Err())
		}
		if err != nil {
			continue
		}
		if t.Major == serverMajor {
			return t, nil
		}
		found = append(found, t)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Major < found[j].Major })
	for _, t := range found {
		if t.Major > serverMajor {
			return t, nil
		}
	}
	pkg := fmt.Sprintf("install the PostgreSQL %d client (Debian/Ubuntu: apt-get install postgresql-client-%d, from the PGDG repository "+
		"when the distribution lacks it) or point PG_BINDIR at its bin folder", serverMajor, serverMajor)
	if len(found) == 0 {
		return Tool{}, fmt.Errorf("%w: %s not found for PostgreSQL %d: %s", ErrToolMissing, name, serverMajor, pkg)
	}
	newest := found[len(found)-1]
	return Tool{}, fmt.Errorf("%w: %s %s (%s) is older than the PostgreSQL %d server and cannot work with it: %s",
		ErrToolMissing, name, newest.Version, newest.Path, serverMajor, pkg)
}

// candidates lists the paths worth probing, in order of preference.
func (l Locator) candidates(name string, major int) []string {
	var out []string
	if l.Bindir != "" {
		out = append(out, filepath.Join(l.Bindir, name))
	}
	if l.LibRoot != "" {
		out = append(out, filepath.Join(l.LibRoot, strconv.Itoa(major), "bin", name))
		others, _ := filepath.Glob(filepath.Join(l.LibRoot, "*", "bin", name))
		out = append(out, others...)
	}
	for _, dir := range filepath.SplitList(l.Path) {
		if dir != "" {
			out = append(out, filepath.Join(dir, name))
		}
	}
	return out
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// probe asks a program for its version.
func probe(ctx context.Context, name, path string) (Tool, error) {
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return Tool{}, fmt.Errorf("%s: not an executable", path)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return Tool{}, fmt.Errorf("%s --version: %w", path, err)
	}
	return parseVersion(name, path, string(out))
}

func parseVersion(name, path, out string) (Tool, error) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return Tool{}, fmt.Errorf("%s --version printed no PostgreSQL version: %q", path, strings.TrimSpace(out))
	}
	major, _ := strconv.Atoi(m[1])
	version := m[1]
	if m[2] != "" {
		version += "." + m[2]
	}
	return Tool{Name: name, Path: path, Version: version, Major: major}, nil
}

// MajorOf returns the major version of a server_version_num (150018 → 15).
func MajorOf(serverVersionNum int) int { return serverVersionNum / 10000 }
