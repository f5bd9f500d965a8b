//go:build race

package textblock

// poison overwrites a released block in the race detector's builds, which
// make test runs: a string still in use after its Release then reads as
// 0xFF bytes, not as the text it held, and the test that reads it fails.
func poison(block *[DefaultBlockSize]byte) {
	for i := range block {
		block[i] = 0xFF
	}
}
