package ctlwrap

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/keys"
	"github.com/openvpn-go/openvpn-go/wire"
)

const openvpnBin = "/usr/sbin/openvpn"

// TestInteropTLSCryptV2 checks keys and packets we make against the
// reference openvpn 2.6 server: it runs "openvpn --mode server" with a
// tls-crypt-v2 server key we generated, then plays the first packets of a
// client with a client key we generated (user metadata):
//
//  1. our early-negotiation P_CONTROL_HARD_RESET_CLIENT_V3 must be answered by
//     a stateless HARD_RESET_SERVER_V2 with pid 1 and the RESEND_WKC TLV;
//  2. our P_CONTROL_WKC_V1 (ack of the reset, mid 1, no payload) must make
//     the server create the session, unwrap our WKc and hand our metadata to
//     --tls-crypt-v2-verify; the server then acks mid 1 with pid 2.
func TestInteropTLSCryptV2(t *testing.T) {
	if _, err := os.Stat(openvpnBin); err != nil {
		t.Skipf("reference %s not installed", openvpnBin)
	}
	if os.Geteuid() != 0 {
		t.Skip("openvpn --mode server needs a tun device: run as root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	ctlDir := controlDir(t)
	dir := t.TempDir()

	// Keys made by us.
	sk, err := keys.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewV2ServerKey(&sk)
	if err != nil {
		t.Fatal(err)
	}
	const userData = "openvpn-go interop metadata"
	md, _ := UserMetadata([]byte(userData))
	ck, err := srv.GenerateClientKey(rand.Reader, md)
	if err != nil {
		t.Fatal(err)
	}
	srvFile := filepath.Join(dir, "srv.key")
	if err := os.WriteFile(srvFile, keys.MarshalTLSCryptV2ServerKey(&sk), 0o600); err != nil {
		t.Fatal(err)
	}
	verifyOut := filepath.Join(dir, "verify.out")
	script := filepath.Join(dir, "verify.sh")
	if err := os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\n{ echo \"$metadata_type\"; cat \"$metadata_file\"; } > %s\nexit 0\n", verifyOut)), 0o700); err != nil {
		t.Fatal(err)
	}

	// A free UDP port for the server.
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openvpnBin, "--config", "srv-common.conf",
		"--port", fmt.Sprint(port), "--dev", fmt.Sprintf("ovgo%d", os.Getpid()%100000),
		"--tls-crypt-v2", srvFile, "--tls-crypt-v2-verify", script, "--script-security", "2",
		"--verb", "4")
	cmd.Dir = ctlDir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	defer func() {
		cancel()
		for range lines { // let the reader see EOF before Wait closes the pipe
		}
		cmd.Wait()
	}()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var log strings.Builder
	waitFor := func(what string) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("openvpn exited before %q:\n%s", what, log.String())
				}
				log.WriteString(l + "\n")
				if strings.Contains(l, what) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q from openvpn:\n%s", what, log.String())
			}
		}
	}
	waitFor("Initialization Sequence Completed")

	conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cli, err := NewTLSCryptV2Client(&ck, true, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sid := wire.SessionID{0x6f, 0x76, 0x70, 0x6e, 0x67, 0x6f, 0x21, 0x01}
	exchange := func(p wire.ControlPacket) (wire.ControlPacket, wire.WrapPID) {
		t.Helper()
		pkt, err := cli.Wrap(nil, p.Append(nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(pkt); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no answer to %v: %v\n%s", p.Opcode, err, log.String())
		}
		plain, err := cli.Unwrap(nil, buf[:n], time.Now())
		if err != nil {
			t.Fatalf("answer to %v does not unwrap: %v", p.Opcode, err)
		}
		cp, err := wire.ParseControl(plain)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := wire.ParseWrapPID(buf[cryptOffPID:n])
		return cp, pid
	}

	reply, pid := exchange(wire.ControlPacket{Opcode: wire.OpControlHardResetClientV3, SessionID: sid})
	if reply.Opcode != wire.OpControlHardResetServerV2 || reply.NumAcks != 1 || reply.Acks[0] != 0 || reply.RemoteSessionID != sid || pid.ID != 1 {
		t.Fatalf("server reset: %v acks %v remote %v pid %d", reply.Opcode, reply.AckList(), reply.RemoteSessionID, pid.ID)
	}
	if flags, err := wire.EarlyNegFlags(reply.Payload); err != nil || flags != wire.EarlyNegFlagResendWKC {
		t.Fatalf("server reset TLVs %x: flags %#x %v", reply.Payload, flags, err)
	}

	ack, pid := exchange(wire.ControlPacket{Opcode: wire.OpControlWKCV1, SessionID: sid, NumAcks: 1,
		RemoteSessionID: reply.SessionID, MessageID: 1})
	if ack.Opcode != wire.OpAckV1 || ack.NumAcks < 1 || ack.Acks[0] != 1 || ack.SessionID != reply.SessionID || pid.ID != 2 {
		t.Fatalf("server ack: %v acks %v pid %d", ack.Opcode, ack.AckList(), pid.ID)
	}
	waitFor("TLS CRYPT V2 VERIFY SCRIPT OK")
	got, err := os.ReadFile(verifyOut)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d\n%s", MetadataUser, userData); string(got) != want {
		t.Fatalf("verify script saw %q, want %q", got, want)
	}
}
