package coursefile

import (
	"bytes"
	"sync/atomic"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// A large file in memory is decoded on two cores. A second decoder (ahead)
// decodes the course's modules from one in the middle of the array up to the
// array's end, while the first one decodes the file from its start. When the
// first one reaches, between two modules, the very byte where the second one
// started, it goes on after the array's end, leaving the modules from there on
// to the second one, and adds them once both are done. Where the second one
// starts and where the array ends are guesses from the file's layout
// (aheadStart), and are checked, so the file parsed is always the one a
// single decoder parses:
//   - each decoder reads the same bytes as a single decoder would, in the same
//     way, so a start that is a boundary between modules gives the same
//     modules; one that is not is never met exactly, and the first decoder
//     decodes every module itself;
//   - the second decoder ends where the array does; when that is not where the
//     first one went on, the file is decoded again by one decoder.

// aheadMinBytes is the smallest file decoded on two cores: below it, starting
// a goroutine costs about what it saves.
const aheadMinBytes = 1 << 20

// ahead is the decoding of modules from start, on its own goroutine.
type ahead struct {
	start  int // offset in the file of the '{' of the first module it decodes
	resume int // offset where the first decoder goes on: after the guessed end
	// stop tells the goroutine that its modules will not be taken.
	stop atomic.Bool
	done chan struct{}
	// Set when done is closed: the modules from start to the array's end, the
	// offset after the array's ']', and whether it got there.
	modules []*contentv1.Module
	end     int
	ok      bool
}

// startAhead starts decoding raw's modules from aheadStart on another
// goroutine, or returns nil for a small file or one whose layout gives no
// place to start from.
func startAhead(raw []byte) *ahead {
	if len(raw) < aheadMinBytes {
		return nil
	}
	start, resume, ok := aheadStart(raw)
	if !ok {
		return nil
	}
	return startAheadAt(raw, start, resume)
}

// startAheadAt starts decoding modules at raw[start:] on another goroutine,
// for a first decoder that goes on at resume.
func startAheadAt(raw []byte, start, resume int) *ahead {
	a := &ahead{start: start, resume: resume, done: make(chan struct{})}
	go a.run(raw)
	return a
}

func (a *ahead) run(raw []byte) {
	defer close(a.done)
	d := fastDecoder{buf: raw, pos: a.start, eof: true, text: textblock.Blocks{BlockSize: textBlock}}
	stopped := false
	ok := elements(&d, &a.modules, decodeModule, func() bool {
		stopped = a.stop.Load()
		return !stopped
	})
	a.ok, a.end = ok && !stopped, d.pos
}

// aheadStart guesses, from the layout of an indented file (this service's or
// any other with one element per line), a boundary between two modules, and
// the end of their array. The boundary is the first after the point that
// leaves about half the file on each side, counting what follows the modules.
// The guess reads the line of the "modules" key and the white space before the
// first module: "}," and that white space before "{" ends a module and starts
// the next one, and a line with the key's indentation and "]" ends the array.
// start is the offset of that module's '{', resume the offset after the ']'.
// A file without newlines between its modules gives no guess.
func aheadStart(raw []byte) (start, resume int, ok bool) {
	key := bytes.Index(raw, []byte(`"modules"`))
	if key <= 0 {
		return 0, 0, false
	}
	line := bytes.LastIndexByte(raw[:key], '\n') + 1
	indent := raw[line:key]
	if len(bytes.Trim(indent, " \t")) != 0 {
		return 0, 0, false
	}
	open := key + len(`"modules"`)
	for open < len(raw) && (isSpace(raw[open]) || raw[open] == ':') {
		open++
	}
	if open >= len(raw) || raw[open] != '[' {
		return 0, 0, false
	}
	open++
	first := open
	for first < len(raw) && isSpace(raw[first]) {
		first++
	}
	sep := raw[open:first]
	if first >= len(raw) || raw[first] != '{' || bytes.IndexByte(sep, '\n') < 0 {
		return 0, 0, false
	}
	closing := append(append([]byte{'\n'}, indent...), ']')
	end := bytes.Index(raw[first:], closing)
	if end < 0 {
		return 0, 0, false
	}
	end += first
	boundary := append(append([]byte("},"), sep...), '{')
	from := max(first, end-len(raw)/2)
	i := bytes.Index(raw[from:end], boundary)
	if i < 0 {
		return 0, 0, false
	}
	return from + i + len(boundary) - 1, end + len(closing), true
}

// modules decodes the course's modules array into to. With d.ahead, on
// reaching the module it started with, it goes on after the array's guessed
// end, and sets d.joined to to, for fastDecode to add its modules.
func (d *fastDecoder) modules(to *[]*contentv1.Module) bool {
	a := d.ahead
	if a == nil {
		return array(d, to, decodeModule)
	}
	d.ahead = nil // the array is decoded once; a second one is refused
	if !d.consume('[') {
		return false
	}
	if d.consume(']') {
		return true
	}
	return elements(d, to, decodeModule, func() bool {
		if a == nil {
			return true
		}
		d.space()
		switch {
		case d.pos == a.start:
			d.joined, d.pos = to, a.resume
			return false
		case d.pos > a.start:
			a.stop.Store(true) // not a boundary between modules
			a = nil
		}
		return true
	})
}
