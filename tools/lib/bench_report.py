#!/usr/bin/env python3
"""Merges Google Benchmark JSON files into bench/results/latest.json and bench/RESULTS.md.

bench_report.py --command CMD --json OUT.json --markdown OUT.md [--fax FAX.json] RESULT.json...

latest.json holds the headline figures under stable keys at the top level (see KEYS), the machine,
the command, and every median. Figures missing from this run are left out, never invented.
"""
import argparse
import json
import os
import platform
import subprocess

# key: (benchmark name, field, scale). Names match the part of the run name before any '/'.
KEYS = {
    "demux_burst32_ns": ("BM_DemuxBurst32", "real_time", 1),
    "stun_verify_per_s": ("BM_StunVerifyRequest", "items_per_second", 1),
    "dtls_record_split_ns": ("BM_DtlsRecordSplitAppData", "real_time", 1),
    "udptl_decode_ns": ("BM_UdptlDecode", "real_time", 1),
    "parse_frame_ipv4_udp_ns": ("BM_ParseFrameIpv4Udp", "real_time", 1),
    "record_seal_cryptodev_mrps": ("BM_RecordSealCryptodev", "items_per_second", 1e-6),
    "record_open_cryptodev_mrps": ("BM_RecordOpenCryptodev", "items_per_second", 1e-6),
    "record_seal_cryptodev_100k_flows_mrps":
        ("BM_RecordSealCryptodev100kFlows", "items_per_second", 1e-6),
    "record_seal_openssl_evp_mrps": ("BM_RecordSealOpensslEvp", "items_per_second", 1e-6),
    "record_roundtrip_wolfssl_mrps": ("BM_RecordRoundtripWolfssl", "items_per_second", 1e-6),
    "handshakes_ecdhe_rsa_per_s": ("BM_HandshakeEcdheRsa", "items_per_second", 1),
    "handshakes_ecdhe_ecdsa_per_s": ("BM_HandshakeEcdheEcdsa", "items_per_second", 1),
    "bytes_per_established_leg": ("BM_RecordLegMemory", "bytes_per_leg", 1),
    # bench/relay: the real worker on one core, generator and sink on the other (see RELAY_NOTES).
    "relay_dtls_dtls_mpps": ("BM_RelayDtlsDtls10kLegs", "items_per_second", 1e-6),
    "relay_dtls_dtls_100k_legs_mpps": ("BM_RelayDtlsDtls100kLegs", "items_per_second", 1e-6),
    "relay_dtls_dtls_hello_flood_mpps": ("BM_RelayDtlsDtlsHelloFlood10kLegs", "items_per_second",
                                         1e-6),
    "relay_dtls_plain_mpps": ("BM_RelayDtlsPlain10kLegs", "items_per_second", 1e-6),
    "relay_plain_plain_mpps": ("BM_RelayPlainPlain10kLegs", "items_per_second", 1e-6),
    "relay_latency_p99_us": ("BM_RelayLatencyHalfPeak10kLegs", "p99_us", 1),
    "crypto_limit_open_mrps": ("BM_CryptoLimitOpen10kLegs", "items_per_second", 1e-6),
    "leg_adds_per_s": ("BM_FlowSocketLegAdd", "items_per_second", 1),
    "leg_adds_pipelined_per_s": ("BM_FlowSocketLegAddPipelined32", "items_per_second", 1),
    "offers_per_s": ("BM_ControlOfferAnswer", "items_per_second", 1),
}
# Ratios measured within one run: (key, numerator key, denominator key or a number, factor):
# numerator / (denominator * factor).
RATIOS = [
    ("record_seal_cryptodev_vs_openssl_evp",
     "record_seal_cryptodev_mrps", "record_seal_openssl_evp_mrps", 1),
    # A relayed DTLS frame costs one open and one seal: the crypto ceiling is half the open rate.
    ("relay_dtls_dtls_vs_crypto_limit", "relay_dtls_dtls_mpps", "crypto_limit_open_mrps", 0.5),
    ("relay_plain_plain_vs_target", "relay_plain_plain_mpps", 15, 1),
    # Established legs' throughput under a ClientHello flood, against the same without one.
    ("relay_hello_flood_vs_no_flood", "relay_dtls_dtls_hello_flood_mpps", "relay_dtls_dtls_mpps",
     1),
]
# Targets of the issues: (key, ">=" or "<=", threshold, what it means).
TARGETS = [
    ("record_seal_cryptodev_vs_openssl_evp", ">=", 4, "cryptodev seal >= 4 x OpenSSL EVP seal"),
    ("handshakes_ecdhe_rsa_per_s", ">=", 400, "ECDHE-RSA-2048 handshakes >= 400/s"),
    ("bytes_per_established_leg", "<=", 4096, "record memory per established leg <= 4096 bytes"),
    ("relay_dtls_dtls_vs_crypto_limit", ">=", 0.5,
     "DTLS<->DTLS relay >= 0.5 x the crypto limit (crypto_limit_open_mrps / 2)"),
    ("relay_plain_plain_mpps", ">=", 15, "plain<->plain relay >= 15 Mpps per worker core"),
    ("relay_hello_flood_vs_no_flood", ">=", 0.9,
     "a ClientHello flood slows established legs by <= 10%"),
]
# How the relay keys are measured, written under the headline table when they are present.
RELAY_NOTES = """\
### How the relay figures are measured (bench/relay)

- `relay_*_mpps`: the real `dataplane::Worker` (its own `Run` loop, `PollOnce`) on EAL lcore 1
  (CPU 1) behind an in-memory port (`rte_eth_from_rings` over two rings); legs in a real
  `LegTable` and `DirectFlowTable`, linked in pairs, neighbour MACs set in the `NeighborTable`,
  record keys (distinct per leg) installed through the worker's command mailbox
  (`WorkerCommand::kInstallKeys`, the path a handshake takes), replay checks on. The generator on
  lcore 0 (CPU 0) plays every leg's remote end: it copies a per-leg Ethernet/IPv4/UDP frame
  template (128-byte UDPTL with redundancy) into fresh mbufs, seals DTLS records with the remote
  end's own keys on its own cryptodev queue (fresh sequence numbers) and sets the UDP checksum;
  every leg receives equally often, in shuffled order. The sink on the same lcore counts every
  frame the worker transmits and, one in 1024, parses it (checksums), checks the addresses and
  decrypts it with the peer leg's keys back to the UDPTL sent. Mpps = frames at the sink during
  0.3 s windows (3 per repetition). `gen_backpressure` ~1 and `rx_ring_empty` ~0 show that the
  worker, not the generator, is the limit; `drops` is the worker's drop count (0 expected);
  `worker_cpu_share` and `gen_cpu_share` are the CPU time the two threads got per second of
  window (about 1 on a quiet machine: lower values mean the shared machine took CPU time and the
  row is low by at least as much). The ring port offers no checksum offload, so the worker
  verifies and computes IPv4/UDP checksums in software, as it would on a NIC without offloads.
  dtls_dtls: 10k legs (or 100k), DTLS on both sides (open + seal per frame); dtls_plain: 10k legs,
  each pair one DTLS and one plain leg, traffic both ways; plain_plain: 10k plain legs.
- `relay_dtls_dtls_hello_flood_mpps`: dtls_dtls over 10k legs while one frame in 8 is a DTLS
  1.2 ClientHello (epoch 0 handshake record, no cookie) from a leg's own remote to the leg; the
  worker hands each to the handshake lcore's punt ring (`punted` in the row), which the sink
  empties. Mpps counts the established legs' relayed frames only;
  `relay_hello_flood_vs_no_flood` divides it by `relay_dtls_dtls_mpps` of the same run. The
  handshake lcore itself runs on its own CPU in the relay and answers with stateless cookies
  (crypto/dtls), so what the flood can take from established legs is the worker's share, which
  this measures.
- `relay_latency_p99_us`: DTLS<->DTLS over 10k legs, first the peak over one window, then frames
  paced one by one at half of it for 1 s; per frame, TSC at the generator's enqueue on the RX
  ring (in an mbuf field) to the sink's dequeue from the TX ring (p50 and p99.9 are in the row).
  Frames the sink would have taken earlier had its own thread not stalled (a loop pass > 20 us
  late: the VM took the CPU; `gen_stalls_per_s`, `gen_stall_max_us`) are left out;
  `p99_all_frames_us` keeps them. The tail of this VM (timer ticks, vCPU preemption, hundreds of
  20+ us stalls per second on both CPUs) makes p99 vary between runs (30 to 600 us seen).
- `crypto_limit_open_mrps`: `RecordProtector::Open` on the worker's cryptodev queue
  (`crypto_aesni_gcm`), 128-byte records, bursts of 32 over 10k legs in shuffled order, same
  process and run (records sealed by the peers between bursts, untimed).
- `leg_adds_per_s`: `leg.add` (dtls, actpass, remote and a sha-256 fingerprint) over the real flow
  socket of a real `Relay` (`Relay::Create` on net_ring-style ring ports, `Relay::Run` serving on
  its own thread, worker lcore 1 and handshake lcore 2 on CPU 1), from a client on CPU 0: strict
  request/reply, one request in flight; `leg_adds_pipelined_per_s`: 32 requests written before
  their replies are read. 1000 legs per iteration, 20k legs in the table at the end.
- `offers_per_s`: offer + answer pairs of DTLS<->DTLS calls (SDP with T.38 attributes, setup,
  fingerprint, tls-id) over the control socket of an in-process control daemon
  (`ControlSocketServer` + `CallManager` + `FlowClient` on their own thread, as
  `t38relay-control` runs them) that programs a real `Relay` over its flow socket (two legs
  added and linked, the answer's update, the legs' labels); strict request/reply as `t38ctl`
  sends them; 250 calls per iteration, 5000 calls (10k legs) held at the end, checked in the
  relay's `stats`.
- The relay benchmark is not pinned with taskset: it places its lcores on both CPUs itself.
"""


FAX_NOTES = """\
## Real faxes through the relay (bench/fax/fax_bench.py)

The dataplane on `net_tap` (cryptodev record backend), `t38relay-control`, and two
`t38relay-fax` endpoints (spandsp) in network namespaces, the call driven through `t38ctl` with
their SDP, DTLS on both legs, as the e2e tests run it. `dtls_dtls`: the vectors' `send.tiff` (one
A4 page); `loss_*`: its top 270 rows through 5% random loss on leg a, both directions (netem, or
nftables where the kernel has no sch_netem), with redundancy 3 or FEC (T38FaxUdpEC). A fax is paced
in real time (V.17, 14400 bit/s), so duration measures the fax, not the relay. Packets are UDPTL
datagrams; `recovered` counts IFPs the receiving endpoint rebuilt from redundancy or FEC,
`lost` the ones it could not (T.30 ECM then asks for them again); the relay's drops are the
first signals of the side whose DTLS leg came up first (`peer-not-ready`).
"""


def fax_headline(runs):
    """The headline keys of the fax runs: fax_<run>_duration_s, _packets (both ways),
    _recovered (both endpoints), _ok."""
    out = {}
    for name, r in runs.items():
        out[f"fax_{name}_ok"] = r["ok"]
        out[f"fax_{name}_duration_s"] = r["duration_s"]
        out[f"fax_{name}_packets"] = (r["packets_a_to_b"] or 0) + (r["packets_b_to_a"] or 0)
        out[f"fax_{name}_recovered"] = (r["recovered_by_b"] or 0) + (r["recovered_by_a"] or 0)
    return out


def fax_table(runs):
    lines = ["| run | result | pages | bit/s | duration | UDPTL a->b / b->a | received by b / a | "
             "recovered by b / a | lost by b / a | relay forwarded (caller / callee) | relay "
             "drops | dropped by the loss |", "| --- " * 12 + "|"]
    for name, r in runs.items():
        fwd, drop = r["relay_forwarded"], r["relay_dropped"]
        lines.append(
            f"| {name} ({r['ec']}, loss: {r['loss']}) | {'ok' if r['ok'] else 'FAILED: ' + r['error']}"
            f" | {r['pages']} | {r['bit_rate']} | {r['duration_s']} s | {r['packets_a_to_b']} / "
            f"{r['packets_b_to_a']} | {r['received_by_b']} / {r['received_by_a']} | "
            f"{r['recovered_by_b']} / {r['recovered_by_a']} | {r['lost_by_b']} / {r['lost_by_a']}"
            f" | {fwd.get('caller')} / {fwd.get('callee')} | {drop.get('caller')} / "
            f"{drop.get('callee')} | {r['dropped_by_loss']} |")
    return "\n".join(lines) + "\n"


def medians(paths):
    context, rows = None, []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data["context"]
        runs = [b for b in data["benchmarks"] if b.get("aggregate_name") == "median"]
        if not runs:  # one repetition: no aggregates
            runs = [b for b in data["benchmarks"] if b.get("run_type") == "iteration"]
        rows += runs
    return context, rows


def base_name(row):
    return row.get("run_name", row["name"]).split("/")[0]


def headline(rows):
    out = {}
    for key, (name, field, scale) in KEYS.items():
        for row in rows:
            if base_name(row) == name and field in row:
                out[key] = round(row[field] * scale, 3)
                break
    for key, num, den, factor in RATIOS:
        den_value = den if isinstance(den, (int, float)) else out.get(den)
        if num in out and den_value:
            out[key] = round(out[num] / (den_value * factor), 2)
    return out


def targets(figures):
    rows = []
    for key, op, threshold, what in TARGETS:
        if key not in figures:
            continue
        value = figures[key]
        met = value >= threshold if op == ">=" else value <= threshold
        rows.append({"key": key, "value": value, "target": f"{op} {threshold}", "what": what,
                     "met": met})
    return rows


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt_rate(row):
    parts = []
    if "items_per_second" in row:
        rate = row["items_per_second"]
        parts.append(f"{rate / 1e6:,.3f} M items/s" if rate >= 1e5 else f"{rate:,.1f} items/s")
    if "bytes_per_second" in row:
        parts.append(f"{row['bytes_per_second'] / 1e9:,.2f} GB/s")
    for k, v in row.items():
        if k == "bytes_per_leg":
            parts.append(f"{v:,.0f} bytes/leg")
    # The relay rows' evidence: latency percentiles, who was the limit, CPU time the threads got.
    for k in ("p50_us", "p99_us", "p999_us", "drops", "gen_backpressure", "worker_cpu_share"):
        if k in row:
            v = row[k]
            parts.append(f"{k} {v:,.0f}" if abs(v) >= 100 else f"{k} {v:.3g}")
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--command", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--fax", help="bench/fax/fax_bench.py's output: real faxes through the relay")
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    args.command = args.command.strip()
    context, rows = medians(args.results)
    figures = headline(rows)
    fax_runs = {}
    if args.fax and os.path.exists(args.fax):
        with open(args.fax) as f:
            fax_runs = json.load(f)["fax_runs"]
        figures.update(fax_headline(fax_runs))
    machine = {
        "host": context.get("host_name"),
        "cpu": cpu_model(),
        "cpus": context.get("num_cpus"),
        "mhz": context.get("mhz_per_cpu"),
        "caches": [f"L{c['level']} {c['type']} {c['size'] // 1024} KB"
                   for c in context.get("caches", [])],
    }
    result = dict(figures)
    result["targets"] = targets(figures)
    result["machine"] = machine
    result["command"] = args.command
    result["date"] = context.get("date")
    result["benchmarks"] = rows
    if fax_runs:
        result["fax_runs"] = fax_runs
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    reps = rows[0].get("repetitions", 1) if rows else 0
    with open(args.markdown, "w") as f:
        f.write("# Benchmark results\n\n")
        f.write("Written by `bench/run` (do not edit by hand: run it again). Medians of "
                f"{reps} repetitions in one run on a shared, noisy machine, repetitions of "
                "different benchmarks interleaved at random: compare rows of the same run, not "
                "across runs.\n\n")
        f.write(f"- command: `{args.command}`\n- date: {result['date']}\n")
        f.write(f"- machine: {machine['cpu']}, {machine['cpus']} CPUs at {machine['mhz']} MHz, "
                f"{', '.join(machine['caches'])}\n")
        f.write("- build: release (`-O3`, `NDEBUG`), pinned to one core with taskset (except "
                "`relay_bench`, which uses both CPUs)\n\n")
        if figures:
            f.write("## Headline figures (bench/results/latest.json)\n\n| key | value |\n"
                    "| --- | ---: |\n")
            for k, v in figures.items():
                f.write(f"| `{k}` | {f'{v:,}' if isinstance(v, (int, float)) and not isinstance(v, bool) else v} |\n")
            f.write("\n")
        if result["targets"]:
            f.write("## Targets\n\n| target | key | value | met |\n| --- | --- | ---: | --- |\n")
            for t in result["targets"]:
                f.write(f"| {t['what']} | `{t['key']}` | {t['value']:,} | "
                        f"{'yes' if t['met'] else '**no**'} |\n")
            f.write("\n")
        if any(k.startswith("relay_") for k in figures):
            f.write(RELAY_NOTES + "\n")
        if fax_runs:
            f.write(FAX_NOTES + "\n" + fax_table(fax_runs) + "\n")
        f.write("## All benchmarks\n\n| benchmark | median time | median CPU | throughput |\n"
                "| --- | ---: | ---: | ---: |\n")
        for row in rows:
            unit = row["time_unit"]
            f.write(f"| {row.get('run_name', row['name'])} | {row['real_time']:,.1f} {unit} | "
                    f"{row['cpu_time']:,.1f} {unit} | {fmt_rate(row)} |\n")


if __name__ == "__main__":
    main()
