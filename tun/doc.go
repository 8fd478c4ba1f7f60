// Package tun creates the tunnel device: a layer-3 tun or a layer-2 tap
// interface, opened through /dev/net/tun, behind the batch-shaped Device
// interface of golang.zx2c4.com/wireguard/tun.
//
// Direction words follow the project convention: packets read from a Device
// are outbound (tun → network), packets written to it are inbound
// (network → tun).
//
// A tun device (Kind TUN) is wireguard-go's Linux implementation: it enables
// the virtio-net header and TCP/UDP segmentation offloads, so a single Read
// may return up to BatchSize packets split from one large segment and Write
// coalesces packets before handing them to the kernel. Callers therefore
// leave at least Offset bytes of headroom in front of every packet passed to
// Write, pass the same offset to Read, and size their batches with
// BatchSize. A tap device (Kind TAP) carries one Ethernet frame per Read and
// Write and has BatchSize 1.
//
// Device names follow OpenVPN's --dev rules: "tun" or "tap" (or "") lets the
// kernel pick the next free tunN/tapN, any other name is used as given, and
// KindOf applies --dev-type when the name does not tell the kind.
//
// Goroutines: a tun Device runs wireguard-go's two status goroutines (a
// netlink listener and a poller) plus one that forwards their events; a tap
// Device runs one goroutine watching link changes. All of them end after
// Close. Reading Events is optional: while nobody reads, those goroutines
// wait, and Close discards what was not delivered.
//
// The package knows nothing about OpenVPN's configuration: addresses, routes
// and the MTU after creation are set through package netconf. Subpackage
// tuntest has an in-memory Device for tests.
package tun
