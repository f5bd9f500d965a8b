package pgtools

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestParseConnKeepsThePasswordOutOfTheURL(t *testing.T) {
	t.Parallel()
	c, err := ParseConn("postgresql://postgres:s3gr%40do@db.ref.supabase.co:5432/postgres?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "postgresql://postgres@db.ref.supabase.co:5432/postgres?sslmode=require"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"PGAPPNAME=x", "PGPASSWORD=s3gr@do"}, c.env("x")); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if got := c.Scrub("auth failed for s3gr@do and s3gr%40do"); strings.Contains(got, "s3gr") {
		t.Errorf("Scrub left the password: %q", got)
	}
	if c.Database() != "postgres" {
		t.Errorf("Database() = %q", c.Database())
	}
	other := c.WithDatabase("scratch")
	if got, want := other.String(), "postgresql://postgres@db.ref.supabase.co:5432/scratch?sslmode=require"; got != want {
		t.Errorf("WithDatabase String() = %q, want %q", got, want)
	}
	if !strings.Contains(other.URL(), "s3gr%40do@") || !strings.HasSuffix(strings.Split(other.URL(), "?")[0], "/scratch") {
		t.Errorf("WithDatabase URL() = %q", other.URL())
	}

	q, err := ParseConn("postgres://u@h/db?password=p4ss&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(q.String(), "p4ss") || q.password != "p4ss" {
		t.Errorf("password query parameter: String() = %q, password %q", q.String(), q.password)
	}

	for _, bad := range []string{"host=h password=secret dbname=d", "mysql://u:p@h/d", "postgres://u:secret@h:notaport/d"} {
		_, err := ParseConn(bad)
		if err == nil {
			t.Errorf("ParseConn(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseConn(%q) error shows the password: %v", bad, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for out, want := range map[string]string{
		"pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n": "15.18",
		"pg_restore (PostgreSQL) 17.6\n":                        "17.6",
		"pg_dump (PostgreSQL) 18beta1\n":                        "18",
	} {
		tool, err := parseVersion("pg_dump", "/x", out)
		if err != nil || tool.Version != want {
			t.Errorf("parseVersion(%q) = %+v, %v; want %s", out, tool, err, want)
		}
	}
	if _, err := parseVersion("pg_dump", "/x", "something else"); err == nil {
		t.Error("parseVersion accepted output without a version")
	}
}

// fakeTool writes an executable that reports version v.
func fakeTool(t *testing.T, dir, name, v string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	script := "#!/bin/sh\necho '" + name + " (PostgreSQL) " + v + "'\n"
	pgtest.WriteExecutable(t, path, script)
	return path
}

func TestFindChoosesTheServersMajor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	lib := filepath.Join(root, "lib")
	v14 := fakeTool(t, filepath.Join(lib, "14", "bin"), "pg_dump", "14.12")
	v16 := fakeTool(t, filepath.Join(lib, "16", "bin"), "pg_dump", "16.4")
	v17 := fakeTool(t, filepath.Join(lib, "17", "bin"), "pg_dump", "17.6")
	pathDir := filepath.Join(root, "path")
	onPath := fakeTool(t, pathDir, "pg_dump", "15.8")
	bindir := filepath.Join(root, "bindir")
	inBindir := fakeTool(t, bindir, "pg_dump", "16.1")

	cases := []struct {
		name   string
		loc    Locator
		server int
		want   string
	}{
		{"the same major under LibRoot", Locator{LibRoot: lib, Path: pathDir}, 17, v17},
		{"the same major on PATH", Locator{LibRoot: lib, Path: pathDir}, 15, onPath},
		{"PG_BINDIR first when it fits", Locator{Bindir: bindir, LibRoot: lib, Path: pathDir}, 16, inBindir},
		{"PG_BINDIR passed over when it does not fit", Locator{Bindir: bindir, LibRoot: lib}, 14, v14},
		{"the oldest newer one when no build matches", Locator{LibRoot: lib}, 13, v14},
		{"newer than 15 when 15 is missing", Locator{LibRoot: lib}, 15, v16},
	}
	for _, tc := range cases {
		got, err := tc.loc.Find(ctx, "pg_dump", tc.server)
		if err != nil || got.Path != tc.want {
			t.Errorf("%s: Find(%d) = %s, %v; want %s", tc.name, tc.server, got.Path, err, tc.want)
		}
	}
}

func TestFindRefusesOnlyOlderBuilds(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	old := fakeTool(t, filepath.Join(root, "15", "bin"), "pg_dump", "15.18")
	_, err := Locator{LibRoot: root}.Find(context.Background(), "pg_dump", 17)
	if !errors.Is(err, ErrToolMissing) {
		t.Fatalf("Find(17) with only 15 = %v, want ErrToolMissing", err)
	}
	for _, want := range []string{"pg_dump 15.18", old, "PostgreSQL 17", "postgresql-client-17", "PG_BINDIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	_, err = Locator{LibRoot: t.TempDir()}.Find(context.Background(), "pg_restore", 16)
	if !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), "pg_restore not found for PostgreSQL 16") ||
		!strings.Contains(err.Error(), "postgresql-client-16") {
		t.Fatalf("Find with nothing installed = %v", err)
	}
}

func TestParseTOC(t *testing.T) {
	t.Parallel()
	const list = `;
; Archive created at 2026-11-29 13:58:37 UTC
;     Dumped by pg_dump version: 15.18
;
4; 2615 2200 SCHEMA - public pg_database_owner
3653; 0 0 COMMENT - SCHEMA public pg_database_owner
233; 1259 16791 TABLE public assignments postgres
3654; 0 0 SEQUENCE SET public goose_db_version_id_seq postgres
3600; 0 16791 TABLE DATA public assignments postgres
3481; 2606 16810 FK CONSTRAINT public assignments assignments_assigned_by_fkey postgres
`
	toc := parseTOC(strings.NewReader(list))
	if len(toc.Header) != 4 {
		t.Errorf("header has %d lines, want 4", len(toc.Header))
	}
	var got [][3]string
	for _, e := range toc.Entries {
		got = append(got, [3]string{e.Type, e.Schema, e.Name})
	}
	want := [][3]string{
		{"SCHEMA", "-", "public"},
		{"COMMENT", "-", "SCHEMA public"},
		{"TABLE", "public", "assignments"},
		{"SEQUENCE SET", "public", "goose_db_version_id_seq"},
		{"TABLE DATA", "public", "assignments"},
		{"FK CONSTRAINT", "public", "assignments assignments_assigned_by_fkey"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestRunScrubsThePasswordFromErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "pg_dump")
	script := "#!/bin/sh\necho \"connection failed, password was $PGPASSWORD\" >&2\nexit 1\n"
	pgtest.WriteExecutable(t, path, script)
	conn, err := ParseConn("postgres://u:hunter22@127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	err = Tool{Name: "pg_dump", Path: path}.Run(context.Background(), &conn, nil, nil)
	if err == nil || strings.Contains(err.Error(), "hunter22") || !strings.Contains(err.Error(), "password was ***") {
		t.Fatalf("Run error = %v", err)
	}
}
