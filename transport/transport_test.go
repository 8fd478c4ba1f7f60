package transport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestUDPClientServer(t *testing.T) {
	for _, tc := range []struct{ listen, dial, addr string }{
		{"udp", "udp4", "127.0.0.1"},
		{"udp", "udp6", "::1"},
		{"udp4", "udp4", "127.0.0.1"},
		{"udp6", "udp4", "127.0.0.1"}, // dual-stack like openvpn's udp6
	} {
		t.Run(tc.listen+"-"+tc.dial, func(t *testing.T) {
			srv, err := ListenUDP(tc.listen, netip.AddrPort{}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			port := srv.LocalAddr().Port()
			c, err := Net{}.Dial(context.Background(), tc.dial, netip.AddrPort{}, netip.AddrPortFrom(netip.MustParseAddr(tc.addr), port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var pkts [][]byte
			for i := 0; i < 200; i++ {
				pkts = append(pkts, []byte(fmt.Sprintf("packet %03d", i)))
			}
			if err := c.WriteBatch(pkts); err != nil {
				t.Fatal(err)
			}
			msgs := make([]Message, 64)
			for i := range msgs {
				msgs[i].Buf = make([]byte, 2048)
			}
			got := 0
			var from netip.AddrPort
			for got < 200 {
				n, err := srv.ReadBatch(msgs)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i++ {
					if want := fmt.Sprintf("packet %03d", got); string(msgs[i].Buf[:msgs[i].N]) != want {
						t.Fatalf("got %q want %q", msgs[i].Buf[:msgs[i].N], want)
					}
					from = msgs[i].Addr
					got++
				}
			}
			if from.Addr().Is4In6() || from.Addr().String() != tc.addr {
				t.Fatalf("source %v", from)
			}
			// Reply.
			if err := srv.WriteBatch([]Message{{Buf: []byte("reply"), Addr: from}}); err != nil {
				t.Fatal(err)
			}
			bufs := [][]byte{make([]byte, 100), make([]byte, 100)}
			sizes := make([]int, 2)
			n, err := c.ReadBatch(bufs, sizes)
			if err != nil || n != 1 || string(bufs[0][:sizes[0]]) != "reply" {
				t.Fatal(n, err)
			}
		})
	}
}

func TestTCPFraming(t *testing.T) {
	l, err := ListenTCP("tcp", netip.AddrPort{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan Conn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err == nil {
			accepted <- NewStream(c)
		}
	}()
	port := netip.MustParseAddrPort(l.Addr().String()).Port()
	c, err := Net{}.Dial(context.Background(), "tcp", netip.AddrPort{}, netip.AddrPortFrom(netip.MustParseAddr("::1"), port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	defer s.Close()
	var pkts [][]byte
	for i := 0; i < 300; i++ {
		pkts = append(pkts, bytes.Repeat([]byte{byte(i)}, 1+i*5))
	}
	go c.WriteBatch(pkts)
	bufs := make([][]byte, 32)
	for i := range bufs {
		bufs[i] = make([]byte, 4096)
	}
	sizes := make([]int, 32)
	got := 0
	for got < 300 {
		n, err := s.ReadBatch(bufs, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if sizes[i] != 1+got*5 || bufs[i][0] != byte(got) {
				t.Fatalf("packet %d: size %d", got, sizes[i])
			}
			got++
		}
	}
	// Close unblocks the reader.
	done := make(chan error)
	go func() { _, err := s.ReadBatch(bufs, sizes); done <- err }()
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read after close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader not unblocked")
	}
}

func TestCloseUnblocksUDP(t *testing.T) {
	srv, err := ListenUDP("udp4", netip.MustParseAddrPort("127.0.0.1:0"), false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := srv.ReadBatch([]Message{{Buf: make([]byte, 10)}})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	srv.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("err %v", err)
	}
	_ = net.ErrClosed
}
