package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/openvpn-go/openvpn-go/ctlwrap"
	"github.com/openvpn-go/openvpn-go/keys"
)

// cmdGenkey writes keys in exactly the formats of `openvpn --genkey`:
//
//	openvpn-go genkey secret|tls-auth|tls-crypt FILE
//	openvpn-go genkey tls-crypt-v2-server FILE
//	openvpn-go genkey tls-crypt-v2-client FILE --tls-crypt-v2 SERVERKEY [--metadata BASE64]
//	openvpn-go genkey auth-token FILE
//
// FILE "-" (or absent) writes to standard output. openvpn's own spelling
// (--genkey KIND FILE, with --tls-crypt-v2 SERVERKEY) works too.
func cmdGenkey(args []string, stdout, stderr io.Writer) int {
	var kind, file, serverKey, metadata string
	var pos []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--tls-crypt-v2", "--server-key":
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "genkey: %s needs a file\n", a)
				return 2
			}
			serverKey = args[i+1]
			i++
		case "--metadata":
			if i+1 >= len(args) {
				fmt.Fprintln(stderr, "genkey: --metadata needs a base64 value")
				return 2
			}
			metadata = args[i+1]
			i++
		case "--genkey":
		default:
			pos = append(pos, a)
		}
	}
	switch len(pos) {
	case 0:
		fmt.Fprintln(stderr, "usage: openvpn-go genkey secret|tls-auth|tls-crypt|tls-crypt-v2-server|tls-crypt-v2-client|auth-token [FILE]")
		return 2
	case 1:
		kind = pos[0]
	case 2:
		kind, file = pos[0], pos[1]
	default:
		// openvpn accepts base64 metadata as the third word for v2 clients.
		kind, file, metadata = pos[0], pos[1], pos[2]
	}
	out, err := genkey(kind, serverKey, metadata)
	if err != nil {
		fmt.Fprintf(stderr, "genkey: %v\n", err)
		return 1
	}
	if file == "" || file == "-" {
		stdout.Write(out)
		return 0
	}
	// Keys are secrets: create the file 0600 and never overwrite one.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "genkey: %s already exists; refusing to overwrite a key\n", file)
		} else {
			fmt.Fprintf(stderr, "genkey: %v\n", err)
		}
		return 1
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "genkey: %v\n", err)
		return 1
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "genkey: %v\n", err)
		return 1
	}
	return 0
}

func genkey(kind, serverKey, metadata string) ([]byte, error) {
	switch kind {
	case "secret", "tls-auth", "tls-crypt":
		k, err := keys.GenerateKey2(nil)
		if err != nil {
			return nil, err
		}
		return keys.AppendStaticKey(nil, &k), nil
	case "tls-crypt-v2-server":
		k, err := keys.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		return keys.MarshalTLSCryptV2ServerKey(&k), nil
	case "tls-crypt-v2-client":
		if serverKey == "" {
			return nil, errors.New("tls-crypt-v2-client needs the server key: --tls-crypt-v2 SERVERKEY")
		}
		b, err := os.ReadFile(serverKey)
		if err != nil {
			return nil, err
		}
		sk, err := keys.ParseTLSCryptV2ServerKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", serverKey, err)
		}
		srv, err := ctlwrap.NewV2ServerKey(&sk)
		if err != nil {
			return nil, err
		}
		meta := ctlwrap.TimestampMetadata(timeNow())
		if metadata != "" {
			raw, err := base64.StdEncoding.DecodeString(metadata)
			if err != nil {
				return nil, fmt.Errorf("metadata must be base64: %w", err)
			}
			if meta, err = ctlwrap.UserMetadata(raw); err != nil {
				return nil, err
			}
		}
		ck, err := srv.GenerateClientKey(nil, meta)
		if err != nil {
			return nil, err
		}
		return ck.Marshal(), nil
	case "auth-token":
		k, err := keys.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		return keys.MarshalAuthTokenKey(&k), nil
	}
	return nil, fmt.Errorf("unknown key type %q: use secret, tls-auth, tls-crypt, tls-crypt-v2-server, tls-crypt-v2-client or auth-token", kind)
}
