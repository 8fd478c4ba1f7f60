package hook

import "github.com/openvpn-go/openvpn-go/x509name"

// String remapping as openvpn 2.6 applies it before names and credentials
// reach scripts (ssl_verify.c string_mod_remap_name and verify_user_pass).
//
// The man page (and openvpn's own "String Types and Remapping" section)
// still describes common names and usernames as restricted to
// [A-Za-z0-9_.@-]; that was the behaviour of --compat-names, removed in
// 2.5. Since 2.3 the default, and in 2.6 the only, rule is the one below:
// control characters become '_' and everything else is kept, so a client
// certificate "CN=alice smith/.." reaches scripts as common_name=alice
// smith/.. (checked against the 2.6.14 binary). tlsconf.RemapCommonName
// implements the old class and is therefore not what openvpn 2.6 does.

// RemapUsername is the remapping openvpn 2.6 applies to a username received
// from a client before verification: control characters (bytes below 0x20,
// and DEL) become '_'. Spaces, slashes, ".." and UTF-8 are kept.
func RemapUsername(s string) string { return remapCtl(s) }

// RemapCommonName is the remapping of a certificate common name (or the
// x509-username-field value) before it becomes common_name: the same rule
// as [RemapUsername].
func RemapCommonName(s string) string { return remapCtl(s) }

// RemapPassword is the remapping of a password received from a client: any
// printable character is kept, CR, LF and other control characters become
// '_'.
func RemapPassword(s string) string { return remapCtl(s) }

// CCDFileName returns the file name openvpn 2.6 looks up in
// client-config-dir for a (remapped) common name or username
// (platform_gen_path): '/' and control characters become '_', and "." and
// ".." (and the empty name) are refused.
func CCDFileName(name string) (string, bool) {
	b := []byte(name)
	for i, c := range b {
		if c < 0x20 || c == 0x7f || c == '/' {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "" || s == "." || s == ".." {
		return "", false
	}
	return s, true
}

func remapCtl(s string) string { return x509name.RemapCtl(s) }
