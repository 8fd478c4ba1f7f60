import socket, sys, random
data = open('/work/main/ARCHITECTURE.md','rb').read()
random.seed(int(sys.argv[1]) if len(sys.argv)>1 else 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sizes = [60, 99, 100, 101, 150, 300, 600, 900, 1200, 1400, 1472]
for i, n in enumerate(sizes):
    off = random.randrange(0, len(data)-n)
    s.sendto(data[off:off+n], ('10.251.0.2', 9000+i))
# some binary-ish semi-compressible payloads
for n in (200, 1000):
    b = bytes(random.choice(b'\x00\x01\x02\xff') for _ in range(n))
    s.sendto(b, ('10.251.0.2', 9100))
# incompressible
s.sendto(random.randbytes(500), ('10.251.0.2', 9200))
