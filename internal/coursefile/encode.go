package coursefile

import (
	"bytes"
	"errors"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// encoder writes a CourseExport as the file: the bytes protojson (every field,
// lowerCamelCase names, enums by name) and json.Indent would give, in one pass
// without building the document twice, flushing to w as it goes. Marshal's test
// holds the two renderings equal.
type encoder struct {
	buf   []byte
	w     io.Writer // nil: keep everything in buf
	err   error
	depth int
	first bool // no member written yet in the current object or array
	// checkUTF8: a string that is not UTF-8 is an error, as in protojson.
	checkUTF8 bool
	// whole, when not nil, is given the file's length before its one write,
	// if the file fits in wholeAt bytes (see WriteWhole).
	whole   func(n int)
	written bool // w has been written to
}

// flushAt is how much the encoder buffers before writing to w.
const flushAt = 64 << 10

// Write renders file to w as the transfer file.
//
// Unlike Marshal it does not check that each string is UTF-8, a quarter of its
// time on Portuguese text: the caller vouches for it, as for
// AppendExportResponse. An export's text comes from
// store.ReadCourse, which guarantees it, and coursegen writes only UTF-8.
func Write(w io.Writer, file *contentv1.CourseExport) error {
	return write(w, file, nil, &writeBuffers)
}

// WriteWhole renders file to w as Write does, except that it keeps up to
// wholeAt bytes before it first writes: a file that fits is written in one
// call of w.Write, and whole is given its length just before. An HTTP
// response can then say its Content-Length and go out in one write, where
// each of Write's writes becomes a chunk, and two system calls (net/http
// buffers a chunk's header and sends the first 4 KiB with it). A larger file
// is written as Write writes it, from its first wholeAt bytes on.
func WriteWhole(w io.Writer, file *contentv1.CourseExport, whole func(n int)) error {
	return write(w, file, whole, &wholeBuffers)
}

// wholeAt is how much WriteWhole keeps before its first write: the S course's
// file is half of it.
const wholeAt = 1 << 20

func write(w io.Writer, file *contentv1.CourseExport, whole func(int), buffers *sync.Pool) error {
	buf := buffers.Get().(*[]byte)
	defer buffers.Put(buf)
	e := &encoder{buf: (*buf)[:0], w: w, whole: whole}
	e.courseExport(file)
	e.buf = append(e.buf, '\n')
	e.flush(true)
	return e.err
}

// writeBuffers are Write's buffers, and wholeBuffers WriteWhole's: one per
// export would be most of what a small course's export allocates.
var (
	writeBuffers = sync.Pool{New: func() any {
		b := make([]byte, 0, flushAt+4<<10)
		return &b
	}}
	wholeBuffers = sync.Pool{New: func() any {
		b := make([]byte, 0, wholeAt+4<<10)
		return &b
	}}
)

// marshalFile renders file in memory.
func marshalFile(file *contentv1.CourseExport, sizeHint int) ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, sizeHint), checkUTF8: true}
	e.courseExport(file)
	e.buf = append(e.buf, '\n')
	return e.buf, e.err
}

func (e *encoder) flush(force bool) {
	if e.w == nil || e.err != nil {
		return
	}
	holding, at := e.whole != nil && !e.written, flushAt // holding: the file may yet go out whole
	if holding {
		at = wholeAt
	}
	if !force && len(e.buf) < at {
		return
	}
	if force && holding {
		e.whole(len(e.buf))
	}
	_, e.err = e.w.Write(e.buf)
	e.buf, e.written = e.buf[:0], true
}

// newline starts a line indented by two spaces per depth, copied from
// indentation in one append (a loop of appends was a tenth of a small
// export's rendering).
func (e *encoder) newline() {
	if n := 1 + 2*e.depth; n <= len(indentation) {
		e.buf = append(e.buf, indentation[:n]...)
		return
	}
	e.buf = append(e.buf, indentation...)
	for range e.depth - maxIndent {
		e.buf = append(e.buf, ' ', ' ')
	}
}

// maxIndent is the depth up to which newline copies its indentation whole;
// a course file is at most about ten deep.
const maxIndent = 32

// indentation is a new line and the indentation of depth maxIndent.
var indentation = "\n" + strings.Repeat("  ", maxIndent)

func (e *encoder) open(c byte) {
	e.buf = append(e.buf, c)
	e.depth++
	e.first = true
}

func (e *encoder) close(c byte) {
	e.depth--
	if !e.first { // json.Indent keeps an empty {} or [] on one line
		e.newline()
	}
	e.buf = append(e.buf, c)
	e.first = false
	e.flush(false)
}

// key starts a member: a separator, the indentation, the quoted name.
func (e *encoder) key(name string) {
	e.element()
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, '"', ':', ' ')
}

// element starts an array element or object member.
func (e *encoder) element() {
	if !e.first {
		e.buf = append(e.buf, ',')
	}
	e.first = false
	e.newline()
}

func (e *encoder) str(name, v string) {
	e.key(name)
	e.quote(v)
}

func (e *encoder) int(name string, v int32) {
	e.key(name)
	e.buf = strconv.AppendInt(e.buf, int64(v), 10)
}

func (e *encoder) bool(name string, v bool) {
	e.key(name)
	e.buf = strconv.AppendBool(e.buf, v)
}

// enum writes an enum by name, or by number when the number has no name (as
// protojson does).
func (e *encoder) enum(name string, v protoreflect.Enum) {
	e.key(name)
	if ev := v.Descriptor().Values().ByNumber(v.Number()); ev != nil {
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, ev.Name()...)
		e.buf = append(e.buf, '"')
		return
	}
	e.buf = strconv.AppendInt(e.buf, int64(v.Number()), 10)
}

func (e *encoder) null(name string) {
	e.key(name)
	e.buf = append(e.buf, "null"...)
}

// list writes a repeated field: [] when empty, else each element on its line.
func list[T any](e *encoder, name string, items []T, each func(T)) {
	e.key(name)
	e.open('[')
	for _, it := range items {
		e.element()
		each(it)
	}
	e.close(']')
}

// quote appends s as protojson quotes strings: only '"', '\\' and control
// characters are escaped, the short forms where JSON has them, else \u00XX in
// lower case. With checkUTF8, invalid UTF-8 is an error, as in protojson.
func (e *encoder) quote(s string) {
	if e.checkUTF8 && e.err == nil && !utf8.ValidString(s) {
		e.err = errInvalidUTF8
	}
	e.buf = append(e.buf, '"')
	if !needsEscape(s) { // most text: copied whole
		e.buf = append(append(e.buf, s...), '"')
		return
	}
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !hasEscape(word(s[i:i+8])) {
			i += 8 // most text has nothing to escape: eight bytes at a time
			continue
		}
		c := s[i]
		if !mustEscape[c] {
			i++
			continue
		}
		e.buf = append(e.buf, s[start:i]...)
		switch c {
		case '"', '\\':
			e.buf = append(e.buf, '\\', c)
		case '\b':
			e.buf = append(e.buf, '\\', 'b')
		case '\f':
			e.buf = append(e.buf, '\\', 'f')
		case '\n':
			e.buf = append(e.buf, '\\', 'n')
		case '\r':
			e.buf = append(e.buf, '\\', 'r')
		case '\t':
			e.buf = append(e.buf, '\\', 't')
		default:
			e.buf = append(e.buf, '\\', 'u')
			e.buf = append(e.buf, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			e.buf = strconv.AppendUint(e.buf, uint64(c), 16)
		}
		i++
		start = i
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
}

// hasEscape says whether any of the eight bytes in x must be escaped: a
// control character, '"' or '\\' (bytes of multi-byte characters are not).
func hasEscape(x uint64) bool { return escapeBits(x)&highBits != 0 }

// escapeBits has a high bit set in some byte (of highBits) exactly when one of
// the eight bytes in x must be escaped; which bytes it marks past the first
// such byte is not said. A byte below n is found as (x - n)&^x, without a
// borrow into its high bit; flipping the bits 0x02 of each byte first turns
// '"' (0x22) into 0x20 and keeps every control character below 0x20 and every
// other byte at 0x21 or above, so that one such test finds both.
func escapeBits(x uint64) uint64 {
	const ones = 0x0101010101010101
	controlOrQuote := x ^ 0x02*ones
	backslash := x ^ '\\'*ones
	return (controlOrQuote-0x21*ones)&^controlOrQuote | (backslash-ones)&^backslash
}

// needsEscape says whether any byte of s must be escaped: sixteen bytes a step,
// and the last eight bytes, overlapping what was read, rather than a byte at a
// time (an id is 36 bytes).
func needsEscape(s string) bool {
	n := len(s)
	if n < 8 {
		for i := range n {
			if mustEscape[s[i]] {
				return true
			}
		}
		return false
	}
	var marks uint64
	i := 0
	for ; i+16 <= n; i += 16 {
		marks |= escapeBits(word(s[i:])) | escapeBits(word(s[i+8:]))
	}
	if i+8 <= n {
		marks |= escapeBits(word(s[i:]))
	}
	return (marks|escapeBits(word(s[n-8:])))&highBits != 0
}

// highBits is the high bit of each of eight bytes: a word has a byte of a
// multi-byte character where it has one of them.
const highBits = 0x8080808080808080

// word reads the first eight bytes of s as one little-endian number (the
// compiler makes this one load).
func word(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// mustEscape marks the bytes a JSON string cannot hold as they are: the quote,
// the backslash and the control characters. The encoder escapes them, and the
// decoder's scan of a string stops at them (its end, an escape, a control
// character).
var mustEscape = func() (t [256]bool) {
	for c := range ' ' {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// timestamp appends t as protojson does: UTC, with 0, 3, 6 or 9 fractional digits.
func (e *encoder) timestamp(name string, t *timestamppb.Timestamp) {
	if t == nil {
		e.null(name)
		return
	}
	e.key(name)
	e.buf = append(e.buf, '"')
	e.buf = time.Unix(t.GetSeconds(), 0).UTC().AppendFormat(e.buf, "2006-01-02T15:04:05")
	if nanos := t.GetNanos(); nanos != 0 {
		frac := strconv.FormatInt(int64(nanos)+1e9, 10)[1:] // 9 digits
		switch {
		case nanos%1e6 == 0:
			frac = frac[:3]
		case nanos%1e3 == 0:
			frac = frac[:6]
		}
		e.buf = append(e.buf, '.')
		e.buf = append(e.buf, frac...)
	}
	e.buf = append(e.buf, 'Z', '"')
}

func (e *encoder) courseExport(f *contentv1.CourseExport) {
	e.open('{')
	e.int("formatVersion", f.GetFormatVersion())
	e.timestamp("exportedAt", f.GetExportedAt())
	if s := f.GetSource(); s != nil {
		e.key("source")
		e.open('{')
		e.str("service", s.GetService())
		e.str("version", s.GetVersion())
		e.str("courseId", s.GetCourseId())
		e.str("environment", s.GetEnvironment())
		e.close('}')
	} else {
		e.null("source")
	}
	if c := f.GetCourse(); c != nil {
		e.key("course")
		e.course(c)
	} else {
		e.null("course")
	}
	e.close('}')
}

func (e *encoder) course(c *contentv1.Course) {
	e.open('{')
	e.str("id", c.GetId())
	e.str("title", c.GetTitle())
	e.str("description", c.GetDescription())
	e.enum("status", c.GetStatus())
	list(e, "modules", c.GetModules(), e.module)
	list(e, "competencies", c.GetCompetencies(), func(comp *contentv1.Competency) {
		e.open('{')
		e.str("id", comp.GetId())
		e.str("code", comp.GetCode())
		e.str("name", comp.GetName())
		e.str("description", comp.GetDescription())
		e.close('}')
	})
	list(e, "questionBank", c.GetQuestionBank(), func(q *contentv1.BankQuestion) {
		e.open('{')
		e.str("id", q.GetId())
		e.str("competencyId", q.GetCompetencyId())
		e.int("position", q.GetPosition())
		e.enum("type", q.GetType())
		e.str("text", q.GetText())
		e.str("explanation", q.GetExplanation())
		list(e, "options", q.GetOptions(), e.option)
		e.close('}')
	})
	list(e, "faq", c.GetFaq(), func(f *contentv1.FaqEntry) {
		e.open('{')
		e.str("id", f.GetId())
		e.int("position", f.GetPosition())
		e.str("question", f.GetQuestion())
		e.str("answer", f.GetAnswer())
		e.close('}')
	})
	e.close('}')
}

func (e *encoder) module(m *contentv1.Module) {
	e.open('{')
	e.str("id", m.GetId())
	e.int("position", m.GetPosition())
	e.str("title", m.GetTitle())
	e.str("description", m.GetDescription())
	list(e, "lessons", m.GetLessons(), e.lesson)
	list(e, "quizzes", m.GetQuizzes(), e.quiz)
	e.close('}')
}

func (e *encoder) lesson(l *contentv1.Lesson) {
	e.open('{')
	e.str("id", l.GetId())
	e.int("position", l.GetPosition())
	e.str("title", l.GetTitle())
	e.str("videoUrl", l.GetVideoUrl())
	e.enum("videoProvider", l.GetVideoProvider())
	e.int("durationSeconds", l.GetDurationSeconds())
	e.str("practicalSummary", l.GetPracticalSummary())
	list(e, "checklist", l.GetChecklist(), func(s string) { e.quote(s) })
	list(e, "competencyIds", l.GetCompetencyIds(), func(s string) { e.quote(s) })
	list(e, "quizzes", l.GetQuizzes(), e.quiz)
	e.close('}')
}

func (e *encoder) quiz(q *contentv1.Quiz) {
	e.open('{')
	e.str("id", q.GetId())
	e.int("position", q.GetPosition())
	e.str("title", q.GetTitle())
	e.int("minScore", q.GetMinScore())
	list(e, "questions", q.GetQuestions(), func(qq *contentv1.Question) {
		e.open('{')
		e.str("id", qq.GetId())
		e.int("position", qq.GetPosition())
		e.enum("type", qq.GetType())
		e.str("text", qq.GetText())
		e.str("explanation", qq.GetExplanation())
		list(e, "options", qq.GetOptions(), e.option)
		e.close('}')
	})
	e.close('}')
}

func (e *encoder) option(o *contentv1.Option) {
	e.open('{')
	e.str("id", o.GetId())
	e.int("position", o.GetPosition())
	e.str("text", o.GetText())
	e.bool("correct", o.GetCorrect())
	e.str("feedback", o.GetFeedback())
	e.close('}')
}

// idMapTail is how the indented rendering of an ApplyImportResponse without id
// map ends: the id map is its last field.
const idMapTail = "  \"idMap\": []\n}\n"

// WriteApplyResponse writes r to w as Marshal renders it (protojson, then
// indented), a part at a time, its id map (a large course's has hundreds of
// thousands of entries, tens of MiB of JSON) by the encoder.
func WriteApplyResponse(w io.Writer, r *contentv1.ApplyImportResponse) error {
	e := &encoder{buf: make([]byte, 0, flushAt+4<<10), w: w, checkUTF8: true}
	e.applyResponse(r)
	e.flush(true)
	return e.err
}

func (e *encoder) applyResponse(r *contentv1.ApplyImportResponse) {
	head, err := Marshal(&contentv1.ApplyImportResponse{CourseId: r.GetCourseId(), ImportBatchId: r.GetImportBatchId(), Report: r.GetReport()})
	if err != nil {
		e.err = err
		return
	}
	if !bytes.HasSuffix(head, []byte(idMapTail)) {
		e.err = errors.New("coursefile: the id map is not the last field of ApplyImportResponse")
		return
	}
	e.buf = append(e.buf, head[:len(head)-len(idMapTail)]...)
	e.buf = append(e.buf, "  \"idMap\": "...)
	e.depth = 1
	e.open('[')
	for _, m := range r.GetIdMap() {
		e.element()
		e.open('{')
		e.str("kind", m.GetKind())
		e.str("externalId", m.GetExternalId())
		e.str("id", m.GetId())
		e.enum("outcome", m.GetOutcome())
		e.str("reason", m.GetReason())
		e.close('}')
	}
	e.close(']')
	e.buf = append(e.buf, "\n}\n"...)
}
