#!/usr/bin/env python3
"""Two t38relay-fax processes on 127.0.0.1 faxing to each other directly (no relay).

Usage: fax_loopback_test.py FAX_BINARY CASE
  plain, dtls      the vectors' send.tiff (one page, ~65 s): both JSON lines ok with pages 1,
                   `compare` identical; dtls also writes a non-empty --keylog from both sides
  quick-plain, quick-dtls   the same with the top 300 rows of send.tiff (tiffcrop), ~25 s
  loss-redundancy, loss-fec the short page through a UDP proxy losing 5% each way (seeded):
                   the fax completes, packets were recovered, the image is identical
  fingerprint      the answerer reads the offer with one hex digit of a=fingerprint changed:
                   both exit 1, the answerer with "dtls: fingerprint mismatch"
The offerer sends, the answerer receives. Exit 77 (skipped) without the vectors or tiffcrop.
"""

import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(*args):
    print(*args, flush=True)


def fail(message):
    log("FAIL:", message)
    sys.exit(1)


def wait_file(path, timeout=30.0):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            fail(f"{path} did not appear")
        time.sleep(0.05)
    with open(path) as f:
        return f.read()


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def last_json(stdout):
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        return None


class LossyProxy:
    """Forwards UDP between a and b through two sockets, dropping `loss` of the datagrams."""

    def __init__(self, loss, seed):
        self.loss = loss
        self.random = random.Random(seed)
        self.to_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # what a sends to
        self.to_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # what b sends to
        self.to_b.bind(("127.0.0.1", 0))
        self.to_a.bind(("127.0.0.1", 0))
        self.a = None
        self.b = None
        self.dropped = 0
        self.forwarded = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def port_for_a(self):
        return self.to_b.getsockname()[1]

    def port_for_b(self):
        return self.to_a.getsockname()[1]

    def run(self):
        while not self.stop:
            ready, _, _ = select.select([self.to_b, self.to_a], [], [], 0.2)
            for s in ready:
                data, source = s.recvfrom(65536)
                if s is self.to_b:
                    out, target = self.to_a, self.b
                else:
                    out, target = self.to_b, self.a
                if target is None:
                    continue
                if self.random.random() < self.loss:
                    self.dropped += 1
                    continue
                self.forwarded += 1
                out.sendto(data, target)


def set_address(sdp, port):
    return re.sub(r"m=image \d+ ", f"m=image {port} ", sdp)


def sdp_port(sdp):
    return int(re.search(r"m=image (\d+) ", sdp).group(1))


def main():
    if len(sys.argv) != 3:
        fail(__doc__)
    fax, case = sys.argv[1], sys.argv[2]
    vectors = os.environ.get("T38_VECTORS_DIR", "")
    send_tiff = os.path.join(vectors, "asterisk-testsuite", "send.tiff")
    if not os.path.exists(send_tiff):
        log("SKIP: no vectors (T38_VECTORS_DIR)")
        return SKIP
    work = tempfile.mkdtemp(prefix=f"t38fax_{case}_")
    try:
        return run_case(fax, case, send_tiff, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_case(fax, case, send_tiff, work):
    p = lambda name: os.path.join(work, name)  # noqa: E731
    tiff = send_tiff
    if case.startswith(("quick", "loss")):
        if shutil.which("tiffcrop") is None:
            log("SKIP: tiffcrop (libtiff-tools) not installed")
            return SKIP
        tiff = p("short.tiff")
        # Keep the top 300 of the page's 2156 rows.
        subprocess.run(["tiffcrop", "-U", "px", "-m", "0,0,1856,0", send_tiff, tiff], check=True)
    transport = "plain" if case in ("plain", "quick-plain") or case.startswith("loss") else "dtls"
    common = ["--transport", transport, "--timeout", "150", "--sdp-wait", "30"]
    offer_out, answer_in = p("offer.sdp"), p("answer.sdp")
    offer_in, answer_out = offer_out, answer_in
    ec = []
    if case == "loss-fec":
        ec = ["--ec", "fec", "--ec-depth", "3"]
    elif case == "loss-redundancy":
        ec = ["--ec", "redundancy", "--ec-depth", "3"]
    if case == "fingerprint" or case.startswith("loss"):
        # The test stands between the two: offer and answer pass through its hands.
        offer_out, answer_in = p("offer.real"), p("answer.real")
    keylog = p("keys.log")
    sender_cmd = [fax, "send", "--tiff", tiff, "--local", "127.0.0.1:0", "--offer-out",
                  offer_out, "--answer-in", answer_in] + common + ec
    receiver_cmd = [fax, "receive", "--tiff-out", p("received.tiff"), "--local", "127.0.0.1:0",
                    "--offer-in", offer_in, "--answer-out", answer_out] + common
    if transport == "dtls":
        sender_cmd += ["--keylog", keylog]
        receiver_cmd += ["--keylog", keylog]

    start = time.monotonic()
    sender = subprocess.Popen(sender_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    receiver = subprocess.Popen(receiver_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    proxy = None
    if case == "fingerprint":
        offer = wait_file(offer_out)
        # One hex digit of the first fingerprint byte changed: the offerer's certificate no longer
        # matches what the answerer is told.
        m = re.search(r"a=fingerprint:sha-256 ([0-9A-F])", offer)
        digit = "0" if m.group(1) != "0" else "1"
        write_atomically(offer_in, offer[:m.start(1)] + digit + offer[m.end(1):])
        write_atomically(answer_in, wait_file(answer_out))
    elif case.startswith("loss"):
        proxy = LossyProxy(0.05, seed=6)
        offer = wait_file(offer_out)
        proxy.a = ("127.0.0.1", sdp_port(offer))
        write_atomically(offer_in, set_address(offer, proxy.port_for_b()))
        answer = wait_file(answer_out)
        proxy.b = ("127.0.0.1", sdp_port(answer))
        proxy.thread.start()
        write_atomically(answer_in, set_address(answer, proxy.port_for_a()))
    try:
        s_out, s_err = sender.communicate(timeout=200)
        r_out, r_err = receiver.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        sender.kill()
        receiver.kill()
        fail("a fax endpoint did not end")
    took = time.monotonic() - start
    if proxy is not None:
        proxy.stop = True
    log("--- sender stderr\n" + s_err + "--- receiver stderr\n" + r_err)
    s_json, r_json = last_json(s_out), last_json(r_out)
    log("sender:", s_json)
    log("receiver:", r_json)
    log(f"wall time {took:.1f} s")
    if s_json is None or r_json is None:
        fail("no JSON result line")

    if case == "fingerprint":
        if sender.returncode != 1 or receiver.returncode != 1:
            fail(f"exit codes {sender.returncode}, {receiver.returncode}; want 1 and 1")
        if r_json["error"] != "dtls: fingerprint mismatch":
            fail(f"answerer error {r_json['error']!r}")
        if not s_json["error"].startswith("dtls: ") or s_json["ok"] or r_json["ok"]:
            fail(f"offerer error {s_json['error']!r}")
        if s_json["packets_sent"] != 0 or r_json["packets_sent"] != 0:
            fail("UDPTL went out without an authenticated peer")
        if took > 30:
            fail(f"the failure took {took:.1f} s")
        log("OK: both sides failed on the fingerprint")
        return 0

    if sender.returncode != 0 or receiver.returncode != 0:
        fail(f"exit codes {sender.returncode}, {receiver.returncode}")
    for role, j in (("send", s_json), ("receive", r_json)):
        if j["role"] != role or not j["ok"] or j["pages"] != 1 or j["t30_status"] != 0:
            fail(f"{role}: {j}")
        if j["transport"] != transport or j["error"] != "":
            fail(f"{role}: {j}")
        if transport == "dtls" and not j["dtls_cipher"]:
            fail(f"{role}: no cipher")
        if j["packets_sent"] <= 0 or j["packets_received"] <= 0:
            fail(f"{role}: no packets")
    if transport == "dtls":
        with open(keylog) as f:
            lines = f.read().splitlines()
        if not lines or not all(re.fullmatch(r"CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}", line)
                                for line in lines):
            fail(f"keylog: {lines}")
        # Both sides log the same association.
        if len(set(lines)) != 1:
            fail(f"keylog lines differ: {lines}")
    if proxy is not None:
        log(f"proxy: {proxy.dropped} dropped, {proxy.forwarded} forwarded")
        recovered = s_json["recovered"] + r_json["recovered"]
        if proxy.dropped == 0 or recovered == 0:
            fail(f"no loss recovered (dropped {proxy.dropped}, recovered {recovered})")
    compare = subprocess.run([fax, "compare", tiff, p("received.tiff")], capture_output=True,
                             text=True)
    log("compare:", compare.stdout.strip(), compare.stderr.strip())
    if compare.returncode != 0 or not json.loads(compare.stdout)["identical"]:
        fail("the received image differs")
    log(f"OK: one page in {s_json['duration_s']} s (sender), {r_json['duration_s']} s (receiver)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
