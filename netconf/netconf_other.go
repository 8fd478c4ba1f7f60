//go:build !linux

package netconf

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/vishvananda/netns"
)

// New is not implemented on this platform yet; use a Recorder in tests.
func New(log *slog.Logger) (Configurator, error) {
	return nil, fmt.Errorf("netconf: configuring the host network on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// NewInNamespace is only meaningful on Linux.
func NewInNamespace(ns netns.NsHandle, log *slog.Logger) (Configurator, error) {
	return nil, fmt.Errorf("netconf: network namespaces on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
