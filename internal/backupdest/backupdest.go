// Package backupdest is where backups are kept: a local directory, or a bucket of
// S3-compatible object storage (AWS S3, Supabase Storage, MinIO). Either way an
// object is written under a temporary name and published under its own name only
// when complete and verified, so that nothing that looks like a backup is ever
// half-written.
package backupdest

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"
)

// Destination keeps backup files.
type Destination interface {
	// Create starts writing the object name under a temporary name.
	Create(ctx context.Context, name string) (Upload, error)
	// Open reads a published object; a missing one is ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// List returns the published objects, the temporary ones left out.
	List(ctx context.Context) ([]Object, error)
	// Remove deletes a published object.
	Remove(ctx context.Context, name string) error
	// FreeBytes is the room left, when the destination can say (ok).
	FreeBytes(ctx context.Context) (free int64, ok bool, err error)
	// String names the destination without any secret.
	String() string
}

// Upload is an object being written.
type Upload interface {
	io.Writer
	// File is the file being written, for a writer that seeks (pg_dump writes a
	// complete table of contents only into a seekable file); nil when the
	// destination is not a local file.
	File() *os.File
	// Written is the number of bytes written so far.
	Written() int64
	// Err is the destination's own failure so far (an upload it refused), if
	// any: it tells a writer that failed because of the destination.
	Err() error
	// Finish completes the temporary object.
	Finish(ctx context.Context) error
	// Reopen reads the finished temporary object back.
	Reopen(ctx context.Context) (io.ReadCloser, error)
	// Publish makes the finished object visible under its name; it fails when an
	// object of that name exists.
	Publish(ctx context.Context) error
	// Abort removes whatever was written. It is safe to call at any time and
	// does nothing after Publish.
	Abort(ctx context.Context) error
}

// Object is a published object.
type Object struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// ErrNotExist is returned for an object that is not there.
var ErrNotExist = errors.New("no such backup file")

// ErrExist is returned when publishing over an existing object.
var ErrExist = errors.New("a backup file of that name already exists")

// partialSuffix marks an object that is still being written or was left by an
// interrupted run; List never returns one.
const partialSuffix = ".partial"

// Open returns the destination that location names: "s3://bucket/prefix" for
// object storage, configured from the usual AWS_* environment, or a directory path.
func Open(ctx context.Context, location string) (Destination, error) {
	if strings.HasPrefix(location, "s3://") {
		return NewS3(ctx, location)
	}
	if strings.Contains(location, "://") {
		return nil, errors.New("backup destination " + location + ": use a directory path or s3://bucket/prefix")
	}
	return NewDir(location), nil
}

// WriteSmall writes a small object (a manifest) in one go: create, write,
// finish, publish.
func WriteSmall(ctx context.Context, d Destination, name string, data []byte) error {
	up, err := d.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := up.Write(data); err != nil {
		return errors.Join(err, up.Abort(ctx))
	}
	if err := up.Finish(ctx); err != nil {
		return errors.Join(err, up.Abort(ctx))
	}
	if err := up.Publish(ctx); err != nil {
		return errors.Join(err, up.Abort(ctx))
	}
	return nil
}

// ReadSmall reads a small object (a manifest) whole, refusing one over limit bytes.
func ReadSmall(ctx context.Context, d Destination, name string, limit int64) ([]byte, error) {
	r, err := d.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New(name + " is larger than a manifest can be")
	}
	return data, nil
}
