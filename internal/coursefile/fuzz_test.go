package coursefile_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// checkFindings requires every finding to carry a code and a readable
// Portuguese message, never Go's English.
func checkFindings(t *testing.T, what string, list []*contentv1.Finding) {
	t.Helper()
	for _, f := range list {
		msg := f.GetMessage()
		if f.GetCode() == "" || msg == "" || !utf8.ValidString(msg) || !utf8.ValidString(f.GetPath()) {
			t.Fatalf("%s: finding without code or message: %v", what, f)
		}
		for _, w := range english {
			if strings.Contains(strings.ToLower(msg), w) {
				t.Fatalf("%s: %q has Go's English (%q)", what, msg, w)
			}
		}
	}
}

// FuzzDecode feeds the decoder and the validator any bytes (the committed
// corpus in testdata/fuzz/FuzzDecode holds valid files, one per finding code,
// deep nesting, huge strings, bad encodings, numbers out of range and repeated
// keys). What decodes must validate, digest and normalise without panicking,
// and a file without errors must survive Marshal and Decode with its digest.
func FuzzDecode(f *testing.F) {
	f.Add(demo.File)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var found coursefile.Findings
		file := coursefile.Decode(raw, &found)
		checkFindings(t, "decode", found.Errors())
		checkFindings(t, "decode", found.Warnings())
		if file == nil {
			if !found.HasErrors() {
				t.Fatal("Decode returned nothing and no error")
			}
			return
		}
		coursefile.Validate(file, &found)
		checkFindings(t, "validate", found.Errors())
		checkFindings(t, "validate", found.Warnings())
		digest := coursefile.Digest(file)
		if found.HasErrors() {
			return
		}
		coursefile.Normalize(file.GetCourse())
		out, err := coursefile.Marshal(file)
		if err != nil {
			t.Fatalf("a valid file does not marshal: %v", err)
		}
		var again coursefile.Findings
		back := coursefile.Decode(out, &again)
		if back == nil || again.HasErrors() {
			t.Fatalf("a valid file does not decode after Marshal: %v", again.Errors())
		}
		// Normalising changes positions only when they needed it; the digest of
		// what was written is the digest of what is read back.
		d1, d2 := coursefile.Digest(file), coursefile.Digest(back)
		if d1 != d2 {
			t.Fatalf("digest changed through Marshal and Decode: %s, %s (before normalising %s)", d1, d2, digest)
		}
	})
}

// FuzzValidate puts fuzzed texts and numbers into the fields of a valid course,
// where the decoder lets anything of the right type through.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", " ", "\x00", "https://youtu.be/x", "javascript:x", strings.Repeat("é", 301), "\u202e", "http://"} {
		f.Add(s, s, s, int32(1), int32(70), int32(0))
	}
	f.Add("Curso", "https://vimeo.com/1", "NR35-EPI", int32(-1), int32(101), int32(-1<<31))
	f.Fuzz(func(t *testing.T, text, url, code string, position, score, duration int32) {
		if !utf8.ValidString(text) || !utf8.ValidString(url) || !utf8.ValidString(code) {
			return // the decoder refuses these before validation
		}
		var found coursefile.Findings
		file := coursefile.Decode(demo.File, &found)
		c := file.GetCourse()
		c.Title, c.Description = text, text
		m := c.GetModules()[0]
		m.Position, m.Title = position, text
		l := m.GetLessons()[0]
		l.VideoUrl, l.DurationSeconds, l.PracticalSummary, l.Checklist = url, duration, text, []string{text, code}
		q := m.GetQuizzes()[0]
		q.MinScore, q.Title = score, text
		q.GetQuestions()[0].GetOptions()[0].Text = text
		c.GetCompetencies()[0].Code = code
		c.GetFaq()[0].Question, c.GetFaq()[0].Position = text, position
		coursefile.Validate(file, &found)
		checkFindings(t, "validate", found.Errors())
		checkFindings(t, "validate", found.Warnings())
		coursefile.Normalize(c)
		coursefile.Digest(file) // must not panic
	})
}
