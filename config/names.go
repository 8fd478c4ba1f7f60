package config

import (
	"fmt"
	"strings"
)

// Data-channel cipher and digest names. OpenVPN accepts any name its crypto
// library knows, case-insensitively, and prints the canonical upper-case
// spelling. openvpn-go implements the AEAD ciphers and AES-CBC; other names
// OpenSSL knows are recognised (so that a typo is told apart from an
// unsupported cipher) but refused.

// supportedCiphers are the data-channel ciphers openvpn-go implements, by
// canonical name.
var supportedCiphers = map[string]bool{
	"AES-128-GCM":       true,
	"AES-192-GCM":       true,
	"AES-256-GCM":       true,
	"CHACHA20-POLY1305": true,
	"AES-128-CBC":       true,
	"AES-192-CBC":       true,
	"AES-256-CBC":       true,
	"none":              true,
}

// knownCiphers are other ciphers OpenVPN (with OpenSSL 3) can use for the
// data channel.
var knownCiphers = map[string]bool{
	"BF-CBC": true, "CAST5-CBC": true, "DES-CBC": true, "DES-EDE-CBC": true,
	"DES-EDE3-CBC": true, "DESX-CBC": true, "RC2-CBC": true, "RC2-40-CBC": true,
	"RC2-64-CBC": true, "SEED-CBC": true, "SM4-CBC": true, "IDEA-CBC": true,
	"CAMELLIA-128-CBC": true, "CAMELLIA-192-CBC": true, "CAMELLIA-256-CBC": true,
	"CAMELLIA-128-CFB": true, "CAMELLIA-192-CFB": true, "CAMELLIA-256-CFB": true,
	"CAMELLIA-128-OFB": true, "CAMELLIA-192-OFB": true, "CAMELLIA-256-OFB": true,
	"ARIA-128-CBC": true, "ARIA-192-CBC": true, "ARIA-256-CBC": true,
	"ARIA-128-GCM": true, "ARIA-192-GCM": true, "ARIA-256-GCM": true,
	"AES-128-CFB": true, "AES-192-CFB": true, "AES-256-CFB": true,
	"AES-128-CFB1": true, "AES-192-CFB1": true, "AES-256-CFB1": true,
	"AES-128-CFB8": true, "AES-192-CFB8": true, "AES-256-CFB8": true,
	"AES-128-OFB": true, "AES-192-OFB": true, "AES-256-OFB": true,
}

// cipherAliases maps other spellings OpenSSL accepts to canonical names.
var cipherAliases = map[string]string{
	"AES128": "AES-128-CBC", "AES192": "AES-192-CBC", "AES256": "AES-256-CBC",
	"ID-AES128-GCM": "AES-128-GCM", "ID-AES192-GCM": "AES-192-GCM", "ID-AES256-GCM": "AES-256-GCM",
	"CHACHA20POLY1305": "CHACHA20-POLY1305",
	"BF":               "BF-CBC", "BLOWFISH": "BF-CBC", "CAST": "CAST5-CBC", "CAST-CBC": "CAST5-CBC",
	"DES": "DES-CBC", "DES3": "DES-EDE3-CBC", "DESX": "DESX-CBC", "RC2": "RC2-CBC", "SEED": "SEED-CBC",
	"CAMELLIA128": "CAMELLIA-128-CBC", "CAMELLIA192": "CAMELLIA-192-CBC", "CAMELLIA256": "CAMELLIA-256-CBC",
	"IDEA": "IDEA-CBC",
}

// canonicalCipher returns the canonical name of a cipher and whether
// openvpn-go supports it. known is false for names no OpenVPN build knows.
func canonicalCipher(name string) (canon string, supported, known bool) {
	if strings.EqualFold(name, "none") || name == "[null-cipher]" {
		return "none", true, true
	}
	up := strings.ToUpper(name)
	if a, ok := cipherAliases[up]; ok {
		up = a
	}
	if supportedCiphers[up] {
		return up, true, true
	}
	if knownCiphers[up] {
		return up, false, true
	}
	return name, false, false
}

// cipherError explains why a cipher name cannot be used.
func cipherError(name string, known bool) error {
	if known {
		return fmt.Errorf("cipher %s is not supported by openvpn-go (supported: AES-128-GCM, AES-192-GCM, AES-256-GCM, CHACHA20-POLY1305, AES-128-CBC, AES-192-CBC, AES-256-CBC)", strings.ToUpper(name))
	}
	return fmt.Errorf("unknown cipher %q (e.g. AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305, AES-256-CBC)", name)
}

// DefaultDataCiphers is OpenVPN 2.6's default data-ciphers list.
var DefaultDataCiphers = []string{"AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"}

// maxDataCiphersLen is OpenVPN's limit on the normalised data-ciphers list.
const maxDataCiphersLen = 127

// parseDataCiphers parses a colon-separated data-ciphers list. Optional
// entries ("?NAME") that are unknown or unsupported are dropped with a
// warning (returned in warns); required ones are errors.
func parseDataCiphers(list string) (ciphers []string, warns []string, err error) {
	seen := map[string]bool{}
	for _, item := range strings.Split(list, ":") {
		optional := strings.HasPrefix(item, "?")
		item = strings.TrimPrefix(item, "?")
		if item == "" {
			return nil, warns, fmt.Errorf("empty entry in %q", list)
		}
		canon, supported, known := canonicalCipher(item)
		if !supported {
			if optional {
				warns = append(warns, fmt.Sprintf("optional cipher %s dropped: %v", item, cipherError(item, known)))
				continue
			}
			if known {
				return nil, warns, fmt.Errorf("%w; prefix it with '?' to make it optional", cipherError(item, known))
			}
			return nil, warns, cipherError(item, known)
		}
		if canon == "none" {
			warns = append(warns, "cipher 'none' in data-ciphers: the tunnel may run UNENCRYPTED")
		}
		if seen[canon] {
			continue
		}
		seen[canon] = true
		ciphers = append(ciphers, canon)
	}
	if len(ciphers) == 0 {
		return nil, warns, fmt.Errorf("no usable cipher in %q", list)
	}
	if n := len(strings.Join(ciphers, ":")); n > maxDataCiphersLen {
		return nil, warns, fmt.Errorf("the list is %d characters long; OpenVPN allows at most %d", n, maxDataCiphersLen)
	}
	return ciphers, warns, nil
}

// supportedDigests are the HMAC digests openvpn-go implements.
var supportedDigests = map[string]bool{
	"SHA1": true, "SHA224": true, "SHA256": true, "SHA384": true, "SHA512": true,
	"MD5": true, "none": true,
}

var knownDigests = map[string]bool{
	"MD4": true, "RIPEMD160": true, "WHIRLPOOL": true, "SHA512-224": true, "SHA512-256": true,
	"SHA3-224": true, "SHA3-256": true, "SHA3-384": true, "SHA3-512": true,
	"BLAKE2B512": true, "BLAKE2S256": true, "SM3": true, "MDC2": true,
}

var digestAliases = map[string]string{
	"SHA-1": "SHA1", "SHA-224": "SHA224", "SHA-256": "SHA256", "SHA-384": "SHA384",
	"SHA-512": "SHA512", "SHA2-224": "SHA224", "SHA2-256": "SHA256", "SHA2-384": "SHA384",
	"SHA2-512": "SHA512", "RMD160": "RIPEMD160", "RIPEMD-160": "RIPEMD160",
}

// canonicalDigest normalises an "auth" digest name.
func canonicalDigest(name string) (string, error) {
	if strings.EqualFold(name, "none") || name == "[null-digest]" {
		return "none", nil
	}
	up := strings.ToUpper(name)
	if a, ok := digestAliases[up]; ok {
		up = a
	}
	if supportedDigests[up] {
		return up, nil
	}
	if knownDigests[up] {
		return "", fmt.Errorf("digest %s is not supported by openvpn-go (supported: SHA1, SHA224, SHA256, SHA384, SHA512, MD5, none)", up)
	}
	return "", fmt.Errorf("unknown digest %q (e.g. SHA1, SHA256, SHA512)", name)
}
