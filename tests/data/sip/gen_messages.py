#!/usr/bin/env python3
"""Writes the hand-made SIP messages of this folder (run from anywhere; computes Content-Length).

invite_sdp.sip and reinvite_t38.sip are the INVITE and re-INVITE templates of the Asterisk test
suite's t38_fast_reject A_PARTY.xml (../shared/vectors/asterisk-testsuite) with the [field]
placeholders replaced by concrete values; the others are written for the cases they name.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def message(start, headers, body, eol="\r\n", content_length=True):
    body = body.replace("\n", eol)
    lines = [start] + headers
    if content_length:
        lines.append("Content-Length: %d" % len(body.encode()))
    return (eol.join(lines) + eol + eol + body).encode()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


AUDIO_SDP = """v=0
o=CiscoSystemsSIP-GW-UserAgent 9624 5279 IN IP4 192.0.2.10
s=SIP Call
c=IN IP4 192.0.2.10
t=0 0
m=audio 9000 RTP/AVP 0 18 101
c=IN IP4 192.0.2.10
a=rtpmap:101 telephone-event/101
"""

T38_SDP = """v=0
o=CiscoSystemsSIP-GW-UserAgent 9624 5280 IN IP4 192.0.2.10
s=Asterisk PBX 1.6.2.0
c=IN IP4 192.0.2.10
t=0 0
m=image 4389 udptl t38
a=T38FaxVersion:0
a=T38MaxBitRate:14400
a=T38FaxRateManagement:transferredTCF
a=T38FaxMaxDatagram:1400
a=T38FaxUdpEC:t38UDPRedundancy
"""

# RFC 7345 appendix A.1 shape: T.38 over DTLS.
DTLS_SDP = """v=0
o=alice 2890844526 2890844526 IN IP4 198.51.100.1
s=-
c=IN IP4 198.51.100.1
t=0 0
m=image 54111 UDP/TLS/UDPTL t38
a=setup:actpass
a=fingerprint:sha-256 12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD
a=T38FaxVersion:2
a=T38FaxRateManagement:transferredTCF
a=T38FaxMaxDatagram:400
a=T38FaxUdpEC:t38UDPRedundancy
"""

COMMON = [
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1234-1-0",
    "From: <sip:390415094280@192.0.2.10:5060>;tag=1234SIPpTag001",
    "To: <sip:fax@192.0.2.20:5060>",
    "Call-ID: 1-1234@192.0.2.10",
]

write("invite_sdp.sip", message(
    "INVITE sip:fax@192.0.2.20:5060 SIP/2.0",
    COMMON + [
        "Supported: rel1xx,timer,replaces",
        "Min-SE:  181",
        "User-Agent: Cisco-SIPGateway/IOS-12.x",
        "CSeq: 101 INVITE",
        "Max-Forwards: 69",
        "Contact: <sip:390415094280@192.0.2.10:5060>",
        "Expires: 180",
        "Allow-Events: telephone-event",
        "Content-Type: application/sdp",
    ], AUDIO_SDP))

write("reinvite_t38.sip", message(
    "INVITE sip:fax@192.0.2.20:5060 SIP/2.0",
    [
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1234-1-5",
        "From: <sip:390415094280@192.0.2.10:5060>;tag=1234SIPpTag001",
        "To: <sip:fax@192.0.2.20:5060>;tag=as5d3f0a1c",
        "Call-ID: 1-1234@192.0.2.10",
        "User-Agent: Cisco-SIPGateway/IOS-12.x",
        "CSeq: 102 INVITE",
        "Max-Forwards: 69",
        "Contact: <sip:390415094280@192.0.2.10:5060>",
        "Allow-Events: telephone-event",
        "Content-Type: application/sdp",
    ], T38_SDP))

# A 200 OK whose body is multipart/mixed (SIP-T, RFC 3372): the SDP and an ISUP part, with a
# quoted boundary, a preamble, transport padding after a delimiter and an epilogue.
ISUP = "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00"
MULTIPART = ("This is the preamble; it is ignored.\n"
             "--unique-boundary-1  \t\n"
             "Content-Type: application/sdp\n"
             "\n" + DTLS_SDP.replace("alice", "bob").replace("54111", "6000")
             .replace("actpass", "active") +
             "--unique-boundary-1\n"
             "Content-Type: application/isup;version=itu-t92+;base=itu-t92+\n"
             "Content-Disposition: signal;handling=optional\n"
             "\n" + ISUP + "\n"
             "--unique-boundary-1--\n"
             "This is the epilogue.\n")
write("ok_multipart.sip", message(
    "SIP/2.0 200 OK",
    [
        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776asdhds",
        "From: \"Alice \\\"A\\\" Example\" <sip:alice@example.com>;tag=1928301774",
        "To: Bob <sip:bob@example.com>;tag=a6c85cf",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:bob@192.0.2.4>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"unique-boundary-1\"",
    ], MULTIPART))

# The same answer with the SDP one level deeper and a text/plain part first.
NESTED = ("--outer\n"
          "Content-Type: text/plain\n"
          "\n"
          "not the SDP: v=0\n"
          "--outer\n"
          "Content-Type: multipart/mixed;boundary=inner\n"
          "\n"
          "--inner\n"
          "\n"
          "a part without headers is text/plain\n"
          "--inner\n"
          "Content-Type: APPLICATION/SDP\n"
          "\n" + T38_SDP +
          "--inner--\n"
          "--outer--\n")
write("nested_multipart.sip", message(
    "SIP/2.0 200 OK",
    [
        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776asdhds",
        "From: <sip:alice@example.com>;tag=1928301774",
        "To: <sip:bob@example.com>;tag=nested1",
        "Call-ID: nested@pc33.example.com",
        "CSeq: 2 INVITE",
        "Content-Type: multipart/mixed;boundary=outer",
    ], NESTED))

write("multipart_no_boundary.sip", message(
    "SIP/2.0 200 OK",
    [
        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK776asdhds",
        "From: <sip:alice@example.com>;tag=1928301774",
        "To: <sip:bob@example.com>;tag=a6c85cf",
        "Call-ID: noboundary@pc33.example.com",
        "CSeq: 2 INVITE",
        "Content-Type: multipart/mixed",
    ], NESTED))

# RFC 3261 section 7.3.3 compact forms, in lower and upper case.
write("compact.sip", message(
    "INVITE sip:fax@example.net SIP/2.0",
    [
        "v: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKcompact",
        "f: Alice <sip:alice@example.com>;tag=cmp-from",
        "T: sip:fax@example.net",
        "i: compact-1@198.51.100.1",
        "CSeq: 7 INVITE",
        "m: <sip:alice@198.51.100.1>",
        "k: timer",
        "C: application/sdp",
    ], DTLS_SDP, content_length=False) .replace(b"\r\n\r\nv=0", b"\r\nl: %d\r\n\r\nv=0" %
                                                  len(DTLS_SDP.replace("\n", "\r\n").encode())))

# RFC 3261 section 7.3.1 line folding in the headers this parser reads.
write("folded.sip", message(
    "INVITE sip:fax@example.net SIP/2.0",
    [
        "Via: SIP/2.0/UDP 198.51.100.1:5060",
        "  ;branch=z9hG4bKfolded",
        "From:",
        "  \"Alice\"",
        "\t<sip:alice@example.com>",
        "  ;tag=fold-from",
        "To: <sip:fax@example.net>",
        "Call-ID: folded-1@198.51.100.1",
        "CSeq: 42",
        "   INVITE",
        "Content-Type: application/sdp;",
        "  charset=utf-8",
    ], T38_SDP))

# Bare LF line ends throughout (what a file edited by hand often has).
write("lf_only.sip", message(
    "INVITE sip:fax@example.net SIP/2.0",
    COMMON + ["CSeq: 1 INVITE", "Content-Type: application/sdp"], T38_SDP, eol="\n"))

write("gzip.sip", message(
    "INVITE sip:fax@example.net SIP/2.0",
    COMMON + ["CSeq: 1 INVITE", "Content-Type: application/sdp", "Content-Encoding: gzip"],
    T38_SDP))

write("dtls_invite.sip", message(
    "INVITE sip:bob@example.com SIP/2.0",
    [
        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKdtls",
        "Max-Forwards: 70",
        "From: \"Alice\" <sip:alice@example.com>;tag=dtls-from",
        "To: <sip:bob@example.com>",
        "Call-ID: dtls-1@198.51.100.1",
        "CSeq: 1 INVITE",
        "Contact: <sip:alice@198.51.100.1>",
        "Content-Type: application/sdp",
    ], DTLS_SDP))
