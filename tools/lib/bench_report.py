#!/usr/bin/env python3
"""Merges Google Benchmark JSON files into bench/results/latest.json and bench/RESULTS.md.

bench_report.py --command CMD --json OUT.json --markdown OUT.md RESULT.json...

latest.json holds the headline figures under stable keys at the top level (see KEYS), the machine,
the command, and every median. Figures missing from this run are left out, never invented.
"""
import argparse
import json
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
}
# Ratios measured within one run: (key, numerator key, denominator key).
RATIOS = [
    ("record_seal_cryptodev_vs_openssl_evp",
     "record_seal_cryptodev_mrps", "record_seal_openssl_evp_mrps"),
]


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
    for key, num, den in RATIOS:
        if num in out and den in out and out[den]:
            out[key] = round(out[num] / out[den], 2)
    return out


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
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--command", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    args.command = args.command.strip()
    context, rows = medians(args.results)
    figures = headline(rows)
    machine = {
        "host": context.get("host_name"),
        "cpu": cpu_model(),
        "cpus": context.get("num_cpus"),
        "mhz": context.get("mhz_per_cpu"),
        "caches": [f"L{c['level']} {c['type']} {c['size'] // 1024} KB"
                   for c in context.get("caches", [])],
    }
    result = dict(figures)
    result["machine"] = machine
    result["command"] = args.command
    result["date"] = context.get("date")
    result["benchmarks"] = rows
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
        f.write("- build: release (`-O3`, `NDEBUG`), pinned to one core with taskset\n\n")
        if figures:
            f.write("## Headline figures (bench/results/latest.json)\n\n| key | value |\n"
                    "| --- | ---: |\n")
            for k, v in figures.items():
                f.write(f"| `{k}` | {v:,} |\n")
            f.write("\n")
        f.write("## All benchmarks\n\n| benchmark | median time | median CPU | throughput |\n"
                "| --- | ---: | ---: | ---: |\n")
        for row in rows:
            unit = row["time_unit"]
            f.write(f"| {row.get('run_name', row['name'])} | {row['real_time']:,.1f} {unit} | "
                    f"{row['cpu_time']:,.1f} {unit} | {fmt_rate(row)} |\n")


if __name__ == "__main__":
    main()
