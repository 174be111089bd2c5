"""Network lab for the dataplane integration tests: a relay namespace with a bridge, peer namespaces
on veth pairs, the dataplane started inside the relay namespace on net_tap, and teardown that
always removes what it made.

    with Lab(peers="ab") as lab:
        dp = lab.start_dataplane()           # binary from $T38_DATAPLANE
        lab.peer("a").ping(RELAY_V4)

Topology (names carry this process's pid, N):

    t38a<N>: veth0 198.18.0.10/24 fd00:198:18::10/64 --+
    t38b<N>: veth0 198.18.0.20/24 fd00:198:18::20/64 --+-- br0 (in t38r<N>) -- t38tap0 -- dataplane
    t38c<N>: veth0 198.18.0.30/24 fd00:198:18::30/64 --+      198.18.0.1/24 fd00:198:18::1/64

The peers have no route but their /24 and /64 and the relay namespace has no address at all, so
nothing the tests send can leave the lab; LabSocket also refuses destinations outside
198.18.0.0/15, fd00:198:18::/64 and loopback.
"""
import atexit
import contextlib
import ctypes
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

RELAY_V4 = "198.18.0.1"
RELAY_V6 = "fd00:198:18::1"
PEER_ADDRESSES = {
    "a": ("198.18.0.10", "fd00:198:18::10"),
    "b": ("198.18.0.20", "fd00:198:18::20"),
    "c": ("198.18.0.30", "fd00:198:18::30"),
}
TAP_NAME = "t38tap0"
LEG_PORTS = (20000, 20999)
NS_PATTERN = re.compile(r"^t38([rabc])(\d+)$")
_ALLOWED_NETWORKS = [ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("fd00:198:18::/64"),
                     ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_active_labs = []  # torn down at exit too: unittest lets KeyboardInterrupt skip its cleanups


class LabError(Exception):
    pass


def check_lab_address(ip):
    """Raises unless `ip` is inside the lab's ranges or loopback."""
    address = ipaddress.ip_address(ip.split("%")[0])
    if not any(address in net for net in _ALLOWED_NETWORKS):
        raise LabError(f"refusing to send to {ip}: outside 198.18.0.0/15, fd00:198:18::/64, loopback")


def run(cmd, ns=None, check=True, timeout=30, input=None):
    """Runs a command (list), inside namespace `ns` when given; returns CompletedProcess (text)."""
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    result = subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise LabError(f"command failed ({result.returncode}): {' '.join(full)}\n"
                       f"{result.stdout}{result.stderr}")
    return result


def list_namespaces():
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@contextlib.contextmanager
def in_netns(name):
    """Moves the calling thread into network namespace `name` for the block. Sockets created
    inside stay in that namespace after the block; other threads are not affected."""
    with open("/proc/thread-self/ns/net") as original, open(f"/run/netns/{name}") as target:
        if _libc.setns(target.fileno(), _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({name}) failed")
        try:
            yield
        finally:
            if _libc.setns(original.fileno(), _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original namespace failed")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def clean_stale_labs(log=print):
    """Removes namespaces t38r*/t38a*/t38b*/t38c* left by runs of this harness whose process is
    gone, after ending the processes still running in them (dataplanes and peer tools those runs
    started). Returns the names removed."""
    removed = []
    for name in list_namespaces():
        m = NS_PATTERN.match(name)
        if not m:
            continue
        owner = int(m.group(2))
        if owner == os.getpid() or _pid_alive(owner):
            continue
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        run(["ip", "netns", "del", name], check=False)
        removed.append(name)
    if removed:
        log(f"netlab: removed stale namespaces {' '.join(removed)}")
    return removed


class LabSocket:
    """A UDP socket living in a peer namespace; sendto refuses addresses outside the lab."""

    def __init__(self, sock):
        self.sock = sock

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def sendto(self, data, address):
        check_lab_address(address[0])
        return self.sock.sendto(data, address)

    def recvfrom(self, timeout=2.0, size=65535):
        """(data, address), or (None, None) on timeout."""
        self.sock.settimeout(timeout)
        try:
            data, address = self.sock.recvfrom(size)
            return data, address[:2]
        except socket.timeout:
            return None, None

    def drain(self, quiet=0.2):
        """Everything that arrives until `quiet` seconds pass with nothing."""
        got = []
        while True:
            data, address = self.recvfrom(quiet)
            if data is None:
                return got
            got.append((data, address))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Peer:
    def __init__(self, lab, letter):
        self.lab = lab
        self.letter = letter
        self.ns = f"t38{letter}{lab.n}"
        self.v4, self.v6 = PEER_ADDRESSES[letter]

    def address(self, family="ipv4"):
        return self.v4 if family == "ipv4" else self.v6

    def run(self, cmd, check=True, timeout=30, input=None):
        return run(cmd, ns=self.ns, check=check, timeout=timeout, input=input)

    def popen(self, cmd, **kwargs):
        return subprocess.Popen(["ip", "netns", "exec", self.ns] + list(cmd), **kwargs)

    def udp_socket(self, port=0, family="ipv4"):
        """A UDP socket bound in this peer's namespace to its own address and `port`."""
        af = socket.AF_INET if family == "ipv4" else socket.AF_INET6
        with in_netns(self.ns):
            sock = socket.socket(af, socket.SOCK_DGRAM)
        sock.bind((self.address(family), port))
        return LabSocket(sock)

    def ping(self, ip, count=3, timeout=10):
        """CompletedProcess of `ping -c count ip` (IPv6 by the address)."""
        check_lab_address(ip)
        cmd = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2"]
        if ":" in ip:
            cmd.append("-6")
        return self.run(cmd + [ip], check=False, timeout=timeout)

    def neighbour(self, ip):
        """`ip neigh show` line for ip ('' when none)."""
        return self.run(["ip", "neigh", "show", ip, "dev", "veth0"]).stdout.strip()


class Dataplane:
    """The t38relay-dataplane process inside the relay namespace."""

    def __init__(self, lab, binary, crypto="soft", leg_ports=LEG_PORTS, eal_args=None,
                 relay_args=(), embedded=False):
        self.lab = lab
        self.binary = binary
        self.socket_path = os.path.join(lab.dir, "flow.sock")
        self.stdout_path = os.path.join(lab.dir, "dataplane.stdout")
        self.stderr_path = os.path.join(lab.dir, "dataplane.stderr")
        eal = list(eal_args) if eal_args is not None else default_eal_args()
        relay = ["--port", f"net_tap0,{RELAY_V4}/24,{RELAY_V6}/64", "--socket", self.socket_path,
                 "--crypto", crypto, "--leg-ports", f"{leg_ports[0]}-{leg_ports[1]}"]
        binary_cmd = binary if isinstance(binary, list) else [binary]
        self.command = (["ip", "netns", "exec", lab.relay_ns] + binary_cmd + eal +
                        [f"--vdev=net_tap0,iface={TAP_NAME}", "--"] + relay + list(relay_args))
        if embedded:
            # No "--": the binary's embedded default (EAL arguments and the net_tap port).
            self.command = (["ip", "netns", "exec", lab.relay_ns] + binary_cmd +
                            ["--socket", self.socket_path] + list(relay_args))
        self.process = None
        self.exit_code = None
        self.killed = False
        self.hello = None

    def start(self, timeout=60):
        """Starts the process, waits for t38tap0 (then puts it on br0) and for `hello`."""
        from flowclient import FlowClient, FlowError  # local import: netlab stays usable alone
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        tap_attached = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.exit_code = self.process.returncode
                raise LabError(f"dataplane exited with {self.exit_code} during start-up\n"
                               + self.logs())
            # The flow socket exists once the ports have started: only then is t38tap0's MAC
            # final (net_tap sets it while starting), so only then may it get its own and join br0.
            if os.path.exists(self.socket_path):
                try:
                    with FlowClient(self.socket_path, timeout=2) as client:
                        self.hello = client.request("hello")
                except (OSError, FlowError, TimeoutError):
                    self.hello = None
                if self.hello is not None and self.lab.has_link(self.lab.relay_ns, TAP_NAME):
                    self.lab.attach_tap()
                    tap_attached = True
                    return self.hello
            time.sleep(0.1)
        state = "no t38tap0" if not tap_attached else "flow socket not answering hello"
        self.stop()
        raise LabError(f"dataplane not up after {timeout} s ({state})\n" + self.logs())

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, grace=10):
        """SIGTERM, SIGKILL after `grace` s; returns the exit code (negative: killed by signal)."""
        if self.process is None:
            return self.exit_code
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)  # ip netns exec execs the binary
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait()
                self.killed = True
        self.exit_code = self.process.returncode
        self.process = None
        return self.exit_code

    def logs(self, lines=60):
        text = []
        for title, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            try:
                with open(path, "rb") as f:
                    tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
            except FileNotFoundError:
                tail = ["(none)"]
            text.append(f"--- dataplane {title} ({path}), last {lines} lines:\n" + "\n".join(tail))
        return "\n".join(text) + f"\n--- command: {' '.join(self.command)}"


def default_eal_args():
    """EAL arguments for this machine. The contract's `-l 0-2` needs 3 CPUs: with fewer, lcores
    0-2 are mapped onto the CPUs there are (--lcores). `--in-memory` with hugepages, else
    `--no-huge --no-shconf -m 1024` (DPDK 22.11 refuses --in-memory together with --no-huge)."""
    override = os.environ.get("T38_DATAPLANE_EAL")
    if override:
        return override.split()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 3:
        lcores = ["-l", "0-2"]
    else:
        lcores = [f"--lcores=0@{cpus[0]},1@{cpus[-1]},2@{cpus[0]}"]
    return lcores + ["--no-pci"] + (["--in-memory"] if _hugepages_free_mb() >= 1024 and
                     os.environ.get("T38_EAL_NO_HUGE") != "1"
                     else ["--no-huge", "--no-shconf", "-m", "1024"])


def _hugepages_free_mb():
    try:
        with open("/proc/mounts") as f:
            if "hugetlbfs" not in f.read():
                return 0
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("HugePages_Free:"):
                    return int(line.split()[1]) * 2
    except OSError:
        pass
    return 0


class Control:
    """t38relay-control on the lab's flow socket, with its own control socket."""

    def __init__(self, lab, flow_socket, binary=None):
        self.binary = binary or os.environ.get("T38_CONTROL")
        if not self.binary:
            raise LabError("no control binary: set T38_CONTROL")
        self.socket_path = os.path.join(lab.dir, "control.sock")
        self.flow_socket = flow_socket
        self.log_path = os.path.join(lab.dir, "control.log")
        self.process = None
        self.exit_codes = []

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--socket", self.socket_path, "--flow-socket", self.flow_socket],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.exit_codes.append(code)
        return code

    def logs(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def t38ctl(self, *args, input=None):
        """Runs t38ctl (T38CTL, or the t38ctl beside the control binary) on this control."""
        binary = os.environ.get("T38CTL") or os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(self.binary))), "tools", "t38ctl")
        return subprocess.run([binary, "--socket", self.socket_path, *args], input=input,
                              capture_output=True, text=True, timeout=30)

    def wait_ready(self, timeout=30):
        """True once control answers and has its dataplane."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket_path):
                result = self.t38ctl("--json", "ping")
                if result.returncode == 0 and '"connected":true' in result.stdout.replace(" ", ""):
                    return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.2)
        return False


class Lab:
    """Context manager: builds the namespaces on entry, removes them on exit (also on exceptions,
    Ctrl-C, and SIGTERM, which is turned into KeyboardInterrupt while the lab exists)."""

    def __init__(self, peers="ab", clean_stale=True, log=print):
        self.n = os.getpid()
        self.relay_ns = f"t38r{self.n}"
        self.peer_letters = list(peers)
        self.peers = {}
        self.clean_stale = clean_stale
        self.log = log
        self.dir = None
        self.dataplanes = []
        self.namespaces = []
        self._old_sigterm = None

    # --- building -----------------------------------------------------------------------------
    def __enter__(self):
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces)")
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
        if not _active_labs:
            atexit.register(teardown_all)
        _active_labs.append(self)
        try:
            if self.clean_stale:
                clean_stale_labs(self.log)
            self.dir = tempfile.mkdtemp(prefix=f"t38lab{self.n}_")
            self._add_namespace(self.relay_ns)
            # The relay namespace only switches frames: no IPv6 of its own (no RS/MLD noise).
            run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                 "net.ipv6.conf.default.disable_ipv6=1"], ns=self.relay_ns)
            run(["ip", "-n", self.relay_ns, "link", "add", "br0", "type", "bridge",
                 "stp_state", "0", "mcast_snooping", "0"])
            run(["ip", "-n", self.relay_ns, "link", "set", "br0", "up"])
            for letter in self.peer_letters:
                self.add_peer(letter)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def _add_namespace(self, name):
        if name in list_namespaces():
            raise LabError(f"namespace {name} already exists")
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def add_peer(self, letter):
        """Adds peer namespace t38<letter><N> with veth0 <-> to-<letter> on br0."""
        if letter not in PEER_ADDRESSES:
            raise LabError(f"no addresses for peer {letter!r}")
        peer = Peer(self, letter)
        self._add_namespace(peer.ns)
        run(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
             "net.ipv6.conf.default.accept_dad=0"], ns=peer.ns)
        # Both ends are created directly in their namespaces: nothing in the root namespace.
        run(["ip", "link", "add", "veth0", "netns", peer.ns, "type", "veth",
             "peer", "name", f"to-{letter}", "netns", self.relay_ns])
        run(["ip", "-n", self.relay_ns, "link", "set", f"to-{letter}", "master", "br0", "up"])
        run(["ip", "-n", peer.ns, "addr", "add", f"{peer.v4}/24", "dev", "veth0"])
        run(["ip", "-n", peer.ns, "addr", "add", f"{peer.v6}/64", "dev", "veth0", "nodad"])
        run(["ip", "-n", peer.ns, "link", "set", "veth0", "up"])
        self.peers[letter] = peer
        return peer

    def peer(self, letter):
        return self.peers[letter]

    def has_link(self, ns, name):
        return run(["ip", "-n", ns, "link", "show", name], check=False).returncode == 0

    def attach_tap(self):
        """Puts the dataplane's net_tap interface on br0. net_tap gives the kernel side the port's
        own MAC; on a bridge port that MAC would become a local address of br0 and frames for the
        dataplane would be delivered to the (address-less) relay namespace instead of the tap, so
        the kernel side gets a MAC of its own first (net_tap does not filter by it)."""
        run(["ip", "-n", self.relay_ns, "link", "set", TAP_NAME, "address", "02:38:ff:00:00:01"])
        run(["ip", "-n", self.relay_ns, "link", "set", TAP_NAME, "master", "br0", "up"])

    # --- the dataplane ------------------------------------------------------------------------
    def start_dataplane(self, binary=None, crypto=None, **kwargs):
        binary = binary or os.environ.get("T38_DATAPLANE")
        if not binary:
            raise LabError("no dataplane binary: set T38_DATAPLANE")
        if isinstance(binary, str) and not os.access(binary, os.X_OK):
            raise LabError(f"dataplane binary {binary} does not exist or is not executable")
        crypto = crypto or os.environ.get("T38_CRYPTO", "soft")
        # Extra relay options for every start, e.g. "--workers 1,3 --handshake 2".
        if "relay_args" not in kwargs and os.environ.get("T38_DATAPLANE_ARGS"):
            kwargs["relay_args"] = os.environ["T38_DATAPLANE_ARGS"].split()
        dp = Dataplane(self, binary, crypto=crypto, **kwargs)
        self.dataplanes.append(dp)
        dp.start()
        return dp

    # --- teardown -----------------------------------------------------------------------------
    def __exit__(self, *exc):
        if self in _active_labs:
            _active_labs.remove(self)
        try:
            for dp in self.dataplanes:
                code = dp.stop()
                if code not in (None, 0):
                    self.log(f"netlab: dataplane exit code {code}")
            for name in reversed(self.namespaces):
                pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
                for pid in pids:  # peer tools a test left running
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                run(["ip", "netns", "del", name], check=False)
            left = [n for n in self.namespaces if n in list_namespaces()]
            if left:
                self.log(f"netlab: could not remove namespaces {left}")
            self.namespaces = []
            if self.dir and os.environ.get("T38_KEEP_LAB_DIR") != "1":
                shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None
        return False


def teardown_all():
    """Tears down every lab still standing (atexit, and after an interrupted test run)."""
    for lab in list(_active_labs):
        lab.__exit__(None, None, None)


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    # `netlab.py clean`: remove stale labs; `netlab.py shell`: a lab to poke at by hand.
    if len(sys.argv) > 1 and sys.argv[1] == "clean":
        clean_stale_labs()
    elif len(sys.argv) > 1 and sys.argv[1] == "shell":
        with Lab(peers=sys.argv[2] if len(sys.argv) > 2 else "ab") as lab:
            print(f"relay {lab.relay_ns}, peers " + " ".join(p.ns for p in lab.peers.values()))
            if os.environ.get("T38_DATAPLANE"):
                lab.start_dataplane()
                print(f"dataplane up, socket {lab.dataplanes[0].socket_path}")
            print("Ctrl-C to tear down")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    else:
        print("usage: netlab.py clean | shell [PEERS]", file=sys.stderr)
        sys.exit(2)
