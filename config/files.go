package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// MaxFileSize bounds a file read during evaluation (certificates, keys,
// CRLs, credentials), in bytes. CRLs of large CAs are the biggest legitimate
// files.
const MaxFileSize = 64 << 20

// maxIncludeDepth is OpenVPN's limit on nested "config" includes.
const maxIncludeDepth = 10

// maxConfigFiles bounds the number of configuration files one load reads, so
// that includes cannot fan out without bound.
const maxConfigFiles = 256

// fileSystem is where evaluation reads files. Names are OS paths (absolute,
// or relative to the process's working directory).
type fileSystem interface {
	readFile(name string, limit int64) ([]byte, error)
	stat(name string) (fs.FileInfo, error)
}

// osFiles reads the real file system.
type osFiles struct{}

func (osFiles) readFile(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f, limit)
}

func (osFiles) stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// fsFiles reads an fs.FS: absolute OS paths map to paths from the root of
// the FS ("/etc/openvpn/ca.crt" → "etc/openvpn/ca.crt"), relative paths are
// relative to its root.
type fsFiles struct{ fsys fs.FS }

func (f fsFiles) name(name string) string {
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return "."
	}
	return p[1:]
}

func (f fsFiles) readFile(name string, limit int64) ([]byte, error) {
	fh, err := f.fsys.Open(f.name(name))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return nil, errors.New("is a directory")
	}
	return readAllLimited(fh, limit)
}

func (f fsFiles) stat(name string) (fs.FileInfo, error) { return fs.Stat(f.fsys, f.name(name)) }

func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than %d bytes", limit)
	}
	return data, nil
}

// resolve joins a file name from the configuration with the directory it is
// relative to. Absolute names are returned cleaned.
func resolve(dir, name string) string {
	if filepath.IsAbs(name) || dir == "" {
		return filepath.Clean(name)
	}
	return filepath.Join(dir, name)
}

// describeFileError turns an open/read error into a short reason.
func describeFileError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
