package coursefile_test

import (
	"io"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

func BenchmarkMarshal(b *testing.B) {
	file := coursegen.Generate(coursegen.M, 1)
	out, err := coursefile.Marshal(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := coursefile.Marshal(file); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite renders the file as an export over REST does, to a writer.
func BenchmarkWrite(b *testing.B) {
	file := coursegen.Generate(coursegen.M, 1)
	out, err := coursefile.Marshal(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if err := coursefile.Write(io.Discard, file); err != nil {
			b.Fatal(err)
		}
	}
}
