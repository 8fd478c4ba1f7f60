package config

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity says how serious a Diagnostic is.
type Severity uint8

const (
	// SeverityWarning marks something that works but deserves attention: a
	// deprecated or ignored option, a risky setting, an option openvpn-go
	// accepts where OpenVPN 2.6 would refuse the file.
	SeverityWarning Severity = iota
	// SeverityError marks something that stops the configuration from being
	// used.
	SeverityError
)

// String returns "warning" or "error".
func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Diagnostic is one problem found while reading a configuration. It
// implements error.
type Diagnostic struct {
	Severity Severity
	// File and Line locate the directive (or line) concerned. Line is 0 for
	// problems about the configuration as a whole, and File is then the top
	// configuration file (or CmdLineFile).
	File string
	Line int
	// Option is the option concerned, without "--", or "".
	Option string
	// Message says what is wrong and, where possible, what to write instead.
	Message string
}

// Error returns the diagnostic as "config: FILE:LINE: option: message".
func (d *Diagnostic) Error() string {
	return "config: " + d.text()
}

// text is the diagnostic without severity or package prefix.
func (d *Diagnostic) text() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
		}
		b.WriteString(": ")
	}
	if d.Option != "" {
		b.WriteString(d.Option)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// String returns the diagnostic as "FILE:LINE: level: option: message", the
// form printed by "openvpn-go check".
func (d Diagnostic) String() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Option != "" {
		b.WriteString(d.Option)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics collects the warnings and errors of one load, in the order
// they were found. The zero value is empty and ready to use. It is not safe
// for concurrent use.
type Diagnostics struct {
	List []Diagnostic
}

// HasErrors reports whether any diagnostic is an error.
func (ds *Diagnostics) HasErrors() bool {
	if ds == nil {
		return false
	}
	for _, d := range ds.List {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns the error diagnostics.
func (ds *Diagnostics) Errors() []Diagnostic { return ds.filter(SeverityError) }

// Warnings returns the warning diagnostics.
func (ds *Diagnostics) Warnings() []Diagnostic { return ds.filter(SeverityWarning) }

func (ds *Diagnostics) filter(s Severity) []Diagnostic {
	if ds == nil {
		return nil
	}
	var out []Diagnostic
	for _, d := range ds.List {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when there is no error diagnostic, the single error as a
// *Diagnostic when there is one, and otherwise an error joining every error
// diagnostic (each a *Diagnostic, reachable with errors.As).
func (ds *Diagnostics) Err() error {
	errs := ds.Errors()
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return &errs[0]
	}
	list := make([]error, len(errs))
	for i := range errs {
		list[i] = &errs[i]
	}
	return errors.Join(list...)
}

// Sorted returns the diagnostics ordered by file (in order of first
// appearance) and line; diagnostics about a whole file (Line 0) come after
// that file's numbered lines. The order is stable for equal positions.
func (ds *Diagnostics) Sorted() []Diagnostic {
	if ds == nil {
		return nil
	}
	list := append([]Diagnostic(nil), ds.List...)
	fileIdx := map[string]int{}
	for _, d := range list {
		if _, ok := fileIdx[d.File]; !ok {
			fileIdx[d.File] = len(fileIdx)
		}
	}
	line := func(d Diagnostic) int {
		if d.Line == 0 {
			return int(^uint(0) >> 1)
		}
		return d.Line
	}
	sort.SliceStable(list, func(i, j int) bool {
		fi, fj := fileIdx[list[i].File], fileIdx[list[j].File]
		if fi != fj {
			return fi < fj
		}
		return line(list[i]) < line(list[j])
	})
	return list
}

// WriteTo writes one diagnostic per line in the "FILE:LINE: level: message"
// form, in the order of Sorted.
func (ds *Diagnostics) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, d := range ds.Sorted() {
		m, err := fmt.Fprintln(w, d.String())
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (ds *Diagnostics) add(sev Severity, at Directive, option, msg string) {
	ds.List = append(ds.List, Diagnostic{Severity: sev, File: at.File, Line: at.Line, Option: option, Message: msg})
}

func (ds *Diagnostics) errorf(at Directive, option, format string, args ...any) {
	ds.add(SeverityError, at, option, fmt.Sprintf(format, args...))
}

func (ds *Diagnostics) warn(at Directive, option, msg string) {
	ds.add(SeverityWarning, at, option, msg)
}

func (ds *Diagnostics) warnf(at Directive, option, format string, args ...any) {
	ds.add(SeverityWarning, at, option, fmt.Sprintf(format, args...))
}
