package lab

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// natTable is the nftables table the NAT helpers own on the router.
const natTable = "lab_nat"

// NFT loads an nftables script into the namespace (`nft -f -`), failing t on
// error. The script is applied atomically.
func (ns *NS) NFT(t testing.TB, script string) {
	t.Helper()
	if err := ns.nft(script); err != nil {
		t.Fatal(err)
	}
}

func (ns *NS) nft(script string) error {
	if _, err := lookPath("nft"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := ns.Command(ctx, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: in %s (%s): nft -f - failed: %w: %s\nscript:\n%s", ns.Role, ns.Name, err,
			strings.TrimSpace(string(out)), script)
	}
	return nil
}

// SNAT makes the router rewrite the source of every packet it forwards out
// of its server-side interface to to (address, and for TCP and UDP the port
// unless it is 0), replacing any NAT set before, and flushes the router's
// connection tracking so that the next packet of an existing flow is mapped
// anew. Calling it again with another port or address is a NAT rebinding as
// the server sees it. An address not yet on the router is added to its
// server-side interface (as /32 or /128 outside the server-side subnet; the
// server reaches it through its default route) and removed again by the next
// NAT change. It needs Routed().
func (n *Net) SNAT(t testing.TB, to netip.AddrPort) {
	t.Helper()
	r := n.router(t)
	RequireBinary(t, "nft")
	out := r.Links[1]
	addr := to.Addr().Unmap()
	p := netip.PrefixFrom(addr, addr.BitLen())
	for _, on := range []netip.Prefix{out.IPv4, out.IPv6} {
		if on.Contains(addr) {
			p = netip.PrefixFrom(addr, on.Bits())
		}
	}
	own := p.Addr() == out.IPv4.Addr() || p.Addr() == out.IPv6.Addr()
	n.dropNATAddrs(t, p)
	if !own && n.natAddr != p {
		if err := r.addAddr(out.Iface, p); err != nil {
			t.Fatal(err)
		}
		n.natAddr = p
	}
	fam, target := "ip", addr.String()
	if addr.Is6() {
		fam, target = "ip6", "["+addr.String()+"]"
	}
	rules := fmt.Sprintf("\t\toifname %q meta nfproto %s snat %s to %s\n", out.Iface, ipv(addr), fam, addr)
	if to.Port() != 0 {
		rules = fmt.Sprintf("\t\toifname %q meta nfproto %s meta l4proto { tcp, udp } snat %s to %s:%d\n",
			out.Iface, ipv(addr), fam, target, to.Port()) + rules
	}
	n.setNAT(t, rules)
}

// Masquerade makes the router masquerade everything it forwards out of its
// server-side interface (IPv4 and IPv6) behind its own server-side
// addresses, like a home router, replacing any NAT set before. It needs
// Routed().
func (n *Net) Masquerade(t testing.TB) {
	t.Helper()
	r := n.router(t)
	RequireBinary(t, "nft")
	n.dropNATAddrs(t, netip.Prefix{})
	n.setNAT(t, fmt.Sprintf("\t\toifname %q masquerade\n", r.Links[1].Iface))
}

// ClearNAT removes the router's NAT and flushes its connection tracking.
func (n *Net) ClearNAT(t testing.TB) {
	t.Helper()
	n.router(t)
	RequireBinary(t, "nft")
	n.dropNATAddrs(t, netip.Prefix{})
	n.setNAT(t, "")
}

func (n *Net) router(t testing.TB) *NS {
	t.Helper()
	if n.Router == nil {
		t.Fatal("lab: this needs a router: create the net with lab.NewNet(t, lab.Routed())")
	}
	return n.Router
}

// setNAT replaces the lab's NAT table with one postrouting chain holding
// rules (none: no table), then flushes conntrack.
func (n *Net) setNAT(t testing.TB, rules string) {
	t.Helper()
	// Declaring the table first makes the delete valid when it does not
	// exist yet; the whole script is one transaction.
	script := fmt.Sprintf("table inet %s\ndelete table inet %s\n", natTable, natTable)
	if rules != "" {
		script += fmt.Sprintf("table inet %s {\n\tchain post {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n%s\t}\n}\n",
			natTable, rules)
	}
	n.Router.NFT(t, script)
	if err := n.Router.FlushConntrack(); err != nil {
		t.Fatal(err)
	}
}

// dropNATAddrs removes the address an earlier SNAT added to the router,
// unless it is keep.
func (n *Net) dropNATAddrs(t testing.TB, keep netip.Prefix) {
	t.Helper()
	if !n.natAddr.IsValid() || n.natAddr == keep {
		return
	}
	n.Router.DelAddr(t, n.Router.Links[1].Iface, n.natAddr)
	n.natAddr = netip.Prefix{}
}

func ipv(a netip.Addr) string {
	if a.Is6() {
		return "ipv6"
	}
	return "ipv4"
}

// FlushConntrack deletes every connection-tracking entry (IPv4 and IPv6) in
// the namespace, as `conntrack -F` would, so NAT rules apply afresh to
// flows already seen. It speaks ctnetlink directly: no conntrack program
// is needed.
func (ns *NS) FlushConntrack() error {
	return ns.Do(flushConntrack)
}

// Netlink constants not in package syscall.
const (
	netlinkNetfilter   = 12 // NETLINK_NETFILTER
	nfnlSubsysCTNetlnk = 1  // NFNL_SUBSYS_CTNETLINK
	ipctnlMsgCTDelete  = 2  // IPCTNL_MSG_CT_DELETE
)

// flushConntrack sends IPCTNL_MSG_CT_DELETE without a tuple, which the
// kernel treats as a flush, once per address family, and waits for the ACK.
func flushConntrack() error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, netlinkNetfilter)
	if err != nil {
		return fmt.Errorf("lab: opening a netfilter netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("lab: binding the netfilter netlink socket: %w", err)
	}
	tv := syscall.Timeval{Sec: 5}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("lab: setting a netlink receive timeout: %w", err)
	}
	for seq, family := range []byte{syscall.AF_INET, syscall.AF_INET6} {
		msg := make([]byte, syscall.NLMSG_HDRLEN+4)
		binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
		binary.NativeEndian.PutUint16(msg[4:], nfnlSubsysCTNetlnk<<8|ipctnlMsgCTDelete)
		binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_ACK)
		binary.NativeEndian.PutUint32(msg[8:], uint32(seq+1))
		msg[16] = family // nfgenmsg: family, version 0, res_id 0
		if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return fmt.Errorf("lab: sending the conntrack flush: %w", err)
		}
		if err := netlinkAck(fd, uint32(seq+1)); err != nil {
			return err
		}
	}
	return nil
}

// netlinkAck reads until the NLMSG_ERROR answering seq and returns its error.
func netlinkAck(fd int, seq uint32) error {
	buf := make([]byte, 8192)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("lab: waiting for the conntrack flush answer: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("lab: parsing the conntrack flush answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != syscall.NLMSG_ERROR || len(m.Data) < 4 {
				continue
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
				return fmt.Errorf("lab: conntrack flush refused: %w", os.NewSyscallError("ctnetlink", syscall.Errno(-code)))
			}
			return nil
		}
	}
}
