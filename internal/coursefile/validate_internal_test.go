package coursefile

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// TestRowsCountsEveryIDAndLink: Rows's entities are the "id" members of the
// file (the size Validate gives its map of ids), and its links the elements of
// the lessons' competencyIds.
func TestRowsCountsEveryIDAndLink(t *testing.T) {
	linkLists := regexp.MustCompile(`"competencyIds": \[([^\]]*)\]`)
	for _, size := range []string{"S", coursegen.Real} {
		c, err := coursegen.Named(size, 3)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		wantLinks := 0
		for _, list := range linkLists.FindAllSubmatch(raw, -1) {
			wantLinks += bytes.Count(list[1], []byte(`"`)) / 2
		}
		entities, links := Rows(c.GetCourse())
		if want := bytes.Count(raw, []byte(`"id": `)); entities != want {
			t.Errorf("%s: %d entities, the file has %d ids", size, entities, want)
		}
		if links != wantLinks || links == 0 {
			t.Errorf("%s: %d links, the file has %d", size, links, wantLinks)
		}
	}
}
