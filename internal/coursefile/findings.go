package coursefile

import (
	"fmt"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// MaxFindings caps each list of a report; one more entry then says how many were left out.
const MaxFindings = 100

// findingList collects findings up to MaxFindings and counts the rest.
type findingList struct {
	items   []*contentv1.Finding
	dropped int
}

func (l *findingList) add(code, path, format string, args ...any) {
	if len(l.items) >= MaxFindings {
		l.dropped++
		return
	}
	l.items = append(l.items, &contentv1.Finding{Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (l *findingList) empty() bool { return len(l.items) == 0 }

// list returns the findings, closed by a TOO_MANY_FINDINGS entry when some were dropped.
func (l *findingList) list() []*contentv1.Finding {
	if l.dropped == 0 {
		return l.items
	}
	return append(l.items[:len(l.items):len(l.items)], &contentv1.Finding{
		Code:    "TOO_MANY_FINDINGS",
		Message: fmt.Sprintf("Mais %d problemas do mesmo tipo não foram listados.", l.dropped),
	})
}

// Findings are the errors and warnings of one analysis of a file: problems
// that block an import, and problems that do not. Both are data, not Go errors:
// each has a stable code, the JSON path of the culprit and a message in
// Portuguese for the course manager.
type Findings struct {
	errors, warnings findingList
}

// Errorf records an error.
func (f *Findings) Errorf(code, path, format string, args ...any) {
	f.errors.add(code, path, format, args...)
}

// Warnf records a warning.
func (f *Findings) Warnf(code, path, format string, args ...any) {
	f.warnings.add(code, path, format, args...)
}

// HasErrors says whether an error was recorded.
func (f *Findings) HasErrors() bool { return !f.errors.empty() }

// Errors returns the errors, closed by a TOO_MANY_FINDINGS entry when some were left out.
func (f *Findings) Errors() []*contentv1.Finding { return f.errors.list() }

// Warnings returns the warnings, closed like Errors.
func (f *Findings) Warnings() []*contentv1.Finding { return f.warnings.list() }

// Clone copies the lists, so that a transaction attempt adds to its own copy.
func (f *Findings) Clone() *Findings {
	c := *f
	c.errors.items = append([]*contentv1.Finding(nil), f.errors.items...)
	c.warnings.items = append([]*contentv1.Finding(nil), f.warnings.items...)
	return &c
}
