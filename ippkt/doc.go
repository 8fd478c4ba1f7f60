// Package ippkt reads and adjusts the inner packets that travel through the
// tunnel: the IP version and addresses (to route a packet to a client),
// clamping of the TCP MSS option in SYN packets (`mssfix`), the ICMPv6
// "no route to destination" reply that `block-ipv6` sends back, and the
// Ethernet header fields TAP mode routes on.
//
// Everything works in place on byte slices: nothing allocates, and no input
// makes a function panic or read outside its slice, whatever the packet
// claims about its own lengths (CVE-2017-7508 was an assertion on a
// malformed IPv6 packet in OpenVPN's MSS clamping). Functions keep no state
// and are safe for concurrent use on distinct packets. Addresses are
// net/netip values.
package ippkt
