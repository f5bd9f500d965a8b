package coursefile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// largeFile is three times the S course as a file (about 1.5 MB, past
// aheadMinBytes).
func largeFile(t *testing.T) []byte {
	t.Helper()
	shape := coursegen.Shape{Modules: 30, LessonsPerModule: 8, Quizzes: 30, QuestionsPerQuiz: 10, OptionsPerQuestion: 4,
		Competencies: 15, BankPerCompetency: 20, BankOptions: 4, FAQ: 30}
	raw, err := Marshal(coursegen.Generate(shape, 3))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < aheadMinBytes {
		t.Fatalf("the file has %d bytes, under aheadMinBytes", len(raw))
	}
	return raw
}

// alone decodes raw with one decoder.
func alone(raw []byte) (*contentv1.CourseExport, bool) { return fastDecodeWith(raw, nil) }

// TestFastDecodeTakesTheModulesDecodedAhead: in the layouts of an indented
// file, the second decoder starts at a module in the middle, the first one
// takes its modules, and the file is the one protojson parses.
func TestFastDecodeTakesTheModulesDecodedAhead(t *testing.T) {
	raw := largeFile(t)
	for _, name := range []string{"as written", "CRLF and tabs", "proto names", "escapes"} {
		file := variants[name](bytes.Clone(raw))
		a := startAhead(file)
		if a == nil {
			t.Fatalf("%s: no place to start a second decoder", name)
		}
		got, ok := fastDecodeWith(file, a)
		if !ok {
			t.Fatalf("%s: the fast path gave up", name)
		}
		modules := got.GetCourse().GetModules()
		if len(a.modules) == 0 || len(a.modules) == len(modules) || modules[len(modules)-1] != a.modules[len(a.modules)-1] {
			t.Errorf("%s: the file's %d modules are not the first decoder's and then the %d decoded ahead", name, len(modules), len(a.modules))
		}
		var want contentv1.CourseExport
		if err := protojson.Unmarshal(file, &want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, &want) {
			t.Errorf("%s: decoded on two cores, the file differs from protojson's", name)
		}
	}
	if startAhead(variants["compact"](bytes.Clone(raw))) != nil {
		t.Error("a file without newlines between its modules got a second decoder")
	}
}

// TestFastDecodeIsTheSameWhereverTheGuessFalls starts the second decoder at
// every kind of offset (between tokens, inside strings, at the true boundaries
// between modules), with the array's end guessed right and wrong: the file
// decoded is always the one decoder's, and the second decoder is done when the
// decode returns.
func TestFastDecodeIsTheSameWhereverTheGuessFalls(t *testing.T) {
	raw := largeFile(t)
	want, ok := alone(raw)
	if !ok {
		t.Fatal("one decoder gave up on a plain file")
	}
	start, resume, ok := aheadStart(raw)
	if !ok {
		t.Fatal("no guess for a file of this service")
	}
	// The boundaries between modules, by their layout.
	var boundaries []int
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte("},\n      {\n        \"id\""))
		if j < 0 {
			break
		}
		i += j + 1
		boundaries = append(boundaries, i+8)
	}
	if len(boundaries) < 10 {
		t.Fatalf("found %d boundaries between modules", len(boundaries))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type guess struct{ start, resume int }
	guesses := []guess{{start, resume}, {start, resume + 1}, {start, resume - 1}, {start, len(raw)}, {start, start}}
	for range 20 {
		guesses = append(guesses, guess{rng.IntN(len(raw)), resume})
	}
	for range 5 {
		b := boundaries[rng.IntN(len(boundaries))]
		guesses = append(guesses, guess{b, resume}, guess{b, rng.IntN(len(raw))}, guess{b - 1, resume}, guess{b + 1, resume})
	}
	for _, g := range guesses {
		a := startAheadAt(raw, g.start, g.resume)
		got, ok := fastDecodeWith(raw, a)
		if !ok || !proto.Equal(got, want) {
			t.Fatalf("start %d, resume %d (guess: %d, %d): ok %v, the file differs from one decoder's", g.start, g.resume, start, resume, ok)
		}
		select {
		case <-a.done:
		default:
			t.Fatalf("start %d, resume %d: the second decoder still reads the file after the decode", g.start, g.resume)
		}
	}
}

// TestFastDecodeOnTwoCoresGivesUpWhereOneDoes puts what the fast path refuses
// before the second decoder's start, in the modules it decodes, and after the
// array: the fast path gives up, as with one decoder, and Decode reports the
// same findings.
func TestFastDecodeOnTwoCoresGivesUpWhereOneDoes(t *testing.T) {
	raw := largeFile(t)
	start, resume, ok := aheadStart(raw)
	if !ok {
		t.Fatal("no guess for a file of this service")
	}
	at := map[string]int{"before its start": start / 2, "in its modules": start + (resume-start)/2, "after the array": resume + (len(raw)-resume)/2}
	for where, offset := range at {
		for what, edit := range map[string][2]string{
			"exponent":      {`"position": `, `"position": 1e0, "x": `},
			"unknown field": {`"id": `, `"extra": 1, "id": `},
		} {
			i := offset + bytes.Index(raw[offset:], []byte(edit[0]))
			if i < offset {
				continue // the rest of the file has no such field
			}
			bad := append(append(bytes.Clone(raw[:i]), edit[1]...), raw[i+len(edit[0]):]...)
			name := fmt.Sprintf("%s %s", what, where)
			if _, ok := fastDecode(bad); ok {
				t.Errorf("%s: the fast path accepted it", name)
			}
			if _, ok := alone(bad); ok {
				t.Errorf("%s: one decoder accepted it", name)
			}
			var f Findings
			if Decode(bad, &f) == nil && !f.HasErrors() {
				t.Errorf("%s: Decode gave no file and no error", name)
			}
		}
	}
}
