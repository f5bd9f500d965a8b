package coursefile

import (
	"bytes"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// TestEntitiesCountsEveryID: the size Validate gives its map of ids is the
// number of "id" members of the file.
func TestEntitiesCountsEveryID(t *testing.T) {
	for _, size := range []string{"S", coursegen.Real} {
		c, err := coursegen.Named(size, 3)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := entities(c.GetCourse()), bytes.Count(raw, []byte(`"id": `)); got != want {
			t.Errorf("%s: entities = %d, the file has %d ids", size, got, want)
		}
	}
}
