package pgtools

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// DumpOptions chooses what pg_dump writes.
type DumpOptions struct {
	// Snapshot is an exported snapshot (pg_export_snapshot) to dump, so that the
	// archive holds exactly what another transaction sees.
	Snapshot string
	// Schemas limits the dump to these schemas; none means the whole database.
	Schemas []string
	// ExcludeTableData names tables ("schema.table") whose definition is dumped
	// but not their rows.
	ExcludeTableData []string
	// LockWaitTimeout bounds the wait for a table lock (a migration holding one):
	// better a failed backup than one that hangs.
	LockWaitTimeout time.Duration
}

// Dump runs pg_dump in the custom format, without owners or privileges (a
// restore into another project has other roles), writing the archive to out.
func (t Tool) Dump(ctx context.Context, conn Conn, opt DumpOptions, out io.Writer) error {
	args := []string{"--format=custom", "--no-owner", "--no-acl", "--dbname=" + conn.String()}
	if opt.Snapshot != "" {
		args = append(args, "--snapshot="+opt.Snapshot)
	}
	if opt.LockWaitTimeout > 0 {
		args = append(args, fmt.Sprintf("--lock-wait-timeout=%d", opt.LockWaitTimeout.Milliseconds()))
	}
	for _, s := range opt.Schemas {
		args = append(args, "--schema="+quotePattern(s))
	}
	for _, tbl := range opt.ExcludeTableData {
		args = append(args, "--exclude-table-data="+tbl)
	}
	return t.Run(ctx, &conn, nil, out, args...)
}

// quotePattern makes a schema name a literal pg_dump pattern: double quotes stop
// case folding and the wildcards * and ?.
func quotePattern(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// ReadArchive reads a whole archive as a restore would, writing the SQL nowhere
// (pg_restore -f /dev/null). Unlike pg_restore --list, which reads only the
// table of contents and exits 0 on a truncated archive, it fails on a truncated
// or corrupt one.
func (t Tool) ReadArchive(ctx context.Context, archive io.Reader) error {
	return t.Run(ctx, nil, archive, nil, "--file=/dev/null")
}

// TOCEntry is one line of an archive's table of contents (pg_restore --list).
type TOCEntry struct {
	// Line is the line as pg_restore printed it, to be written back in a list file.
	Line string
	// Type is the object type ("TABLE", "SCHEMA", "TABLE DATA", ...); Schema and
	// Name say which object, when the line names one.
	Type, Schema, Name string
}

// TOC reads an archive's table of contents and its header comments.
type TOC struct {
	Header  []string
	Entries []TOCEntry
}

// ListArchive reads the table of contents of an archive. It fails on an archive
// this pg_restore cannot read (a newer format, not an archive at all).
func (t Tool) ListArchive(ctx context.Context, archive io.Reader) (*TOC, error) {
	var out bytes.Buffer
	if err := t.Run(ctx, nil, archive, &out, "--list"); err != nil {
		return nil, err
	}
	return parseTOC(&out), nil
}

// parseTOC parses `pg_restore --list` output. An entry reads
// "<id>; <table oid> <oid> <type> <schema> <name> <owner>", where the type may be
// several words ("TABLE DATA") and the schema is "-" for objects outside one.
func parseTOC(r io.Reader) *TOC {
	toc := &TOC{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ";") || strings.TrimSpace(line) == "" {
			toc.Header = append(toc.Header, line)
			continue
		}
		e := TOCEntry{Line: line}
		if _, rest, ok := strings.Cut(line, "; "); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 3 {
				e.Type, e.Schema, e.Name = splitTOCObject(fields[2:])
			}
		}
		toc.Entries = append(toc.Entries, e)
	}
	return toc
}

// tocTypes are the multi-word object types of a table of contents.
var tocTypes = []string{"TABLE DATA", "SEQUENCE SET", "SEQUENCE OWNED BY", "FK CONSTRAINT", "DEFAULT ACL",
	"MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "FOREIGN TABLE", "TEXT SEARCH CONFIGURATION",
	"TEXT SEARCH DICTIONARY", "EVENT TRIGGER", "PUBLICATION TABLE", "BLOB DATA", "LARGE OBJECT", "ACCESS METHOD",
	"DATABASE PROPERTIES"}

// splitTOCObject splits "<type> <schema> <name…> <owner>". Names are printed
// unquoted, so a name may be several words (a comment's is "SCHEMA public").
func splitTOCObject(words []string) (typ, schema, name string) {
	typ, rest := words[0], words[1:]
	joined := strings.Join(words, " ")
	for _, t := range tocTypes {
		if strings.HasPrefix(joined, t+" ") {
			typ, rest = t, words[len(strings.Fields(t)):]
			break
		}
	}
	if len(rest) == 0 {
		return typ, "", ""
	}
	schema = rest[0]
	if len(rest) >= 3 {
		name = strings.Join(rest[1:len(rest)-1], " ")
	} else if len(rest) == 2 {
		name = rest[1]
	}
	return typ, schema, name
}

// RestoreOptions chooses how an archive is restored.
type RestoreOptions struct {
	// List is the table of contents to restore, in archive order (pg_restore
	// --use-list); nil restores everything.
	List []TOCEntry
}

// Restore restores an archive into the database of conn in one transaction:
// --clean --if-exists drops what the archive recreates, --no-owner and --no-acl
// leave out roles the target may not have, and --single-transaction (which
// implies --exit-on-error) makes a failure leave the target as it was.
func (t Tool) Restore(ctx context.Context, conn Conn, archive io.Reader, opt RestoreOptions) error {
	args := []string{"--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction", "--dbname=" + conn.String()}
	if opt.List != nil {
		f, err := os.CreateTemp("", "contentd-restore-*.list")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		w := bufio.NewWriter(f)
		for _, e := range opt.List {
			fmt.Fprintln(w, e.Line)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		args = append(args, "--use-list="+f.Name())
	}
	return t.Run(ctx, &conn, archive, nil, args...)
}
