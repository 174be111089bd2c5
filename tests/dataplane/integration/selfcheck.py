#!/usr/bin/python3
"""Checks the harness itself, without the dataplane: the lab comes up and goes away without
leftovers (also on exceptions and signals), peers reach each other through br0, the flow client
against a small Unix-socket server, openssl s_server/s_client with the scenarios' exact command
lines between A and B, aioice between A and B. A later failure of test_dataplane.py is then the dataplane's, not the lab's.

    /usr/bin/python3 tests/dataplane/integration/selfcheck.py [TestName...]

Exit status 0 passed, 1 failed, 77 skipped (not root).
"""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netlab  # noqa: E402
from flowclient import FlowClient, FlowError  # noqa: E402
from netlab import Lab, LabError  # noqa: E402
import peertools  # noqa: E402



def lab_namespaces():
    return {n for n in netlab.list_namespaces() if netlab.NS_PATTERN.match(n)}


class LabLifecycle(unittest.TestCase):
    def test_up_and_down_leaves_nothing(self):
        before = set(netlab.list_namespaces())
        with Lab(peers="abc") as lab:
            names = {lab.relay_ns} | {p.ns for p in lab.peers.values()}
            self.assertTrue(names <= set(netlab.list_namespaces()))
            links = netlab.run(["ip", "-n", lab.relay_ns, "-br", "link"]).stdout
            for name in ("br0", "to-a", "to-b", "to-c"):
                self.assertIn(name, links)
            self.assertEqual(netlab.run(["ip", "-n", lab.relay_ns, "-br", "addr", "show", "br0"])
                             .stdout.split()[2:], [], "br0 has an address")
            directory = lab.dir
        self.assertEqual(set(netlab.list_namespaces()), before)
        self.assertFalse(os.path.exists(directory))
        root_links = netlab.run(["ip", "-br", "link"]).stdout
        self.assertNotIn("to-a", root_links)

    def test_exception_inside_tears_down(self):
        before = set(netlab.list_namespaces())
        with self.assertRaises(RuntimeError):
            with Lab(peers="ab"):
                raise RuntimeError("boom")
        self.assertEqual(set(netlab.list_namespaces()), before)

    def test_signals_tear_down(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            child = subprocess.Popen(
                [sys.executable, "-c",
                 "import sys, time; sys.path.insert(0, %r)\n"
                 "import netlab\n"
                 "try:\n"
                 "    with netlab.Lab(peers='ab', clean_stale=False) as lab:\n"
                 "        print(lab.relay_ns, flush=True); time.sleep(60)\n"
                 "except KeyboardInterrupt:\n"
                 "    pass\n" % HERE],
                stdout=subprocess.PIPE, text=True)
            relay_ns = child.stdout.readline().strip()
            self.assertTrue(relay_ns.startswith("t38r"), relay_ns)
            self.assertIn(relay_ns, netlab.list_namespaces())
            child.send_signal(sig)
            child.wait(20)
            child.stdout.close()
            n = relay_ns[4:]
            left = [x for x in netlab.list_namespaces() if x.endswith(n) and x.startswith("t38")]
            self.assertEqual(left, [], f"left after {sig.name}")

    def test_stale_cleaner(self):
        dead = 4194000  # above any pid in use here; checked below
        while netlab._pid_alive(dead):
            dead += 1
        stale = [f"t38r{dead}", f"t38a{dead}"]
        keep = f"t38keep{dead}"
        for name in stale + [keep]:
            netlab.run(["ip", "netns", "add", name])
        try:
            removed = netlab.clean_stale_labs(log=lambda s: None)
            self.assertEqual(sorted(removed), sorted(stale))
            self.assertIn(keep, netlab.list_namespaces())
        finally:
            for name in stale + [keep]:
                netlab.run(["ip", "netns", "del", name], check=False)

    def test_refuses_addresses_outside_the_lab(self):
        for ip in ("198.18.0.20", "198.19.255.1", "fd00:198:18::20", "127.0.0.1", "::1"):
            netlab.check_lab_address(ip)
        for ip in ("8.8.8.8", "198.20.0.1", "fd00:198:19::1", "2001:db8::1", "10.0.0.1"):
            with self.assertRaises(LabError):
                netlab.check_lab_address(ip)


class PeersThroughBridge(unittest.TestCase):
    def test_ping_udp_and_isolation(self):
        with Lab(peers="abc") as lab:
            a, b, c = lab.peer("a"), lab.peer("b"), lab.peer("c")
            for ip in (b.v4, b.v6, c.v4, c.v6):
                result = a.ping(ip)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn("3 received", result.stdout)
            self.assertIn("lladdr", a.neighbour(b.v4))
            self.assertIn("lladdr", a.neighbour(b.v6))
            # No route out of the lab from a peer.
            routes = a.run(["ip", "route", "get", "8.8.8.8"], check=False)
            self.assertNotEqual(routes.returncode, 0, routes.stdout)
            for family in ("ipv4", "ipv6"):
                with a.udp_socket(6000, family) as sa, b.udp_socket(6000, family) as sb:
                    for packet in peertools.udptl_packets(5, tag=b"A>B"):
                        sa.sendto(packet, (b.address(family), 6000))
                        data, source = sb.recvfrom(2)
                        self.assertEqual(data, packet)
                        self.assertEqual(source, (a.address(family), 6000))
                    self.assertEqual(sb.drain(0.2), [])


class Udptl(unittest.TestCase):
    def test_packets_are_what_the_golden_files_show(self):
        # synthetic_1998.txt line 1 and 2: seq 0 cng, seq 1 ced with cng as secondary.
        import make_synthetic
        self.assertEqual(make_synthetic.udptl_secondary(0, make_synthetic.ifp("1998", "i", 1), [])
                         .hex(), "000001020000")
        packets = peertools.udptl_packets(3, tag=b"T")
        self.assertEqual([peertools.udptl_seq(p) for p in packets], [0, 1, 2])
        # seq, primary length, IFP header c0 (data, v21) ... then 2 secondaries in the third.
        self.assertEqual(packets[0][:2], b"\x00\x00")
        ifp0 = packets[0][3:3 + packets[0][2]]
        self.assertIn(ifp0, packets[2], "packet 2 does not carry packet 0's IFP as redundancy")


class EchoServer:
    """A small stand-in for the flow socket: answers each request line with ok and the request,
    `fail` with an error, bad JSON with id null, and pushes an event before each reply."""

    def __init__(self, path):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        buffer = b""
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        request = json.loads(line)
                    except ValueError:
                        conn.sendall(b'{"v":1,"id":null,"ok":false,"error":"bad-json",'
                                     b'"message":"not JSON"}\n')
                        continue
                    event = {"v": 1, "event": "leg.latched", "leg": request["id"],
                             "remote": {"ip": "198.18.0.10", "port": 1}}
                    if request["cmd"] == "fail":
                        reply = {"v": 1, "id": request["id"], "ok": False, "error": "not-found",
                                 "message": "no leg 7"}
                    else:
                        reply = {"v": 1, "id": request["id"], "ok": True, "echo": request}
                    # Event and reply in one write, the reply split in two writes.
                    data = (json.dumps(event) + "\n" + json.dumps(reply) + "\n").encode()
                    conn.sendall(data[:-10])
                    time.sleep(0.01)
                    conn.sendall(data[-10:])

    def close(self):
        self.listener.close()


class FlowClientAgainstEcho(unittest.TestCase):
    def test_requests_errors_events(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "flow.sock")
            server = EchoServer(path)
            try:
                with FlowClient(path) as flow:
                    r1 = flow.request("hello")
                    self.assertEqual(r1["id"], 1)
                    self.assertEqual(r1["echo"], {"v": 1, "id": 1, "cmd": "hello"})
                    r2 = flow.request("leg.add", transport="plain",
                                      remote={"ip": "198.18.0.10", "port": 6000})
                    self.assertEqual(r2["id"], 2)
                    self.assertEqual(r2["echo"]["remote"]["port"], 6000)
                    with self.assertRaises(FlowError) as error:
                        flow.request("fail")
                    self.assertEqual(error.exception.code, "not-found")
                    self.assertEqual(error.exception.message, "no leg 7")
                    flow.send_raw(b"{garbage\n")
                    self.assertEqual(flow.wait_unmatched()["error"], "bad-json")
                    # Events were queued apart, in order, and are taken by name and leg.
                    self.assertEqual(flow.wait_event("leg.latched", leg=2, timeout=1)["leg"], 2)
                    self.assertEqual(flow.wait_event("leg.latched", timeout=1)["leg"], 1)
                    self.assertEqual(flow.wait_event("leg.latched", timeout=1)["leg"], 3)
                    with self.assertRaises(TimeoutError):
                        flow.wait_event("leg.failed", timeout=0.3)
            finally:
                server.close()


class OpensslBetweenPeers(unittest.TestCase):
    """The scenarios' s_server/s_client command lines, A talking to B directly."""

    def run_cipher(self, cipher, family):
        with Lab(peers="ab") as lab:
            a, b = lab.peer("a"), lab.peer("b")
            (cert_a, key_a, fp_a) = peertools.make_identity(lab.dir, "peer-a")
            (cert_b, key_b, fp_b) = peertools.make_identity(lab.dir, "peer-b")
            server = peertools.PeerProcess(b, peertools.s_server_cmd(
                b.address(family), 6000, cert_b, key_b, cipher))
            client = None
            try:
                self.assertTrue(server.wait_for("ACCEPT", 10), server.text())
                client = peertools.PeerProcess(a, peertools.s_client_cmd(
                    b.address(family), 6000, cert_a, key_a, cipher))
                self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, 10), client.text())
                self.assertTrue(server.wait_for(peertools.S_SERVER_READY, 10), server.text())
                self.assertIn(f"Cipher is {cipher}", client.text())
                self.assertIn(f"CIPHER is {cipher}", server.text())
                for packet in peertools.udptl_packets(5, tag=b"A>B"):
                    start = len(server.output())
                    client.write(packet)
                    self.assertTrue(server.wait_for(packet, 5, start), server.text())
                for packet in peertools.udptl_packets(5, first_seq=100, tag=b"B>A"):
                    start = len(client.output())
                    server.write(packet)
                    self.assertTrue(client.wait_for(packet, 5, start), client.text())
                time.sleep(0.5)
                self.assertTrue(client.alive() and server.alive(), "an openssl tool exited early")
                # The after-the-fact fingerprint check the scenarios use.
                self.assertEqual(peertools.fingerprint_of_pem(
                    peertools.pem_after(client.text(), "Server certificate")), fp_b)
                self.assertEqual(peertools.fingerprint_of_pem(
                    peertools.pem_after(server.text(), "Client certificate")), fp_a)
            finally:
                if client:
                    client.stop()
                server.stop()

    def test_ecdhe_ipv4(self):
        self.run_cipher("ECDHE-RSA-AES128-GCM-SHA256", "ipv4")

    def test_dhe_ipv4(self):
        self.run_cipher("DHE-RSA-AES128-GCM-SHA256", "ipv4")

    def test_ecdhe_ipv6(self):
        self.run_cipher("ECDHE-RSA-AES128-GCM-SHA256", "ipv6")


class AioiceBetweenPeers(unittest.TestCase):
    def test_two_agents(self):
        import aioice
        with Lab(peers="ab") as lab:
            a, b = lab.peer("a"), lab.peer("b")
            with peertools.NamespaceLoop(a) as loop_a, peertools.NamespaceLoop(b) as loop_b:
                async def make(controlling):
                    return aioice.Connection(ice_controlling=controlling, use_ipv6=False)
                ca, cb = loop_a.run(make(True)), loop_b.run(make(False))
                loop_a.run(ca.gather_candidates())
                loop_b.run(cb.gather_candidates())
                self.assertEqual({c.host for c in ca.local_candidates}, {a.v4})
                self.assertEqual({c.host for c in cb.local_candidates}, {b.v4})
                ca.remote_username, ca.remote_password = cb.local_username, cb.local_password
                cb.remote_username, cb.remote_password = ca.local_username, ca.local_password
                for conn, loop, other in ((ca, loop_a, cb), (cb, loop_b, ca)):
                    for candidate in other.local_candidates:
                        loop.run(conn.add_remote_candidate(candidate))
                    loop.run(conn.add_remote_candidate(None))
                fa = asyncio.run_coroutine_threadsafe(ca.connect(), loop_a.loop)
                fb = asyncio.run_coroutine_threadsafe(cb.connect(), loop_b.loop)
                fa.result(20)
                fb.result(20)
                for packet in peertools.udptl_packets(5, tag=b"A>B"):
                    loop_a.run(ca.send(packet))
                    self.assertEqual(loop_b.run(asyncio.wait_for(cb.recv(), 5)), packet)
                for packet in peertools.udptl_packets(5, tag=b"B>A"):
                    loop_b.run(cb.send(packet))
                    self.assertEqual(loop_a.run(asyncio.wait_for(ca.recv(), 5)), packet)
                loop_a.run(ca.close())
                loop_b.run(cb.close())


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        sys.exit(77)
    before = lab_namespaces()
    program = unittest.main(verbosity=2, exit=False)
    left = lab_namespaces() - before
    if left:
        print(f"FAIL: namespaces left behind: {sorted(left)}")
        sys.exit(1)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
