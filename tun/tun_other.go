//go:build !linux

package tun

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// Create is not implemented on this platform yet.
func Create(name string, mtu int, kind Kind) (Device, error) {
	return nil, fmt.Errorf("tun: creating devices on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// CreateFromFile is not implemented on this platform yet.
func CreateFromFile(f *os.File, mtu int) (Device, error) {
	return nil, fmt.Errorf("tun: creating devices on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
