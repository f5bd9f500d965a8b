package coursefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Decode parses the JSON of a transfer file. Before protojson parses it, one
// streaming pass over the tokens checks every field against the CourseExport
// schema, so that all unknown fields (warnings) and all wrongly typed values
// (errors) are reported with their JSON paths, not just the first. It returns nil
// when the file cannot be parsed; the reasons are in f.
func Decode(raw []byte, f *Findings) *contentv1.CourseExport {
	raw = bytes.TrimPrefix(raw, utf8BOM) // Notepad and Excel write one
	// Fastest path: a plain, well-formed file, parsed in one pass (see
	// fastDecode), which checks the UTF-8 of its strings as it reads them.
	if file, ok := fastDecode(raw); ok {
		return file
	}
	if !utf8.Valid(raw) {
		reportEncoding(raw, f)
		return nil
	}
	// Fast path: a file that strict protojson accepts has no unknown field and no
	// wrongly typed value, so there is nothing for the walk to report.
	var strict contentv1.CourseExport
	if err := protojson.Unmarshal(raw, &strict); err == nil && strict.GetCourse() != nil && hasFormatVersion(raw) {
		return &strict
	}
	w := &schemaWalker{dec: json.NewDecoder(bytes.NewReader(raw)), raw: raw, f: f}
	w.dec.UseNumber()
	if !w.root() {
		return nil
	}
	var file contentv1.CourseExport
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &file); err != nil {
		// The walk checks all protojson checks; this is a safety net whose
		// English text is no use to a course manager.
		f.Errorf("INVALID_FILE", "", "O arquivo não pôde ser lido como uma exportação de curso.")
		return nil
	}
	return &file
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// reportEncoding reports the first byte that is not UTF-8: the file was saved
// in another encoding (Latin-1 or Windows-1252, from an old editor).
func reportEncoding(raw []byte, f *Findings) {
	i := 0
	for i < len(raw) {
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		i += size
	}
	f.Errorf("INVALID_ENCODING", "", "O arquivo não está em UTF-8: o byte 0x%02X (%s) não é UTF-8 válido. "+
		"Ele parece ter sido salvo em outra codificação (Latin-1 ou Windows-1252); salve-o como UTF-8 e envie de novo.",
		raw[i], position(raw, int64(i)))
}

// hasFormatVersion tells whether the file states its formatVersion: protojson
// cannot tell a missing 0 from a written one, and the walk reports it missing.
func hasFormatVersion(raw []byte) bool {
	return bytes.Contains(raw, []byte(`"formatVersion"`)) || bytes.Contains(raw, []byte(`"format_version"`))
}

// schemaWalker walks JSON tokens beside the proto descriptors.
type schemaWalker struct {
	dec *json.Decoder
	raw []byte
	f   *Findings
	bad bool // a value had the wrong type: the file cannot be parsed
}

// root checks the top level: a JSON object with formatVersion and course. It
// reports false when the file cannot be parsed.
func (w *schemaWalker) root() bool {
	tok, err := w.dec.Token()
	if err != nil {
		w.syntax(err)
		return false
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		w.f.Errorf("NOT_A_COURSE_FILE", "", "O arquivo não é uma exportação de curso: esperava um objeto JSON com formatVersion e course.")
		return false
	}
	md := (&contentv1.CourseExport{}).ProtoReflect().Descriptor()
	seen, err := w.object(md, "")
	if err != nil {
		w.syntax(err)
		return false
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			w.syntax(err)
		} else {
			w.f.Errorf("INVALID_JSON", "", "Há conteúdo depois do fim do objeto JSON (%s).", position(w.raw, w.dec.InputOffset()))
		}
		return false
	}
	if !seen["formatVersion"] || !seen["course"] {
		w.f.Errorf("NOT_A_COURSE_FILE", "", "O arquivo não é uma exportação de curso: faltam os campos formatVersion e course.")
		return false
	}
	return !w.bad
}

// object walks the fields of an object whose '{' was read, and returns the
// (JSON) names of the known fields it saw.
func (w *schemaWalker) object(md protoreflect.MessageDescriptor, path string) (map[string]bool, error) {
	seen := map[string]bool{}
	keys := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		fieldPath := joinPath(path, key)
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByTextName(key)
		}
		dupKey := key
		if fd != nil {
			dupKey = fd.JSONName() // "formatVersion" and "format_version" are one field
		}
		if keys[dupKey] {
			w.bad = true
			w.f.Errorf("DUPLICATE_KEY", fieldPath, "O campo %q aparece duas vezes %s; deixe só um.", key, inObject(path))
		}
		keys[dupKey] = true
		if fd == nil {
			w.f.Warnf("UNKNOWN_FIELD", fieldPath, "O campo %q não faz parte do formato e será ignorado.", key)
			if err := w.skip(); err != nil {
				return nil, err
			}
			continue
		}
		seen[fd.JSONName()] = true
		if err := w.field(fd, fieldPath); err != nil {
			return nil, err
		}
	}
	_, err := w.dec.Token() // '}'
	return seen, err
}

// field checks the value of one field, a list when the field is repeated.
func (w *schemaWalker) field(fd protoreflect.FieldDescriptor, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null is the default value
	}
	if !fd.IsList() {
		return w.value(fd, path, tok)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		w.wrongType(path, "uma lista")
		return w.skipRest(tok)
	}
	for i := 0; w.dec.More(); i++ {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if err := w.value(fd, fmt.Sprintf("%s[%d]", path, i), tok); err != nil {
			return err
		}
	}
	_, err = w.dec.Token() // ']'
	return err
}

// value checks one (non-list) value whose first token is tok.
func (w *schemaWalker) value(fd protoreflect.FieldDescriptor, path string, tok json.Token) error {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		if fd.Message().FullName() == "google.protobuf.Timestamp" {
			s, ok := tok.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
				w.wrongType(path, "uma data e hora RFC 3339 (por exemplo 2026-11-29T12:00:00Z)")
				return w.skipRest(tok)
			}
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			w.wrongType(path, "um objeto")
			return w.skipRest(tok)
		}
		_, err := w.object(fd.Message(), path)
		return err
	case protoreflect.StringKind, protoreflect.BytesKind:
		if _, ok := tok.(string); !ok {
			w.wrongType(path, "um texto")
			return w.skipRest(tok)
		}
	case protoreflect.BoolKind:
		if _, ok := tok.(bool); !ok {
			w.wrongType(path, "true ou false")
			return w.skipRest(tok)
		}
	case protoreflect.Int32Kind:
		if !isInt32(tok) {
			w.wrongType(path, "um número inteiro")
			return w.skipRest(tok)
		}
	case protoreflect.EnumKind:
		return w.enum(fd.Enum(), path, tok)
	default:
		// The format has no other kinds; protojson judges anything else.
	}
	return nil
}

func (w *schemaWalker) enum(ed protoreflect.EnumDescriptor, path string, tok json.Token) error {
	switch v := tok.(type) {
	case string:
		if ed.Values().ByName(protoreflect.Name(v)) != nil {
			return nil
		}
	case json.Number:
		if n, err := v.Int64(); err == nil && ed.Values().ByNumber(protoreflect.EnumNumber(n)) != nil {
			return nil
		}
	default:
		w.wrongType(path, "um dos valores "+enumNames(ed))
		return w.skipRest(tok)
	}
	w.bad = true
	w.f.Errorf("INVALID_ENUM_VALUE", path, "Valor %v desconhecido; use um dos valores %s.", tok, enumNames(ed))
	return nil
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	names := make([]string, 0, ed.Values().Len())
	for i := range ed.Values().Len() {
		names = append(names, string(ed.Values().Get(i).Name()))
	}
	return strings.Join(names, ", ")
}

func isInt32(tok json.Token) bool {
	var s string
	switch v := tok.(type) {
	case json.Number:
		s = string(v)
	case string: // protojson accepts quoted integers
		s = v
	default:
		return false
	}
	n, err := strconv.ParseFloat(s, 64)
	return err == nil && n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32
}

func (w *schemaWalker) wrongType(path, want string) {
	w.bad = true
	w.f.Errorf("INVALID_FIELD_TYPE", path, "Tipo inválido: o valor deveria ser %s.", want)
}

// skip consumes one whole value.
func (w *schemaWalker) skip() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	return w.skipRest(tok)
}

// skipRest consumes the rest of a value whose first token was tok.
func (w *schemaWalker) skipRest(tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// syntax reports a JSON syntax error with its line and column, in Portuguese.
// The decoder's error locates the token it was reading; a full scan by
// json.Unmarshal locates the very byte.
func (w *schemaWalker) syntax(err error) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		var scan *json.SyntaxError
		if errors.As(json.Unmarshal(w.raw, new(json.RawMessage)), &scan) {
			se = scan
		}
	}
	switch {
	case se != nil && se.Offset > 0 && int(se.Offset) <= len(w.raw) && !strings.Contains(se.Error(), "unexpected end"):
		at := se.Offset - 1 // the scanner's offset counts the offending byte
		w.f.Errorf("INVALID_JSON", "", "O arquivo não é um JSON válido: %s (%s).", describeSyntax(se.Error(), w.raw, at), position(w.raw, at))
	case se != nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		w.f.Errorf("INVALID_JSON", "", "O arquivo JSON termina no meio de um valor (%s): está incompleto?", position(w.raw, int64(len(w.raw))))
	default:
		w.f.Errorf("INVALID_JSON", "", "O arquivo não é um JSON válido (%s).", position(w.raw, w.dec.InputOffset()))
	}
}

// syntaxContexts turn the context encoding/json gives a syntax error into
// Portuguese; its text never reaches a course manager.
var syntaxContexts = []struct{ suffix, pt string }{
	{"looking for beginning of object key string", "onde se esperava o nome de um campo entre aspas"},
	{"after object key:value pair", "depois de um campo, onde se esperava uma vírgula ou }"},
	{"after object key", "depois do nome de um campo, onde se esperavam dois-pontos"},
	{"after array element", "depois de um item de lista, onde se esperava uma vírgula ou ]"},
	{"looking for beginning of value", "onde se esperava um valor"},
	{"after top-level value", "depois do fim do objeto JSON"},
	{"in string literal", "dentro de um texto (quebras de linha e tabulações devem ser escritas como \\n e \\t)"},
	{"in string escape code", "numa sequência de escape de um texto (use \\\\ para uma barra invertida)"},
	{"in \\u hexadecimal character escape", "numa sequência \\u, que deve ter quatro dígitos hexadecimais"},
	{"in numeric literal", "dentro de um número"},
	{"in literal true", "na palavra true"},
	{"in literal false", "na palavra false"},
	{"in literal null", "na palavra null"},
}

// describeSyntax says, in Portuguese, which character was unexpected where.
func describeSyntax(msg string, raw []byte, at int64) string {
	where := "inesperado"
	for _, c := range syntaxContexts {
		if strings.Contains(msg, c.suffix) {
			where = c.pt
			break
		}
	}
	r, _ := utf8.DecodeRune(raw[at:])
	char := fmt.Sprintf("%q", r)
	if r < ' ' || r == 0x7f {
		char = fmt.Sprintf("de controle U+%04X", r)
	}
	return fmt.Sprintf("caractere %s %s", char, where)
}

// position turns a byte offset of raw into "linha L, coluna C" (both 1-based;
// the column counts characters).
func position(raw []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(raw)))
	before := raw[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("linha %d, coluna %d", line, col)
}

// inObject says, for a message, in which object of the file path is.
func inObject(path string) string {
	if path == "" {
		return "no objeto raiz do arquivo"
	}
	return "em " + path
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
