#!/usr/bin/env python3
"""Regenerates mutations.txt: liblzo2's verdict on corrupted LZO1X streams.

The corrupted streams are derived from the vectors in vectors.txt.gz (those
whose compressed form is at most 400 bytes) by a xorshift64* generator that
lzo_test.go reimplements, so only the verdicts are stored: one line per case,
"rc outlen crc32" where rc is lzo1x_decompress_safe's return code (0 = OK),
and outlen/crc32 describe the output when rc is 0."""
import ctypes, gzip, zlib

lzo = ctypes.CDLL("liblzo2.so.2")
M = (1 << 64) - 1

class Rand:
    def __init__(self, seed): self.x = seed
    def next(self):
        x = self.x
        x ^= x >> 12; x ^= (x << 25) & M; x ^= x >> 27
        self.x = x
        return (x * 0x2545F4914F6CDD1D) & M

def bases():
    lines = gzip.open("vectors.txt.gz", "rt").read().split("\n")
    out = []
    for i in range(0, len(lines) - 2, 3):
        c = bytes.fromhex(lines[i + 2])
        if len(c) <= 400:
            out.append(c)
    return out

def mutate(r, b):
    b = bytearray(b)
    for _ in range(1 + r.next() % 3):
        op = r.next() % 4
        pos = r.next() % (len(b) + 1)
        v = r.next() & 0xFF
        if op == 0 and pos < len(b): b[pos] = v
        elif op == 1: b.insert(pos, v)
        elif op == 2 and pos < len(b): del b[pos]
        elif op == 3: del b[pos:]
    return bytes(b)

N = 6000
bs = bases()
r = Rand(0x9E3779B97F4A7C15)
with open("mutations.txt", "w") as f:
    for i in range(N):
        s = mutate(r, bs[i % len(bs)])
        cap = 64 + r.next() % 4096
        out = ctypes.create_string_buffer(cap)
        outlen = ctypes.c_size_t(cap)
        rc = lzo.lzo1x_decompress_safe(s, ctypes.c_size_t(len(s)), out, ctypes.byref(outlen), None)
        if rc == 0:
            f.write(f"0 {outlen.value} {zlib.crc32(out.raw[:outlen.value])}\n")
        else:
            f.write(f"{rc} 0 0\n")
