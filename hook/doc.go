// Package hook runs OpenVPN script hooks the way openvpn 2.6 does: the same
// argument vectors, the same environment variable names and formats, the
// same script-security gating and the same file protocols (via-file
// credentials, deferred authentication through auth_control_file,
// auth_pending_file and auth_failed_reason_file, deferred client-connect
// through client_connect_deferred_file), so that existing scripts
// (update-resolv-conf, update-systemd-resolved, NetworkManager's helper,
// LDAP/RADIUS/OAuth bridges, learn-address firewall scripts) work unchanged.
//
// An [Env] is the ordered variable set openvpn keeps per process (client)
// or per client instance (server), with helpers that add openvpn's common
// variables, the peer's certificate identity, its peer info and its
// addresses. A [Runner] runs one script with an Env and extra positional
// arguments; its methods for the individual hooks ([Runner.AuthUserPass],
// [Runner.ClientConnect], [Runner.LearnAddress], [Runner.TLSVerify]...) add
// the hook's own arguments, variables and files.
//
// Scripts are executed directly (execve semantics, never through a shell),
// with exactly the variables of the Env: like openvpn, nothing of the
// calling process's environment is inherited, and variables whose name
// starts with "password" are withheld below script-security 3.
//
// Concurrency: an Env is a plain value without locking; it must not be
// modified concurrently with any other use. Runner methods read the Env
// only while they run, and the hook methods that add variables (documented
// per method) write to it, so each Env belongs to one goroutine at a time
// (openvpn's model: one environment per client instance). A Runner is safe
// for concurrent use once configured. [Deferred] and [DeferredConnect]
// handles are safe for concurrent use.
//
// Behaviour was taken from openvpn 2.6.14 (run_command.c, env_set.c,
// misc.c, ssl_verify.c, ssl_verify_openssl.c, multi.c, init.c, socket.c,
// tls_crypt.c) and cross-checked against the reference binary; where this
// package deliberately differs the documentation says so.
package hook
