package store

import (
	"slices"
	"testing"
)

// handOut gives each parent its elements in the order they came: a run as a
// slice of the gathered array with no room to grow (appending to one list
// cannot write over the next), and a parent that comes again gets the rest
// appended.
func TestChildrenHandOutEachParentItsElements(t *testing.T) {
	type parent struct{ list []string }
	a, b, c := &parent{}, &parent{}, &parent{}
	var kids children[parent, string]
	for _, add := range []struct {
		p *parent
		e string
	}{{a, "a1"}, {a, "a2"}, {b, "b1"}, {a, "a3"}, {c, "c1"}, {c, "c2"}} {
		kids.add(add.p, add.e)
	}
	kids.handOut(func(p *parent) *[]string { return &p.list })
	for _, tt := range []struct {
		p    *parent
		want []string
	}{{a, []string{"a1", "a2", "a3"}}, {b, []string{"b1"}}, {c, []string{"c1", "c2"}}} {
		if !slices.Equal(tt.p.list, tt.want) {
			t.Errorf("list = %q, want %q", tt.p.list, tt.want)
		}
	}
	if cap(b.list) != len(b.list) {
		t.Errorf("a run's list has room to grow over the next one's: cap %d, len %d", cap(b.list), len(b.list))
	}
	b.list = append(b.list, "b2")
	if a.list[2] != "a3" || c.list[0] != "c1" {
		t.Errorf("appending to one list changed another: %q, %q", a.list, c.list)
	}
}

// After reset a slab hands out its values again, cleared, and keeps no more
// than keptValues of them.
func TestSlabResetReusesClearedValues(t *testing.T) {
	var s slab[struct{ n int }]
	first := s.new()
	first.n = 7
	for range 3 * keptValues {
		s.new().n = 1
	}
	s.reset()
	if again := s.new(); again != first || again.n != 0 {
		t.Errorf("after reset the first value is %p holding %d, want %p cleared", again, again.n, first)
	}
	kept := 0
	for _, chunk := range s.chunks {
		kept += len(chunk)
	}
	if kept > keptValues {
		t.Errorf("the slab kept %d values, want at most %d", kept, keptValues)
	}
}
