package server

import (
	"fmt"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// TestOneNameForEveryError: for every kind of the table, the caller's code (the
// ErrorInfo reason of a bare kind) is the gRPC code's name, and the audit
// outcome says the same.
func TestOneNameForEveryError(t *testing.T) {
	t.Parallel()
	for _, kc := range kindCodes {
		err := fmt.Errorf("wrapped: %w", kc.kind)
		s := toStatus(err)
		reason := ""
		for _, d := range s.Details() {
			if info, ok := d.(interface{ GetReason() string }); ok {
				reason = info.GetReason()
			}
		}
		if s.Code() != kc.code || reason != codeName(kc.code) || audit.Outcome(err) != reason || fault.CodeOf(err) != reason {
			t.Errorf("%v: status %v, reason %q, audit %q; want %v and %q everywhere", kc.kind, s.Code(), reason, audit.Outcome(err), kc.code, codeName(kc.code))
		}
		if got := httpStatus(err, s.Code()); got != kc.http {
			t.Errorf("%v: HTTP %d, want %d", kc.kind, got, kc.http)
		}
	}
	if got := audit.Outcome(fault.New(fault.ErrNotFound, "COURSE_NOT_FOUND", "", "x")); got != "COURSE_NOT_FOUND" {
		t.Errorf("a coded error audits as %q", got)
	}
}
