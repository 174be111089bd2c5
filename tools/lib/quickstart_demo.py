#!/usr/bin/python3
"""tools/quickstart's demonstration: t38relay-dataplane on its embedded default (one net_tap port,
198.18.0.1/24 and fd00:198:18::1/64) inside a network namespace, t38relay-control on its flow
socket, two fax endpoints A and B in namespaces of their own (openssl s_client and s_server, DTLS
1.2), and one call driven through t38ctl with their SDP: UDPTL over DTLS on both legs (RFC 7345).
Live counters each second, a one-line verdict at the end; everything it creates is removed.

    /usr/bin/python3 tools/lib/quickstart_demo.py DATAPLANE CONTROL [--seconds N]
"""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "dataplane", "integration"))

import netlab  # noqa: E402
import peertools  # noqa: E402
from peertools import media_of, t38_sdp  # noqa: E402

CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"
CALL = "quickstart-1@t38relay"


def say(text):
    print(f"\n== {text}", flush=True)


def indent(text):
    return "".join(f"   {line}\n" for line in text.splitlines())


def t38ctl(control, *args, input=None):
    result = control.t38ctl(*args, input=input)
    if result.returncode != 0:
        raise RuntimeError(f"t38ctl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def counters(control):
    call = json.loads(t38ctl(control, "--json", "show", CALL))["call"]
    return {leg["side"]: leg for leg in call["legs"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataplane")
    parser.add_argument("control")
    parser.add_argument("--seconds", type=float, default=10,
                        help="how long the call carries data before it is hung up (default 10)")
    args = parser.parse_args()
    with netlab.Lab(peers="ab") as lab:
        say(f"starting t38relay-dataplane (embedded default) in namespace {lab.relay_ns}")
        dp = lab.start_dataplane(binary=os.path.abspath(args.dataplane), embedded=True)
        print(indent(json.dumps(dp.hello)), end="")
        control = netlab.Control(lab, dp.socket_path, binary=os.path.abspath(args.control))
        control.start()
        if not control.wait_ready():
            raise RuntimeError("t38relay-control did not come up\n" + control.logs())
        print(indent(t38ctl(control, "ping")), end="")
        a, b = lab.peer("a"), lab.peer("b")

        say("ping the relay from A (ARP/NDP and ICMP echo answered by the dataplane)")
        for ip in (netlab.RELAY_V4, netlab.RELAY_V6):
            print("   " + a.ping(ip, count=2).stdout.strip().splitlines()[-2])

        directory = tempfile.mkdtemp(dir=lab.dir)
        cert_a, key_a, fp_a = peertools.make_identity(directory, "fax-a")
        cert_b, key_b, fp_b = peertools.make_identity(directory, "fax-b")
        offer = t38_sdp(a.v4, 5000, setup="active", fingerprint=fp_a)
        say(f"A's SDP offer (A is the DTLS client), through t38ctl offer --transport dtls")
        print(indent(offer), end="")
        to_b = t38ctl(control, "offer", "--call-id", CALL, "--from-tag", "a1", "--transport",
                      "dtls", "--sdp", "-", input=offer)
        say("the relay's SDP for B")
        print(indent(to_b), end="")
        server = peertools.PeerProcess(b, peertools.s_server_cmd(b.v4, 6000, cert_b, key_b,
                                                                 CIPHER))
        client = None
        sent = arrived = 0
        try:
            server.wait_for("ACCEPT", 10)
            answer = t38_sdp(b.v4, 6000, setup="passive", fingerprint=fp_b)
            say("B's SDP answer (B is the DTLS server), through t38ctl answer")
            print(indent(answer), end="")
            to_a = t38ctl(control, "answer", "--call-id", CALL, "--from-tag", "a1", "--to-tag",
                          "b1", "--sdp", "-", input=answer)
            say("the relay's SDP for A")
            print(indent(to_a), end="")
            relay_a = media_of(to_a)
            client = peertools.PeerProcess(a, peertools.s_client_cmd(
                relay_a["ip"], relay_a["port"], cert_a, key_a, CIPHER))
            handshakes = (client.wait_for(peertools.S_CLIENT_READY, 30) and
                          server.wait_for(peertools.S_SERVER_READY, 30))
            say("DTLS up on both legs" if handshakes else "DTLS handshakes did not complete")
            print(indent(t38ctl(control, "show", CALL)), end="")

            say(f"relaying UDPTL both ways for {args.seconds:g} s (live counters)")
            seq = 0
            end = time.monotonic() + (args.seconds if handshakes else 0)
            next_report = time.monotonic() + 1
            while time.monotonic() < end:
                for sender, receiver, tag in ((client, server, b"A>B"), (server, client, b"B>A")):
                    packet = peertools.udptl_packets(1, first_seq=seq, tag=tag)[0]
                    start = len(receiver.output())
                    sender.write(packet)
                    sent += 1
                    arrived += receiver.wait_for(packet, 2, start)
                seq = (seq + 1) & 0xFFFF
                if time.monotonic() >= next_report:
                    next_report += 1
                    legs = counters(control)
                    print("   " + "   ".join(
                        f"{side}: {legs[side]['state']} rx {legs[side]['rx_packets']} "
                        f"fwd {legs[side]['forwarded_packets']} drop {legs[side]['dropped_packets']}"
                        for side in ("caller", "callee")), flush=True)
                time.sleep(0.05)
        finally:
            for process in (client, server):
                if process is not None:
                    process.stop()

        say("hang up: t38ctl delete")
        print(indent(t38ctl(control, "delete", "--call-id", CALL)), end="")
        print(indent(t38ctl(control, "stats")), end="")
        control_code = control.stop()
        dp_code = dp.stop()
        ok = sent > 0 and arrived == sent and control_code == 0 and dp_code == 0
        say(f"VERDICT: {'OK' if ok else 'FAILED'} — {arrived} of {sent} UDPTL datagrams relayed "
            f"intact through DTLS on both legs; control exit {control_code}, dataplane exit "
            f"{dp_code}; removing the namespaces")
        return 0 if ok else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("quickstart: needs root (network namespaces, net_tap)")
    sys.exit(main())
