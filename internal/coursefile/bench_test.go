package coursefile_test

import (
	"io"
	"testing"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

func BenchmarkMarshal(b *testing.B) {
	benchmarkEncode(b, func(file *contentv1.CourseExport) error {
		_, err := coursefile.Marshal(file)
		return err
	})
}

// BenchmarkWrite renders the file as an export over REST does, to a writer.
func BenchmarkWrite(b *testing.B) {
	benchmarkEncode(b, func(file *contentv1.CourseExport) error { return coursefile.Write(io.Discard, file) })
}

// benchmarkEncode measures encode on the M course, per byte of its file.
func benchmarkEncode(b *testing.B, encode func(*contentv1.CourseExport) error) {
	file := coursegen.Generate(coursegen.M, 1)
	out, err := coursefile.Marshal(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if err := encode(file); err != nil {
			b.Fatal(err)
		}
	}
}
