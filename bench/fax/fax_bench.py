#!/usr/bin/python3
"""Fax figures for bench/run: real faxes through t38relay (the dataplane on net_tap, the control
daemon, two t38relay-fax endpoints in network namespaces, the call driven through t38ctl), the
way the e2e tests run them, measured rather than checked: duration, packets each way, losses
recovered. Needs root; writes one JSON object to --out.

    fax_bench.py --dataplane D --control C --fax F --vectors DIR --out FILE.json

Runs: dtls_dtls (send.tiff from the vectors, one A4 page, DTLS on both legs), and the top 270 rows
of it through 5% random loss on leg a (both directions) with redundancy 3 (loss_redundancy) and
with FEC (loss_fec). A fax is paced in real time: the figures measure the fax and the relay's
fidelity, not the relay's speed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "dataplane", "integration"))

import faxtools  # noqa: E402
import netlab  # noqa: E402

LOSS_PERCENT = 5
SHORT_PAGE_ROWS = 270


def one_fax(binaries, name, tiff, ec, loss):
    """One fax through a fresh lab; the figures of the run (raises on a failed set-up)."""
    with netlab.Lab(peers="ab", log=lambda *a: None) as lab:
        dp = lab.start_dataplane(binary=binaries.dataplane, crypto="cryptodev")
        control = netlab.Control(lab, dp.socket_path, binary=binaries.control)
        control.start()
        if not control.wait_ready():
            raise RuntimeError("t38relay-control did not come up\n" + control.logs())
        how = faxtools.add_loss(lab, "a", loss) if loss else "none"
        work = tempfile.mkdtemp(dir=lab.dir)
        call = faxtools.FaxCall(lab, control, binaries.fax, work, f"bench-{name}", tiff, ec=ec,
                                timeout=150)
        try:
            call.exchange()
            codes = [call.sender.wait(170), call.receiver.wait(30)]
            sent, got = call.sender.result() or {}, call.receiver.result() or {}
            legs = {leg["side"]: leg for leg in json.loads(control.t38ctl(
                "--json", "show", call.call_id).stdout)["call"]["legs"]}
        finally:
            call.stop()
        _, verdict = faxtools.compare_tiffs(binaries.fax, tiff, call.path("received.tiff"))
        ok = codes == [0, 0] and bool(verdict and verdict.get("identical"))
        figures = {
            "ok": ok, "loss": how, "ec": ec,
            "pages": got.get("pages", 0), "bit_rate": got.get("bit_rate", 0),
            "duration_s": sent.get("duration_s"),
            "packets_a_to_b": sent.get("packets_sent"), "packets_b_to_a": got.get("packets_sent"),
            "received_by_b": got.get("packets_received"),
            "received_by_a": sent.get("packets_received"),
            "recovered_by_b": got.get("recovered"), "lost_by_b": got.get("lost"),
            "recovered_by_a": sent.get("recovered"), "lost_by_a": sent.get("lost"),
            "relay_forwarded": {side: leg["forwarded_packets"] for side, leg in legs.items()},
            "relay_dropped": {side: leg["dropped_packets"] for side, leg in legs.items()},
            "dropped_by_loss": faxtools.dropped_by_loss(lab) if loss else 0,
            "error": sent.get("error") or got.get("error") or ("" if ok else "images differ"),
        }
        control.stop()
        dp.stop()
        return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataplane", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--fax", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    for attr in ("dataplane", "control", "fax"):
        setattr(args, attr, os.path.abspath(getattr(args, attr)))
    page = os.path.join(args.vectors, "asterisk-testsuite", "send.tiff")
    if os.geteuid() != 0 or not os.path.exists(page):
        print(f"fax_bench: skipped (needs root and {page})", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        short = os.path.join(tmp, "short.tiff")
        subprocess.run(["tiffcrop", "-U", "px", "-E", "top", "-Y", str(SHORT_PAGE_ROWS), page,
                        short], check=True, capture_output=True)
        runs = {}
        for name, tiff, ec, loss in (("dtls_dtls", page, "redundancy", 0),
                                     ("loss_redundancy", short, "redundancy", LOSS_PERCENT),
                                     ("loss_fec", short, "fec", LOSS_PERCENT)):
            started = time.monotonic()
            runs[name] = one_fax(args, name, tiff, ec, loss)
            print(f"fax_bench: {name}: {json.dumps(runs[name])} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
    with open(args.out, "w") as f:
        json.dump({"fax_runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
