package integrity

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Comparison sets a report (Actual) beside the one it should match (Reference):
// a database beside another, or a restored database beside its backup's manifest.
type Comparison struct {
	Reference, Actual *Report
	// Rows are the tables of both, in report order, each with its verdict.
	Rows []ComparedTable
	// Differences say, one per line, what does not match; empty when all does.
	Differences []string
	// Notes say what differs as expected (migrations applied since the
	// reference, the tables they added).
	Notes []string
}

// ComparedTable is one table in both reports; a nil count is a table missing there.
type ComparedTable struct {
	Name, Label       string
	Reference, Actual *int64
	Compared          bool
	Differs           bool
}

// OK says whether the actual database matches the reference.
func (c *Comparison) OK() bool { return len(c.Differences) == 0 }

// Mode says how strictly two reports must match.
type Mode int

const (
	// Peers compares two live databases: same migration version, same tables,
	// same counts, no orphan rows in either.
	Peers Mode = iota
	// Restored compares a restored database with its backup's manifest: the
	// backup's tables with its counts, no orphan rows. A newer migration version
	// (a restore runs the migrations of the binary that restores), and tables
	// the backup does not hold (left alone by the restore), are notes.
	Restored
)

// Compare compares actual with ref. Counts must be equal table by table, except
// for the migration log and the log of backup runs.
func Compare(ref, actual *Report, mode Mode) *Comparison {
	c := &Comparison{Reference: ref, Actual: actual}
	refCounts := map[string]int64{}
	for _, t := range ref.Tables {
		refCounts[t.Qualified()] = t.Rows
	}
	actualCounts := map[string]int64{}
	for _, t := range actual.Tables {
		actualCounts[t.Qualified()] = t.Rows
	}
	switch {
	case actual.MigrationVersion == ref.MigrationVersion:
	case actual.MigrationVersion > ref.MigrationVersion && mode == Restored:
		c.Notes = append(c.Notes, fmt.Sprintf("migrations %d to %d were applied after the backup",
			ref.MigrationVersion+1, actual.MigrationVersion))
	default:
		c.Differences = append(c.Differences, fmt.Sprintf("migration version %d, the reference's %d",
			actual.MigrationVersion, ref.MigrationVersion))
	}

	for _, t := range ref.Tables {
		name := t.Qualified()
		row := ComparedTable{Name: name, Label: t.Label, Reference: ptr(t.Rows), Compared: !notCompared[name]}
		if n, ok := actualCounts[name]; ok {
			row.Actual = ptr(n)
		}
		switch {
		case row.Actual == nil:
			row.Differs = true
			c.Differences = append(c.Differences, fmt.Sprintf("table %s is missing (%d rows in the reference)", name, t.Rows))
		case row.Compared && *row.Actual != t.Rows:
			row.Differs = true
			c.Differences = append(c.Differences, fmt.Sprintf("table %s has %d rows, the reference %d", name, *row.Actual, t.Rows))
		}
		c.Rows = append(c.Rows, row)
	}
	for _, t := range actual.Tables {
		name := t.Qualified()
		if _, ok := refCounts[name]; ok {
			continue
		}
		row := ComparedTable{Name: name, Label: t.Label, Actual: ptr(t.Rows), Compared: !notCompared[name]}
		switch {
		case !row.Compared:
		case mode == Restored:
			c.Notes = append(c.Notes, fmt.Sprintf("table %s is not in the backup (%d rows): the restore left it alone", name, t.Rows))
		default:
			row.Differs = true
			c.Differences = append(c.Differences, fmt.Sprintf("table %s is not in the reference (%d rows)", name, t.Rows))
		}
		c.Rows = append(c.Rows, row)
	}
	c.orphans("", actual)
	if mode == Peers {
		c.orphans("the reference: ", ref)
	}
	return c
}

func (c *Comparison) orphans(where string, r *Report) {
	for _, o := range r.Orphans {
		if o.Rows > 0 {
			c.Differences = append(c.Differences, fmt.Sprintf("%s%d rows of %s point to a missing %s row (%s)",
				where, o.Rows, o.Table, o.Parent, o.Constraint))
		}
	}
}

func ptr(n int64) *int64 { return &n }

// WriteText prints the comparison side by side, then its verdict.
func (c *Comparison) WriteText(w io.Writer, refName, actualName string) error {
	t := table{{"", refName, actualName, ""}, {"migration version", strconv.FormatInt(c.Reference.MigrationVersion, 10),
		strconv.FormatInt(c.Actual.MigrationVersion, 10), mark(c.Actual.MigrationVersion != c.Reference.MigrationVersion, true)}}
	for _, r := range c.Rows {
		t = append(t, []string{tableTitle(r.Name, r.Label), count(r.Reference), count(r.Actual), mark(r.Differs, r.Compared)})
	}
	t.write(w)
	if n := c.Actual.OrphanRows(); len(c.Actual.Orphans) > 0 {
		fmt.Fprintf(w, "\nrows whose parent is gone (%d foreign keys checked): %d\n", len(c.Actual.Orphans), n)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if c.OK() {
		_, err := fmt.Fprintln(w, "\nOK: the counts match")
		return err
	}
	fmt.Fprintf(w, "\n%d difference(s):\n", len(c.Differences))
	for _, d := range c.Differences {
		fmt.Fprintf(w, "  - %s\n", d)
	}
	return nil
}

// WriteText prints a report: the migration version, the counts, the orphan checks.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "PostgreSQL %s, migration version %d, at %s\n\n", r.ServerVersion, r.MigrationVersion,
		r.TakenAt.Format("2006-01-02 15:04:05 MST"))
	var t table
	for _, tc := range r.Tables {
		t = append(t, []string{tableTitle(tc.Qualified(), tc.Label), strconv.FormatInt(tc.Rows, 10)})
	}
	t.write(w)
	if len(r.Orphans) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nrows whose parent is gone: %d (%d foreign keys checked)\n", r.OrphanRows(), len(r.Orphans))
	for _, o := range r.Orphans {
		if o.Rows > 0 {
			fmt.Fprintf(w, "  %s: %d rows of %s point to a missing %s row\n", o.Constraint, o.Rows, o.Table, o.Parent)
		}
	}
	return nil
}

// table prints rows of cells: the first column aligned left, the others right,
// the last (a mark) left.
type table [][]string

func (t table) write(w io.Writer) {
	var widths []int
	for _, row := range t {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range t {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				b.WriteString(cell + pad)
			case i == len(row)-1 && i > 1:
				b.WriteString("  " + cell)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func tableTitle(name, label string) string {
	if label == "" {
		return name
	}
	return label + " (" + name + ")"
}

func count(n *int64) string {
	if n == nil {
		return "—"
	}
	return strconv.FormatInt(*n, 10)
}

func mark(differs, compared bool) string {
	switch {
	case differs:
		return "≠"
	case !compared:
		return "(not compared)"
	}
	return ""
}
