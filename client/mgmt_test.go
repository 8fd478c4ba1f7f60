package client_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openvpn-go/openvpn-go/internal/lab"
)

// mgmt talks to the reference server's management interface (inside the
// server namespace).
type mgmt struct {
	t    *testing.T
	ns   *lab.NS
	port int
}

// send runs one command and returns the response up to its end marker.
func (m *mgmt) send(cmd string) string {
	m.t.Helper()
	var out strings.Builder
	err := m.ns.Do(func() error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", m.port), 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		r.ReadString('\n') // >INFO greeting
		fmt.Fprintf(c, "%s\r\n", cmd)
		for {
			l, err := r.ReadString('\n')
			out.WriteString(l)
			if err != nil || strings.HasPrefix(l, "SUCCESS") || strings.HasPrefix(l, "ERROR") || strings.HasPrefix(l, "END") {
				return nil
			}
		}
	})
	if err != nil {
		m.t.Fatalf("management %q: %v", cmd, err)
	}
	return out.String()
}

// TestServerMessages: the server's HALT, RESTART and AUTH_PENDING (with
// INFO_PRE) reach the client and are acted on as openvpn 2.6 does.
func TestServerMessages(t *testing.T) {
	t.Run("restart-then-halt", func(t *testing.T) {
		t.Parallel()
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet",
			srvOpts: []string{"management 127.0.0.1 7505"}})
		m := &mgmt{t: t, ns: e.n.Server, port: 7505}
		// RESTART: the client reconnects.
		if out := m.send("client-kill 0 RESTART"); !strings.Contains(out, "SUCCESS") {
			t.Fatalf("client-kill: %s", out)
		}
		e.cli.WaitLogN(t, lab.ReadyPattern, 2, 30*time.Second)
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
		// HALT: the client exits.
		cid := regexp.MustCompile(`CLIENT_LIST,alice,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,(\d+),`).FindStringSubmatch(m.send("status 2"))
		if cid == nil {
			t.Fatal("client id not found in status")
		}
		m.send("client-kill " + cid[1] + " HALT")
		if err := e.cli.Wait(20 * time.Second); err == nil {
			t.Fatal("client exited with status 0 after HALT")
		}
		if !strings.Contains(e.cli.Log(), "Server requested exit") {
			t.Fatalf("HALT not logged:\n%s", e.cli.Tail(20))
		}
	})
	t.Run("auth-pending", func(t *testing.T) {
		t.Parallel()
		var conn net.Conn
		var r *bufio.Reader
		creds := filepath.Join(t.TempDir(), "creds")
		os.WriteFile(creds, []byte("alice\nsecret\n"), 0o600)
		e := startInterop(t, interop{proto: "udp", family: 4, wrap: "tls-crypt", topo: "subnet", noWait: true,
			srvOpts: []string{"management 127.0.0.1 7506", "management-client-auth"},
			// GUIs announce the pending-auth methods they can show.
			cliOpts: []string{"setenv IV_SSO openurl,webauth,crtext", "auth-user-pass " + creds},
			beforeClient: func(e *interopEnv) {
				// One management connection, opened inside the server's
				// namespace, receives the >CLIENT notifications.
				if err := e.n.Server.Do(func() (err error) {
					conn, err = net.DialTimeout("tcp", "127.0.0.1:7506", 5*time.Second)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
				r = bufio.NewReader(conn)
			}})
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		var cid, kid string
		for cid == "" {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("management: %v", err)
			}
			if m := regexp.MustCompile(`^>CLIENT:CONNECT,(\d+),(\d+)`).FindStringSubmatch(l); m != nil {
				cid, kid = m[1], m[2]
			}
		}
		cmd := func(c string) string {
			fmt.Fprintf(conn, "%s\r\n", c)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("management %q: %v", c, err)
				}
				if strings.HasPrefix(l, "SUCCESS") || strings.HasPrefix(l, "ERROR") {
					return l
				}
			}
		}
		if out := cmd(fmt.Sprintf(`client-pending-auth %s %s "OPEN_URL:https://sso.example/auth" 60`, cid, kid)); !strings.HasPrefix(out, "SUCCESS") {
			t.Fatalf("client-pending-auth: %s", out)
		}
		e.cli.WaitLog(t, "AUTH_PENDING", 10*time.Second)
		e.cli.WaitLog(t, "OPEN_URL:https://sso.example/auth", 10*time.Second)
		if out := cmd(fmt.Sprintf("client-auth-nt %s %s", cid, kid)); !strings.HasPrefix(out, "SUCCESS") {
			t.Fatalf("client-auth-nt: %s", out)
		}
		e.cli.WaitLog(t, lab.ReadyPattern, 30*time.Second)
		e.n.Client.Ping(t, lab.ServerTunIPv4, 2)
	})
}
