package coursefile_test

import (
	"bytes"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// benchFile is the M course as a file: 100 modules, 800 lessons, about 5 MB.
func benchFile(b *testing.B) []byte {
	b.Helper()
	raw, err := coursefile.Marshal(coursegen.Generate(coursegen.M, 1))
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
		var f coursefile.Findings
		if coursefile.Decode(raw, &f) == nil {
			b.Fatal(f.Errors())
		}
	}
}

// BenchmarkStream decodes the file as it is read, with its temporary copy.
func BenchmarkStream(b *testing.B) {
	raw := benchFile(b)
	dir := b.TempDir()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		file, _, err := coursefile.Stream(bytes.NewReader(raw), dir)
		if err != nil || file == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	raw := benchFile(b)
	file := coursefile.Decode(raw, &coursefile.Findings{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var f coursefile.Findings
		coursefile.Validate(file, &f)
		if f.HasErrors() {
			b.Fatal(f.Errors())
		}
	}
}

func BenchmarkDigest(b *testing.B) {
	raw := benchFile(b)
	file := coursefile.Decode(raw, &coursefile.Findings{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		coursefile.Digest(file)
	}
}
