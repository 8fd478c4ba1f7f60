#!/bin/bash
common="--dev tun --proto udp --port 1194 --secret /tmp/ovgc/static.key --cipher none --auth none --verb 4 --ping 1 --comp-lzo no"
ip netns exec ovgcA tcpdump -i ovgcva -w /tmp/ovgc/mss.link.pcap -U udp port 1194 >/dev/null 2>&1 &
t1=$!
sleep 1
ip netns exec ovgcA openvpn $common --local 10.250.0.1 --remote 10.250.0.2 --ifconfig 10.251.0.1 10.251.0.2 --ifconfig-ipv6 fd00:251::1/64 fd00:251::2 --secret /tmp/ovgc/static.key 0 >/tmp/ovgc/mss.A.log 2>&1 &
a=$!
ip netns exec ovgcB openvpn $common --local 10.250.0.2 --remote 10.250.0.1 --ifconfig 10.251.0.2 10.251.0.1 --ifconfig-ipv6 fd00:251::2/64 fd00:251::1 --secret /tmp/ovgc/static.key 1 >/tmp/ovgc/mss.B.log 2>&1 &
b=$!
sleep 3
ip netns exec ovgcA tcpdump -i tun0 -w /tmp/ovgc/mss.tun.pcap -U tcp >/dev/null 2>&1 &
t2=$!
sleep 1
ip netns exec ovgcB python3 -c "
import socket,threading
def srv(fam,addr):
    s=socket.socket(fam,socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((addr,7777)); s.listen(4)
    for _ in range(1):
        c,_=s.accept(); c.close()
threading.Thread(target=srv,args=(socket.AF_INET,'10.251.0.2')).start()
threading.Thread(target=srv,args=(socket.AF_INET6,'fd00:251::2')).start()
import time; time.sleep(4)
" &
p=$!
sleep 1
ip netns exec ovgcA python3 -c "
import socket
for fam,a in ((socket.AF_INET,'10.251.0.2'),(socket.AF_INET6,'fd00:251::2')):
    s=socket.socket(fam,socket.SOCK_STREAM); s.settimeout(2); s.connect((a,7777)); s.close()
"
sleep 1
kill $a $b; sleep 1; kill $t1 $t2; wait
