#!/usr/bin/python3
"""End-to-end calls (suite e2e): t38relay-dataplane on net_tap with peers in network namespaces
(tests/dataplane/integration/netlab.py), t38relay-control on the dataplane's flow socket, and
every call driven only through `t38ctl offer/answer/delete` with the peers' SDP. The peers are
openssl s_client/s_server (DTLS 1.2) and plain UDP sockets. Needs root.

Run one scenario: test_calls.py DtlsToDtls (env: T38_DATAPLANE, T38_CONTROL, T38CTL).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "dataplane", "integration"))
from netlab import RELAY_V4, Control, Lab  # noqa: E402
import peertools  # noqa: E402
from peertools import media_of, t38_sdp, udptl_packets  # noqa: E402

STEP = 10.0
HANDSHAKE = 30.0
CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"


class CallTestCase(unittest.TestCase):
    """A lab with peers a and b (c for moves), the dataplane, control, and t38ctl."""
    peers = "abc"

    def setUp(self):
        self.lab = Lab(peers=self.peers)
        self.lab.__enter__()
        self.addCleanup(self._teardown)
        self.processes = []
        self.sockets = []
        extra = self.relay_args()
        self.dp = (self.lab.start_dataplane(relay_args=extra) if extra else
                   self.lab.start_dataplane())
        self.control = Control(self.lab, self.dp.socket_path)
        self.control.start()
        self.wait_for_control()

    def relay_args(self):
        """Dataplane options beyond the lab's (none: the defaults)."""
        return []

    def _teardown(self):
        try:
            for s in self.sockets:
                s.close()
            for p in self.processes:
                p.stop()
            control_code = self.control.stop() if hasattr(self, "control") else 0
            dp_code = self.dp.stop() if hasattr(self, "dp") else 0
            logs = (self.control.logs() if hasattr(self, "control") else "") + \
                (self.dp.logs() if hasattr(self, "dp") else "")
        finally:
            self.lab.__exit__(None, None, None)
        self.assertEqual(control_code, 0, "control did not exit cleanly on SIGTERM\n" + logs)
        self.assertEqual(dp_code, 0, "the dataplane did not exit cleanly on SIGTERM\n" + logs)

    # --- t38ctl -------------------------------------------------------------------------------
    def t38ctl(self, *args, input=None, check=True):
        result = self.control.t38ctl(*args, input=input)
        if check:
            self.assertEqual(result.returncode, 0,
                             f"t38ctl {' '.join(args)} failed: {result.stderr}\n"
                             + self.control.logs())
        return result

    def wait_for_control(self):
        if not self.control.wait_ready():
            self.fail("control did not connect to the dataplane\n" + self.control.logs())

    def offer(self, call_id, sdp, transport="as-offered", from_tag="ftag"):
        return self.t38ctl("offer", "--call-id", call_id, "--from-tag", from_tag, "--sdp", "-",
                           "--transport", transport, input=sdp).stdout

    def answer(self, call_id, sdp, from_tag="ftag", to_tag="ttag"):
        return self.t38ctl("answer", "--call-id", call_id, "--from-tag", from_tag, "--to-tag",
                           to_tag, "--sdp", "-", input=sdp).stdout

    def show(self, call_id):
        return json.loads(self.t38ctl("--json", "show", call_id).stdout)["call"]

    def legs_by_side(self, call_id):
        return {leg["side"]: leg for leg in self.show(call_id)["legs"]}

    # --- peers --------------------------------------------------------------------------------
    def identities(self):
        directory = tempfile.mkdtemp(dir=self.lab.dir)
        return (peertools.make_identity(directory, "peer-a"),
                peertools.make_identity(directory, "peer-b"))

    def process(self, letter, cmd):
        p = peertools.PeerProcess(self.lab.peer(letter), cmd)
        self.processes.append(p)
        return p

    def socket(self, letter, port):
        s = self.lab.peer(letter).udp_socket(port)
        self.sockets.append(s)
        return s

    def relay_plain(self, sender, to, receiver, count, tag, first_seq=0):
        for packet in udptl_packets(count, first_seq=first_seq, tag=tag):
            sender.sendto(packet, to)
            data, _ = receiver.recvfrom(STEP)
            self.assertEqual(data, packet, f"{tag}: datagram lost or changed")

    def plain_call(self, call_id):
        """A udptl call A (port 5000) <-> B (port 6000) through t38ctl, 3 datagrams A to B
        checked. Returns (A's socket, B's socket, relay address for A, relay address for B)."""
        a, b = self.lab.peer("a"), self.lab.peer("b")
        sa, sb = self.socket("a", 5000), self.socket("b", 6000)
        to_b = media_of(self.offer(call_id, t38_sdp(a.v4, 5000, proto="udptl")))
        to_a = media_of(self.answer(call_id, t38_sdp(b.v4, 6000, proto="udptl")))
        relay_a, relay_b = (to_a["ip"], to_a["port"]), (to_b["ip"], to_b["port"])
        self.relay_plain(sa, relay_a, sb, 3, b"A>B")
        return sa, sb, relay_a, relay_b

    def dtls_a_call(self, call_id, transport_b):
        """A (s_client, a=setup:active) offers DTLS; the answerer B is s_server (dtls) or a UDP
        socket (plain, or prefer-dtls answered plain). Returns (client, b, media for b, media
        for a)."""
        (cert_a, key_a, fp_a), (cert_b, key_b, fp_b) = self.identities()
        a = self.lab.peer("a")
        b = self.lab.peer("b")
        sdp_b = self.offer(call_id, t38_sdp(a.v4, 5000, setup="active", fingerprint=fp_a),
                           transport=transport_b)
        to_b = media_of(sdp_b)
        self.assertEqual(to_b["ip"], RELAY_V4, sdp_b)
        if transport_b == "dtls":
            self.assertEqual(to_b["proto"], "UDP/TLS/UDPTL", sdp_b)
            self.assertEqual(to_b["setup"], "actpass", sdp_b)
            self.assertEqual(to_b["fingerprint"][0], "sha-256", sdp_b)
            server = self.process("b", peertools.s_server_cmd(b.v4, 6000, cert_b, key_b, CIPHER))
            sdp_a = self.answer(call_id, t38_sdp(b.v4, 6000, setup="passive", fingerprint=fp_b))
            peer_b = server
        else:
            self.assertEqual(to_b["proto"].lower(), "udptl", sdp_b)
            self.assertIsNone(to_b["fingerprint"], sdp_b)
            if transport_b == "prefer-dtls":
                self.assertIn("a=tcap:1 UDP/TLS/UDPTL", sdp_b)
            peer_b = self.socket("b", 6000)
            sdp_a = self.answer(call_id, t38_sdp(b.v4, 6000, proto="udptl"))
        to_a = media_of(sdp_a)
        self.assertEqual(to_a["proto"], "UDP/TLS/UDPTL", sdp_a)
        self.assertEqual(to_a["setup"], "passive", sdp_a)  # A is active
        self.assertEqual(to_a["fingerprint"][0], "sha-256", sdp_a)
        client = self.process("a", peertools.s_client_cmd(to_a["ip"], to_a["port"], cert_a,
                                                          key_a, CIPHER))
        self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, HANDSHAKE), client.text())
        seen = peertools.pem_after(client.text(), "Server certificate")
        self.assertEqual(peertools.fingerprint_of_pem(seen), to_a["fingerprint"][1])
        return client, peer_b, to_b, to_a

    def dtls_with_plain(self, client, sb, relay_b):
        """Datagrams both ways between s_client A and B's UDP socket; B hears from and sends
        to relay_b, the relay's address in the SDP B got."""
        for packet in udptl_packets(5, tag=b"A>B"):
            client.write(packet)
            data, came_from = sb.recvfrom(STEP)
            self.assertEqual(data, packet, "A>B: datagram lost or changed")
            self.assertEqual(came_from, relay_b, "B hears from another address than its SDP's")
        for packet in udptl_packets(5, first_seq=100, tag=b"B>A"):
            start = len(client.output())
            sb.sendto(packet, relay_b)
            self.assertTrue(client.wait_for(packet, STEP, start), f"B>A lost {packet.hex()}")

    def dtls_to_server(self, client, server, count, tag, first_seq=0):
        for packet in udptl_packets(count, first_seq=first_seq, tag=tag):
            start = len(server.output())
            client.write(packet)
            self.assertTrue(server.wait_for(packet, STEP, start), f"{tag}: lost {packet.hex()}")


class DtlsToDtls(CallTestCase):
    def test_offer_answer_relay_delete(self):
        client, server, to_b, _ = self.dtls_a_call("call-dd", "dtls")
        self.assertTrue(server.wait_for(peertools.S_SERVER_READY, HANDSHAKE), server.text())
        self.dtls_to_server(client, server, 5, b"A>B")
        self.dtls_to_server(server, client, 5, b"B>A", first_seq=100)
        seen = peertools.pem_after(server.text(), "Client certificate")
        self.assertEqual(peertools.fingerprint_of_pem(seen), to_b["fingerprint"][1])
        legs = self.legs_by_side("call-dd")
        self.assertEqual({legs["caller"]["state"], legs["callee"]["state"]}, {"established"})
        self.t38ctl("delete", "--call-id", "call-dd")
        self.assertNotIn("call-dd", self.t38ctl("--json", "list").stdout)
        self.assertEqual(self.t38ctl("show", "call-dd", check=False).returncode != 0, True)


class DtlsToPlain(CallTestCase):
    def test_dtls_caller_plain_callee(self):
        client, sb, to_b, _ = self.dtls_a_call("call-dp", "plain")
        self.dtls_with_plain(client, sb, (to_b["ip"], to_b["port"]))


class PreferDtlsFallback(CallTestCase):
    def test_plain_answer_to_a_prefer_dtls_offer_relays_on_the_offered_port(self):
        # B only does udptl: it answers the actual configuration of the RFC 5939 offer.
        client, sb, to_b, _ = self.dtls_a_call("call-pf", "prefer-dtls")
        self.dtls_with_plain(client, sb, (to_b["ip"], to_b["port"]))
        legs = self.legs_by_side("call-pf")
        self.assertEqual((legs["callee"]["transport"], legs["callee"]["state"]),
                         ("plain", "plain"), legs)
        self.assertEqual(legs["callee"]["local"]["port"], to_b["port"], legs)
        self.assertEqual(legs["caller"]["state"], "established", legs)


class MovedMedia(CallTestCase):
    def test_reinvite_moves_the_callee(self):
        a, b, c = (self.lab.peer(x) for x in "abc")
        sa, sb, sc = self.socket("a", 5000), self.socket("b", 6000), self.socket("c", 6002)
        to_b = media_of(self.offer("call-mv", t38_sdp(a.v4, 5000, proto="udptl")))
        to_a = media_of(self.answer("call-mv", t38_sdp(b.v4, 6000, proto="udptl")))
        relay_a, relay_b = (to_a["ip"], to_a["port"]), (to_b["ip"], to_b["port"])
        self.relay_plain(sa, relay_a, sb, 3, b"A>B")
        # The callee's media moves to C (a re-INVITE from A answered from C's address).
        again_b = media_of(self.offer("call-mv", t38_sdp(a.v4, 5000, proto="udptl", version=2)))
        self.assertEqual((again_b["ip"], again_b["port"]), relay_b, "a re-offer keeps the leg")
        self.answer("call-mv", t38_sdp(c.v4, 6002, proto="udptl", version=2))
        self.relay_plain(sa, relay_a, sc, 3, b"A>C", first_seq=10)
        self.relay_plain(sc, relay_b, sa, 3, b"C>A", first_seq=20)


class ReofferKeepsAssociation(CallTestCase):
    def test_same_fingerprint_and_tls_id_keep_the_dtls_session(self):
        (cert_a, key_a, fp_a), _ = self.identities()
        a, b = self.lab.peer("a"), self.lab.peer("b")
        sb = self.socket("b", 6000)
        offer = t38_sdp(a.v4, 5000, setup="active", fingerprint=fp_a, tls_id="A" * 24)
        to_b = media_of(self.offer("call-ka", offer, transport="plain"))
        to_a = media_of(self.answer("call-ka", t38_sdp(b.v4, 6000, proto="udptl")))
        client = self.process("a", peertools.s_client_cmd(to_a["ip"], to_a["port"], cert_a,
                                                          key_a, CIPHER))
        self.assertTrue(client.wait_for(peertools.S_CLIENT_READY, HANDSHAKE), client.text())
        relay_b = (to_b["ip"], to_b["port"])
        client.write(udptl_packets(1, tag=b"before")[0])
        self.assertIsNotNone(sb.recvfrom(STEP)[0])
        # The re-INVITE: the same fingerprint, transport and tls-id, a new o= version.
        again = self.offer("call-ka", t38_sdp(a.v4, 5000, setup="active", fingerprint=fp_a,
                                              tls_id="A" * 24, version=2), transport="plain")
        again_a = media_of(self.answer("call-ka", t38_sdp(b.v4, 6000, proto="udptl", version=2)))
        self.assertEqual(media_of(again)["port"], to_b["port"])
        self.assertEqual((again_a["port"], again_a["fingerprint"], again_a["tls_id"]),
                         (to_a["port"], to_a["fingerprint"], to_a["tls_id"]))
        # The same s_client session still gets through: no new handshake was needed.
        for packet in udptl_packets(3, first_seq=10, tag=b"after"):
            client.write(packet)
            data, _ = sb.recvfrom(STEP)
            self.assertEqual(data, packet)
        start = len(client.output())
        sb.sendto(b"\x00\x20back", relay_b)
        self.assertTrue(client.wait_for(b"\x00\x20back", STEP, start))


class ReofferReplacesAssociation(CallTestCase):
    def test_new_fingerprint_and_tls_id_make_a_new_association(self):
        (cert_1, key_1, fp_1), (cert_2, key_2, fp_2) = self.identities()
        a, b = self.lab.peer("a"), self.lab.peer("b")
        sb = self.socket("b", 6000)
        to_b = media_of(self.offer("call-rp", t38_sdp(a.v4, 5000, setup="active", fingerprint=fp_1,
                                                      tls_id="A" * 24), transport="plain"))
        to_a = media_of(self.answer("call-rp", t38_sdp(b.v4, 6000, proto="udptl")))
        first = self.process("a", peertools.s_client_cmd(to_a["ip"], to_a["port"], cert_1, key_1,
                                                         CIPHER))
        self.assertTrue(first.wait_for(peertools.S_CLIENT_READY, HANDSHAKE), first.text())
        first.write(udptl_packets(1, tag=b"first")[0])
        self.assertIsNotNone(sb.recvfrom(STEP)[0], "the first association carries nothing")
        # A re-INVITE from an endpoint that restarted with a new certificate and tls-id.
        again_b = media_of(self.offer("call-rp", t38_sdp(a.v4, 5002, setup="active",
                                                         fingerprint=fp_2, tls_id="B" * 24,
                                                         version=2), transport="plain"))
        again_a = media_of(self.answer("call-rp", t38_sdp(b.v4, 6000, proto="udptl", version=2)))
        self.assertNotEqual(again_a["tls_id"], to_a["tls_id"], "a new association needs a new "
                            "tls-id (RFC 8842)")
        # Until the new association is up, the old one keeps relaying (RFC 7345 section 4.5).
        first.write(udptl_packets(1, first_seq=5, tag=b"still")[0])
        self.assertIsNotNone(sb.recvfrom(STEP)[0], "the old association stopped too early")
        second = self.process("a", peertools.s_client_cmd(again_a["ip"], again_a["port"], cert_2,
                                                          key_2, CIPHER))
        self.assertTrue(second.wait_for(peertools.S_CLIENT_READY, HANDSHAKE), second.text())
        seen = peertools.pem_after(second.text(), "Server certificate")
        self.assertEqual(peertools.fingerprint_of_pem(seen), again_a["fingerprint"][1])
        for packet in udptl_packets(3, first_seq=10, tag=b"second"):
            second.write(packet)
            data, _ = sb.recvfrom(STEP)
            self.assertEqual(data, packet)
        start = len(second.output())
        sb.sendto(b"\x00\x30back", (again_b["ip"], again_b["port"]))
        self.assertTrue(second.wait_for(b"\x00\x30back", STEP, start))
        # Once the new one is established the old legs go: one leg per side again.
        deadline = time.monotonic() + STEP
        while time.monotonic() < deadline:
            legs = self.show("call-rp")["legs"]
            if len(legs) == 2:
                break
            time.sleep(0.2)
        self.assertEqual(len(legs), 2, legs)
        ports = {leg["side"]: leg["local"]["port"] for leg in legs}
        self.assertEqual(ports["caller"], again_a["port"], legs)


class ControlRestart(CallTestCase):
    def test_restart_loses_no_call(self):
        sa, sb, relay_a, relay_b = self.plain_call("call-rs")
        self.assertEqual(self.control.stop(), 0, self.control.logs())
        # Without control the call goes on: the dataplane holds it.
        self.relay_plain(sb, relay_b, sa, 3, b"B>A", first_seq=10)
        self.control.start()
        self.wait_for_control()
        self.assertIn("call-rs", self.t38ctl("--json", "list").stdout)
        legs = self.legs_by_side("call-rs")
        self.assertEqual((legs["caller"]["local"]["port"], legs["callee"]["local"]["port"]),
                         (relay_a[1], relay_b[1]))
        # The rebuilt call takes a re-offer and a delete like any other.
        a = self.lab.peer("a")
        again_b = media_of(self.offer("call-rs", t38_sdp(a.v4, 5000, proto="udptl", version=2)))
        self.assertEqual(again_b["port"], relay_b[1])
        self.t38ctl("delete", "--call-id", "call-rs")
        sa.sendto(udptl_packets(1, first_seq=30)[0], relay_a)
        self.assertIsNone(sb.recvfrom(1.0)[0], "a deleted call still relays")


class DataplaneRestart(CallTestCase):
    """The dataplane restarts mid-call with a fixed identity (PEM files): control programs the
    calls again on the same ports, so the SDP the peers hold stays true."""

    def relay_args(self):
        directory = tempfile.mkdtemp(dir=self.lab.dir)
        cert, key, self.relay_fp = peertools.make_identity(directory, "relay")
        config = os.path.join(directory, "relay.json")
        with open(config, "w") as f:
            json.dump({"dtls": {"certificate": cert, "private_key": key}}, f)
        return ["--config", config]

    def stats(self):
        return json.loads(self.t38ctl("--json", "stats").stdout)

    def test_calls_are_programmed_again_on_their_ports(self):
        sa, sb, relay_a, relay_b = self.plain_call("call-pp")
        a, b = self.lab.peer("a"), self.lab.peer("b")
        # A DTLS call too: its legs come back with the same certificate, waiting for handshakes.
        (_, _, fp_a), (_, _, fp_b) = self.identities()
        dtls_b = media_of(self.offer("call-dd", t38_sdp(a.v4, 5002, setup="active",
                                                        fingerprint=fp_a), transport="dtls"))
        self.assertEqual(dtls_b["fingerprint"][1], self.relay_fp)
        self.answer("call-dd", t38_sdp(b.v4, 6002, setup="passive", fingerprint=fp_b))
        before = {call: self.legs_by_side(call) for call in ("call-pp", "call-dd")}

        self.assertEqual(self.dp.stop(), 0, self.dp.logs())
        self.dp.start()
        deadline = time.monotonic() + 30
        while self.stats()["dataplane"].get("reprogrammed_calls", 0) < 2:
            self.assertLess(time.monotonic(), deadline, "control did not program the calls "
                            "again\n" + self.control.logs())
            time.sleep(0.2)
        self.assertEqual(self.stats()["dataplane"]["lost_calls"], 0)
        for call, legs in before.items():
            now = self.legs_by_side(call)
            self.assertEqual(self.show(call)["state"], "answered", now)
            for side in ("caller", "callee"):
                self.assertEqual(now[side]["local"], legs[side]["local"], (call, side))
                self.assertEqual(now[side]["transport"], legs[side]["transport"], (call, side))
                self.assertEqual(now[side]["remote"], legs[side]["remote"], (call, side))
        states = {leg["state"] for leg in self.legs_by_side("call-dd").values()}
        self.assertLessEqual(states, {"waiting", "handshaking"})
        # The plain call relays again where the peers send, both ways.
        self.relay_plain(sa, relay_a, sb, 3, b"A>B", first_seq=10)
        self.relay_plain(sb, relay_b, sa, 3, b"B>A", first_seq=20)
        for call in ("call-pp", "call-dd"):
            self.t38ctl("delete", "--call-id", call)
        sa.sendto(udptl_packets(1, first_seq=30)[0], relay_a)
        self.assertIsNone(sb.recvfrom(1.0)[0], "a deleted call still relays")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
