package coursefile

import (
	"encoding/binary"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// fastDecode parses a well-formed transfer file in one pass over raw, for the
// common case: a file this service exported, or one as plain. Its strings are
// copies, so that raw can go as soon as the file is parsed.
//
// It accepts a strict subset of what protojson accepts, and gives the same
// message for it (a property test holds it to protojson); for anything else —
// an unknown or repeated field, a wrong type, a number written as 1e2 or "7",
// an enum by number, an odd escape, bytes that are not UTF-8 — it gives up (ok
// false) and Decode takes the complete path, which finds every problem with its
// JSON path.
//
// It sets the fields of the generated structs directly, each message's through
// its table of members (fastschema.go), rather than through protoreflect.
//
// A large file is decoded on two cores (see fastahead.go).
func fastDecode(raw []byte) (file *contentv1.CourseExport, ok bool) {
	return fastDecodeWith(raw, startAhead(raw))
}

// fastDecodeWith decodes raw with a, when not nil, decoding modules ahead.
func fastDecodeWith(raw []byte, a *ahead) (file *contentv1.CourseExport, ok bool) {
	d := fastDecoder{buf: raw, eof: true, text: textblock.Blocks{BlockSize: textBlock}, ahead: a}
	file, ok = d.file()
	if a == nil {
		return file, ok
	}
	if d.joined == nil { // its modules were not met, or not at its start
		// It stops at its next module; waiting for it leaves nothing reading
		// raw once the file is decoded, so the caller may reuse it.
		a.stop.Store(true)
		<-a.done
		return file, ok
	}
	<-a.done
	switch {
	case !a.ok:
		return nil, false // the modules from its start on are not for this path
	case a.end != a.resume:
		// The decoder went on after the array from where the guess put its
		// end, and the array ends elsewhere.
		return fastDecodeWith(raw, nil)
	case !ok:
		return nil, false
	}
	*d.joined = append(*d.joined, a.modules...)
	return file, true
}

// fastDecoder reads JSON from buf[pos:], refilled from r when r is set: tokens
// look ahead through at, and only the bytes before pos are dropped when more
// are read, so a token's offsets stay relative to pos while it is decoded.
type fastDecoder struct {
	buf []byte
	pos int
	r   io.Reader
	eof bool
	// err is the reader's error other than io.EOF: the file was not read whole.
	err error
	// read is called with every chunk read from r, as it is read.
	read func([]byte)
	// text holds the copies of the values' strings: they outlive the buffer,
	// and the parsed file lives as long as all of them.
	text textblock.Blocks
	// ahead, when set, is decoding the course's modules from one of them on
	// (see fastDecoder.modules); joined is the course's modules, to which its
	// modules are added once it is done.
	ahead  *ahead
	joined *[]*contentv1.Module
}

// textBlock is the size of the blocks of a file's strings: a sixteenth of it,
// 16 KiB, is longer than almost every string of a course.
const textBlock = 256 << 10

// readChunk is how much a decoder reading from r asks of it at a time.
const readChunk = 64 << 10

// file decodes the whole input as a CourseExport.
func (d *fastDecoder) file() (*contentv1.CourseExport, bool) {
	d.skipBOM()
	file := &contentv1.CourseExport{}
	seen, ok := object(d, exportMembers, file)
	if !ok || !seen.has(formatVersionField.Index()) || file.GetCourse() == nil {
		return nil, false
	}
	d.space()
	if _, more := d.at(0); more {
		return nil, false
	}
	return file, true
}

// skipBOM skips a UTF-8 byte order mark at the start (Notepad and Excel write one).
func (d *fastDecoder) skipBOM() {
	for i, b := range utf8BOM {
		if c, ok := d.at(i); !ok || c != b {
			return
		}
	}
	d.pos += len(utf8BOM)
}

// at returns the byte i after pos, reading more when needed; false at the end
// of the input (or when it could not be read).
func (d *fastDecoder) at(i int) (byte, bool) {
	for d.pos+i >= len(d.buf) {
		if !d.fill() {
			return 0, false
		}
	}
	return d.buf[d.pos+i], true
}

// fill reads the next chunk of r after what is left from pos, which it moves to
// the start of buf; it says whether anything was read.
func (d *fastDecoder) fill() bool {
	if d.eof {
		return false
	}
	if d.pos > 0 {
		n := copy(d.buf, d.buf[d.pos:])
		d.buf, d.pos = d.buf[:n], 0
	}
	if cap(d.buf)-len(d.buf) < readChunk {
		d.buf = slices.Grow(d.buf, max(readChunk, len(d.buf)))
	}
	for {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		chunk := d.buf[len(d.buf) : len(d.buf)+n]
		d.buf = d.buf[:len(d.buf)+n]
		if n > 0 && d.read != nil {
			d.read(chunk)
		}
		switch {
		case err == io.EOF:
			d.eof = true
			return n > 0
		case err != nil:
			d.eof, d.err = true, err
			return false
		case n > 0:
			return true
		}
	}
}

// space skips white space. An indented file has long runs of spaces, passed
// eight at a time.
func (d *fastDecoder) space() {
	const spaces = 0x2020202020202020
	for {
		for buf := d.buf; d.pos < len(buf); {
			if d.pos+8 <= len(buf) && binary.LittleEndian.Uint64(buf[d.pos:]) == spaces {
				d.pos += 8
				continue
			}
			if !isSpace(buf[d.pos]) {
				return
			}
			d.pos++
		}
		if !d.fill() {
			return
		}
	}
}

// isSpace says whether c is JSON's white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// consume skips white space and then c; it says whether c was there.
func (d *fastDecoder) consume(c byte) bool {
	d.space()
	if b, ok := d.at(0); ok && b == c {
		d.pos++
		return true
	}
	return false
}

// formatVersionField is CourseExport's formatVersion, which a file must state.
var formatVersionField = (&contentv1.CourseExport{}).ProtoReflect().Descriptor().Fields().ByName("format_version")

// fieldSet is a set of a message's fields, by index (no message of the file
// has 64 fields).
type fieldSet uint64

func (s fieldSet) has(index int) bool { return s&(1<<index) != 0 }

// object decodes {…} into m, whose fields ms reads, and returns the fields it
// set. A field written null keeps its default value, as in protojson.
func object[T any](d *fastDecoder, ms members[T], m *T) (fieldSet, bool) {
	if !d.consume('{') {
		return 0, false
	}
	var seen fieldSet
	if d.consume('}') {
		return seen, true
	}
	for {
		key, ok := d.string()
		if !ok {
			return 0, false
		}
		f, known := ms[key] // before the next read, which can overwrite key
		if !d.consume(':') || !known || seen.has(f.index) {
			return 0, false // unknown or repeated: the complete path reports it
		}
		seen |= 1 << f.index
		if !d.null() && !f.decode(d, m) {
			return 0, false
		}
		if d.consume(',') {
			continue
		}
		return seen, d.consume('}')
	}
}

// array decodes [...] into to, each element with el; an element written null is
// left to the complete path, as protojson refuses it.
func array[E any](d *fastDecoder, to *[]E, el func(*fastDecoder, *E) bool) bool {
	if !d.consume('[') {
		return false
	}
	if d.consume(']') {
		return true
	}
	return elements(d, to, el, nil)
}

// elements decodes the elements of an array after its '[', up to and with its
// ']', appending them to to. When more is set, it is asked after each ','
// whether to go on; when it says no, elements returns true at once, with
// d.pos where more left it.
func elements[E any](d *fastDecoder, to *[]E, el func(*fastDecoder, *E) bool, more func() bool) bool {
	for {
		var e E
		if !el(d, &e) {
			return false
		}
		*to = append(*to, e)
		if !d.consume(',') {
			return d.consume(']')
		}
		if more != nil && !more() {
			return true
		}
	}
}

// message decodes a new T into *p, whose fields ms reads.
func message[T any](ms members[T]) func(*fastDecoder, **T) bool {
	return func(d *fastDecoder, p **T) bool {
		*p = new(T)
		_, ok := object(d, ms, *p)
		return ok
	}
}

// str decodes a string into *s, copied out of the buffer.
func (d *fastDecoder) str(s *string) bool {
	v, ok := d.string()
	*s = d.text.Copy(v)
	return ok
}

// int decodes a plain integer into *n (see int32).
func (d *fastDecoder) int(n *int32) bool {
	v, ok := d.int32()
	*n = v
	return ok
}

// bool decodes true or false into *b.
func (d *fastDecoder) bool(b *bool) bool {
	switch {
	case d.literal("true"):
		*b = true
	case d.literal("false"):
		*b = false
	default:
		return false
	}
	return true
}

// enum decodes an enum value by its name into *e.
func enum[E ~int32](d *fastDecoder, e *E, values protoreflect.EnumValueDescriptors) bool {
	s, ok := d.string()
	if !ok {
		return false
	}
	v := values.ByName(protoreflect.Name(s))
	if v == nil {
		return false
	}
	*e = E(v.Number())
	return true
}

// timestampValue decodes a timestamp in the form protojson writes into *t.
func (d *fastDecoder) timestampValue(t **timestamppb.Timestamp) bool {
	s, ok := d.string()
	if !ok {
		return false
	}
	*t, ok = timestamp(s)
	return ok
}

func (d *fastDecoder) null() bool { return d.literal("null") }

// literal consumes word (true, false, null) if it comes next.
func (d *fastDecoder) literal(word string) bool {
	d.space()
	for i := range len(word) {
		if c, ok := d.at(i); !ok || c != word[i] {
			return false
		}
	}
	if c, ok := d.at(len(word)); ok && isWordByte(c) {
		return false
	}
	d.pos += len(word)
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// int32 decodes a plain integer: an optional minus, digits, no leading zero,
// no fraction, no exponent.
func (d *fastDecoder) int32() (int32, bool) {
	d.space()
	n := 0
	if c, ok := d.at(0); ok && c == '-' {
		n++
	}
	digits := n
	for {
		c, ok := d.at(n)
		if !ok || c < '0' || c > '9' {
			break
		}
		n++
	}
	count := n - digits
	if count == 0 || count > 10 || count > 1 && d.buf[d.pos+digits] == '0' {
		return 0, false
	}
	if c, ok := d.at(n); ok && (c == '.' || c == 'e' || c == 'E' || isWordByte(c)) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(d.buf[d.pos:d.pos+n]), 10, 32)
	d.pos += n
	return int32(v), err == nil
}

// string decodes a JSON string. One without escapes points into buf, valid
// until the next read (a value kept beyond that is cloned); one with escapes is
// unescaped into new memory. Control characters, \u escapes of surrogates and
// bytes that are not UTF-8 are left to the complete path.
//
// The scan checks UTF-8 as it goes: eight bytes of plain ASCII are passed at
// once, and a multi-byte character is decoded where it starts, so text is read
// once rather than scanned and then validated.
func (d *fastDecoder) string() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	for i := 0; ; {
	scan:
		for buf := d.buf[d.pos:]; i < len(buf); {
			if i+8 <= len(buf) {
				if w := binary.LittleEndian.Uint64(buf[i:]); w&highBits == 0 && !hasEscape(w) {
					i += 8
					continue
				}
			}
			c := buf[i]
			if c >= utf8.RuneSelf {
				if !utf8.FullRune(buf[i:]) && !d.eof {
					break scan // the character goes on in the next read
				}
				r, size := utf8.DecodeRune(buf[i:])
				if r == utf8.RuneError && size == 1 {
					return "", false
				}
				i += size
				continue
			}
			if !mustEscape[c] {
				i++
				continue
			}
			switch c {
			case '"':
				d.pos += i + 1
				if i == 0 {
					return "", true
				}
				return unsafe.String(&buf[0], i), true
			case '\\':
				return d.escaped(i)
			}
			return "", false // a control character
		}
		if !d.fill() {
			return "", false
		}
	}
}

// escaped decodes the string at pos whose first escape is at i.
func (d *fastDecoder) escaped(i int) (string, bool) {
	out := append(make([]byte, 0, i+64), d.buf[d.pos:d.pos+i]...)
	for {
		// The run of plain bytes up to the next stop, copied at once.
		start := i
		for buf := d.buf[d.pos:]; i < len(buf) && !mustEscape[buf[i]]; i++ {
		}
		out = append(out, d.buf[d.pos+start:d.pos+i]...)
		c, ok := d.at(i)
		switch {
		case !ok, c < ' ':
			return "", false
		case c == '"':
			d.pos += i + 1
			if !utf8.Valid(out) {
				return "", false
			}
			return unsafe.String(unsafe.SliceData(out), len(out)), true // new memory, not the buffer
		case c != '\\':
			continue // the buffer was refilled: scan on
		}
		e, ok := d.at(i + 1)
		if !ok {
			return "", false
		}
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if _, ok := d.at(i + 5); !ok {
				return "", false
			}
			r, err := strconv.ParseUint(string(d.buf[d.pos+i+2:d.pos+i+6]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(r)) {
				return "", false
			}
			out = utf8.AppendRune(out, rune(r))
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
}

// timestamp parses the RFC 3339 form protojson writes: UTC, "Z", up to nine
// fractional digits; anything else goes to the complete path.
func timestamp(s string) (*timestamppb.Timestamp, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[len(s)-1] != 'Z' || s[10] != 'T' {
		return nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return nil, false
	}
	if frac := len(s) - len("2006-01-02T15:04:05Z"); frac > 0 && (frac < 2 || frac > 10 || s[19] != '.') {
		return nil, false
	}
	return timestamppb.New(t), true
}
