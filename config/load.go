package config

import (
	"io"
	"io/fs"
	"path/filepath"
)

// Loader reads configurations. The zero value reads the real file system;
// set FS to read from an fs.FS instead (tests use fstest.MapFS). A Loader
// holds no state between loads and is safe for concurrent use.
//
// Evaluation has no side effects besides reading files: it resolves no
// host names, opens no sockets and changes no directory ("cd" only changes
// where later relative names are looked up).
type Loader struct {
	// FS, when non-nil, replaces the OS file system. Absolute names map to
	// paths from its root ("/etc/openvpn/ca.crt" reads "etc/openvpn/ca.crt");
	// relative names are relative to its root, which plays the working
	// directory.
	FS fs.FS
}

func (l *Loader) files() fileSystem {
	if l != nil && l.FS != nil {
		return fsFiles{l.FS}
	}
	return osFiles{}
}

// Load reads the configuration file path the way the runtime would: file
// names in it are relative to its directory (changed by "cd"), includes
// ("config FILE") are relative to the including file, and every referenced
// file (certificates, keys, credentials) is read.
//
// Diagnostics are always returned (never nil) and hold every warning and
// error found, each with FILE:LINE. err is nil exactly when there is no
// error diagnostic; it is then a *Diagnostic or a join of them. The Options
// are returned even with errors, for reporting (for example by "check"),
// but must not be used to start a connection when err is non-nil.
func (l *Loader) Load(path string) (*Options, *Diagnostics, error) {
	e := newEvaluator(l.files())
	e.topFile = path
	e.o.ConfigFile = path
	e.dir = filepath.Dir(path)
	e.loadFile(path, Directive{}, 0)
	return e.finish()
}

// LoadArgs reads a configuration given as an openvpn command line (without
// the program name): every option is "--name args...", the arguments being
// the following words up to the next "--"; a single argument without
// "--" means "--config ARG". Options from the command line are positioned
// as CmdLineFile with Line the 1-based index of their "--name" word. Relative
// names are resolved against the first "--config" file's directory, or the
// working directory when there is none. See Load for the results.
func (l *Loader) LoadArgs(args []string) (*Options, *Diagnostics, error) {
	e := newEvaluator(l.files())
	e.dir = "."
	dirs := argsToDirectives(args, e.d)
	e.applyAll(dirs, 0)
	return e.finish()
}

// Parse reads a configuration from r. name is used in positions and its
// directory for relative file names (like Load). See Load for the results.
func (l *Loader) Parse(r io.Reader, name string) (*Options, *Diagnostics, error) {
	e := newEvaluator(l.files())
	e.topFile = name
	e.o.ConfigFile = name
	e.dir = filepath.Dir(name)
	data, err := readLimited(r, MaxConfigSize)
	if err != nil {
		e.d.errorf(Directive{File: name}, "", "cannot read configuration: %v", err)
		return e.o, e.d, e.d.Err()
	}
	e.numFiles = 1
	e.stack = []string{filepath.Clean(name)}
	e.applyAll(parseDirectives(data, name, 0, e.d), 0)
	return e.finish()
}

func (e *evaluator) finish() (*Options, *Diagnostics, error) {
	e.finalize()
	return e.o, e.d, e.d.Err()
}

// Load reads a configuration file from the OS file system; see Loader.Load.
func Load(path string) (*Options, *Diagnostics, error) { return (&Loader{}).Load(path) }

// LoadArgs reads an openvpn command line; see Loader.LoadArgs.
func LoadArgs(args []string) (*Options, *Diagnostics, error) { return (&Loader{}).LoadArgs(args) }

// Parse reads a configuration from r, resolving files on the OS file
// system; see Loader.Parse.
func Parse(r io.Reader, name string) (*Options, *Diagnostics, error) {
	return (&Loader{}).Parse(r, name)
}
