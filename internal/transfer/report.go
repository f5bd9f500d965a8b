package transfer

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

// findings are the errors and warnings of one analysis.
type findings struct {
	errors, warnings findingList
}

func (f *findings) errorf(code, path, format string, args ...any) {
	f.errors.add(code, path, format, args...)
}

func (f *findings) warnf(code, path, format string, args ...any) {
	f.warnings.add(code, path, format, args...)
}

// clone copies the lists, so that a transaction attempt adds to its own copy.
func (f *findings) clone() *findings {
	c := *f
	c.errors.items = append([]*contentv1.Finding(nil), f.errors.items...)
	c.warnings.items = append([]*contentv1.Finding(nil), f.warnings.items...)
	return &c
}
