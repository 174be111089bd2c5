#!/usr/bin/python3
"""tools/quickstart's demonstration: t38relay-dataplane on its embedded default (one net_tap port,
198.18.0.1/24 and fd00:198:18::1/64) inside a network namespace, two peers A and B in namespaces
of their own, and a call each way: plain UDPTL, then UDPTL inside DTLS 1.2 with openssl as the
fax endpoints. Everything it creates is removed at the end.

    /usr/bin/python3 tools/lib/quickstart_demo.py BINARY
"""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "dataplane", "integration"))

import netlab  # noqa: E402
import peertools  # noqa: E402
from flowclient import FlowClient  # noqa: E402

PEER_PORT = 6000


def say(text):
    print(f"\n== {text}", flush=True)


def show(what, obj):
    print(f"   {what}: {json.dumps(obj)}", flush=True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    with netlab.Lab(peers="ab") as lab:
        say(f"starting {binary} (embedded default) in namespace {lab.relay_ns}")
        dp = lab.start_dataplane(binary=binary, embedded=True)
        show("hello", dp.hello)
        flow = FlowClient(dp.socket_path)
        flow.request("events.subscribe")
        a, b = lab.peer("a"), lab.peer("b")

        say("ping the relay from peer A (ARP/NDP and ICMP echo answered by the dataplane)")
        for ip in (netlab.RELAY_V4, netlab.RELAY_V6):
            result = a.ping(ip, count=2)
            print("   " + result.stdout.strip().splitlines()[-2])

        say("plain UDPTL: leg A <-> leg B, 5 packets each way")
        sa, sb = a.udp_socket(PEER_PORT), b.udp_socket(PEER_PORT)
        leg_a = flow.request("leg.add", transport="plain", remote={"ip": a.v4, "port": PEER_PORT})
        leg_b = flow.request("leg.add", transport="plain", remote={"ip": b.v4, "port": PEER_PORT})
        flow.request("leg.link", legs=[leg_a["leg"], leg_b["leg"]])
        show("leg A", leg_a)
        show("leg B", leg_b)
        to_a = (leg_a["local"]["ip"], leg_a["local"]["port"])
        to_b = (leg_b["local"]["ip"], leg_b["local"]["port"])
        arrived = 0
        for packet in peertools.udptl_packets(5, tag=b"A>B"):
            sa.sendto(packet, to_a)
            data, _ = sb.recvfrom(5.0)
            arrived += data == packet
        for packet in peertools.udptl_packets(5, first_seq=100, tag=b"B>A"):
            sb.sendto(packet, to_b)
            data, _ = sa.recvfrom(5.0)
            arrived += data == packet
        print(f"   {arrived} of 10 datagrams arrived intact")
        show("leg A counters", flow.request("leg.get", leg=leg_a["leg"])["leg"]["counters"])
        for leg in (leg_a, leg_b):
            flow.request("leg.del", leg=leg["leg"])
        sa.close()
        sb.close()

        say("UDPTL over DTLS 1.2 (RFC 7345): openssl s_client in A, s_server in B")
        directory = tempfile.mkdtemp(dir=lab.dir)
        cert_a, key_a, fp_a = peertools.make_identity(directory, "peer-a")
        cert_b, key_b, fp_b = peertools.make_identity(directory, "peer-b")
        cipher = "ECDHE-RSA-AES128-GCM-SHA256"
        server = peertools.PeerProcess(b, peertools.s_server_cmd(b.v4, PEER_PORT, cert_b, key_b,
                                                                 cipher))
        client = None
        try:
            server.wait_for("ACCEPT", 10)
            leg_a = flow.request("leg.add", transport="dtls", setup="passive",
                                 remote_setup="active",
                                 fingerprints=[{"hash": "sha-256", "value": fp_a}])
            leg_b = flow.request("leg.add", transport="dtls", setup="active",
                                 remote_setup="passive", remote={"ip": b.v4, "port": PEER_PORT},
                                 fingerprints=[{"hash": "sha-256", "value": fp_b}])
            flow.request("leg.link", legs=[leg_a["leg"], leg_b["leg"]])
            show("leg A (relay is DTLS server)", leg_a)
            show("leg B (relay is DTLS client)", leg_b)
            client = peertools.PeerProcess(a, peertools.s_client_cmd(
                leg_a["local"]["ip"], leg_a["local"]["port"], cert_a, key_a, cipher))
            for leg in (leg_a, leg_b):
                show("event", flow.wait_event("leg.established", leg=leg["leg"], timeout=30))
            client.wait_for(peertools.S_CLIENT_READY, 10)
            server.wait_for(peertools.S_SERVER_READY, 10)
            arrived = 0
            for packet in peertools.udptl_packets(5, tag=b"A>B"):
                start = len(server.output())
                client.write(packet)
                arrived += server.wait_for(packet, 5, start)
            for packet in peertools.udptl_packets(5, first_seq=100, tag=b"B>A"):
                start = len(client.output())
                server.write(packet)
                arrived += client.wait_for(packet, 5, start)
            print(f"   {arrived} of 10 records decrypted, re-encrypted and delivered intact")
            show("leg A", flow.request("leg.get", leg=leg_a["leg"])["leg"])
        finally:
            for process in (client, server):
                if process is not None:
                    process.stop()

        say("dataplane stats")
        stats = flow.request("stats")
        show("workers", stats["workers"])
        show("ports", stats["ports"])
        flow.close()
        code = dp.stop()
        say(f"dataplane stopped (exit code {code}); removing the namespaces")
        return 0 if code == 0 else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("quickstart: needs root (network namespaces, net_tap)")
    sys.exit(main())
