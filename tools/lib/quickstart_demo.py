#!/usr/bin/python3
"""tools/quickstart's demonstration: a real fax through t38relay, over UDPTL in DTLS 1.2 on both
legs (RFC 7345). t38relay-dataplane runs on its embedded default (one net_tap port, 198.18.0.1/24
and fd00:198:18::1/64) inside a network namespace, t38relay-control on its flow socket, and two
t38relay-fax endpoints (spandsp) in namespaces of their own: A sends a page, B receives it. The
call is driven through t38ctl with the endpoints' own SDP, as a SIP proxy would; live counters
each second, then the result: pages sent and received, and whether the images match. Everything
it creates is removed.

    /usr/bin/python3 tools/lib/quickstart_demo.py DATAPLANE CONTROL FAX [--tiff FILE] [--seconds N]
"""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "dataplane", "integration"))

import faxtools  # noqa: E402
import netlab  # noqa: E402
from peertools import media_of  # noqa: E402

CALL = "quickstart-fax-1@t38relay"
SDP_WAIT = 30


def say(text):
    print(f"\n== {text}", flush=True)


def indent(text):
    return "".join(f"   {line}\n" for line in text.splitlines())


def t38ctl(control, *args, input=None):
    result = control.t38ctl(*args, input=input)
    if result.returncode != 0:
        raise RuntimeError(f"t38ctl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def counters_line(control):
    call = json.loads(t38ctl(control, "--json", "show", CALL))["call"]
    legs = {leg["side"]: leg for leg in call["legs"]}
    return "   ".join(f"{side}: {legs[side]['state']} rx {legs[side]['rx_packets']} "
                       f"fwd {legs[side]['forwarded_packets']} drop {legs[side]['dropped_packets']}"
                       for side in ("caller", "callee") if side in legs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataplane")
    parser.add_argument("control")
    parser.add_argument("fax")
    parser.add_argument("--tiff", help="the fax to send (a TIFF of fax pages); default: a test "
                        "page made here")
    parser.add_argument("--seconds", type=float, default=180,
                        help="the most the fax may take before the demo gives up (default 180)")
    args = parser.parse_args()
    fax_binary = os.path.abspath(args.fax)
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

        work = tempfile.mkdtemp(dir=lab.dir)
        path = lambda name: os.path.join(work, name)  # noqa: E731
        tiff = os.path.abspath(args.tiff) if args.tiff else path("page.tiff")
        if not args.tiff:
            rows = faxtools.write_test_page(tiff, [
                "t38relay quick start", "T.38 fax in UDPTL over DTLS 1.2 (RFC 7345)",
                f"call {CALL}", time.strftime("sent %Y-%m-%d %H:%M:%S UTC", time.gmtime())])
            say(f"the fax to send: a test page (1728 x {rows}, 204 x 196 dpi)")

        call = faxtools.FaxCall(lab, control, fax_binary, work, CALL, tiff,
                                timeout=args.seconds, sdp_wait=SDP_WAIT)
        sender, receiver = call.sender, call.receiver
        sent = got = None
        try:
            sdp = call.exchange(shown=lambda title, text: (say(title), print(indent(text), end="")))
            to_a, to_b = sdp["to_a"], sdp["to_b"]
            relay_a, relay_b = media_of(to_a), media_of(to_b)
            say(f"faxing: A {a.v4}:5000 <-DTLS-> relay {relay_a['ip']}:{relay_a['port']} | "
                f"relay {relay_b['ip']}:{relay_b['port']} <-DTLS-> B {b.v4}:6000 "
                "(live counters each second)")
            deadline = time.monotonic() + args.seconds + 20
            while not (sender.exited() and receiver.exited()) and time.monotonic() < deadline:
                time.sleep(1)
                print("   " + counters_line(control), flush=True)
            print(indent(t38ctl(control, "show", CALL)), end="")
            for fax in (sender, receiver):
                fax.wait(5)
            sent, got = sender.result(), receiver.result()
        finally:
            call.stop()

        say("the endpoints' results (t38relay-fax's JSON line)")
        for name, result, fax in (("A", sent, sender), ("B", got, receiver)):
            print(indent(f"{name}: {json.dumps(result)}" if result else
                         f"{name}: no result\n{fax.logs()}"), end="")
        match = None
        if got and got.get("ok"):
            _, match = faxtools.compare_tiffs(fax_binary, tiff, path("received.tiff"))
            say("the page B received against the page A sent (t38relay-fax compare)")
            print(indent(json.dumps(match)), end="")

        say("hang up: t38ctl delete")
        print(indent(t38ctl(control, "delete", "--call-id", CALL)), end="")
        print(indent(t38ctl(control, "stats")), end="")
        control_code = control.stop()
        dp_code = dp.stop()
        pages_sent = sent.get("pages", 0) if sent else 0
        pages_got = got.get("pages", 0) if got else 0
        identical = bool(match and match.get("identical"))
        ok = (sent and sent.get("ok") and got and got.get("ok") and pages_sent == pages_got > 0
              and identical and control_code == 0 and dp_code == 0)
        reason = "" if ok else " (" + "; ".join(
            r.get("error") or "" for r in (sent or {}, got or {}) if r.get("error")) + ")"
        say(f"VERDICT: {'OK' if ok else 'FAILED'} — {pages_sent} page(s) sent, {pages_got} "
            f"received, images {'identical' if identical else 'NOT identical'}, through DTLS "
            f"on both legs{reason if reason != ' ()' else ''}; control exit {control_code}, "
            f"dataplane exit {dp_code}; removing the namespaces")
        return 0 if ok else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("quickstart: needs root (network namespaces, net_tap)")
    sys.exit(main())
