package coursefile

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// fastDecode parses a well-formed transfer file in one pass over raw, for the
// common case: a file this service exported, or one as plain. Its strings are
// copies, so that raw can go as soon as the file is parsed.
//
// It accepts a strict subset of what protojson accepts, and gives the same
// message for it (a property test holds it to protojson); for anything else —
// an unknown or repeated field, a wrong type, a number written as 1e2 or "7",
// an enum by number, an odd escape — it gives up (ok false) and Decode takes
// the complete path, which finds every problem with its JSON path.
func fastDecode(raw []byte) (file *contentv1.CourseExport, ok bool) {
	d := fastDecoder{raw: raw}
	file = &contentv1.CourseExport{}
	seen, ok := d.object(file.ProtoReflect())
	if !ok || !seen["formatVersion"] || file.GetCourse() == nil {
		return nil, false
	}
	d.space()
	if d.pos != len(d.raw) {
		return nil, false
	}
	return file, true
}

type fastDecoder struct {
	raw []byte
	pos int
}

func (d *fastDecoder) space() {
	for d.pos < len(d.raw) {
		switch d.raw[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume skips white space and then c; it says whether c was there.
func (d *fastDecoder) consume(c byte) bool {
	d.space()
	if d.pos < len(d.raw) && d.raw[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// object decodes {…} into m and returns the JSON names of the fields it set.
func (d *fastDecoder) object(m protoreflect.Message) (map[string]bool, bool) {
	if !d.consume('{') {
		return nil, false
	}
	seen := map[string]bool{}
	fields := m.Descriptor().Fields()
	if d.consume('}') {
		return seen, true
	}
	for {
		key, ok := d.string()
		if !ok || !d.consume(':') {
			return nil, false
		}
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByTextName(key)
		}
		if fd == nil || seen[fd.JSONName()] {
			return nil, false // unknown or repeated: the complete path reports it
		}
		seen[fd.JSONName()] = true
		if !d.field(m, fd) {
			return nil, false
		}
		if d.consume(',') {
			continue
		}
		return seen, d.consume('}')
	}
}

// field decodes the value of one field into m.
func (d *fastDecoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if d.null() {
		return true // null is the default value
	}
	if !fd.IsList() {
		return d.value(m, fd)
	}
	if fd.IsMap() || !d.consume('[') {
		return false
	}
	list := m.Mutable(fd).List()
	if d.consume(']') {
		return true
	}
	for {
		if fd.Kind() == protoreflect.MessageKind {
			if fd.Message().FullName() == "google.protobuf.Timestamp" {
				return false
			}
			el := list.NewElement()
			if _, ok := d.object(el.Message()); !ok {
				return false
			}
			list.Append(el)
		} else {
			v, ok := d.scalar(fd)
			if !ok {
				return false
			}
			list.Append(v)
		}
		if d.consume(',') {
			continue
		}
		return d.consume(']')
	}
}

// value decodes a singular value into m's field fd.
func (d *fastDecoder) value(m protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() != protoreflect.MessageKind {
		v, ok := d.scalar(fd)
		if ok {
			m.Set(fd, v)
		}
		return ok
	}
	if fd.Message().FullName() == "google.protobuf.Timestamp" {
		s, ok := d.string()
		if !ok {
			return false
		}
		ts, ok := timestamp(s)
		if ok {
			m.Set(fd, protoreflect.ValueOfMessage(ts.ProtoReflect()))
		}
		return ok
	}
	_, ok := d.object(m.Mutable(fd).Message())
	return ok
}

// scalar decodes a string, an int32, a bool or an enum by name.
func (d *fastDecoder) scalar(fd protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		s, ok := d.string()
		return protoreflect.ValueOfString(strings.Clone(s)), ok
	case protoreflect.Int32Kind:
		n, ok := d.int32()
		return protoreflect.ValueOfInt32(n), ok
	case protoreflect.BoolKind:
		switch {
		case d.literal("true"):
			return protoreflect.ValueOfBool(true), true
		case d.literal("false"):
			return protoreflect.ValueOfBool(false), true
		}
	case protoreflect.EnumKind:
		s, ok := d.string()
		if !ok {
			return protoreflect.Value{}, false
		}
		if ev := fd.Enum().Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
	}
	return protoreflect.Value{}, false
}

func (d *fastDecoder) null() bool { return d.literal("null") }

// literal consumes word (true, false, null) if it comes next.
func (d *fastDecoder) literal(word string) bool {
	d.space()
	end := d.pos + len(word)
	if end > len(d.raw) || string(d.raw[d.pos:end]) != word {
		return false
	}
	if end < len(d.raw) && isWordByte(d.raw[end]) {
		return false
	}
	d.pos = end
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// int32 decodes a plain integer: an optional minus, digits, no leading zero,
// no fraction, no exponent.
func (d *fastDecoder) int32() (int32, bool) {
	d.space()
	start := d.pos
	if d.pos < len(d.raw) && d.raw[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.raw) && d.raw[d.pos] >= '0' && d.raw[d.pos] <= '9' {
		d.pos++
	}
	n := d.pos - digits
	if n == 0 || n > 10 || n > 1 && d.raw[digits] == '0' {
		return 0, false
	}
	if d.pos < len(d.raw) && (d.raw[d.pos] == '.' || d.raw[d.pos] == 'e' || d.raw[d.pos] == 'E' || isWordByte(d.raw[d.pos])) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(d.raw[start:d.pos]), 10, 32)
	return int32(v), err == nil
}

// string decodes a JSON string. One without escapes points into raw (a value
// kept beyond the decoding is cloned); one with escapes is unescaped into new
// memory. Control characters and \u escapes of surrogates are left to the
// complete path; raw is valid UTF-8 (Decode checks it first).
func (d *fastDecoder) string() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.pos
	for i := start; i < len(d.raw); i++ {
		switch c := d.raw[i]; {
		case c == '"':
			d.pos = i + 1
			if i == start {
				return "", true
			}
			return unsafe.String(&d.raw[start], i-start), true
		case c == '\\':
			return d.escaped(start)
		case c < ' ':
			return "", false
		}
	}
	return "", false
}

// escaped decodes a string with escapes that starts at start.
func (d *fastDecoder) escaped(start int) (string, bool) {
	out := make([]byte, 0, 64)
	for i := start; i < len(d.raw); {
		c := d.raw[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(out), true
		case c < ' ':
			return "", false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(d.raw) {
			return "", false
		}
		switch e := d.raw[i+1]; e {
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
			if i+6 > len(d.raw) {
				return "", false
			}
			r, err := strconv.ParseUint(string(d.raw[i+2:i+6]), 16, 16)
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
	return "", false
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
