// Command openvpn-go is an OpenVPN 2.6-compatible client and server.
//
//	openvpn-go --config client.ovpn      run a client or server, like openvpn
//	openvpn-go client.ovpn               the same
//	openvpn-go check FILE...             read configs as the runtime would and report
//	openvpn-go genkey KIND FILE          generate keys in openvpn's formats
//	openvpn-go init DIR                  set up a server: CA, keys, server.conf
//	openvpn-go client-profile DIR NAME   issue a client certificate and .ovpn
//	openvpn-go revoke DIR NAME           revoke a client certificate
//	openvpn-go version                   print the version
//
// Every option of a config file may also be given on the command line as
// --option args, exactly as with openvpn.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Version is the openvpn-go version; set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func main() {
	// OPENVPN_GO_CPUPROFILE=FILE writes a CPU profile (go tool pprof) until
	// the process exits, for performance work; %p in FILE is the pid.
	if f := os.Getenv("OPENVPN_GO_CPUPROFILE"); f != "" {
		f = strings.ReplaceAll(f, "%p", strconv.Itoa(os.Getpid()))
		if out, err := os.Create(f); err == nil {
			pprof.StartCPUProfile(out)
			code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			out.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "genkey":
		return cmdGenkey(args[1:], stdout, stderr)
	case "init":
		return cmdInit(args[1:], stdout, stderr)
	case "client-profile":
		return cmdClientProfile(args[1:], stdout, stderr)
	case "revoke":
		return cmdRevoke(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	return cmdRun(args, stdin, stdout, stderr)
}

func versionLine() string {
	return fmt.Sprintf("openvpn-go %s (OpenVPN %s protocol compatible) x86_64-pc-linux-gnu [SSL (Go crypto/tls)] [LZO] [LZ4] [AEAD]", Version, "2.6.14")
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  openvpn-go --config FILE [--option args...]   run the client or server described by FILE
  openvpn-go FILE                               the same
  openvpn-go check FILE...                      read configs as the runtime would; report problems
  openvpn-go genkey KIND FILE                   generate a key (secret, tls-auth, tls-crypt,
                                                tls-crypt-v2-server, tls-crypt-v2-client, auth-token)
  openvpn-go init DIR [--public-address HOST]   create a CA, keys and DIR/server.conf for a server
  openvpn-go client-profile DIR NAME            issue a certificate and write DIR/clients/NAME.ovpn
  openvpn-go revoke DIR NAME                    revoke NAME's certificate (DIR/pki/crl.pem)
  openvpn-go version                            print the version
`)
}
