#!/usr/bin/env python3
"""Regenerates vectors.txt.gz: LZO1X streams produced by the system liblzo2
(Debian liblzo2-2 2.10, the library /usr/sbin/openvpn links), called through
ctypes. Each vector is three lines: a name, the input in hex, the compressed
stream in hex. The inputs are deterministic (seeded PRNG and fixed text)."""
import ctypes, gzip, random

lzo = ctypes.CDLL("liblzo2.so.2")
# lzo_init(): LZO_VERSION 0x20a0 and the sizes of short, int, long,
# lzo_uint32_t, lzo_uint, lzo_dict_t, char*, lzo_voidp, lzo_callback_t.
P = ctypes.sizeof(ctypes.c_void_p)
assert getattr(lzo, "__lzo_init_v2")(0x20a0, ctypes.sizeof(ctypes.c_short), ctypes.sizeof(ctypes.c_int),
                                     ctypes.sizeof(ctypes.c_long), 4, ctypes.sizeof(ctypes.c_size_t),
                                     P, P, P, 6 * P) == 0

def compress(fn, wrk, data):
    out = ctypes.create_string_buffer(len(data) + len(data) // 16 + 64 + 3)
    outlen = ctypes.c_size_t(0)
    work = ctypes.create_string_buffer(wrk)
    rc = getattr(lzo, fn)(data, ctypes.c_size_t(len(data)), out, ctypes.byref(outlen), work)
    assert rc == 0, rc
    return out.raw[:outlen.value]

def check(data, comp):
    out = ctypes.create_string_buffer(len(data) + 16)
    outlen = ctypes.c_size_t(len(out))
    rc = lzo.lzo1x_decompress_safe(comp, ctypes.c_size_t(len(comp)), out, ctypes.byref(outlen), None)
    assert rc == 0 and out.raw[:outlen.value] == data

rnd = random.Random(20261122)
text = (b"OpenVPN-go compresses nothing on the way out, but it must read what "
        b"an old peer sends: LZO1X blocks after 0x66, LZ4 blocks after 0x69. ")
inputs = {
    "empty": b"",
    "one": b"A",
    "three": b"abc",
    "short-literals": b"0123456789abcdefghij",
    "zeros-1500": bytes(1500),
    "ff-64": b"\xff" * 64,
    "abcd-1000": b"abcd" * 250,
    "text-1400": (text * 20)[:1400],
    "text-3000": (text * 40)[:3000],
    "random-300": rnd.randbytes(300),
    "random-1500": rnd.randbytes(1500),
    "mixed-2000": b"".join(rnd.choice([b"\x00\x01\x02\x03", b"hello ", rnd.randbytes(3), b"\xff" * 9]) for _ in range(400))[:2000],
    "runs-4096": b"".join(bytes([rnd.randrange(4)]) * rnd.randrange(1, 300) for _ in range(60))[:4096],
    "far-match-17000": (lambda r: r + r[:600])(rnd.randbytes(16400)),
    "long-literal-300-then-repeat": rnd.randbytes(300) + b"xyz" * 100,
}
algos = [("1", "lzo1x_1_compress", 16384 * 8), ("999", "lzo1x_999_compress", 14 * 16384 * 8)]
with gzip.open("vectors.txt.gz", "wt") as f:
    for name, data in inputs.items():
        for tag, fn, wrk in algos:
            c = compress(fn, wrk, data)
            check(data, c)
            f.write(f"{name}/lzo1x_{tag}\n{data.hex()}\n{c.hex()}\n")
