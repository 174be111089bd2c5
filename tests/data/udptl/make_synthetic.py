#!/usr/bin/env python3
"""Writes synthetic UDPTL payloads (one hex line each) for IFP shapes the spandsp captures lack:
extension additions, several fields in one IFP, both ASN.1 variants, and FEC. The encoder below
is written from X.691 independently of the C++ codec; tshark then decodes the result as the oracle.

usage: make_synthetic.py 1998|2002 > payloads.txt
"""
import sys


class Bits:
    def __init__(self):
        self.bits = []

    def put(self, n, v):
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def align(self):
        while len(self.bits) % 8:
            self.bits.append(0)

    def length(self, n):  # X.691 11.9.3.6-7, aligned
        self.align()
        self.put(8, n) if n < 128 else self.put(16, 0x8000 | n)

    def octets(self, data):
        self.align()
        for b in data:
            self.put(8, b)

    def bytes(self):
        self.align()
        return bytes(int("".join(map(str, self.bits[i:i + 8])), 2)
                     for i in range(0, len(self.bits), 8))


def enum(b, root, value):  # extensible ENUMERATED, root of 16 (4 bits) or 9 (4 bits) or 8 (3 bits)
    width = {16: 4, 9: 4, 8: 3}[root]
    if value < root:
        b.put(1, 0)
        b.put(width, value)
    else:
        b.put(1, 1)
        b.put(1, 0)  # normally small number, < 64
        b.put(6, value - root)


def ifp(variant, kind, value, fields=None):
    b = Bits()
    b.put(1, fields is not None)
    b.put(1, kind == "d")
    enum(b, 9 if kind == "d" else 16, value)
    if fields is not None:
        b.length(len(fields))
        for ftype, data in fields:
            b.put(1, data is not None)
            if variant == "2002":
                enum(b, 8, ftype)
            else:
                b.put(3, ftype)
            if data is not None:
                b.align()
                b.put(16, len(data) - 1)
                b.octets(data)
    return b.bytes()


def udptl_secondary(seq, primary, secondaries):
    b = Bits()
    b.put(16, seq)
    b.length(len(primary))
    b.octets(primary)
    b.put(1, 0)
    b.length(len(secondaries))
    for s in secondaries:
        b.length(len(s))
        b.octets(s)
    return b.bytes()


def udptl_fec(seq, primary, span, entries):
    b = Bits()
    b.put(16, seq)
    b.length(len(primary))
    b.octets(primary)
    b.put(1, 1)
    b.length(1)
    b.put(8, span)
    b.length(len(entries))
    for e in entries:
        b.length(len(e))
        b.octets(e)
    return b.bytes()


def xor(*ifps):
    out = bytearray(max(len(i) for i in ifps))
    for i in ifps:
        for k, v in enumerate(i):
            out[k] ^= v
    return bytes(out)


def main():
    v = sys.argv[1]
    ecm = bytes(range(1, 40))
    ifps = [
        ifp(v, "i", 1),                                  # cng
        ifp(v, "i", 2),                                  # ced
        ifp(v, "i", 3),                                  # v21-preamble
        ifp(v, "i", 15),                                 # v17-14400-long-training
        ifp(v, "d", 0, [(0, b"\xff\x13\x80")]),          # v21 hdlc-data
        ifp(v, "d", 0, [(2, None), (1, None)]),          # hdlc-fcs-OK, hdlc-sig-end: packed bits
        ifp(v, "d", 0, [(0, b"\x04"), (4, None)]),       # data then hdlc-fcs-OK-sig-end
        ifp(v, "d", 8, [(6, bytes(200))]),               # v17-14400 t4-non-ecm-data, long form
        ifp(v, "d", 8, [(0, ecm), (2, None), (0, ecm[:5]), (3, None)]),  # ECM frames
        ifp(v, "d", 5, [(7, b"\x00\x01")]),              # v17-7200 t4-non-ecm-sig-end
        ifp(v, "d", 0, []),                              # data-field present, no fields
        ifp(v, "d", 3),                                  # v29-7200, no data-field
    ]
    if v == "2002":
        ifps += [
            ifp(v, "i", 16),                             # v8-ansam
            ifp(v, "i", 22),                             # v33-14400-training
            ifp(v, "d", 9, [(8, b"\xe0\xc1")]),          # v8 cm-message
            ifp(v, "d", 9, [(9, b"\x01"), (10, None)]),  # jm-message, ci-message
            ifp(v, "d", 11, [(11, b"\x2a")]),            # v34-CC-1200 v34rate
            ifp(v, "d", 14, [(0, ecm)]),                 # v33-14400
        ]
    payloads = []
    for seq, p in enumerate(ifps):
        payloads.append(udptl_secondary(seq, p, list(reversed(ifps[max(0, seq - 2):seq]))))
    # FEC, span 3 and 2 entries as spandsp builds it: entry j covers seq-6+j, seq-4+j, seq-2+j.
    seq = len(ifps)
    entries = [xor(ifps[seq - 6 + j], ifps[seq - 4 + j], ifps[seq - 2 + j]) for j in range(2)]
    payloads.append(udptl_fec(seq, ifp(v, "i", 0), 3, entries))
    for p in payloads:
        print(p.hex())


if __name__ == "__main__":
    main()
