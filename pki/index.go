package pki

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// indexVersion is the format version of index.json.
const indexVersion = 1

// Status of a certificate in the index.
type Status string

const (
	StatusValid   Status = "valid"
	StatusRevoked Status = "revoked"
)

// Revocation reasons recorded in the index (RFC 5280 names).
const (
	ReasonUnspecified = "unspecified"
	ReasonSuperseded  = "superseded"
)

func reasonCode(r string) int {
	if r == ReasonSuperseded {
		return 4 // RFC 5280 5.3.1 superseded
	}
	return 0 // unspecified: the extension is left out
}

// Entry is one certificate in the index.
type Entry struct {
	// Name is the certificate's CN.
	Name string `json:"name"`
	// Kind is server, client or ca.
	Kind Kind `json:"kind"`
	// Serial is the serial number in upper-case hex.
	Serial string `json:"serial"`
	// Status is valid or revoked (expiry is not recorded: see Valid).
	Status    Status    `json:"status"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// RevokedAt and Reason are set for revoked certificates.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// Valid reports whether the certificate is neither revoked nor expired at
// now.
func (e Entry) Valid(now time.Time) bool {
	return e.Status == StatusValid && now.Before(e.NotAfter)
}

// SerialNumber returns the serial number.
func (e Entry) SerialNumber() (*big.Int, error) {
	sn, ok := new(big.Int).SetString(e.Serial, 16)
	if !ok || sn.Sign() <= 0 {
		return nil, fmt.Errorf("the serial number %q of %q is not positive hex", e.Serial, e.Name)
	}
	return sn, nil
}

// index is the content of index.json.
type index struct {
	Version int `json:"version"`
	// CA is the CA's CN.
	CA string `json:"ca"`
	// KeyType is the CA's key type.
	KeyType KeyType `json:"key_type"`
	// CRLNumber is the number of the last CRL written.
	CRLNumber int64 `json:"crl_number"`
	// Certificates lists every certificate, the CA's first, in issue order.
	Certificates []Entry `json:"certificates"`
}

func (ix *index) hasSerial(s string) bool {
	for _, e := range ix.Certificates {
		if e.Serial == s {
			return true
		}
	}
	return false
}

// readIndex reads dir/index.json.
func readIndex(dir string) (*index, error) {
	path := filepath.Join(dir, indexName)
	b, err := os.ReadFile(path)
	if notExist(err) {
		return nil, fmt.Errorf("pki: %s does not exist: %s is not an openvpn-go CA (create one with openvpn-go init): %w", path, dir, ErrNoCA)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: reading the index: %w", err)
	}
	var ix index
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("pki: %s is damaged (%v): restore it from a backup: %w", path, err, ErrNoCA)
	}
	if ix.Version != indexVersion {
		return nil, fmt.Errorf("pki: %s has format version %d; this openvpn-go reads version %d: use a matching openvpn-go: %w", path, ix.Version, indexVersion, ErrNoCA)
	}
	return &ix, nil
}

// saveIndex writes ix to the CA's index.json atomically. The caller holds
// the lock.
func (ca *CA) saveIndex(ix *index) error {
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("pki: encoding the index: %w", err)
	}
	return writeFileAtomic(ca.IndexFile(), append(b, '\n'), 0o644)
}
