package transfer

import (
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/exportfile"
)

// benchFile is the M course as a file: 100 modules, 800 lessons, about 5 MB.
func benchFile(b *testing.B) []byte {
	b.Helper()
	raw, err := exportfile.Marshal(coursegen.Generate(coursegen.M, 1))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkDecode(b *testing.B) {
	raw := benchFile(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var f findings
		if decodeFile(raw, &f) == nil {
			b.Fatal(f.errors.list())
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	raw := benchFile(b)
	file := decodeFile(raw, &findings{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var f findings
		validate(file, &f)
		if !f.errors.empty() {
			b.Fatal(f.errors.list())
		}
	}
}

func BenchmarkDigest(b *testing.B) {
	raw := benchFile(b)
	file := decodeFile(raw, &findings{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := contentDigest(file); err != nil {
			b.Fatal(err)
		}
	}
}
