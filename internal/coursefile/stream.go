package coursefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// Stream reads a transfer file from r. A plain, well-formed file (what fastDecode
// takes) is parsed as it arrives, so that only its parsed form is ever whole in
// memory: Stream returns it. Any other file is read to its end and returned
// whole as raw, for Decode to report on; until then what was read is kept in a
// temporary file in spoolDir (the system's default when empty), deleted at once,
// or in memory when no such file can be made. An error is r's own (or the
// spool's), and then nothing is returned.
func Stream(r io.Reader, spoolDir string) (file *contentv1.CourseExport, raw []byte, err error) {
	sp := newSpool(spoolDir)
	defer sp.close()
	d := fastDecoder{r: r, read: sp.write, text: textblock.Blocks{BlockSize: textBlock}}
	file, ok := d.file()
	if d.err != nil {
		return nil, nil, d.err
	}
	if ok {
		return file, nil, nil
	}
	d.buf = nil // the spool has it all
	if _, err := io.Copy(writerFunc(sp.write), r); err != nil {
		return nil, nil, err
	}
	raw, err = sp.bytes()
	return nil, raw, err
}

type writerFunc func([]byte)

func (w writerFunc) Write(p []byte) (int, error) {
	w(p)
	return len(p), nil
}

// spool keeps what Stream reads, in case the file has to be read again whole.
type spool struct {
	f   *os.File     // the temporary file, or nil
	mem bytes.Buffer // without a file
	err error
}

func newSpool(dir string) *spool {
	f, err := os.CreateTemp(dir, "contentd-import-*.json")
	if err != nil {
		return &spool{}
	}
	// Deleted at once: the open file keeps its data, and nothing is left behind
	// however the process ends.
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		return &spool{}
	}
	return &spool{f: f}
}

// write keeps p. A failure (a full disk) matters only if the file must be read
// again: bytes reports it then.
func (s *spool) write(p []byte) {
	switch {
	case s.err != nil:
	case s.f == nil:
		s.mem.Write(p)
	default:
		if _, err := s.f.Write(p); err != nil {
			s.err = fmt.Errorf("spool the file being read: %w", err)
		}
	}
}

// bytes returns everything written.
func (s *spool) bytes() ([]byte, error) {
	if s.err != nil || s.f == nil {
		return s.mem.Bytes(), s.err
	}
	size, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	raw := make([]byte, size)
	if _, err := s.f.ReadAt(raw, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return raw, nil
}

func (s *spool) close() {
	if s.f != nil {
		_ = s.f.Close() // already deleted: nothing to keep
	}
}
