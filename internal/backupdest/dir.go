package backupdest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Dir keeps backups in a local directory. Backups hold people's data: the
// directory is created 0700 and every file 0600.
type Dir struct {
	path string
}

// NewDir returns the destination of directory path; it is created at the first write.
func NewDir(path string) *Dir { return &Dir{path: filepath.Clean(path)} }

// Path is the directory.
func (d *Dir) Path() string { return d.path }

func (d *Dir) String() string { return d.path }

// Create opens name's temporary file, exclusively.
func (d *Dir) Create(_ context.Context, name string) (Upload, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.path, 0o700); err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	temp := filepath.Join(d.path, name+partialSuffix)
	f, err := os.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create backup file: %w", err)
	}
	return &dirUpload{dir: d, name: name, temp: temp, f: f}, nil
}

// Open opens a published file.
func (d *Dir) Open(_ context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(d.path, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, filepath.Join(d.path, name))
	}
	return f, err
}

// List lists the regular files of the directory but the temporary ones; a
// missing directory has none.
func (d *Dir) List(_ context.Context) ([]Object, error) {
	entries, err := os.ReadDir(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), partialSuffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Object{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	return out, nil
}

// Remove deletes a published file.
func (d *Dir) Remove(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return os.Remove(filepath.Join(d.path, name))
}

// FreeBytes is the space left for an unprivileged user on the directory's file
// system (of its nearest existing parent, before the first backup).
func (d *Dir) FreeBytes(_ context.Context) (int64, bool, error) {
	path := d.path
	for {
		var st unix.Statfs_t
		err := unix.Statfs(path, &st)
		if err == nil {
			return int64(st.Bavail) * st.Bsize, true, nil
		}
		parent := filepath.Dir(path)
		if !errors.Is(err, unix.ENOENT) || parent == path {
			return 0, false, fmt.Errorf("free space of %s: %w", d.path, err)
		}
		path = parent
	}
}

// checkName keeps names to one path element of this directory.
func checkName(name string) error {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("invalid backup file name %q", name)
	}
	return nil
}

type dirUpload struct {
	dir        *Dir
	name, temp string
	f          *os.File
	written    atomic.Int64
	published  bool
}

func (u *dirUpload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.written.Add(int64(n))
	return n, err
}

func (u *dirUpload) File() *os.File { return u.f }

// Err is nil: a failed write to a file is the writer's own error.
func (u *dirUpload) Err() error { return nil }

// Written is the file's size: a program may be writing to File directly.
func (u *dirUpload) Written() int64 {
	if info, err := u.f.Stat(); err == nil {
		return info.Size()
	}
	return u.written.Load()
}

// Finish flushes the file to disk and closes it.
func (u *dirUpload) Finish(_ context.Context) error {
	if err := u.f.Sync(); err != nil {
		u.f.Close()
		return fmt.Errorf("write backup file: %w", err)
	}
	if err := u.f.Close(); err != nil {
		return fmt.Errorf("write backup file: %w", err)
	}
	return nil
}

func (u *dirUpload) Reopen(_ context.Context) (io.ReadCloser, error) { return os.Open(u.temp) }

// Publish renames the file to its name, then flushes the directory so that the
// rename survives a crash.
func (u *dirUpload) Publish(_ context.Context) error {
	final := filepath.Join(u.dir.path, u.name)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("%w: %s", ErrExist, final)
	}
	if err := os.Rename(u.temp, final); err != nil {
		return fmt.Errorf("publish backup file: %w", err)
	}
	u.published = true
	return syncDir(u.dir.path)
}

func (u *dirUpload) Abort(_ context.Context) error {
	if u.published {
		return nil
	}
	u.f.Close()
	if err := os.Remove(u.temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flush backup directory: %w", err)
	}
	return nil
}
