#!/usr/bin/python3
"""Integration tests of t38relay-dataplane on net_tap, with peers in network namespaces (see
netlab.py). One class per scenario; each starts its own lab and dataplane:

    T38_DATAPLANE=build/dataplane/t38relay-dataplane \\
        /usr/bin/python3 tests/dataplane/integration/test_dataplane.py PlainToPlain

Exit status: 0 passed, 1 failed, 77 skipped (not root, or no network namespaces). Environment:
T38_DATAPLANE (binary, required), T38_CRYPTO (soft|cryptodev, default soft), T38_DATAPLANE_EAL
(EAL arguments replacing the machine default), T38_KEEP_LAB_DIR=1 (keep logs and certificates).
"""
import asyncio
import contextlib
import json
import os
import re
import secrets
import string
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlab  # noqa: E402
from flowclient import FlowClient, FlowError  # noqa: E402
from netlab import RELAY_V4, RELAY_V6, Lab  # noqa: E402
import peertools  # noqa: E402
from peertools import udptl_packets  # noqa: E402

STEP = 10.0        # bound of every wait for a packet, event or line
HANDSHAKE = 30.0   # bound of a DTLS handshake (the relay's initial retransmission timeout is 1 s)
# What openssl prints when its peer closes the association (apps/s_client.c, apps/s_server.c on
# SSL_ERROR_ZERO_RETURN).
S_CLIENT_CLOSED = "closed"
S_SERVER_CLOSED = "DONE"
PEER_PORT = 6000
ICE_CHARS = string.ascii_letters + string.digits + "+/"


def local_address(reply):
    """(ip, port) of a leg.add reply's local address."""
    return reply["local"]["ip"], reply["local"]["port"]


def address(ip, port):
    return {"ip": ip, "port": port}


def ice_string(n):
    return "".join(secrets.choice(ICE_CHARS) for _ in range(n))


class DataplaneTestCase(unittest.TestCase):
    """A lab with peers `peers`, the dataplane started, and a subscribed flow client."""
    peers = "ab"

    def setUp(self):
        self.lab = Lab(peers=self.peers)
        self.lab.__enter__()
        self.addCleanup(self._teardown_lab)
        self.processes = []
        self.sockets = []
        extra = self.relay_args()
        self.dp = (self.lab.start_dataplane(relay_args=extra) if extra else
                   self.lab.start_dataplane())
        self.flow = FlowClient(self.dp.socket_path)
        self.flow.request("events.subscribe")

    def relay_args(self):
        """Relay options beyond the lab's (none: the defaults, or T38_DATAPLANE_ARGS)."""
        return []

    def _teardown_lab(self):
        try:
            self.flow.close() if hasattr(self, "flow") else None
            for s in self.sockets:
                s.close()
            peer_output = []
            for p in self.processes:
                p.stop()
                peer_output.append(f"--- {' '.join(p.cmd)}\n{p.text()[-3000:]}")
            logs = self.dp.logs() if hasattr(self, "dp") else ""
            code = self.dp.stop() if hasattr(self, "dp") else 0
            self.saved_logs = "\n".join(peer_output + [logs, f"--- dataplane exit code: {code}"])
        finally:
            self.lab.__exit__(None, None, None)
        if hasattr(self, "dp"):
            self.assertEqual(code, 0, "the dataplane did not exit cleanly on SIGTERM\n"
                             + self.saved_logs)

    # --- helpers ------------------------------------------------------------------------------
    def socket(self, letter, port=PEER_PORT, family="ipv4"):
        s = self.lab.peer(letter).udp_socket(port, family)
        self.sockets.append(s)
        return s

    def process(self, letter, cmd):
        p = peertools.PeerProcess(self.lab.peer(letter), cmd)
        self.processes.append(p)
        return p

    def add_plain(self, letter, port=PEER_PORT, family="ipv4", **args):
        peer = self.lab.peer(letter)
        return self.flow.request("leg.add", transport="plain", family=family,
                                 remote=address(peer.address(family), port), **args)

    def link(self, leg_a, leg_b):
        reply = self.flow.request("leg.link", legs=[leg_a["leg"], leg_b["leg"]])
        self.assertEqual(reply["legs"], [leg_a["leg"], leg_b["leg"]])

    def leg(self, leg_reply):
        return self.flow.request("leg.get", leg=leg_reply["leg"])["leg"]

    def expect_relayed(self, packets, sender, to, receiver, source, what):
        """Each packet sent by `sender` to `to` arrives at `receiver`, byte for byte, from
        `source` (the relay's other leg)."""
        for i, packet in enumerate(packets):
            sender.sendto(packet, to)
            data, came_from = receiver.recvfrom(STEP)
            self.assertIsNotNone(data, f"{what}: packet {i} (seq {peertools.udptl_seq(packet)}) "
                                 f"sent to {to} did not arrive")
            self.assertEqual(data, packet, f"{what}: packet {i} changed on the way")
            self.assertEqual(came_from, source, f"{what}: packet {i} came from the wrong address")

    def add_anonymous(self, **args):
        """leg.add of an anonymous dtls leg; "busy" while the dataplane is still generating its
        first fresh certificates is retried, as control does."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return self.flow.request("leg.add", transport="dtls", anonymous=True, **args)
            except FlowError as e:
                if e.code != "busy" or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def dtls_call(self, cipher, cert_b, key_b, fingerprint_a, fingerprint_b):
        """s_server in B, then leg A (we are the DTLS server: passive, s_client will connect) and
        leg B (we are the client: active, towards s_server), each expecting the fingerprint
        given. Returns (server process, leg A reply, leg B reply)."""
        b = self.lab.peer("b")
        server = self.process("b", peertools.s_server_cmd(b.v4, PEER_PORT, cert_b, key_b, cipher))
        self.assertTrue(server.wait_for("ACCEPT", STEP), server.text())
        leg_a = self.flow.request("leg.add", transport="dtls", setup="passive",
                                  remote_setup="active",
                                  fingerprints=[{"hash": "sha-256", "value": fingerprint_a}])
        leg_b = self.flow.request("leg.add", transport="dtls", setup="active",
                                  remote_setup="passive", remote=address(b.v4, PEER_PORT),
                                  fingerprints=[{"hash": "sha-256", "value": fingerprint_b}])
        return server, leg_a, leg_b

    def identities(self):
        directory = tempfile.mkdtemp(dir=self.lab.dir)
        return (peertools.make_identity(directory, "peer-a"),
                peertools.make_identity(directory, "peer-b"))


# --- a. ARP/NDP and ICMP echo ------------------------------------------------------------------
class Ping(DataplaneTestCase):
    def test_ping_v4_v6_and_neighbour_entries(self):
        a = self.lab.peer("a")
        for ip in (RELAY_V4, RELAY_V6):
            result = a.ping(ip, count=3)
            self.assertEqual(result.returncode, 0, f"ping {ip}:\n{result.stdout}{result.stderr}")
            self.assertIn("3 packets transmitted, 3 received", result.stdout, result.stdout)
        macs = []
        for ip in (RELAY_V4, RELAY_V6):
            line = a.neighbour(ip)
            m = re.search(r"lladdr ([0-9a-f:]{17}) .*(REACHABLE|STALE|DELAY|PROBE)", line)
            self.assertIsNotNone(m, f"no usable neighbour entry for {ip} in A: {line!r}")
            macs.append(m.group(1))
        self.assertEqual(macs[0], macs[1], "ARP and NDP gave different MACs for the relay")
        self.assertNotEqual(macs[0], "02:38:ff:00:00:01", "the kernel side of the tap answered")


# --- b. plain <-> plain ------------------------------------------------------------------------
class PlainToPlain(DataplaneTestCase):
    def run_both_ways(self, family):
        sa, sb = self.socket("a", family=family), self.socket("b", family=family)
        leg_a, leg_b = self.add_plain("a", family=family), self.add_plain("b", family=family)
        self.assertEqual(leg_a["local"]["ip"], RELAY_V4 if family == "ipv4" else RELAY_V6)
        for leg in (leg_a, leg_b):
            self.assertTrue(20000 <= leg["local"]["port"] <= 20999, leg)
        self.link(leg_a, leg_b)
        self.expect_relayed(udptl_packets(20, tag=b"A>B"), sa, local_address(leg_a), sb,
                            local_address(leg_b), "A to B")
        self.expect_relayed(udptl_packets(20, first_seq=100, tag=b"B>A"), sb,
                            local_address(leg_b), sa, local_address(leg_a), "B to A")
        info_a, info_b = self.leg(leg_a), self.leg(leg_b)
        self.assertEqual(info_a["state"], "plain")
        self.assertEqual(info_a["peer"], leg_b["leg"])
        self.assertEqual(info_a["counters"]["rx_packets"], 20, info_a)
        self.assertEqual(info_a["counters"]["forwarded_packets"], 20, info_a)
        self.assertEqual(info_b["counters"]["rx_packets"], 20, info_b)
        self.assertEqual(info_a["udptl"]["packets"], 20, info_a)
        self.assertEqual(info_a["udptl"]["seq_gaps"], 0, info_a)

    def test_ipv4(self):
        self.run_both_ways("ipv4")

    def test_ipv6(self):
        self.run_both_ways("ipv6")


# --- c. DTLS <-> DTLS with openssl -------------------------------------------------------------
class DtlsToDtls(DataplaneTestCase):
    def run_cipher(self, cipher):
        (cert_a, key_a, fp_a), (cert_b, key_b, fp_b) = self.identities()
        server, leg_a, leg_b = self.dtls_call(cipher, cert_b, key_b, fp_a, fp_b)
        self.assertEqual(leg_a["setup"], "passive")
        self.assertEqual(leg_b["setup"], "active")
        self.link(leg_a, leg_b)
        ip, port = local_address(leg_a)
        client = self.process("a", peertools.s_client_cmd(ip, port, cert_a, key_a, cipher))
        for leg, role in ((leg_a, "server"), (leg_b, "client")):
            event = self.flow.wait_event("leg.established", leg=leg["leg"], timeout=HANDSHAKE)
            self.assertEqual(event["role"], role, event)
            self.assertEqual(event["cipher"], cipher, event)
        self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, STEP), client.text())
        self.assertTrue(server.wait_for(peertools.S_SERVER_READY, STEP), server.text())
        self.assertIn(f"Cipher is {cipher}", client.text())
        for leg in (leg_a, leg_b):
            self.assertEqual(self.leg(leg)["state"], "established")
        handshakes = self.flow.request("stats")["handshake"]
        self.assertEqual(sum(h["established"] for h in handshakes), 2, handshakes)
        if len(handshakes) > 1:
            # Legs are spread over the handshake lcores by slot: the call's two legs (slots 0
            # and 1) handshake on two of them.
            self.assertEqual([h["established"] for h in handshakes[:2]], [1, 1], handshakes)

        for packet in udptl_packets(5, tag=b"A>B"):
            start = len(server.output())
            client.write(packet)
            self.assertTrue(server.wait_for(packet, STEP, start), "A to B: s_server did not get "
                            f"{packet.hex()}\n{server.text()[-2000:]}")
        for packet in udptl_packets(5, first_seq=100, tag=b"B>A"):
            start = len(client.output())
            server.write(packet)
            self.assertTrue(client.wait_for(packet, STEP, start), "B to A: s_client did not get "
                            f"{packet.hex()}\n{client.text()[-2000:]}")

        # openssl cannot pin a fingerprint: check the certificates it saw after the fact.
        seen_by_a = peertools.pem_after(client.text(), "Server certificate")
        seen_by_b = peertools.pem_after(server.text(), "Client certificate")
        self.assertIsNotNone(seen_by_a, "s_client printed no server certificate")
        self.assertIsNotNone(seen_by_b, "s_server printed no client certificate")
        self.assertEqual(peertools.fingerprint_of_pem(seen_by_a), leg_a["fingerprint"]["value"])
        self.assertEqual(peertools.fingerprint_of_pem(seen_by_b), leg_b["fingerprint"]["value"])
        self.assertEqual(leg_a["fingerprint"]["hash"], "sha-256")

        # Hanging up closes both associations: each peer gets a close_notify it can open.
        for leg, peer, says in ((leg_a, client, S_CLIENT_CLOSED), (leg_b, server, S_SERVER_CLOSED)):
            start = len(peer.output())
            self.flow.request("leg.del", leg=leg["leg"])
            self.assertTrue(peer.wait_for(says, STEP, start),
                            f"no close_notify seen after leg.del:\n{peer.text()[-2000:]}")

    def test_ecdhe_rsa_aes128_gcm(self):
        self.run_cipher("ECDHE-RSA-AES128-GCM-SHA256")

    def test_dhe_rsa_aes128_gcm(self):
        self.run_cipher("DHE-RSA-AES128-GCM-SHA256")


# --- d. DTLS A <-> plain B ---------------------------------------------------------------------
class DtlsToPlain(DataplaneTestCase):
    def test_dtls_a_plain_b(self):
        cipher = "ECDHE-RSA-AES128-GCM-SHA256"
        (cert_a, key_a, fp_a), _ = self.identities()
        sb = self.socket("b")
        # Leg A is anonymous (RFC 7345 section 5.1): a certificate of its own, which is the one
        # s_client sees (checked at the end).
        leg_a = self.add_anonymous(setup="passive", remote_setup="active",
                                   fingerprints=[{"hash": "sha-256", "value": fp_a}])
        shared = self.flow.request("leg.add", transport="dtls")
        other = self.add_anonymous()
        self.assertEqual(len({leg_a["fingerprint"]["value"], shared["fingerprint"]["value"],
                              other["fingerprint"]["value"]}), 3)
        for leg in (shared, other):
            self.flow.request("leg.del", leg=leg["leg"])
        leg_b = self.add_plain("b")
        self.link(leg_a, leg_b)
        client = self.process("a", peertools.s_client_cmd(*local_address(leg_a), cert_a, key_a,
                                                          cipher))
        event = self.flow.wait_event("leg.established", leg=leg_a["leg"], timeout=HANDSHAKE)
        self.assertEqual(event["role"], "server")
        self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, STEP), client.text())
        for packet in udptl_packets(5, tag=b"A>B"):
            client.write(packet)
            data, came_from = sb.recvfrom(STEP)
            self.assertEqual(data, packet, "A to B: decrypted datagram differs or missing")
            self.assertEqual(came_from, local_address(leg_b))
        for packet in udptl_packets(5, first_seq=100, tag=b"B>A"):
            start = len(client.output())
            sb.sendto(packet, local_address(leg_b))
            self.assertTrue(client.wait_for(packet, STEP, start),
                            f"B to A: s_client did not get {packet.hex()}")
        seen = peertools.pem_after(client.text(), "Server certificate")
        self.assertEqual(peertools.fingerprint_of_pem(seen), leg_a["fingerprint"]["value"])


# --- d2. a DTLS client that restarts: a new association on the same leg -------------------------
class NewAssociation(DataplaneTestCase):
    CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"

    def call(self, fingerprint_a):
        """Leg A (we are the server, expecting `fingerprint_a`) linked to plain B; returns
        (leg A, leg B, B's socket)."""
        sb = self.socket("b")
        leg_a = self.flow.request("leg.add", transport="dtls", setup="passive",
                                  remote_setup="active",
                                  fingerprints=[{"hash": "sha-256", "value": fingerprint_a}])
        leg_b = self.add_plain("b")
        self.link(leg_a, leg_b)
        return leg_a, leg_b, sb

    def client(self, leg_a, cert, key):
        """s_client from A's fixed address, as an endpoint restarting on its SDP port is."""
        return self.process("a", peertools.s_client_cmd(*local_address(leg_a), cert, key,
                                                        self.CIPHER)
                            + ["-bind", f"{self.lab.peer('a').v4}:{PEER_PORT}"])

    def test_restarted_client_replaces_the_association(self):
        (cert_a, key_a, fp_a), _ = self.identities()
        leg_a, leg_b, sb = self.call(fp_a)
        for run in (1, 2):
            client = self.client(leg_a, cert_a, key_a)
            event = self.flow.wait_event("leg.established", leg=leg_a["leg"], timeout=HANDSHAKE)
            self.assertEqual(event["role"], "server")
            self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, STEP), client.text())
            tag = b"run%d " % run
            for packet in udptl_packets(3, first_seq=10 * run, tag=b"A>B " + tag):
                client.write(packet)
                data, _ = sb.recvfrom(STEP)
                self.assertEqual(data, packet, f"run {run}: A to B differs or missing")
            for packet in udptl_packets(3, first_seq=100 + 10 * run, tag=b"B>A " + tag):
                start = len(client.output())
                sb.sendto(packet, local_address(leg_b))
                self.assertTrue(client.wait_for(packet, STEP, start),
                                f"run {run}: s_client did not get {packet.hex()}")
            # Gone without a close_notify, as a crashed or restarted endpoint is.
            client.process.kill()
            client.stop()
        self.assertEqual(self.leg(leg_a)["state"], "established")
        handshakes = self.flow.request("stats")["handshake"]
        self.assertEqual(sum(h["established"] for h in handshakes), 2, handshakes)
        self.assertEqual(sum(h["renewals"] for h in handshakes), 1, handshakes)

    def test_failed_renewal_keeps_the_leg(self):
        (cert_a, key_a, fp_a), (cert_x, key_x, _) = self.identities()
        leg_a, leg_b, sb = self.call(fp_a)
        client = self.client(leg_a, cert_a, key_a)
        self.flow.wait_event("leg.established", leg=leg_a["leg"], timeout=HANDSHAKE)
        self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, STEP), client.text())
        client.process.kill()
        client.stop()
        # From the same address, a certificate the SDP did not announce: the new handshake fails,
        # and the leg keeps the association it has (RFC 6347 section 4.2.8).
        impostor = self.client(leg_a, cert_x, key_x)
        deadline = time.monotonic() + HANDSHAKE
        while True:
            handshakes = self.flow.request("stats")["handshake"]
            if sum(h["renewals_failed"] for h in handshakes) == 1:
                break
            self.assertLess(time.monotonic(), deadline, f"no failed renewal: {handshakes}")
            time.sleep(0.2)
        impostor.stop()
        self.assertEqual(sum(h["renewals"] for h in handshakes), 0, handshakes)
        self.assertEqual(self.leg(leg_a)["state"], "established")
        self.assertFalse(any(e.get("event") == "leg.failed" for e in self.flow.log),
                         "a failed renewal tore the leg down")
        # Plain B still reaches A's leg, sealed with the association's keys (nobody opens them).
        sb.sendto(udptl_packets(1, tag=b"B>A")[0], local_address(leg_b))
        deadline = time.monotonic() + STEP
        while self.leg(leg_b)["counters"]["forwarded_packets"] < 1:
            self.assertLess(time.monotonic(), deadline, "B's datagram was not relayed to A")
            time.sleep(0.1)


# --- e. wrong fingerprint ----------------------------------------------------------------------
class WrongFingerprint(DataplaneTestCase):
    def test_fingerprint_mismatch_fails_leg(self):
        cipher = "ECDHE-RSA-AES128-GCM-SHA256"
        (cert_a, key_a, fp_a), (cert_b, key_b, _) = self.identities()
        # B's leg expects A's certificate: s_server's does not match.
        server, leg_a, leg_b = self.dtls_call(cipher, cert_b, key_b, fp_a, fp_a)
        self.link(leg_a, leg_b)
        client = self.process("a", peertools.s_client_cmd(*local_address(leg_a), cert_a, key_a,
                                                          cipher))
        event = self.flow.wait_event("leg.failed", leg=leg_b["leg"], timeout=HANDSHAKE)
        self.assertEqual(event["reason"], "fingerprint-mismatch", event)
        self.assertEqual(self.leg(leg_b)["state"], "failed")
        # Whether A's own handshake completes once B failed is not in the contract: not asserted.
        a_up = client.wait_for(peertools.S_CLIENT_READY, HANDSHAKE)
        start = len(client.output())
        packets = udptl_packets(3, tag=b"B>A")
        for packet in packets:
            with contextlib.suppress(BrokenPipeError):  # s_server may be gone after the alert
                if server.alive():
                    server.write(packet)
        time.sleep(2)
        for packet in packets:
            self.assertEqual(client.output().find(packet, start), -1,
                             f"data from the unverified peer reached A (A up: {a_up})")
        self.assertEqual(self.leg(leg_b)["counters"]["forwarded_packets"], 0)
        self.assertFalse(any(e.get("event") == "leg.established" and e.get("leg") == leg_b["leg"]
                             for e in self.flow.log), "leg B reported established")


# --- f. ICE-lite -------------------------------------------------------------------------------
class IceLite(DataplaneTestCase):
    def test_aioice_checks_then_relay(self):
        import aioice
        sb = self.socket("b")
        with peertools.NamespaceLoop(self.lab.peer("a")) as loop:
            async def make():
                return aioice.Connection(ice_controlling=True, use_ipv6=False)
            conn = loop.run(make())
            ufrag, pwd = ice_string(8), ice_string(24)
            leg_a = self.flow.request("leg.add", transport="plain",
                                      ice={"ufrag": ufrag, "pwd": pwd,
                                           "remote_ufrag": conn.local_username})
            self.assertIsNone(self.leg(leg_a)["remote"])
            leg_b = self.add_plain("b")
            self.link(leg_a, leg_b)
            conn.remote_username, conn.remote_password = ufrag, pwd
            conn.remote_is_lite = True  # regular nomination: a check, then one with USE-CANDIDATE
            loop.run(conn.gather_candidates())
            self.assertTrue(all(c.host == self.lab.peer("a").v4 for c in conn.local_candidates),
                            conn.local_candidates)
            loop.run(conn.add_remote_candidate(peertools.ice_candidate(*local_address(leg_a))))
            loop.run(conn.add_remote_candidate(None))
            loop.run(conn.connect(), timeout=STEP * 2)
            latched = self.flow.wait_event("leg.latched", leg=leg_a["leg"], timeout=STEP)
            self.assertEqual(latched["remote"]["ip"], self.lab.peer("a").v4, latched)
            ice_port = latched["remote"]["port"]
            for packet in udptl_packets(10, tag=b"A>B"):
                loop.run(conn.send(packet))
                data, came_from = sb.recvfrom(STEP)
                self.assertEqual(data, packet, "A to B over ICE: differs or missing")
                self.assertEqual(came_from, local_address(leg_b))
            for packet in udptl_packets(10, first_seq=100, tag=b"B>A"):
                sb.sendto(packet, local_address(leg_b))
                data = loop.run(asyncio.wait_for(conn.recv(), STEP), timeout=STEP + 5)
                self.assertEqual(data, packet, "B to A over ICE")
            info = self.leg(leg_a)
            self.assertTrue(info["latched"], info)
            self.assertEqual(info["remote"], address(self.lab.peer("a").v4, ice_port))
            loop.run(conn.close())


# --- g. re-programmed remote -------------------------------------------------------------------
class MovedRemote(DataplaneTestCase):
    peers = "abc"

    def test_leg_update_moves_b_to_c(self):
        sa, sb, sc = self.socket("a"), self.socket("b"), self.socket("c")
        leg_a, leg_b = self.add_plain("a"), self.add_plain("b")
        self.link(leg_a, leg_b)
        to = local_address(leg_a)
        self.expect_relayed(udptl_packets(3, tag=b"A>B"), sa, to, sb, local_address(leg_b),
                            "A to B before the move")
        c = self.lab.peer("c")
        reply = self.flow.request("leg.update", leg=leg_b["leg"], remote=address(c.v4, PEER_PORT))
        self.assertEqual(reply["leg"], leg_b["leg"])
        self.expect_relayed(udptl_packets(5, first_seq=3, tag=b"A>C"), sa, to, sc,
                            local_address(leg_b), "A to C after the move")
        self.assertEqual(sb.drain(1.0), [], "B still received after leg.update moved it to C")
        self.assertEqual(self.leg(leg_b)["remote"], address(c.v4, PEER_PORT))
        # An invalid update changes nothing (all or nothing).
        with self.assertRaises(FlowError) as error:
            self.flow.request("leg.update", leg=leg_b["leg"], remote=address(c.v4, PEER_PORT),
                              latch="sometimes")
        self.assertEqual(error.exception.code, "bad-request")
        self.expect_relayed(udptl_packets(2, first_seq=8, tag=b"A>C"), sa, to, sc,
                            local_address(leg_b), "A to C after a refused update")


# --- g2. a dtls leg switched to plain (an answer that took udptl) -------------------------------
class TransportSwitch(DataplaneTestCase):
    def test_dtls_leg_turns_plain_on_its_port_and_back(self):
        sa, sb = self.socket("a"), self.socket("b")
        leg_a = self.add_plain("a")
        leg_b = self.flow.request("leg.add", transport="dtls")
        self.link(leg_a, leg_b)
        sa.sendto(udptl_packets(1)[0], local_address(leg_a))
        self.assertEqual(sb.drain(0.5), [], "relayed to a dtls leg without keys")
        b = self.lab.peer("b")
        # Nothing of a half-valid update is applied.
        with self.assertRaises(FlowError) as error:
            self.flow.request("leg.update", leg=leg_b["leg"], transport="plain",
                              remote_setup="active")
        self.assertEqual(error.exception.code, "bad-request")
        self.assertEqual(self.leg(leg_b)["transport"], "dtls")
        reply = self.flow.request("leg.update", leg=leg_b["leg"], transport="plain",
                                  remote=address(b.v4, PEER_PORT))
        self.assertEqual(reply["leg"], leg_b["leg"])
        info = self.leg(leg_b)
        self.assertEqual((info["transport"], info["state"]), ("plain", "plain"), info)
        self.assertIsNone(info["fingerprint"], info)
        self.assertEqual(info["local"], leg_b["local"], "the leg moved to another port")
        self.expect_relayed(udptl_packets(5, first_seq=1, tag=b"A>B"), sa, local_address(leg_a),
                            sb, local_address(leg_b), "A to B once plain")
        self.expect_relayed(udptl_packets(5, first_seq=100, tag=b"B>A"), sb,
                            local_address(leg_b), sa, local_address(leg_a), "B to A once plain")
        # Back to dtls (control's undo): the same certificate, waiting for a handshake again.
        self.flow.request("leg.update", leg=leg_b["leg"], transport="dtls")
        info = self.leg(leg_b)
        self.assertEqual((info["transport"], info["state"]), ("dtls", "waiting"), info)
        self.assertEqual(info["fingerprint"], leg_b["fingerprint"])
        sa.sendto(udptl_packets(1, first_seq=6)[0], local_address(leg_a))
        self.assertEqual(sb.drain(0.5), [], "relayed plain after the switch back to dtls")
        # A leg added plain has no certificate: it cannot become dtls.
        with self.assertRaises(FlowError) as error:
            self.flow.request("leg.update", leg=leg_a["leg"], transport="dtls")
        self.assertEqual(error.exception.code, "invalid-state")


# --- g3. a leg on a port control asks for (re-programming a restarted dataplane) ----------------
class GivenPort(DataplaneTestCase):
    def test_leg_add_takes_the_port_asked_for(self):
        sa, sb = self.socket("a"), self.socket("b")
        a, b = self.lab.peer("a"), self.lab.peer("b")
        leg_a = self.flow.request("leg.add", transport="plain", port=20500,
                                  remote=address(a.v4, PEER_PORT))
        leg_b = self.flow.request("leg.add", transport="dtls", port=20999)
        self.assertEqual((leg_a["local"]["port"], leg_b["local"]["port"]), (20500, 20999))
        with self.assertRaises(FlowError) as error:
            self.flow.request("leg.add", transport="plain", port=20500)
        self.assertEqual(error.exception.code, "invalid-state")
        self.assertIn("in use", error.exception.message)
        with self.assertRaises(FlowError) as error:
            self.flow.request("leg.add", transport="plain", port=21000)
        self.assertEqual(error.exception.code, "bad-request")
        self.assertIn("outside leg_ports", error.exception.message)
        # The next leg without a port skips the ones taken.
        leg_c = self.flow.request("leg.add", transport="plain", remote=address(b.v4, PEER_PORT))
        self.assertNotIn(leg_c["local"]["port"], (20500, 20999))
        self.flow.request("leg.del", leg=leg_b["leg"])
        self.link(leg_a, leg_c)
        self.expect_relayed(udptl_packets(3, tag=b"A>B"), sa, local_address(leg_a), sb,
                            local_address(leg_c), "A to B through the given port")


# --- h. garbage on the flow socket while relaying ----------------------------------------------
class FlowSocketGarbage(DataplaneTestCase):
    def test_garbage_gets_errors_and_relaying_goes_on(self):
        hello = self.flow.request("hello")
        self.assertEqual(hello["server"], "t38relay-dataplane")
        self.assertEqual(hello["protocol"], 1)
        self.assertIn(RELAY_V4, hello["addresses"])
        self.assertIn(RELAY_V6, hello["addresses"])
        self.assertEqual(hello["leg_ports"], {"first": 20000, "count": 1000})

        sa, sb = self.socket("a"), self.socket("b")
        leg_a, leg_b = self.add_plain("a"), self.add_plain("b")
        self.link(leg_a, leg_b)
        packets = iter(udptl_packets(40, tag=b"A>B"))

        def relay_some(what, n=3):
            self.expect_relayed([next(packets) for _ in range(n)], sa, local_address(leg_a), sb,
                                local_address(leg_b), what)

        relay_some("before the garbage")
        junk = FlowClient(self.dp.socket_path)
        self.addCleanup(junk.close)

        junk.send_raw(b"{this is not json\n")
        self.assert_error(junk.wait_unmatched(), "bad-json", None)
        relay_some("after bad JSON")

        junk.send_raw(b"\xff\xfe\x00garbage\n")
        self.assert_error(junk.wait_unmatched(), "bad-json", None)

        reply = junk.wait_reply(junk.send_request("no.such.command"))
        self.assert_error(reply, "unknown-command", reply["id"])

        huge = b'{"v":1,"id":99,"cmd":"hello","pad":"' + b"x" * 70000 + b'"}\n'
        junk.send_raw(huge)
        self.assert_error(junk.wait_unmatched(), "too-large", None)
        relay_some("after a huge line")
        self.assertEqual(junk.request("hello")["server"], "t38relay-dataplane",
                         "the connection is not usable after a too-large line")

        with self.assertRaises(FlowError) as error:
            junk.request("leg.add", transport="plain", bogus=1)
        self.assertEqual(error.exception.code, "bad-request")
        self.assertIn("bogus", error.exception.message)

        junk.send_raw(b'{"v":2,"id":5,"cmd":"hello"}\n')
        self.assert_error(junk.wait_reply(5), "unsupported-version", 5)

        with self.assertRaises(FlowError) as error:
            junk.request("leg.get", leg=987654321)
        self.assertEqual(error.exception.code, "not-found")

        # Linking the same pair again is a no-op (control re-programming after a restart);
        # linking a linked leg elsewhere is refused.
        junk.request("leg.link", legs=[leg_a["leg"], leg_b["leg"]])
        third = junk.request("leg.add", transport="plain")
        with self.assertRaises(FlowError) as error:
            junk.request("leg.link", legs=[leg_a["leg"], third["leg"]])
        self.assertEqual(error.exception.code, "invalid-state")
        junk.request("leg.del", leg=third["leg"])

        # A line cut off by a client that goes away, then more garbage split across writes.
        partial = FlowClient(self.dp.socket_path)
        partial.send_raw(b'{"v":1,"id":1,"cmd":"hel')
        partial.close()
        junk.send_raw(b'{"v":1,"id":6,')
        time.sleep(0.2)
        relay_some("with a partial line pending")
        junk.send_raw(b'"cmd":"hello"}\n')
        self.assertTrue(junk.wait_reply(6)["ok"])

        relay_some("after all the garbage")
        self.assertEqual(len(self.flow.request("legs.list")["legs"]), 2)
        errors = self.flow.request("stats")["socket"]["errors"]
        for code in ("bad-json", "unknown-command", "too-large", "bad-request",
                     "unsupported-version", "not-found", "invalid-state"):
            self.assertGreaterEqual(errors.get(code, 0), 1, f"stats socket errors: {errors}")

    def assert_error(self, reply, code, request_id):
        self.assertIs(reply.get("ok"), False, reply)
        self.assertEqual(reply.get("error"), code, reply)
        self.assertEqual(reply.get("id"), request_id, reply)
        self.assertEqual(reply.get("v"), 1, reply)
        self.assertTrue(reply.get("message"), reply)


# --- runner ------------------------------------------------------------------------------------
class _Result(unittest.TextTestResult):
    """Prints the dataplane's and peers' output under a failing test (at stopTest: the lab's
    cleanup, which gathers them, runs after the failure is reported)."""

    def startTest(self, test):
        self._failing = False
        super().startTest(test)

    def addFailure(self, test, err):
        self._failing = True
        super().addFailure(test, err)

    def addError(self, test, err):
        self._failing = True
        super().addError(test, err)

    def stopTest(self, test):
        super().stopTest(test)
        logs = getattr(test, "saved_logs", None)
        if self._failing and logs:
            self.stream.writeln(f"\n===== logs of {test.id()} =====\n{logs}\n=====")
            self.stream.flush()


# --- i. leg.idle -------------------------------------------------------------------------------
class Idle(DataplaneTestCase):
    def relay_args(self):
        config = os.path.join(self.lab.dir, "idle.json")
        with open(config, "w") as f:
            json.dump({"legs": {"idle_timeout_s": 1}}, f)
        return ["--config", config]

    def test_idle_event_then_traffic_then_idle_again(self):
        sa, sb = self.socket("a"), self.socket("b")
        leg_a, leg_b = self.add_plain("a"), self.add_plain("b")
        self.link(leg_a, leg_b)
        event = self.flow.wait_event("leg.idle", leg=leg_a["leg"], timeout=STEP)
        self.assertGreaterEqual(event["seconds"], 1, event)
        # Traffic ends the idle period; silence starts a new one, reported once more.
        self.expect_relayed(udptl_packets(2, tag=b"A>B"), sa, local_address(leg_a), sb,
                            local_address(leg_b), "A to B")
        # One leg.idle per idle period: the first was taken above, so this one is the new period's.
        event = self.flow.wait_event("leg.idle", leg=leg_a["leg"], timeout=STEP)
        self.assertGreaterEqual(event["seconds"], 1, event)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        sys.exit(77)
    try:
        netlab.run(["ip", "netns", "list"])
    except Exception as e:  # no iproute2 / no netns support
        print(f"SKIP: no network namespaces here: {e}")
        sys.exit(77)
    program = unittest.main(
        testRunner=unittest.TextTestRunner(resultclass=_Result, verbosity=2), exit=False)
    result = program.result
    sys.exit(0 if result.wasSuccessful() and result.testsRun else 1)


if __name__ == "__main__":
    main()
