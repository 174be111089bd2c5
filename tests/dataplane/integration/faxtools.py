"""t38relay-fax in the lab: an endpoint process in a peer namespace, the SDP files it meets the
other side through, and a fax test page made without any outside file. Used by the fax e2e tests
(tests/e2e/fax) and tools/quickstart's demonstration."""
import json
import os
import re
import shutil
import struct
import subprocess
import time

import peertools
from netlab import run


def read_text(path):
    """A file's text, "" when it is not there (yet)."""
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def write_atomic(path, text):
    """What an endpoint's reader must never see half of: written to .tmp, then renamed."""
    with open(path + ".tmp", "w", newline="") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class FaxProcess:
    """One t38relay-fax in a peer namespace; stdout and stderr go to files (the result is the
    last line of stdout, one JSON object)."""

    def __init__(self, peer, binary, args, directory, name):
        self.name = name
        self.args = args
        self.stdout_path = os.path.join(directory, f"{name}.stdout")
        self.stderr_path = os.path.join(directory, f"{name}.stderr")
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = peer.popen([binary] + list(args), stdout=out, stderr=err,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self.started = time.monotonic()
        self.elapsed = None

    def exited(self):
        return self.process.poll() is not None

    def wait(self, timeout):
        """The exit status, or None when still running after `timeout` (then it is killed)."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None
        self.elapsed = time.monotonic() - self.started
        return code

    def result(self):
        """The JSON object of stdout's last non-empty line, or None."""
        lines = [line for line in read_text(self.stdout_path).splitlines() if line.strip()]
        if not lines:
            return None
        try:
            value = json.loads(lines[-1])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def wait_file(self, path, timeout):
        """The text of `path` once this endpoint wrote it; None when it exited or `timeout`
        passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path, newline="") as f:
                    return f.read()
            if self.exited():
                return None
            time.sleep(0.05)
        return None

    def stop(self):
        return peertools.terminate(self.process)

    def logs(self, lines=40):
        err = read_text(self.stderr_path).splitlines()[-lines:]
        out = read_text(self.stdout_path).splitlines()[-5:]
        return (f"--- {self.name}: {' '.join(self.args)}\n--- stderr (last {lines} lines):\n"
                + "\n".join(err) + "\n--- stdout:\n" + "\n".join(out) + "\n")


# --- a test page --------------------------------------------------------------------------------
# A 5x7 font for the page's text: rows top to bottom, bit 4 the leftmost column.
_FONT = {
    " ": [0, 0, 0, 0, 0, 0, 0],
    "-": [0, 0, 0, 0x1F, 0, 0, 0],
    ".": [0, 0, 0, 0, 0, 0x0C, 0x0C],
    ":": [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
    "/": [0x01, 0x02, 0x02, 0x04, 0x08, 0x08, 0x10],
    "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
    ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
    "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
    "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
    "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
    "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
    "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
    "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
    "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
    "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
    "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
    "@": [0x0E, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0F],
    ",": [0, 0, 0, 0, 0x0C, 0x04, 0x08],
    "_": [0, 0, 0, 0, 0, 0, 0x1F],
    "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
    "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
    "D": [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
    "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
    "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
    "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
    "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
    "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
    "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
    "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
    "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
    "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
    "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
    "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
    "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
    "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
    "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
    "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
    "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
    "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
    "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
    "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
    "Y": [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
    "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
}
PAGE_WIDTH = 1728  # pixels of an ISO A4 fax line (T.4)


def write_test_page(path, lines, scale=6):
    """A one-page fax TIFF (1728 wide, 204x196 dpi, 1 bit, uncompressed, MINISWHITE) with `lines`
    of text in the 5x7 font above, a border and a checkerboard strip; characters the font lacks
    are left blank. Returns the page's height in rows."""
    margin, gap = 48, scale * 4
    glyph_w, glyph_h = 6 * scale, 7 * scale
    height = 2 * margin + len(lines) * (glyph_h + gap) + 64
    stride = PAGE_WIDTH // 8
    rows = [bytearray(stride) for _ in range(height)]

    def ink(x, y):
        rows[y][x >> 3] |= 0x80 >> (x & 7)

    for x in range(PAGE_WIDTH):
        for y in (8, 9, height - 10, height - 9):
            ink(x, y)
    for y in range(8, height - 8):
        for x in (8, 9, PAGE_WIDTH - 10, PAGE_WIDTH - 9):
            ink(x, y)
    top = margin
    for text in lines:
        for i, char in enumerate(text.upper()):
            bits = _FONT.get(char, _FONT[" "])
            left = margin + i * glyph_w
            if left + glyph_w > PAGE_WIDTH - margin:
                break
            for row, pattern in enumerate(bits):
                for col in range(5):
                    if pattern & (0x10 >> col):
                        for dy in range(scale):
                            for dx in range(scale):
                                ink(left + col * scale + dx, top + row * scale + dy)
        top += glyph_h + gap
    for y in range(top, top + 32):
        for x in range(margin, PAGE_WIDTH - margin):
            if ((x // 16) + (y // 16)) % 2:
                ink(x, y)

    image = b"".join(bytes(row) for row in rows)
    entries = [  # (tag, type, count, value): SHORT 3, LONG 4, RATIONAL 5 (offset filled below)
        (256, 4, 1, PAGE_WIDTH), (257, 4, 1, height), (258, 3, 1, 1), (259, 3, 1, 1),
        (262, 3, 1, 0), (266, 3, 1, 1), (273, 4, 1, None), (274, 3, 1, 1), (277, 3, 1, 1),
        (278, 4, 1, height), (279, 4, 1, len(image)), (282, 5, 1, 204), (283, 5, 1, 196),
        (284, 3, 1, 1), (296, 3, 1, 2)]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    rationals = ifd_offset + ifd_size
    image_offset = rationals + 16
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset))
    out += struct.pack("<H", len(entries))
    next_rational = rationals
    for tag, kind, count, value in entries:
        if tag == 273:
            value = image_offset
        if kind == 5:
            out += struct.pack("<HHII", tag, kind, count, next_rational)
            next_rational += 8
        elif kind == 3:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<IIII", 204, 1, 196, 1)
    out += image
    with open(path, "wb") as f:
        f.write(out)
    return height


# --- a fax call through the relay -----------------------------------------------------------------
class FaxCall:
    """A fax through the relay: t38relay-fax sending `tiff` from peer a (the offerer, DTLS,
    actpass) to t38relay-fax receiving in peer b (the answerer, `transport_b`), and the SIP
    proxy's part between them: A's offer through `t38ctl offer`, the relay's SDP to B, B's answer
    through `t38ctl answer`, the relay's SDP to A. Each SDP is also kept in `sdp`."""

    def __init__(self, lab, control, binary, work, call_id, tiff, transport_b="dtls",
                 ec="redundancy", timeout=150, sdp_wait=30, keylogs=(None, None)):
        self.control = control
        self.work = work
        self.call_id = call_id
        self.transport_b = transport_b
        self.sdp_wait = sdp_wait
        self.sdp = {}
        a, b = lab.peer("a"), lab.peer("b")
        common = ["--timeout", str(timeout), "--sdp-wait", str(sdp_wait)]
        self.sender = FaxProcess(a, binary, [
            "send", "--tiff", tiff, "--local", f"{a.v4}:5000", "--transport", "dtls",
            "--offer-out", self.path("a.offer"), "--answer-in", self.path("a.answer"),
            "--ec", ec, "--ec-depth", "3"] + common + self._keylog(keylogs[0]), work, "sender")
        self.receiver = FaxProcess(b, binary, [
            "receive", "--tiff-out", self.path("received.tiff"), "--local", f"{b.v4}:6000",
            "--transport", transport_b, "--offer-in", self.path("b.offer"),
            "--answer-out", self.path("b.answer")] + common + self._keylog(keylogs[1]),
            work, "receiver")

    @staticmethod
    def _keylog(path):
        return ["--keylog", path] if path else []

    def path(self, name):
        return os.path.join(self.work, name)

    def _t38ctl(self, *args, input=None):
        result = self.control.t38ctl(*args, input=input)
        if result.returncode != 0:
            raise RuntimeError(f"t38ctl {' '.join(args)}: {result.stderr.strip()}\n"
                               + self.control.logs())
        return result.stdout

    def _await(self, fax, name):
        text = fax.wait_file(self.path(name), self.sdp_wait)
        if text is None:
            raise RuntimeError(f"{fax.name} wrote no {name} (exit {fax.process.poll()})\n"
                               + self.logs())
        return text

    def exchange(self, tamper=None, shown=None):
        """Offer and answer through t38ctl; `tamper(sdp)` changes what B reads, `shown(title,
        sdp)` sees each SDP as it passes. Returns self.sdp: offer, to_b, answer, to_a."""
        shown = shown or (lambda title, sdp: None)
        self.sdp["offer"] = self._await(self.sender, "a.offer")
        shown("A's SDP offer, through t38ctl offer", self.sdp["offer"])
        self.sdp["to_b"] = self._t38ctl("offer", "--call-id", self.call_id, "--from-tag", "ftag",
                                        "--transport", self.transport_b, "--sdp", "-",
                                        input=self.sdp["offer"])
        shown("the relay's SDP for B", self.sdp["to_b"])
        write_atomic(self.path("b.offer"), tamper(self.sdp["to_b"]) if tamper
                     else self.sdp["to_b"])
        self.sdp["answer"] = self._await(self.receiver, "b.answer")
        shown("B's SDP answer, through t38ctl answer", self.sdp["answer"])
        self.sdp["to_a"] = self._t38ctl("answer", "--call-id", self.call_id, "--from-tag",
                                        "ftag", "--to-tag", "ttag", "--sdp", "-",
                                        input=self.sdp["answer"])
        shown("the relay's SDP for A", self.sdp["to_a"])
        write_atomic(self.path("a.answer"), self.sdp["to_a"])
        return self.sdp

    def stop(self):
        self.sender.stop()
        self.receiver.stop()

    def logs(self):
        return self.sender.logs() + self.receiver.logs() + self.control.logs()


def compare_tiffs(binary, a, b):
    """(exit status, the JSON verdict or None) of `t38relay-fax compare a b`."""
    result = subprocess.run([binary, "compare", a, b], capture_output=True, text=True,
                            timeout=60)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    try:
        return result.returncode, json.loads(lines[-1]) if lines else None
    except ValueError:
        return result.returncode, None


# --- loss on a leg ------------------------------------------------------------------------------
def add_loss(lab, letter, percent):
    """`percent` random loss on peer `letter`'s link to the relay, both directions: netem on the
    peer's veth0 and on the bridge port to-<letter>; a kernel without sch_netem gets the same
    from nftables on the relay namespace's bridge (a silent drop, like netem, unlike an
    output-hook drop, which the sender would see as EPERM). Returns how it was done."""
    def netem(dev):
        return ["tc", "qdisc", "add", "dev", dev, "root", "netem", "loss", f"{percent}%"]
    first = run(netem("veth0"), ns=lab.peer(letter).ns, check=False)
    if first.returncode == 0:
        run(netem(f"to-{letter}"), ns=lab.relay_ns)
        return f"netem {percent}% on leg {letter}"
    if "qdisc kind is unknown" not in first.stderr:
        raise RuntimeError(f"tc netem: {first.stderr.strip()}")
    if shutil.which("nft") is None:
        raise RuntimeError("no sch_netem in this kernel and no nft (Debian: nftables) for loss")
    drop = f"ip protocol udp numgen random mod 100 < {percent} counter drop"
    run(["nft", "-f", "-"], ns=lab.relay_ns, input=(
        "table bridge t38loss {\n chain forward {\n"
        "  type filter hook forward priority 0; policy accept;\n"
        f'  iifname "to-{letter}" {drop}\n  oifname "to-{letter}" {drop}\n }}\n}}\n'))
    return f"nftables {percent}% on leg {letter} (no sch_netem in this kernel)"


def dropped_by_loss(lab):
    """Packets the nftables loss dropped (None with netem)."""
    out = run(["nft", "list", "table", "bridge", "t38loss"], ns=lab.relay_ns, check=False).stdout
    counts = [int(n) for n in re.findall(r"counter packets (\d+)", out)]
    return sum(counts) if counts else None
