package coursefile

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// AppendExportResponse appends r to b in protobuf's wire format: the bytes
// proto.Marshal writes for it (tested), including empty sub-messages and empty
// strings of repeated fields. alloc, when not nil, is given the size first and
// returns the buffer to append to instead of b (a pooled one, say); else b
// grows once, to fit.
//
// Unlike proto.Marshal it does not check that each string is UTF-8, a sixth of
// the CPU of a small course's export: the caller vouches for it. An export's
// text comes from store.ReadCourse, which guarantees it (PostgreSQL's UTF8
// databases hold only UTF-8, and the store checks the text of any other).
func AppendExportResponse(b []byte, r *contentv1.ExportCourseResponse, alloc func(size int) []byte) []byte {
	w := &wire{sizing: true}
	w.exportResponse(r)
	if alloc != nil {
		b = alloc(w.n)
	} else {
		b = slices.Grow(b, w.n)
	}
	w.sizing, w.b = false, b
	w.exportResponse(r)
	return w.b
}

// wire runs over a message twice: measuring it, then writing it. Each nested
// message's size is measured once, recorded in the order the writing meets it.
type wire struct {
	sizing bool
	n      int   // sizing: the size of the message being measured
	sizes  []int // the nested messages' sizes, in order
	next   int   // writing: the index in sizes of the next nested message
	b      []byte
	// spill, when set, is given what is written whenever a nested message
	// ends with wireSpill bytes or more in b, which then starts again empty.
	spill func([]byte)
}

// wireSpill is how much a spilling wire writer holds before it spills.
const wireSpill = 32 << 10

func (w *wire) str(f protowire.Number, s string) {
	if s != "" {
		w.element(f, s)
	}
}

// element writes a string even when empty, as an element of a repeated field.
// Every field number of the file is under 16, so a tag is one byte, and most
// strings are shorter than 128 bytes, whose length is one byte too: those two
// bytes are appended at once.
func (w *wire) element(f protowire.Number, s string) {
	if w.sizing {
		w.n += protowire.SizeTag(f) + protowire.SizeBytes(len(s))
		return
	}
	if f < 16 && len(s) < 128 {
		w.b = append(append(w.b, byte(f)<<3|byte(protowire.BytesType), byte(len(s))), s...)
		return
	}
	w.b = protowire.AppendString(protowire.AppendTag(w.b, f, protowire.BytesType), s)
}

// varint writes a varint field; a value under 128 (positions, most scores and
// durations, enums, booleans) is its tag's byte and its own, appended at once.
func (w *wire) varint(f protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	if w.sizing {
		w.n += protowire.SizeTag(f) + protowire.SizeVarint(v)
		return
	}
	if f < 16 && v < 128 {
		w.b = append(w.b, byte(f)<<3|byte(protowire.VarintType), byte(v))
		return
	}
	w.b = protowire.AppendVarint(protowire.AppendTag(w.b, f, protowire.VarintType), v)
}

// int32 writes an int32 or an enum: a negative value is sign-extended to 64 bits.
func (w *wire) int32(f protowire.Number, v int32) { w.varint(f, uint64(int64(v))) }

func (w *wire) boolean(f protowire.Number, v bool) {
	if v {
		w.varint(f, 1)
	}
}

// message writes a nested message, whose fields body writes.
func (w *wire) message(f protowire.Number, body func()) {
	if w.sizing {
		at, outer := len(w.sizes), w.n
		w.sizes = append(w.sizes, 0)
		w.n = 0
		body()
		w.sizes[at] = w.n
		w.n = outer + protowire.SizeTag(f) + protowire.SizeBytes(w.n)
		return
	}
	size := w.sizes[w.next]
	w.next++
	w.b = protowire.AppendVarint(protowire.AppendTag(w.b, f, protowire.BytesType), uint64(size))
	body()
	if w.spill != nil && len(w.b) >= wireSpill {
		w.spill(w.b)
		w.b = w.b[:0]
	}
}

// Field numbers are those of content_transfer.proto and course_export.proto.

func (w *wire) exportResponse(r *contentv1.ExportCourseResponse) {
	if f := r.GetFile(); f != nil {
		w.message(1, func() { w.courseExport(f) })
	}
	w.str(2, r.GetFilename())
}

// digested writes what a file's digest covers: its formatVersion and course.
func (w *wire) digested(f *contentv1.CourseExport) {
	w.int32(1, f.GetFormatVersion())
	if c := f.GetCourse(); c != nil {
		w.message(4, func() { w.course(c) })
	}
}

func (w *wire) courseExport(f *contentv1.CourseExport) {
	w.int32(1, f.GetFormatVersion())
	if t := f.GetExportedAt(); t != nil {
		w.message(2, func() {
			w.varint(1, uint64(t.GetSeconds()))
			w.int32(2, t.GetNanos())
		})
	}
	if s := f.GetSource(); s != nil {
		w.message(3, func() {
			w.str(1, s.GetService())
			w.str(2, s.GetVersion())
			w.str(3, s.GetCourseId())
			w.str(4, s.GetEnvironment())
		})
	}
	if c := f.GetCourse(); c != nil {
		w.message(4, func() { w.course(c) })
	}
}

func (w *wire) course(c *contentv1.Course) {
	w.str(1, c.GetId())
	w.str(2, c.GetTitle())
	w.str(3, c.GetDescription())
	w.int32(4, int32(c.GetStatus()))
	for _, m := range c.GetModules() {
		w.message(5, func() { w.module(m) })
	}
	for _, comp := range c.GetCompetencies() {
		w.message(6, func() {
			w.str(1, comp.GetId())
			w.str(2, comp.GetCode())
			w.str(3, comp.GetName())
			w.str(4, comp.GetDescription())
		})
	}
	for _, q := range c.GetQuestionBank() {
		w.message(7, func() {
			w.str(1, q.GetId())
			w.str(2, q.GetCompetencyId())
			w.int32(3, q.GetPosition())
			w.int32(4, int32(q.GetType()))
			w.str(5, q.GetText())
			w.str(6, q.GetExplanation())
			w.options(7, q.GetOptions())
		})
	}
	for _, f := range c.GetFaq() {
		w.message(8, func() {
			w.str(1, f.GetId())
			w.int32(2, f.GetPosition())
			w.str(3, f.GetQuestion())
			w.str(4, f.GetAnswer())
		})
	}
}

func (w *wire) module(m *contentv1.Module) {
	w.str(1, m.GetId())
	w.int32(2, m.GetPosition())
	w.str(3, m.GetTitle())
	w.str(4, m.GetDescription())
	for _, l := range m.GetLessons() {
		w.message(5, func() { w.lesson(l) })
	}
	w.quizzes(6, m.GetQuizzes())
}

func (w *wire) lesson(l *contentv1.Lesson) {
	w.str(1, l.GetId())
	w.int32(2, l.GetPosition())
	w.str(3, l.GetTitle())
	w.str(4, l.GetVideoUrl())
	w.int32(5, int32(l.GetVideoProvider()))
	w.int32(6, l.GetDurationSeconds())
	w.str(7, l.GetPracticalSummary())
	for _, item := range l.GetChecklist() {
		w.element(8, item)
	}
	for _, id := range l.GetCompetencyIds() {
		w.element(9, id)
	}
	w.quizzes(10, l.GetQuizzes())
}

func (w *wire) quizzes(f protowire.Number, quizzes []*contentv1.Quiz) {
	for _, q := range quizzes {
		w.message(f, func() {
			w.str(1, q.GetId())
			w.int32(2, q.GetPosition())
			w.str(3, q.GetTitle())
			w.int32(4, q.GetMinScore())
			for _, qq := range q.GetQuestions() {
				w.message(5, func() {
					w.str(1, qq.GetId())
					w.int32(2, qq.GetPosition())
					w.int32(3, int32(qq.GetType()))
					w.str(4, qq.GetText())
					w.str(5, qq.GetExplanation())
					w.options(6, qq.GetOptions())
				})
			}
		})
	}
}

func (w *wire) options(f protowire.Number, options []*contentv1.Option) {
	for _, o := range options {
		w.message(f, func() {
			w.str(1, o.GetId())
			w.int32(2, o.GetPosition())
			w.str(3, o.GetText())
			w.boolean(4, o.GetCorrect())
			w.str(5, o.GetFeedback())
		})
	}
}
