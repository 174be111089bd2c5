"""What the peers in the lab run: UDPTL packets to send, openssl identities and s_server/s_client
processes, and an asyncio loop living in a peer's namespace (for aioice)."""
import asyncio
import os
import re
import subprocess
import sys
import threading
import time

import netlab

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(_REPO, "tests", "data", "udptl"))
import make_synthetic  # noqa: E402  the X.691 encoder the UDPTL golden files were made with

# --- UDPTL -------------------------------------------------------------------------------------


def udptl_packets(count, first_seq=0, payload_size=40, tag=b""):
    """`count` UDPTL packets (T.38 1998 ASN.1) as a fax sends them: seq-numbered primary IFPs, each
    a v21 hdlc-data field, with the two previous IFPs as secondaries (redundancy). `tag` goes at
    the start of each hdlc payload so a test can tell streams apart."""
    ifps = []
    packets = []
    for i in range(count):
        seq = (first_seq + i) & 0xFFFF
        data = (tag + seq.to_bytes(2, "big") + bytes((seq + k) & 0xFF for k in range(payload_size)))
        data = data[:max(payload_size, len(tag) + 2)]
        ifps.append(make_synthetic.ifp("1998", "d", 0, [(0, data)]))
        secondaries = list(reversed(ifps[max(0, i - 2):i]))
        packets.append(make_synthetic.udptl_secondary(seq, ifps[-1], secondaries))
    return packets


def udptl_seq(packet):
    return int.from_bytes(packet[:2], "big")


# --- openssl -----------------------------------------------------------------------------------


def make_identity(directory, name):
    """Self-signed RSA certificate: (cert_path, key_path, "AB:CD:..." sha-256 fingerprint)."""
    cert = os.path.join(directory, f"{name}_cert.pem")
    key = os.path.join(directory, f"{name}_key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    with open(cert) as f:
        return cert, key, fingerprint_of_pem(f.read())


def fingerprint_of_pem(pem):
    """sha-256 fingerprint of a PEM certificate, upper-case hex with colons (SDP a=fingerprint)."""
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].upper()


def pem_after(output, title):
    """The PEM certificate openssl printed after `title` ("Server certificate", "Client
    certificate"), or None."""
    m = re.search(re.escape(title) + r"\s*\n(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)",
                  output, re.S)
    return m.group(1) + "\n" if m else None


def terminate(process, grace=5):
    """SIGTERM, then SIGKILL after `grace` s; returns the exit status (negative: a signal)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class PeerProcess:
    """A process in a peer namespace with stdin kept open (openssl must not see EOF) and its stdout
    and stderr gathered by a thread."""

    def __init__(self, peer, cmd):
        self.cmd = cmd
        self.process = peer.popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while True:
            chunk = self.process.stdout.read1(65536)
            if not chunk:
                return
            with self._lock:
                self._output += chunk

    def output(self):
        with self._lock:
            return bytes(self._output)

    def text(self):
        return self.output().decode("utf-8", "replace")

    def wait_for(self, needle, timeout=10.0, start=0):
        """True when `needle` (bytes or str) shows in the output after offset `start`."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().find(needle, start) >= 0:
                return True
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the reader catch the last bytes
                return self.output().find(needle, start) >= 0
            time.sleep(0.05)
        return False

    def write(self, data):
        """One write: openssl reads stdin and sends what one read returned as one record."""
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        terminate(self.process)
        self._reader.join(2)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:  # stdin: the tool is gone and a flush fails
                pass
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def s_server_cmd(address, port, cert, key, cipher, mtu=1200):
    """DTLS 1.2 server on address:port that demands a client certificate (-Verify 1) without
    checking who signed it (no -verify_return_error: the test compares fingerprints itself)."""
    host = f"[{address}]" if ":" in address else address
    return ["openssl", "s_server", "-dtls1_2", "-accept", f"{host}:{port}",
            "-6" if ":" in address else "-4", "-cert", cert, "-key", key, "-cipher", cipher,
            "-Verify", "1", "-naccept", "1", "-mtu", str(mtu)]


def s_client_cmd(address, port, cert, key, cipher, mtu=1200):
    """DTLS 1.2 client with its own certificate; -nocommands so data is never taken for a
    command letter; prints the server certificate (compared with the leg's fingerprint)."""
    netlab.check_lab_address(address)
    host = f"[{address}]" if ":" in address else address
    return ["openssl", "s_client", "-dtls1_2", "-connect", f"{host}:{port}",
            "-6" if ":" in address else "-4", "-cert", cert, "-key", key, "-cipher", cipher,
            "-mtu", str(mtu), "-nocommands"]


# Printed once the handshake is done (s_client: "Cipher is X"; s_server: "CIPHER is X").
S_CLIENT_READY = "Cipher is "
S_SERVER_READY = "CIPHER is "


# --- asyncio in a namespace (aioice) -----------------------------------------------------------


class NamespaceLoop:
    """An asyncio event loop on a thread that lives in a peer's namespace: every socket a
    coroutine opens there (aioice's candidates) belongs to that peer. run() waits for a result."""

    def __init__(self, peer):
        self.peer = peer
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error

    def _main(self):
        try:
            with open(f"/run/netns/{self.peer.ns}") as target:
                if netlab._libc.setns(target.fileno(), netlab._CLONE_NEWNET) != 0:
                    raise OSError("setns failed")
        except Exception as e:  # reported by the constructor
            self._error = e
            self._ready.set()
            return
        asyncio.set_event_loop(self.loop)
        self._ready.set()
        self.loop.run_forever()

    def run(self, coroutine, timeout=30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self):
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ice_candidate(ip, port, priority=2130706431):
    """A host candidate for aioice (the relay's leg address)."""
    import aioice
    return aioice.Candidate(foundation="relay", component=1, transport="udp", priority=priority,
                            host=ip, port=port, type="host")


# --- SDP as fax endpoints write it, and what they read from the relay's -------------------------
def t38_sdp(ip, port, proto="UDP/TLS/UDPTL", setup=None, fingerprint=None, version=1,
            tls_id=None, session="4711"):
    """A T.38 offer or answer as a fax endpoint writes it."""
    lines = ["v=0", f"o=- {session} {version} IN IP4 {ip}", "s=-", f"c=IN IP4 {ip}", "t=0 0",
             f"m=image {port} {proto} t38", "a=T38FaxVersion:0", "a=T38MaxBitRate:14400",
             "a=T38FaxRateManagement:transferredTCF", "a=T38FaxMaxBuffer:2000",
             "a=T38FaxMaxDatagram:400", "a=T38FaxUdpEC:t38UDPRedundancy"]
    if setup:
        lines.append(f"a=setup:{setup}")
    if fingerprint:
        lines.append(f"a=fingerprint:sha-256 {fingerprint}")
    if tls_id:
        lines.append(f"a=tls-id:{tls_id}")
    return "\r\n".join(lines) + "\r\n"


def media_of(sdp):
    """What a peer reads from the relay's SDP: the image stream's address and attributes."""
    connection = re.search(r"^c=IN IP[46] (\S+)", sdp, re.M)
    media = re.search(r"^m=image (\d+) (\S+) t38", sdp, re.M)
    setup = re.search(r"^a=setup:(\S+)", sdp, re.M)
    fingerprint = re.search(r"^a=fingerprint:(\S+) (\S+)", sdp, re.M)
    tls_id = re.search(r"^a=tls-id:(\S+)", sdp, re.M)
    return {
        "ip": connection.group(1) if connection else None,
        "port": int(media.group(1)) if media else None,
        "proto": media.group(2) if media else None,
        "setup": setup.group(1) if setup else None,
        "fingerprint": (fingerprint.group(1), fingerprint.group(2)) if fingerprint else None,
        "tls_id": tls_id.group(1) if tls_id else None,
    }
