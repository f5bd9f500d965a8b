//go:build !race

package textblock

// poison does nothing outside the race detector's builds (see poison_race.go).
func poison(*[DefaultBlockSize]byte) {}
