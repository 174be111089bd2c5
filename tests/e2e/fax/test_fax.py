#!/usr/bin/python3
"""Real faxes through the relay (suite e2e): t38relay-dataplane on net_tap and t38relay-control
in the lab of tests/dataplane/integration/netlab.py, a t38relay-fax sender in peer namespace a and
a receiver in b. The call is driven only through `t38ctl offer/answer` with the endpoints' own
SDP files (the test plays the SIP proxy): the sender's offer goes through `t38ctl offer`, the
relay's SDP becomes the receiver's offer, the receiver's answer goes through `t38ctl answer`, and
the relay's SDP becomes the sender's answer. Needs root.

Run one scenario: test_fax.py FaxDtlsToDtls (env: T38_DATAPLANE, T38_CONTROL, T38CTL, T38_FAX,
T38_VECTORS_DIR; T38_KEEP_LAB_DIR=1 keeps the SDP files, TIFFs, logs, key logs and captures).
"""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "control"))
import test_calls  # noqa: E402  CallTestCase: lab, dataplane, control, t38ctl offer/answer/show
from flowclient import FlowClient  # noqa: E402  (on the path test_calls set up)
from faxtools import (FaxCall, add_loss, compare_tiffs, dropped_by_loss,  # noqa: E402
                      read_text)
from netlab import RELAY_V4, TAP_NAME  # noqa: E402
import peertools  # noqa: E402
from peertools import media_of  # noqa: E402

SDP_WAIT = 30          # seconds an endpoint (and the test) waits for the other side's SDP
FULL_PAGE_TIMEOUT = 150  # one A4 page of send.tiff takes about a minute at 14400 bit/s
SHORT_PAGE_ROWS = 270  # the top of send.tiff: a real page's content in a fraction of the time
SHORT_TIMEOUT = 100
LOSS_PERCENT = 5
# Drops that a correct relay makes in a correct call: the first fax signals of the side whose
# DTLS leg comes up first, while the other leg is still handshaking.
TOLERATED_DROPS = {"peer-not-ready"}
# T.30 facsimile control fields as tshark's t30.FacsimileControl shows them (X bit removed).
T30_FRAMES = {"DIS": 0x01, "DCS": 0x41, "CFR": 0x21, "MCF": 0x31, "DCN": 0x5F}


def log(text):
    print(f"[fax] {text}", file=sys.stderr, flush=True)


def flip_fingerprint_digit(sdp):
    """The SDP with the last hex digit of its a=fingerprint changed (still well-formed)."""
    m = re.search(r"^a=fingerprint:\S+ \S*([0-9A-Fa-f])\r?$", sdp, re.M)
    if not m:
        raise AssertionError("no a=fingerprint to change in:\n" + sdp)
    digit = m.group(1)
    other = "0" if digit.upper() != "0" else "1"
    return sdp[:m.start(1)] + other + sdp[m.end(1):]


def udp_ec_of(sdp):
    m = re.search(r"^a=T38FaxUdpEC:(\S+)", sdp, re.M)
    return m.group(1) if m else None


class FaxTestCase(test_calls.CallTestCase):
    """The lab of CallTestCase with two fax endpoints, and the SDP exchange through t38ctl."""
    peers = "ab"

    def setUp(self):
        self.started = time.monotonic()
        self.fax_binary = os.environ.get("T38_FAX")
        if not self.fax_binary or not os.access(self.fax_binary, os.X_OK):
            self.fail(f"no t38relay-fax: set T38_FAX (now {self.fax_binary!r})")
        vectors = os.environ.get("T38_VECTORS_DIR", "")
        self.send_tiff = os.path.join(vectors, "asterisk-testsuite", "send.tiff")
        if not os.path.exists(self.send_tiff):
            self.skipTest(f"{self.send_tiff} is absent (T38_VECTORS_DIR)")
        super().setUp()
        self.faxes = []
        self.work = tempfile.mkdtemp(prefix="fax_", dir=self.lab.dir)
        self.addCleanup(self._stop_faxes)  # runs before the lab's teardown (LIFO)

    def tearDown(self):
        log(f"{self.id()}: {time.monotonic() - self.started:.1f} s")

    def _stop_faxes(self):
        for fax in self.faxes:
            fax.stop()

    def path(self, name):
        return os.path.join(self.work, name)

    def fax_logs(self):
        return "".join(fax.logs() for fax in self.faxes) + self.control.logs()

    # --- TIFFs ----------------------------------------------------------------------------------
    def tool(self, *cmd):
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, f"{' '.join(cmd)}: {result.stdout}{result.stderr}")
        return result.stdout

    def short_page(self):
        """The top SHORT_PAGE_ROWS rows of send.tiff: real fax content, an eighth of the page."""
        out = self.path("short.tiff")
        if not os.path.exists(out):
            self.tool("tiffcrop", "-U", "px", "-E", "top", "-Y", str(SHORT_PAGE_ROWS),
                      self.send_tiff, out)
        return out

    def tiff_pages(self, path):
        return self.tool("tiffinfo", path).count("TIFF Directory at offset")

    def compare(self, a, b):
        """(exit status, JSON) of `t38relay-fax compare a b`."""
        code, verdict = compare_tiffs(self.fax_binary, a, b)
        self.assertIsNotNone(verdict, f"compare {a} {b}: no JSON")
        return code, verdict

    # --- the endpoints ------------------------------------------------------------------------
    def start_call(self, call_id, tiff, transport_b="dtls", ec="redundancy",
                   timeout=FULL_PAGE_TIMEOUT, keylogs=(None, None)):
        """The sender (offerer in a: dtls, actpass, the contract's defaults) and the receiver
        (answerer in b: it takes the T.38 parameters and EC of the relay's offer)."""
        call = FaxCall(self.lab, self.control, self.fax_binary, self.work, call_id, tiff,
                       transport_b=transport_b, ec=ec, timeout=timeout, sdp_wait=SDP_WAIT,
                       keylogs=keylogs)
        self.faxes += [call.sender, call.receiver]
        return call

    def exchange_sdp(self, call, tamper=None):
        """The SIP proxy's part: offer and answer through t38ctl, each SDP checked.
        Returns (to_a, to_b): what the sender and the receiver read from the relay (media_of)."""
        a, b = self.lab.peer("a"), self.lab.peer("b")
        try:
            sdp = call.exchange(tamper=tamper)
        except RuntimeError as e:
            self.fail(str(e))
        mine = media_of(sdp["offer"])
        self.assertEqual((mine["ip"], mine["port"], mine["proto"]), (a.v4, 5000, "UDP/TLS/UDPTL"),
                         sdp["offer"])
        self.assertEqual(mine["setup"], "actpass", sdp["offer"])
        self.assertEqual(mine["fingerprint"][0], "sha-256", sdp["offer"])
        to_b = media_of(sdp["to_b"])
        self.assertEqual(to_b["ip"], RELAY_V4, sdp["to_b"])
        self.assertEqual(udp_ec_of(sdp["to_b"]), udp_ec_of(sdp["offer"]),
                         "the relay changed T38FaxUdpEC")
        if call.transport_b == "dtls":
            self.assertEqual(to_b["proto"], "UDP/TLS/UDPTL", sdp["to_b"])
            self.assertEqual(to_b["fingerprint"][0], "sha-256", sdp["to_b"])
            self.assertNotEqual(to_b["fingerprint"][1], mine["fingerprint"][1],
                                "the relay passed the sender's fingerprint on")
        else:
            self.assertEqual(to_b["proto"].lower(), "udptl", sdp["to_b"])
            self.assertIsNone(to_b["fingerprint"], sdp["to_b"])
        theirs = media_of(sdp["answer"])
        self.assertEqual((theirs["ip"], theirs["port"]), (b.v4, 6000), sdp["answer"])
        to_a = media_of(sdp["to_a"])
        self.assertEqual((to_a["ip"], to_a["proto"]), (RELAY_V4, "UDP/TLS/UDPTL"), sdp["to_a"])
        self.assertIn(to_a["setup"], ("active", "passive"), sdp["to_a"])
        self.assertEqual(to_a["fingerprint"][0], "sha-256", sdp["to_a"])
        self.assertNotEqual(to_a["port"], to_b["port"], "one relay port for both legs")
        return to_a, to_b

    def finish(self, fax, timeout):
        code = fax.wait(timeout)
        self.assertIsNotNone(code, f"{fax.name} still running after {timeout} s\n"
                             + self.fax_logs())
        return code, fax.result()

    def expect_fax(self, fax, role, pages, transport, timeout):
        code, result = self.finish(fax, timeout)
        self.assertIsNotNone(result, f"{fax.name}: no JSON result\n" + self.fax_logs())
        log(f"{fax.name}: exit {code} after {fax.elapsed:.1f} s: {json.dumps(result)}")
        self.assertEqual((code, result.get("ok"), result.get("error")), (0, True, ""),
                         f"{fax.name} failed\n" + self.fax_logs())
        self.assertEqual(result["role"], role)
        self.assertEqual(result["pages"], pages, result)
        self.assertEqual(result["transport"], transport, result)
        self.assertTrue(result["ecm"], result)
        self.assertGreater(result["packets_sent"], 0, result)
        self.assertGreater(result["packets_received"], 0, result)
        if transport == "dtls":
            self.assertNotEqual(result["dtls_cipher"], "", result)
        else:
            self.assertEqual(result["dtls_cipher"], "", result)
        return result

    # --- the relay ----------------------------------------------------------------------------
    def flow_legs(self):
        with FlowClient(self.dp.socket_path) as flow:
            return {leg["leg"]: leg for leg in flow.request("legs.list")["legs"]}

    def check_relay(self, call_id, to_a, to_b):
        """Both legs relayed packets both ways; every drop is one a correct call makes.
        Returns {side: flow socket leg object}."""
        legs = self.legs_by_side(call_id)
        self.assertEqual((legs["caller"]["local"]["port"], legs["callee"]["local"]["port"]),
                         (to_a["port"], to_b["port"]), legs)
        flow = self.flow_legs()
        detail = {side: flow[leg["leg"]] for side, leg in legs.items()}
        with FlowClient(self.dp.socket_path) as client:
            handshake = client.request("stats")["handshake"][0]
        # Records that came before the owner had the keys, relayed once it had them.
        log(f"relay handshake lcore: late_records {handshake['late_records']}")
        for side, leg in legs.items():
            counters = detail[side]["counters"]
            log(f"relay {side}: state {leg['state']} rx {leg['rx_packets']} fwd "
                f"{leg['forwarded_packets']} drops {counters['drops']} udptl "
                f"{detail[side].get('udptl')}")
            self.assertGreater(leg["rx_packets"], 0, f"{side}: nothing received\n{legs}")
            self.assertGreater(leg["forwarded_packets"], 0, f"{side}: nothing forwarded\n{legs}")
            bad = {reason: n for reason, n in counters["drops"].items()
                   if n and reason not in TOLERATED_DROPS}
            self.assertEqual(bad, {}, f"{side}: the relay dropped packets")
            self.assertEqual(leg["dropped_packets"], sum(counters["drops"].values()), legs)
            # Every UDPTL packet received went on, but for the tolerated drops.
            self.assertEqual(leg["forwarded_packets"] + leg["dropped_packets"],
                             detail[side]["udptl"]["packets"], detail[side])
        return detail

    def hang_up(self, call_id):
        self.t38ctl("delete", "--call-id", call_id)
        self.assertNotIn(call_id, self.t38ctl("--json", "list").stdout)
        self.assertEqual(self.flow_legs(), {}, "legs left in the dataplane after delete")

    # --- one whole fax ------------------------------------------------------------------------
    def fax(self, call_id, tiff, pages, transport_b="dtls", ec="redundancy",
            timeout=FULL_PAGE_TIMEOUT, keylogs=(None, None), before_exchange=None,
            lossless=True):
        """Sends `tiff` from a to b through the relay and checks both results, the received
        TIFF and the relay's counters. Returns (sender result, receiver result, relay legs)."""
        call = self.start_call(call_id, tiff, transport_b=transport_b, ec=ec, timeout=timeout,
                               keylogs=keylogs)
        sender, receiver = call.sender, call.receiver
        if before_exchange:
            before_exchange()
        to_a, to_b = self.exchange_sdp(call)
        sent = self.expect_fax(sender, "send", pages, "dtls", timeout + 20)
        got = self.expect_fax(receiver, "receive", pages, transport_b, 20)
        code, verdict = self.compare(tiff, self.path("received.tiff"))
        self.assertEqual((code, verdict["identical"], verdict["pages_a"], verdict["pages_b"],
                          verdict["differing_pages"]), (0, True, pages, pages, []), verdict)
        relay = self.check_relay(call_id, to_a, to_b)
        if lossless:
            # Nothing is lost in the lab: the relay took in every UDPTL packet each endpoint sent.
            # Fewer is a silent loss inside the relay (e.g. records that arrive while the worker
            # still sees the leg handshaking go to the handshake lcore and no further).
            self.assertEqual((relay["caller"]["udptl"]["packets"],
                              relay["callee"]["udptl"]["packets"]),
                             (sent["packets_sent"], got["packets_sent"]),
                             "UDPTL packets the relay received (rx_packets: caller "
                             f"{relay['caller']['counters']['rx_packets']}, callee "
                             f"{relay['callee']['counters']['rx_packets']}) but neither "
                             "relayed nor counted as dropped")
        self.relay_ports = (to_a["port"], to_b["port"])
        self.hang_up(call_id)
        return sent, got, relay


class FaxDtlsToDtls(FaxTestCase):
    def test_send_tiff_dtls_both_legs(self):
        sent, got, _ = self.fax("fax-dd", self.send_tiff, 1)
        self.assertEqual((sent["bit_rate"], got["bit_rate"]), (14400, 14400))


class FaxDtlsToPlain(FaxTestCase):
    def test_send_tiff_dtls_sender_plain_receiver(self):
        sent, got, _ = self.fax("fax-dp", self.send_tiff, 1, transport_b="plain")
        self.assertEqual((sent["bit_rate"], got["bit_rate"]), (14400, 14400))


class FaxMultiPage(FaxTestCase):
    def test_three_pages_in_order(self):
        short = self.short_page()
        mirrored = self.path("mirrored.tiff")
        self.tool("tiffcrop", "-F", "horiz", short, mirrored)
        multi = self.path("three_pages.tiff")
        self.tool("tiffcp", short, mirrored, short, multi)
        self.assertEqual(self.tiff_pages(multi), 3)
        # The middle page really differs: a swapped or repeated page would be caught.
        code, verdict = self.compare(short, mirrored)
        self.assertEqual((code, verdict["identical"], len(verdict["differing_pages"])),
                         (1, False, 1), verdict)
        self.fax("fax-mp", multi, 3, timeout=SHORT_TIMEOUT + 60)


class LossTestCase(FaxTestCase):
    def add_loss(self):
        """LOSS_PERCENT random loss on leg a, both directions."""
        try:
            log("loss: " + add_loss(self.lab, "a", LOSS_PERCENT))
        except RuntimeError as e:
            self.fail(str(e))

    def lossy_fax(self, call_id, ec, offered_ec):
        sent, got, relay = self.fax(call_id, self.short_page(), 1, ec=ec, timeout=SHORT_TIMEOUT,
                                    before_exchange=self.add_loss, lossless=False)
        with open(self.path("b.offer"), newline="") as f:
            self.assertEqual(udp_ec_of(f.read()), offered_ec, "the EC the receiver was offered")
        log(f"recovered: sender {sent['recovered']} receiver {got['recovered']}; lost: sender "
            f"{sent['lost']} receiver {got['lost']}; dropped on leg a: {dropped_by_loss(self.lab)}")
        # Most packets go a to b: 5% of them are lost before the relay and restored by b.
        self.assertGreater(got["recovered"], 0, got)
        gaps = (relay["caller"].get("udptl") or {}).get("seq_gaps")
        if gaps is not None:
            self.assertGreater(gaps, 0, "the relay saw no loss on leg a: is netem working?")


class FaxLossRedundancy(LossTestCase):
    def test_five_percent_loss_redundancy_3(self):
        self.lossy_fax("fax-lr", "redundancy", "t38UDPRedundancy")


class FaxLossFec(LossTestCase):
    def test_five_percent_loss_fec(self):
        self.lossy_fax("fax-lf", "fec", "t38UDPFEC")


class FaxWrongFingerprint(FaxTestCase):
    def test_receiver_rejects_the_relay(self):
        call = self.start_call("fax-fp", self.short_page(), timeout=12)
        sender, receiver = call.sender, call.receiver
        self.exchange_sdp(call, tamper=flip_fingerprint_digit)
        code_b, got = self.finish(receiver, 40)
        code_a, sent = self.finish(sender, 40)
        log(f"receiver: exit {code_b} {json.dumps(got)}")
        log(f"sender: exit {code_a} {json.dumps(sent)}")
        self.assertIsNotNone(got, "receiver: no JSON result\n" + self.fax_logs())
        self.assertIsNotNone(sent, "sender: no JSON result\n" + self.fax_logs())
        self.assertEqual((code_b, got["ok"]), (1, False), self.fax_logs())
        self.assertIn("fingerprint mismatch", got["error"], got)
        self.assertEqual((code_a, sent["ok"]), (1, False), self.fax_logs())
        self.assertNotEqual(sent["error"], "", sent)
        self.assertEqual((sent["pages"], got["pages"]), (0, 0))
        self.assertEqual((sent["packets_received"], got["packets_received"]), (0, 0),
                         "media flowed to an endpoint")
        legs = self.legs_by_side("fax-fp")
        log("relay: " + "; ".join(f"{side} {leg['state']} rx {leg['rx_packets']} fwd "
                                  f"{leg['forwarded_packets']} drop {leg['dropped_packets']}"
                                  for side, leg in legs.items()))
        self.assertEqual((legs["caller"]["forwarded_packets"],
                          legs["callee"]["forwarded_packets"]), (0, 0), legs)
        self.assertNotEqual(legs["callee"]["state"], "established", legs)
        self.hang_up("fax-fp")


class FaxTsharkOracle(FaxTestCase):
    """tshark decides, not the project's code: the capture on the relay's tap is decrypted with
    the endpoints' key logs and decoded as T.38 and T.30 on both legs."""

    def test_tshark_sees_t30_on_both_legs(self):
        for tool in ("tshark", "dumpcap"):
            self.assertIsNotNone(shutil.which(tool), f"{tool} is not installed (Debian: tshark)")
        capture = self.path("tap.pcapng")
        dumpcap_log = self.path("dumpcap.stderr")
        with open(dumpcap_log, "wb") as err:
            dumpcap = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.relay_ns, "dumpcap", "-q", "-i", TAP_NAME,
                 "-f", "udp", "-w", capture], stdout=subprocess.DEVNULL, stderr=err,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(self._stop_dumpcap, dumpcap)
        self.assertTrue(self._wait_capturing(dumpcap, dumpcap_log),
                        "dumpcap did not start: " + read_text(dumpcap_log))
        keylogs = (self.path("sender.keylog"), self.path("receiver.keylog"))
        self.fax("fax-ts", self.short_page(), 1, timeout=SHORT_TIMEOUT, keylogs=keylogs)
        self._stop_dumpcap(dumpcap)
        merged = self.path("merged.keylog")
        with open(merged, "w") as out:
            for path in keylogs:
                with open(path) as f:
                    text = f.read()
                self.assertRegex(text, r"(?m)^CLIENT_RANDOM [0-9a-fA-F]{64} [0-9a-fA-F]{96}$",
                                 f"{path}: no key")
                out.write(text if text.endswith("\n") else text + "\n")
        ports = self.relay_ports
        datagrams = self._decrypted(capture, merged, ports)
        plain = self.path("decrypted.pcap")
        write_udp_pcap(plain, without_repeats(datagrams))
        self._check_t38(plain, ports)

    @staticmethod
    def _wait_capturing(dumpcap, log_path, timeout=10):
        """dumpcap prints "Capturing on ..." once the interface is open."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and dumpcap.poll() is None:
            if "Capturing on" in read_text(log_path):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _stop_dumpcap(dumpcap):
        peertools.terminate(dumpcap, grace=10)  # dumpcap finishes the file on SIGTERM

    def tshark(self, *args):
        result = subprocess.run(["tshark", "-n", *args], capture_output=True, text=True,
                                timeout=120)
        self.assertEqual(result.returncode, 0, f"tshark {' '.join(args)}:\n{result.stderr}")
        return result.stdout

    def _decrypted(self, capture, keylog, ports):
        """Every DTLS application-data record of both legs, decrypted by tshark with the key
        logs: [(time, src, sport, dst, dport, plaintext)]. No record may stay encrypted and no
        frame may be malformed."""
        dtls = [f"-d udp.port=={port},dtls" for port in ports]
        options = [arg for option in dtls for arg in option.split(" ", 1)] + \
            ["-o", f"tls.keylog_file:{keylog}"]
        malformed = self.tshark("-r", capture, *options, "-Y", "_ws.malformed")
        self.assertEqual(malformed, "", "tshark: malformed DTLS frames")
        rows = self.tshark("-r", capture, *options, "-Y", "dtls.record.content_type == 23",
                           "-T", "fields", "-E", "separator=|", "-e", "frame.time_epoch",
                           "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e",
                           "udp.dstport", "-e", "dtls.record.content_type", "-e", "data.data")
        datagrams = []
        per_port = {port: 0 for port in ports}
        for row in rows.splitlines():
            when, src, sport, dst, dport, types, data = row.split("|")
            records = types.split(",").count("23")
            payloads = [bytes.fromhex(p) for p in data.split(",") if p]
            self.assertEqual(len(payloads), records, f"tshark left a record encrypted: {row}")
            for payload in payloads:
                datagrams.append((float(when), src, int(sport), dst, int(dport), payload))
            for port in ports:
                per_port[port] += records if port in (int(sport), int(dport)) else 0
        log(f"tshark decrypted application data per relay port: {per_port}")
        for port, count in per_port.items():
            self.assertGreater(count, 0, f"no application data on relay port {port}")
        return datagrams

    def _check_t38(self, plain, ports):
        t38 = [arg for port in ports for arg in ("-d", f"udp.port=={port},t38")]
        malformed = self.tshark("-r", plain, *t38, "-Y", "_ws.malformed || t38.malformed")
        self.assertEqual(malformed, "", "tshark: malformed T.38 packets")
        rows = self.tshark("-r", plain, *t38, "-Y", "t30", "-T", "fields", "-E", "separator=|",
                           "-e", "udp.srcport", "-e", "udp.dstport", "-e", "t30.FacsimileControl")
        seen = {port: set() for port in ports}
        for row in rows.splitlines():
            sport, dport, fcfs = row.split("|")
            for port in ports:
                if port in (int(sport), int(dport)):
                    seen[port].update(int(v, 0) for v in fcfs.split(",") if v)
        names = {code: name for name, code in T30_FRAMES.items()}
        for port in ports:
            log(f"relay port {port}: T.30 frames {sorted(names.get(c, hex(c)) for c in seen[port])}")
            missing = [name for name, code in T30_FRAMES.items() if code not in seen[port]]
            self.assertEqual(missing, [], f"relay port {port}: T.30 frames tshark did not find")


def without_repeats(datagrams):
    """The datagrams without byte-identical repeats on the same 5-tuple. spandsp asks for
    indicators and the ends of HDLC and image data to go out 3 times: the same UDPTL packet (same
    seq), which a receiver keeps once. tshark's T.38 reassembly marks the 2nd and 3rd copies of
    an end of image data [Malformed?] ("RECEIVED END OF FRAGMENT W/OUT ANY FRAGMENT DATA"), so
    the T.38 decode gets the stream as a receiver keeps it; the DTLS decode saw every frame."""
    seen = set()
    kept = []
    for datagram in datagrams:
        if datagram[1:] not in seen:
            seen.add(datagram[1:])
            kept.append(datagram)
    log(f"tshark: {len(datagrams) - len(kept)} repeated datagrams left out of the T.38 decode")
    return kept


def write_udp_pcap(path, datagrams):
    """A classic pcap (LINKTYPE_RAW, IPv4) of UDP datagrams (time, src, sport, dst, dport,
    payload): the decrypted records with their leg's addresses, for tshark's T.38 decoder."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for when, src, sport, dst, dport, payload in datagrams:
            udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                                 socket.inet_aton(src), socket.inet_aton(dst))
            total = sum(struct.unpack("!10H", header))
            while total > 0xFFFF:
                total = (total & 0xFFFF) + (total >> 16)
            header = header[:10] + struct.pack("!H", ~total & 0xFFFF) + header[12:]
            seconds = int(when)
            micros = int(round((when - seconds) * 1e6))
            frame = header + udp
            f.write(struct.pack("<IIII", seconds, min(micros, 999999), len(frame), len(frame)))
            f.write(frame)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        sys.exit(77)
    program = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:], exit=False)
    result = program.result
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() and result.testsRun else 1)


if __name__ == "__main__":
    main()
