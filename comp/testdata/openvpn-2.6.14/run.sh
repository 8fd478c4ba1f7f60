#!/bin/bash
# usage: run.sh name "extra options" traffic-cmd
name=$1; extra=$2; traffic=$3
common="--dev tun --proto udp --port 1194 --secret /tmp/ovgc/static.key --cipher none --auth none --verb 4 --ping 1"
ip netns exec ovgcA tcpdump -i ovgcva -w /tmp/ovgc/$name.pcap -U udp port 1194 >/tmp/ovgc/$name.tcpdump.log 2>&1 &
td=$!
sleep 1
ip netns exec ovgcA openvpn $common --local 10.250.0.1 --remote 10.250.0.2 --ifconfig 10.251.0.1 10.251.0.2 --secret /tmp/ovgc/static.key 0 $extra >/tmp/ovgc/$name.A.log 2>&1 &
a=$!
ip netns exec ovgcB openvpn $common --local 10.250.0.2 --remote 10.250.0.1 --ifconfig 10.251.0.2 10.251.0.1 --secret /tmp/ovgc/static.key 1 $extra >/tmp/ovgc/$name.B.log 2>&1 &
b=$!
sleep 3
eval "$traffic"
sleep 1
kill $a $b; sleep 1; kill $td; wait
