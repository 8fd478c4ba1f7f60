// Package pki is a small certificate authority for `openvpn-go init` and
// `openvpn-go client-profile`: it makes the certificates a stock openvpn 2.6
// (OpenSSL 3) and openvpn-go accept, and keeps track of what it issued.
//
// A CA lives in one directory, laid out like easy-rsa's:
//
//	ca.crt              the self-signed CA certificate (0644)
//	private/ca.key      its private key (0600; private/ is 0700)
//	issued/NAME.crt     the certificate issued to NAME (0644)
//	private/NAME.key    its private key (0600)
//	crl.pem             the certificate revocation list, for `crl-verify` (0644)
//	index.json          every certificate issued, valid or revoked (0644)
//
// Keys are ECDSA P-256 signed with SHA-256 by default, or RSA-3072 with
// SHA-256 (PKCS #1 v1.5), written as unencrypted PKCS #8 "PRIVATE KEY" PEM.
// Every certificate has a CN (openvpn refuses a peer without one) and a Key
// Usage extension; server certificates carry the serverAuth EKU and client
// certificates clientAuth, which `remote-cert-tls server|client` requires.
// Serial numbers are random 128-bit numbers, unique within the index.
//
// The CA is 10 years valid, certificates 825 days (never beyond the CA). A
// name has at most one valid certificate of a kind; issuing again needs
// Force, which revokes the old one (reason "superseded"). Revoking rewrites
// crl.pem; openvpn re-reads it on each new connection. The CRL's nextUpdate
// is the CA's expiry: OpenSSL fails every connection once a CRL has expired,
// and nothing here would renew it.
//
// Operations that change the directory take an exclusive lock on a file in
// it (flock), so concurrent `client-profile` runs do not lose index entries,
// and write every file atomically (temporary file and rename), so a server
// re-reading crl.pem never sees half a file.
package pki
