# Builds the hand-made frames of tests/data/packet/handmade.tsv field by field (RFC layouts),
# independent of the C++ builders. Checksums are then checked by tshark.
import struct, sys

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def mac(s): return bytes.fromhex(s.replace(':', ''))
def ip4(s): return bytes(int(x) for x in s.split('.'))
def ip6(s):
    import ipaddress; return ipaddress.IPv6Address(s).packed

A_MAC, B_MAC = mac('02:00:00:00:00:0a'), mac('02:00:00:00:00:0b')
A4, B4 = ip4('198.18.0.1'), ip4('198.18.0.2')
A6, B6 = ip6('2001:db8::1'), ip6('2001:db8::2')

def eth(dst, src, etype, vlans=()):
    h = dst + src
    for tpid, tci in vlans: h += struct.pack('!HH', tpid, tci)
    return h + struct.pack('!H', etype)

def ipv4(src, dst, proto, payload, ttl=64, ident=0, flags_off=0x4000, options=b'', total=None, bad=False):
    ihl = 5 + len(options)//4
    tl = total if total is not None else ihl*4 + len(payload)
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, tl, ident, flags_off, ttl, proto, 0, src, dst) + options
    c = csum(h)
    if bad: c ^= 0x1111
    return h[:10] + struct.pack('!H', c) + h[12:] + payload

def ipv6(src, dst, nxt, payload, hlim=64, plen=None):
    return struct.pack('!IHBB16s16s', 0x60000000, len(payload) if plen is None else plen, nxt, hlim, src, dst) + payload

def pseudo(src, dst, proto, length):
    if len(src) == 4: return src + dst + struct.pack('!BBH', 0, proto, length)
    return src + dst + struct.pack('!IxxxB', length, proto)

def udp(src, dst, sport, dport, data, checksum='good', length=None, pseudo_len=None):
    ln = 8 + len(data) if length is None else length
    h = struct.pack('!HHHH', sport, dport, ln, 0) + data
    c = 0
    if checksum != 'zero':
        c = csum(pseudo(src, dst, 17, ln) + h[:ln]) or 0xffff
        if checksum == 'bad': c ^= 0x0f0f
    return h[:6] + struct.pack('!H', c) + h[8:]

def icmp4(t, body):
    m = struct.pack('!BBH', t, 0, 0) + body
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]

def icmp6(src, dst, t, body):
    m = struct.pack('!BBH', t, 0, 0) + body
    return m[:2] + struct.pack('!H', csum(pseudo(src, dst, 58, len(m)) + m)) + m[4:]

PAY = b'hello t38relay'  # 14 bytes
frames = []
def add(name, b): frames.append((name, b))

add('eth_ipv4_udp', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY)))
add('vlan_ipv4_udp', eth(B_MAC, A_MAC, 0x0800, [(0x8100, 0x2064)]) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY)))
add('qinq_ipv4_udp', eth(B_MAC, A_MAC, 0x0800, [(0x88a8, 0x00c8), (0x8100, 0x0064)]) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY)))
add('three_vlans', eth(B_MAC, A_MAC, 0x0800, [(0x88a8, 1), (0x8100, 2), (0x8100, 3)]) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY)))
# IPv4 Router Alert option (RFC 2113): IHL 6.
add('ipv4_options_udp', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY), options=bytes.fromhex('94040000')))
# Ethernet padding after a short IPv4 packet (60-byte minimum frame).
p = eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, b'x'))
add('ipv4_udp_padded', p + b'\0' * (60 - len(p)))
# First fragment: UDP header says 1008 bytes, 16 of them in this fragment.
full = udp(A4, B4, 5000, 6000, bytes(range(256)) * 3 + bytes(1000 - 768))
add('ipv4_fragment_first', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, full[:24], ident=0x1234, flags_off=0x2000))
add('ipv4_fragment_later', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, full[24:48], ident=0x1234, flags_off=3))
add('ipv4_udp_bad_checksum', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY, 'bad')))
add('ipv4_udp_zero_checksum', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY, 'zero')))
add('ipv4_bad_header_checksum', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 17, udp(A4, B4, 5000, 6000, PAY), bad=True))
add('eth_ipv6_udp', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 17, udp(A6, B6, 5000, 6000, PAY)))
add('ipv6_udp_bad_checksum', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 17, udp(A6, B6, 5000, 6000, PAY, 'bad')))
add('ipv6_udp_zero_checksum', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 17, udp(A6, B6, 5000, 6000, PAY, 'zero')))
# Hop-by-Hop (PadN), Routing (type 4 SRH shape, segments left 0), Destination Options, AH, UDP.
u = udp(A6, B6, 5000, 6000, PAY)
ah = struct.pack('!BBHII', 17, 4, 0, 0x100, 1) + bytes(12)           # (4+2)*4 = 24 bytes
dst = struct.pack('!BB', 51, 0) + bytes.fromhex('010400000000')       # 8 bytes
rt = struct.pack('!BBBB', 60, 2, 2, 0) + bytes(4) + ip6('2001:db8::99')  # type 2, 24 bytes
hbh = struct.pack('!BB', 43, 0) + bytes.fromhex('010400000000')       # 8 bytes
add('ipv6_extensions_udp', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 0, hbh + rt + dst + ah + u))
# Nine destination options headers: one more than the cap.
chain = b''
for i in range(9): chain += struct.pack('!BB', 60 if i < 8 else 17, 0) + bytes.fromhex('010400000000')
add('ipv6_too_many_extensions', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 60, chain + u))
# Hop-by-Hop after another extension header.
add('ipv6_late_hop_by_hop', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 60, struct.pack('!BB', 0, 0) + bytes.fromhex('010400000000') + struct.pack('!BB', 17, 0) + bytes.fromhex('010400000000') + u))
full6 = udp(A6, B6, 5000, 6000, bytes(1000))
add('ipv6_fragment_first', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 44, struct.pack('!BBHI', 17, 0, 1, 0xabcd) + full6[:24]))
add('ipv6_fragment_later', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 44, struct.pack('!BBHI', 17, 0, 3 << 3, 0xabcd) + full6[24:48]))
add('ipv6_atomic_fragment_udp', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 44, struct.pack('!BBHI', 17, 0, 0, 0xabcd) + u))

# ARP request for 198.18.0.2 from A, padded to 60 bytes, and B's reply.
BCAST = mac('ff:ff:ff:ff:ff:ff')
arp_req = eth(BCAST, A_MAC, 0x0806) + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, A_MAC, A4, bytes(6), B4)
add('arp_request', arp_req + bytes(60 - len(arp_req)))
arp_rep = eth(A_MAC, B_MAC, 0x0806) + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, B_MAC, B4, A_MAC, A4)
add('arp_reply', arp_rep + bytes(60 - len(arp_rep)))
arp_req_v = eth(BCAST, A_MAC, 0x0806, [(0x8100, 0x0064)]) + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, A_MAC, A4, bytes(6), B4)
add('vlan_arp_request', arp_req_v + bytes(64 - len(arp_req_v)))
arp_rep_v = eth(A_MAC, B_MAC, 0x0806, [(0x8100, 0x0064)]) + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, B_MAC, B4, A_MAC, A4)
add('vlan_arp_reply', arp_rep_v + bytes(60 - len(arp_rep_v)))

# ICMP echo (RFC 792) with 32 bytes of data, and the reply B sends.
echo_data = bytes(range(32))
add('icmp_echo_request', eth(B_MAC, A_MAC, 0x0800) + ipv4(A4, B4, 1, icmp4(8, struct.pack('!HH', 0x4242, 7) + echo_data)))
add('icmp_echo_reply', eth(A_MAC, B_MAC, 0x0800) + ipv4(B4, A4, 1, icmp4(0, struct.pack('!HH', 0x4242, 7) + echo_data)))
add('icmpv6_echo_request', eth(B_MAC, A_MAC, 0x86dd) + ipv6(A6, B6, 58, icmp6(A6, B6, 128, struct.pack('!HH', 0x4242, 7) + echo_data)))
add('icmpv6_echo_reply', eth(A_MAC, B_MAC, 0x86dd) + ipv6(B6, A6, 58, icmp6(B6, A6, 129, struct.pack('!HH', 0x4242, 7) + echo_data)))

# NDP: A asks for B's address (to B's solicited-node group), with its source link-layer option.
SN = ip6('ff02::1:ff00:2')
SN_MAC = mac('33:33:ff:00:00:02')
ns = struct.pack('!I16s', 0, B6) + struct.pack('!BB6s', 1, 1, A_MAC)
add('ndp_ns', eth(SN_MAC, A_MAC, 0x86dd) + ipv6(A6, SN, 58, icmp6(A6, SN, 135, ns), hlim=255))
na = struct.pack('!I16s', 0x60000000, B6) + struct.pack('!BB6s', 2, 1, B_MAC)
add('ndp_na', eth(A_MAC, B_MAC, 0x86dd) + ipv6(B6, A6, 58, icmp6(B6, A6, 136, na), hlim=255))
add('ndp_ns_hop_limit_64', eth(SN_MAC, A_MAC, 0x86dd) + ipv6(A6, SN, 58, icmp6(A6, SN, 135, ns), hlim=64))
ns0 = struct.pack('!I16s', 0, B6) + struct.pack('!BB6s', 1, 0, A_MAC)
add('ndp_ns_option_length_0', eth(SN_MAC, A_MAC, 0x86dd) + ipv6(A6, SN, 58, icmp6(A6, SN, 135, ns0), hlim=255))
# Duplicate address detection: from ::, no option; the answer goes to all-nodes, S clear.
UNSPEC = ip6('::')
ns_dad = struct.pack('!I16s', 0, B6)
add('ndp_ns_dad', eth(SN_MAC, A_MAC, 0x86dd) + ipv6(UNSPEC, SN, 58, icmp6(UNSPEC, SN, 135, ns_dad), hlim=255))
ALL = ip6('ff02::1')
na_dad = struct.pack('!I16s', 0x20000000, B6) + struct.pack('!BB6s', 2, 1, B_MAC)
add('ndp_na_dad', eth(mac('33:33:00:00:00:01'), B_MAC, 0x86dd) + ipv6(B6, ALL, 58, icmp6(B6, ALL, 136, na_dad), hlim=255))

# What BuildUdpFrame must produce: B answering A's datagram (TTL/hop limit 64, DF, id 0).
add('udp_reply_ipv4', eth(A_MAC, B_MAC, 0x0800, [(0x8100, 0x2064)]) + ipv4(B4, A4, 17, udp(B4, A4, 6000, 5000, PAY)))
add('udp_reply_ipv6', eth(A_MAC, B_MAC, 0x86dd) + ipv6(B6, A6, 17, udp(B6, A6, 6000, 5000, PAY)))

mode = sys.argv[1]
for name, b in frames:
    if mode == 'tsv': print('%s\t%s' % (name, b.hex()))
    else:
        print('0000 ' + ' '.join('%02x' % x for x in b))
