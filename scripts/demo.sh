#!/usr/bin/env bash
# make demo: an openvpn-go server and an openvpn-go client in two network
# namespaces on this machine, set up with `openvpn-go init` and
# `openvpn-go client-profile`; ping over IPv4 and IPv6 and an iperf3 run
# through the tunnel; then everything is removed again.
set -euo pipefail

BIN=$(realpath "${1:-bin/openvpn-go}")
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root: it creates network namespaces and tun devices" >&2
	exit 1
fi
for c in ip ping iperf3; do
	command -v "$c" >/dev/null || { echo "missing '$c': run 'make deps' (Debian: iproute2 iputils-ping iperf3)" >&2; exit 1; }
done

TAG=ovd$$
SRV=${TAG}-server
CLI=${TAG}-client
WORK=$(mktemp -d /tmp/openvpn-go-demo.XXXXXX)
PIDS=()

cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "$WORK"
	echo "== cleaned up: namespaces $SRV, $CLI and $WORK removed"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

wait_for() { # file pattern seconds
	for _ in $(seq $(( $3 * 10 ))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1:" >&2
	tail -20 "$1" >&2
	return 1
}

step "network: namespaces $SRV (192.0.2.1, 2001:db8::1) and $CLI (192.0.2.2, 2001:db8::2) joined by a veth pair"
ip netns add "$SRV"
ip netns add "$CLI"
ip link add "${TAG}s" type veth peer name "${TAG}c"
ip link set "${TAG}s" netns "$SRV"
ip link set "${TAG}c" netns "$CLI"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" addr add 192.0.2.1/24 dev "${TAG}s"
ip -n "$SRV" addr add 2001:db8::1/64 dev "${TAG}s" nodad
ip -n "$SRV" link set "${TAG}s" up
ip -n "$CLI" addr add 192.0.2.2/24 dev "${TAG}c"
ip -n "$CLI" addr add 2001:db8::2/64 dev "${TAG}c" nodad
ip -n "$CLI" link set "${TAG}c" up

step "openvpn-go init: CA, server certificate, tls-crypt-v2 and auth-token keys, server.conf"
"$BIN" init "$WORK/server" --public-address 192.0.2.1 --network 10.89.0.0/24 --network6 fd00:89::/64
step "openvpn-go client-profile: a client certificate and a single-file demo.ovpn"
"$BIN" client-profile "$WORK/server" demo --out "$WORK/demo.ovpn"

step "starting the server (openvpn-go --config server.conf) in $SRV"
ip netns exec "$SRV" "$BIN" --config "$WORK/server/server.conf" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/server.log" "Initialization Sequence Completed" 20
sed 's/^/   server| /' "$WORK/server.log"

step "starting the client (openvpn-go --config demo.ovpn) in $CLI"
ip netns exec "$CLI" "$BIN" --config "$WORK/demo.ovpn" >"$WORK/client.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/client.log" "Initialization Sequence Completed" 30
sed 's/^/   client| /' "$WORK/client.log"

step "ping the server's tunnel addresses from the client"
ip netns exec "$CLI" ping -c 3 -i 0.2 10.89.0.1
ip netns exec "$CLI" ping -c 3 -i 0.2 fd00:89::1

step "iperf3 through the tunnel (5 s, client to server)"
ip netns exec "$SRV" iperf3 -s -1 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
ip netns exec "$CLI" iperf3 -c 10.89.0.1 -t 5 | tail -4

step "done: the tunnel works; stopping"
