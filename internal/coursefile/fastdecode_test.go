package coursefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// sameAsProtojson fails when fastDecode accepts raw and protojson does not, or
// parses it differently.
func sameAsProtojson(t *testing.T, name string, raw []byte) (accepted bool) {
	t.Helper()
	if !utf8.Valid(raw) {
		return false // Decode reports it before any parsing
	}
	fast, ok := fastDecode(bytes.Clone(raw))
	if !ok {
		return false
	}
	var want contentv1.CourseExport
	if err := protojson.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: fastDecode accepts what protojson refuses (%v):\n%.400s", name, err, raw)
	}
	if !proto.Equal(fast, &want) {
		t.Fatalf("%s: fastDecode and protojson differ:\n%.400s", name, raw)
	}
	return true
}

// variants rewrite a valid file in ways JSON allows: other white space, proto
// field names, nulls, escapes, reordered keys.
var variants = map[string]func([]byte) []byte{
	"as written": func(b []byte) []byte { return b },
	"compact": func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			panic(err)
		}
		return out.Bytes()
	},
	"CRLF and tabs": func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), []byte("  "), []byte("\t"))
	},
	"proto names": func(b []byte) []byte {
		return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(`"formatVersion"`), []byte(`"format_version"`)), []byte(`"questionBank"`), []byte(`"question_bank"`))
	},
	"escapes": func(b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte("ã"), []byte(`\u00e3`))
		b = bytes.ReplaceAll(b, []byte("ç"), []byte(`\u00E7`))
		return bytes.ReplaceAll(b, []byte(`"title": "`), []byte(`"title": "\/\t\"\\\n`))
	},
	"nulls": func(b []byte) []byte {
		return regexp.MustCompile(`"exportedAt": "[^"]*"`).ReplaceAll(b, []byte(`"exportedAt": null`))
	},
	"formatVersion last": func(b []byte) []byte {
		b = bytes.Replace(b, []byte(`"formatVersion": 1,`), nil, 1)
		end := bytes.LastIndexByte(b, '}')
		return append(append(b[:end:end], []byte(`, "formatVersion": 1`)...), '}')
	},
}

func TestFastDecodeIsProtojsonOnGeneratedFiles(t *testing.T) {
	shapes := []coursegen.Shape{coursegen.S, {Modules: 3, LessonsPerModule: 2, Quizzes: 2, QuestionsPerQuiz: 2, OptionsPerQuestion: 3,
		Competencies: 2, BankPerCompetency: 2, BankOptions: 2, FAQ: 2}}
	for i, shape := range shapes {
		for seed := range uint64(5) {
			raw, err := Marshal(coursegen.Generate(shape, seed))
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range variants {
				sameStreamed(t, fmt.Sprintf("shape %d seed %d %s", i, seed, name), v(bytes.Clone(raw)))
				if !sameAsProtojson(t, fmt.Sprintf("shape %d seed %d %s", i, seed, name), v(bytes.Clone(raw))) {
					t.Errorf("shape %d seed %d %s: the fast path gave up on a plain file", i, seed, name)
				}
			}
		}
	}
}

func TestFastDecodeGivesUpWhereTheCompletePathMustSpeak(t *testing.T) {
	base, err := Marshal(coursegen.Generate(coursegen.S, 1))
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string][2]string{
		"unknown field":     {`"formatVersion": 1,`, `"formatVersion": 1, "extra": 1,`},
		"repeated field":    {`"formatVersion": 1,`, `"formatVersion": 1, "format_version": 1,`},
		"quoted number":     {`"formatVersion": 1`, `"formatVersion": "1"`},
		"exponent":          {`"formatVersion": 1`, `"formatVersion": 1e0`},
		"enum by number":    {`"COURSE_STATUS_PUBLISHED"`, `2`},
		"unknown enum":      {`"COURSE_STATUS_PUBLISHED"`, `"PUBLICADO"`},
		"lone surrogate":    {`"title": "`, `"title": "\ud800`},
		"control character": {`"title": "`, "\"title\": \"\x01"},
		"trailing data":     {`"formatVersion": 1,`, `"formatVersion": 1,`},
		"no course":         {`"course": {`, `"curso": {`},
		"local time":        {`Z"`, `-03:00"`},
	}
	for name, e := range edits {
		raw := bytes.Replace(bytes.Clone(base), []byte(e[0]), []byte(e[1]), 1)
		if name == "trailing data" {
			raw = append(raw, []byte(" {}")...)
		}
		sameStreamed(t, name, raw)
		if sameAsProtojson(t, name, raw) {
			t.Errorf("%s: the fast path accepted it", name)
		}
		// Decode still answers as before: through protojson or the walk.
		var f Findings
		_ = Decode(raw, &f)
	}
}

// TestFastDecodeRefusesTextThatIsNotUTF8 puts bytes that are not UTF-8 in a
// string, at every offset of the scan's eight-byte words: the fast path gives
// up, read whole or streamed, and leaves the report to Decode.
func TestFastDecodeRefusesTextThatIsNotUTF8(t *testing.T) {
	base, err := Marshal(coursegen.Generate(coursegen.S, 2))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"stray continuation byte": "\x80",
		"invalid byte":            "\xff",
		"truncated character":     "\xc3",
		"overlong slash":          "\xc0\xaf",
		"encoded surrogate":       "\xed\xa0\x80",
		"beyond U+10FFFF":         "\xf4\x90\x80\x80",
	}
	for name, b := range bad {
		for offset := range 9 {
			title := `"title": "` + strings.Repeat("á", offset%2) + strings.Repeat("a", offset) + b
			raw := bytes.Replace(bytes.Clone(base), []byte(`"title": "`), []byte(title), 1)
			if _, ok := fastDecode(bytes.Clone(raw)); ok {
				t.Fatalf("%s at offset %d: the fast path accepted it", name, offset)
			}
			sameStreamed(t, name, raw)
			var f Findings
			if Decode(raw, &f) != nil || !f.HasErrors() {
				t.Fatalf("%s at offset %d: Decode did not report it", name, offset)
			}
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	raw, err := Marshal(coursegen.Generate(coursegen.Shape{Modules: 2, LessonsPerModule: 2, Quizzes: 1, QuestionsPerQuiz: 1,
		OptionsPerQuestion: 2, Competencies: 1, BankPerCompetency: 1, BankOptions: 2, FAQ: 1}, 3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	for _, v := range variants {
		f.Add(v(bytes.Clone(raw)))
	}
	f.Add([]byte(`{"formatVersion": 1, "course": {"title": "\u00e9\n", "modules": [{"position": -0}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameStreamed(t, "fuzz", raw)
		sameAsProtojson(t, "fuzz", raw)
		sameOnTwoCores(t, raw)
	})
}

// sameOnTwoCores decodes raw with a second decoder where its layout guides
// one, whatever raw's size, and fails unless the outcome is one decoder's.
func sameOnTwoCores(t *testing.T, raw []byte) {
	t.Helper()
	start, resume, ok := aheadStart(raw)
	if !ok {
		return
	}
	want, wantOK := alone(raw)
	got, gotOK := fastDecodeWith(raw, startAheadAt(raw, start, resume))
	if gotOK != wantOK || gotOK && !proto.Equal(got, want) {
		t.Fatalf("decoded on two cores (start %d, resume %d): ok %v, one decoder: ok %v, or the files differ:\n%.400s", start, resume, gotOK, wantOK, raw)
	}
}

// TestFastDecodeOnRandomEdits flips bytes of a valid file at random: whatever
// the fast path accepts, protojson reads the same.
func TestFastDecodeOnRandomEdits(t *testing.T) {
	base, err := Marshal(coursegen.Generate(coursegen.Shape{Modules: 2, LessonsPerModule: 2, Quizzes: 1, QuestionsPerQuiz: 2,
		OptionsPerQuestion: 2, Competencies: 1, BankPerCompetency: 1, BankOptions: 2, FAQ: 1}, 9))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,\ 0123456789-.eEtrufalsn` + "\n\x00\x7f")
	for i := range 20000 {
		raw := bytes.Clone(base)
		for range 1 + rng.IntN(3) {
			raw[rng.IntN(len(raw))] = alphabet[rng.IntN(len(alphabet))]
		}
		if i%5 == 0 { // streamed too, for a fifth of them: reading in small chunks is slower
			sameStreamed(t, fmt.Sprintf("edit %d", i), raw)
		}
		sameAsProtojson(t, fmt.Sprintf("edit %d", i), raw)
	}
}

// TestNewMembersRefusesATableThatIsNotTheSchema: a field added to the schema
// and not to the fast decoder stops the package from loading.
func TestNewMembersRefusesATableThatIsNotTheSchema(t *testing.T) {
	id := func(d *fastDecoder, m *contentv1.FaqEntry) bool { return d.str(&m.Id) }
	tables := map[string]map[string]func(*fastDecoder, *contentv1.FaqEntry) bool{
		"a field missing":  {"id": id, "position": id, "question": id},
		"a field misnamed": {"id": id, "position": id, "question": id, "answr": id},
	}
	for name, table := range tables {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: newMembers accepted it", name)
				}
			}()
			newMembers(table)
		}()
	}
}
