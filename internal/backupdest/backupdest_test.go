package backupdest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/s3test"
)

// exercise runs the contract every destination keeps.
func exercise(t *testing.T, d backupdest.Destination, payload []byte) {
	t.Helper()
	ctx := context.Background()

	up, err := d.Create(ctx, "a.dump")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(up, bytes.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	if got := up.Written(); got != int64(len(payload)) {
		t.Errorf("Written() = %d, want %d", got, len(payload))
	}
	if err := up.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if objs := list(t, d); len(objs) != 0 {
		t.Fatalf("before Publish, List() = %v, want nothing", objs)
	}
	r, err := up.Reopen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(back, payload) {
		t.Fatalf("Reopen read %d bytes (err %v), want the %d written", len(back), err, len(payload))
	}
	if err := up.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(ctx); err != nil {
		t.Errorf("Abort after Publish: %v", err)
	}
	if got := list(t, d); len(got) != 1 || got[0] != "a.dump" {
		t.Fatalf("List() = %v, want [a.dump]", got)
	}

	// Publishing over an existing name fails and leaves the first one.
	if err := backupdest.WriteSmall(ctx, d, "a.dump", []byte("other")); !errors.Is(err, backupdest.ErrExist) {
		t.Errorf("publish over a.dump: %v, want ErrExist", err)
	}
	if got := read(t, d, "a.dump"); !bytes.Equal(got, payload) {
		t.Errorf("a.dump changed after a refused publish")
	}

	// An aborted upload, finished or not, leaves nothing.
	for _, finish := range []bool{false, true} {
		up, err := d.Create(ctx, "b.dump")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.Write(payload[:1000]); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := up.Finish(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := up.Abort(ctx); err != nil {
			t.Fatalf("Abort (finished=%v): %v", finish, err)
		}
	}
	if got := list(t, d); len(got) != 1 {
		t.Errorf("after aborted uploads List() = %v, want only a.dump", got)
	}

	if err := backupdest.WriteSmall(ctx, d, "a.manifest.json", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := backupdest.ReadSmall(ctx, d, "a.manifest.json", 100); err != nil || string(got) != `{"x":1}` {
		t.Errorf("ReadSmall = %q, %v", got, err)
	}
	if _, err := backupdest.ReadSmall(ctx, d, "a.manifest.json", 3); err == nil {
		t.Error("ReadSmall over the limit succeeded")
	}
	if _, err := d.Open(ctx, "missing.dump"); !errors.Is(err, backupdest.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	if err := d.Remove(ctx, "a.dump"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, d); len(got) != 1 || got[0] != "a.manifest.json" {
		t.Errorf("after Remove List() = %v", got)
	}
}

func list(t *testing.T, d backupdest.Destination) []string {
	t.Helper()
	objs, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}

func read(t *testing.T, d backupdest.Destination, name string) []byte {
	t.Helper()
	r, err := d.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDir(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "backups")
	d := backupdest.NewDir(path)
	if got := list(t, d); len(got) != 0 {
		t.Fatalf("a missing directory lists %v", got)
	}
	if free, ok, err := d.FreeBytes(context.Background()); err != nil || !ok || free <= 0 {
		t.Errorf("FreeBytes before the directory exists = %d, %v, %v", free, ok, err)
	}
	exercise(t, d, randomBytes(t, 300<<10))

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %o, want 700", perm)
	}
	info, err = os.Stat(filepath.Join(path, "a.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %o, want 600", perm)
	}
	// Files that are not this package's, and the temporary file of a run under
	// way, are not listed as published.
	up, err := d.Create(context.Background(), "c.dump")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = up.Abort(context.Background()) }()
	if up.File() == nil {
		t.Error("a directory upload has no File for pg_dump to seek in")
	}
	if got := list(t, d); len(got) != 1 {
		t.Errorf("List() with an upload under way = %v", got)
	}
	if _, err := d.Create(context.Background(), "../escape.dump"); err == nil {
		t.Error("Create accepted a name outside the directory")
	}
}

func TestS3UnderAPathPrefixedEndpoint(t *testing.T) {
	store := s3test.Start(t, "backups")
	d, err := backupdest.Open(context.Background(), "s3://backups/contentd/prod")
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != "s3://backups/contentd/prod/" {
		t.Errorf("String() = %q", d.String())
	}
	// Over the multipart threshold, so that the upload streams in parts.
	exercise(t, d, randomBytes(t, 20<<20))

	// What is stored sits under the prefix; nothing temporary is left.
	if keys := store.Keys(t, "backups"); len(keys) != 1 || keys[0] != "contentd/prod/a.manifest.json" {
		t.Errorf("bucket holds %v, want only contentd/prod/a.manifest.json", store.Keys(t, "backups"))
	}
	if _, ok, _ := d.FreeBytes(context.Background()); ok {
		t.Error("an S3 destination claims to know its free space")
	}
}

func TestS3RefusesAMissingBucket(t *testing.T) {
	s3test.Start(t, "backups")
	d, err := backupdest.Open(context.Background(), "s3://nope/x")
	if err != nil {
		t.Fatal(err)
	}
	up, err := d.Create(context.Background(), "a.dump")
	if err != nil {
		t.Fatal(err)
	}
	_, werr := up.Write(randomBytes(t, 1<<20))
	ferr := up.Finish(context.Background())
	if werr == nil && ferr == nil {
		t.Fatal("an upload to a missing bucket succeeded")
	}
	if _, err := d.List(context.Background()); err == nil {
		t.Error("List of a missing bucket succeeded")
	}
}

func TestOpenRefusesOtherSchemes(t *testing.T) {
	t.Parallel()
	if _, err := backupdest.Open(context.Background(), "gs://bucket/x"); err == nil {
		t.Error("gs:// accepted")
	}
}
