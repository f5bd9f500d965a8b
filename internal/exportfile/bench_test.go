package exportfile_test

import (
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/exportfile"
)

func BenchmarkMarshal(b *testing.B) {
	file := coursegen.Generate(coursegen.M, 1)
	out, err := exportfile.Marshal(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := exportfile.Marshal(file); err != nil {
			b.Fatal(err)
		}
	}
}
