package coursefile

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// chunkReader reads raw in chunks of random sizes, from 1 to 97 bytes, so that
// tokens straddle every kind of boundary.
type chunkReader struct {
	raw []byte
	rng *rand.Rand
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.raw) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.raw), 1+r.rng.IntN(97))
	copy(p, r.raw[:n])
	r.raw = r.raw[n:]
	return n, nil
}

// noSpoolDir makes Stream keep what it reads in memory: the property tests run
// many small files, where a temporary file each would only be slow.
const noSpoolDir = "/nonexistent/contentd-spool"

// sameStreamed fails unless Stream, reading raw in small chunks, accepts what
// fastDecode accepts, with the same message, and otherwise returns raw whole.
func sameStreamed(t *testing.T, name string, raw []byte) {
	t.Helper()
	file, whole, err := Stream(&chunkReader{raw: raw, rng: rand.New(rand.NewPCG(uint64(len(raw)), 7))}, noSpoolDir)
	if err != nil {
		t.Fatalf("%s: Stream: %v", name, err)
	}
	fast, ok := fastDecode(bytes.Clone(raw))
	switch {
	case ok != (file != nil):
		t.Fatalf("%s: fastDecode accepts it: %v; Stream: %v\n%.400s", name, ok, file != nil, raw)
	case ok && !proto.Equal(fast, file):
		t.Fatalf("%s: Stream and fastDecode differ:\n%.400s", name, raw)
	case !ok && !bytes.Equal(whole, raw):
		t.Fatalf("%s: Stream gave up but did not return the file whole (%d of %d bytes)", name, len(whole), len(raw))
	}
}

func TestStreamReadsOneByteAtATime(t *testing.T) {
	raw, err := Marshal(coursegen.Generate(coursegen.S, 4))
	if err != nil {
		t.Fatal(err)
	}
	want, ok := fastDecode(bytes.Clone(raw))
	if !ok {
		t.Fatal("fastDecode gave up on a generated file")
	}
	for name, r := range map[string]io.Reader{
		"one byte":          iotest.OneByteReader(bytes.NewReader(raw)),
		"half":              iotest.HalfReader(bytes.NewReader(raw)),
		"EOF with the data": iotest.DataErrReader(bytes.NewReader(raw)),
		"with a BOM":        io.MultiReader(bytes.NewReader(utf8BOM), bytes.NewReader(raw)),
	} {
		file, whole, err := Stream(r, t.TempDir())
		if err != nil || whole != nil || !proto.Equal(file, want) {
			t.Errorf("%s: err %v, whole %d bytes, same file %v", name, err, len(whole), proto.Equal(file, want))
		}
	}
}

// A file that is not plain comes back whole, for the complete path, through a
// temporary file that is never seen in its directory; or through memory when
// no temporary file can be made.
func TestStreamSpoolsWhatItCannotParse(t *testing.T) {
	raw, err := Marshal(coursegen.Generate(coursegen.S, 5))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte(`"formatVersion": 1,`), []byte(`"formatVersion": 1, "extra": true,`), 1)
	dir := t.TempDir()
	for _, spoolDir := range []string{dir, filepath.Join(dir, "missing")} {
		r := &watchedReader{r: iotest.HalfReader(bytes.NewReader(raw)), dir: dir}
		file, whole, err := Stream(r, spoolDir)
		if err != nil || file != nil || !bytes.Equal(whole, raw) {
			t.Fatalf("spool %s: err %v, file %v, whole %d of %d bytes", spoolDir, err, file != nil, len(whole), len(raw))
		}
		if r.seen != nil {
			t.Errorf("spool %s: %v in the directory while reading", spoolDir, r.seen)
		}
		var f Findings
		if Decode(whole, &f); !hasCode(f.Warnings(), "UNKNOWN_FIELD") {
			t.Errorf("spool %s: the complete path did not report the unknown field: %v", spoolDir, f.Warnings())
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the spool directory: %v", left)
	}
}

// watchedReader lists dir at every read.
type watchedReader struct {
	r    io.Reader
	dir  string
	seen []os.DirEntry
}

func (w *watchedReader) Read(p []byte) (int, error) {
	if entries, _ := os.ReadDir(w.dir); len(entries) > 0 && entries[0].Name() != "missing" {
		w.seen = entries
	}
	return w.r.Read(p)
}

func TestStreamReturnsTheReadersError(t *testing.T) {
	raw, err := Marshal(coursegen.Generate(coursegen.S, 6))
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("connection reset")
	for name, r := range map[string]io.Reader{
		"while parsing":   io.MultiReader(bytes.NewReader(raw[:len(raw)/2]), iotest.ErrReader(broken)),
		"while spooling":  io.MultiReader(bytes.NewReader([]byte(`{"extra": 1, `)), bytes.NewReader(raw), iotest.ErrReader(broken)),
		"at the very end": io.MultiReader(bytes.NewReader(raw), iotest.ErrReader(broken)),
	} {
		file, whole, err := Stream(r, t.TempDir())
		if !errors.Is(err, broken) || file != nil || whole != nil {
			t.Errorf("%s: err %v, file %v, whole %d bytes", name, err, file != nil, len(whole))
		}
	}
}

func hasCode(findings []*contentv1.Finding, code string) bool {
	for _, f := range findings {
		if f.GetCode() == code {
			return true
		}
	}
	return false
}
