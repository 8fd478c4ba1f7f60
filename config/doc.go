// Package config reads OpenVPN 2.6 configurations — the .ovpn and server
// files people already have — into a typed, documented Options value, with
// every problem reported as FILE:LINE plus what to write instead. It also
// parses the options a server pushes (PUSH_REPLY) and per-client
// configuration files (client-config-dir, client-connect output).
//
// # Reading a configuration
//
//	opts, diags, err := config.Load("/etc/openvpn/client/work.ovpn")
//	diags.WriteTo(os.Stderr) // "work.ovpn:17: error: remote: port "x" is not a number (1-65535)"
//	if err != nil { ... }    // err != nil exactly when some diagnostic is an error
//
// Load reads a file; LoadArgs reads an openvpn-style command line
// ("--config f --verb 4", or a lone file name); Parse reads from an
// io.Reader. A Loader with FS set reads files from an fs.FS instead of the
// OS (tests use fstest.MapFS). Evaluation has no side effects besides
// reading files: no DNS, no sockets, no chdir.
//
// Files named in the configuration (ca, cert, key, pkcs12, tls-auth,
// tls-crypt, tls-crypt-v2, secret, auth-user-pass, auth-gen-token-secret,
// crl-verify, dh, extra-certs, askpass, http-proxy-user-pass) are read at
// load time relative to the configuration's directory (Options.Dir, which
// "cd" changes) and kept as Material: the bytes plus where they came from.
// Inline blocks (<ca>...</ca>) are kept the same way. "config FILE"
// includes are relative to the including file and limited in depth and
// count. Scripts are checked to exist and be executable.
//
// # Layers
//
//   - lex.go: SplitLine, OpenVPN's word splitting (quotes, backslash escapes,
//     comments where a word starts, 16 words per line).
//   - parse.go: ParseDirectives, lines to Directive values (file, line, name,
//     arguments), inline blocks, <connection> blocks, the command line.
//   - table.go, server.go: one table of every OpenVPN 2.6 option with its
//     argument counts, the contexts it is allowed in (config file,
//     <connection> block, PUSH_REPLY, ccd) and its status for openvpn-go:
//     supported, ignored with a warning (Windows-only, obsolete),
//     not-yet-supported (reported by name), or removed (an error saying what
//     to write, or the safe modern equivalent applied with a warning).
//     OptionStatus exposes it.
//   - eval.go, verify.go: evaluation with OpenVPN 2.6's defaults, the
//     client/server/server-ipv6/server-bridge/keepalive/tcp-nodelay macros
//     expanded exactly as 2.6 expands them (Server.Push holds the generated
//     route-gateway/topology/ping pushes in 2.6's order), connection entries
//     built from remote lines or <connection> blocks, and the consistency
//     checks of 2.6 with better messages.
//   - push.go: ParsePushReply and Pushed.Apply, the client side of
//     PUSH_REPLY under pull-filter and route-nopull.
//   - ccd.go: ParseCCD / Loader.LoadCCD for per-client files.
//   - summary.go: Options.Summary and Report, the output of "openvpn-go
//     check".
//
// # Compatibility choices
//
// Where OpenVPN 2.6.14 refuses a file for an option it removed, openvpn-go
// does better when that is safe: key-method 2, keysize and ncp-disable are
// ignored with a warning; client-cert-not-required is applied as
// verify-client-cert none; tls-remote is refused because ignoring it would
// accept any server certificate (the message says which verify-x509-name to
// write). Windows-only options (block-outside-dns, register-dns, ...) are
// ignored with a warning instead of failing. A server without "dh" gets a
// warning, not an error: Go's TLS has no finite-field DHE, so openvpn-go
// always behaves as "dh none". Values are parsed strictly ("12x" is an
// error, where OpenVPN's atoi reads 12).
//
// Nothing in this package logs. Results are plain values: Options, CCD and
// Pushed are not safe for concurrent mutation; Loader is stateless and safe
// for concurrent use. Options and CCD may be read concurrently once
// returned. Material JSON and Summary never contain key bytes or passwords.
package config
