package transfer

// An import's body, read as it is parsed: bounded, and counted for metrics.

import (
	"errors"
	"io"
)

// counted is in with its body, if any, counting what is read of it.
func (in ImportInput) counted() ImportInput {
	if in.Body != nil {
		in.Body = &countingReader{r: in.Body}
	}
	return in
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// errFileTooLarge ends the reading of a body larger than the import's limit.
var errFileTooLarge = errors.New("file larger than the limit")

// limitedReader reads r up to left bytes, and fails with errFileTooLarge past them.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, errFileTooLarge
	}
	return n, err
}
