package tun

import (
	"errors"
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		dev, devType string
		want         Kind
		wantErr      string
	}{
		{"tun", "", TUN, ""},
		{"tun0", "", TUN, ""},
		{"tap", "", TAP, ""},
		{"tap-lan", "", TAP, ""},
		{"vpn0", "tun", TUN, ""},
		{"vpn0", "tap", TAP, ""},
		{"tun0", "tap", TAP, ""}, // dev-type wins, as in OpenVPN
		{"vpn0", "", 0, "add dev-type"},
		{"null", "", 0, "add dev-type"},
		{"tun0", "null", 0, "not supported"},
	}
	for _, tt := range tests {
		got, err := KindOf(tt.dev, tt.devType)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("KindOf(%q, %q) error = %v, want containing %q", tt.dev, tt.devType, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("KindOf(%q, %q) = %v, %v; want %v", tt.dev, tt.devType, got, err, tt.want)
		}
	}
	if _, err := KindOf("x", ""); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("KindOf error %v does not wrap ErrUnknownKind", err)
	}
}

func TestKernelName(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		want    string
		wantErr bool
	}{
		{"", TUN, "tun%d", false},
		{"tun", TUN, "tun%d", false},
		{"tap", TAP, "tap%d", false},
		{"tun", TAP, "tap%d", false}, // dev tun + dev-type tap: the kernel names it tapN
		{"tun0", TUN, "tun0", false},
		{"mytun", TUN, "mytun", false},
		{"vpn%d", TAP, "vpn%d", false},
		{"abcdefghijklmno", TUN, "abcdefghijklmno", false}, // 15 bytes
		{"abcdefghijklmnop", TUN, "", true},                // 16 bytes
		{"a/b", TUN, "", true},
		{"a b", TUN, "", true},
		{"..", TUN, "", true},
		{"tun0", Kind(7), "", true},
	}
	for _, tt := range tests {
		got, err := kernelName(tt.name, tt.kind)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("kernelName(%q, %v) = %q, %v; want %q, error %v", tt.name, tt.kind, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCheckMTU(t *testing.T) {
	for _, tt := range []struct {
		mtu int
		ok  bool
	}{{0, true}, {68, true}, {1500, true}, {65535, true}, {67, false}, {-1, false}, {65536, false}} {
		if err := checkMTU(tt.mtu); (err == nil) != tt.ok {
			t.Errorf("checkMTU(%d) = %v, want ok %v", tt.mtu, err, tt.ok)
		}
	}
}
