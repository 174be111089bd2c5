#!/usr/bin/env python3
"""Turns a Google Benchmark JSON file into bench/RESULTS.md: machine, command, median figures.

bench_report.py RESULTS.json "COMMAND"
"""
import json
import sys

HEADER = """# Benchmark results

Written by `bench/run` (do not edit by hand: run it again). Medians of {reps} repetitions, measured
in one run on a shared, noisy machine: compare rows of the same run, not across runs.

- command: `{command}`
- date: {date}
- machine: {host}, {cpus} CPUs, {mhz} MHz, caches {caches}
- build: {build}, library build type reported by Google Benchmark: {lib_build}

| benchmark | median time | median CPU | throughput |
| --- | ---: | ---: | ---: |
"""


def fmt_time(value, unit):
    return f"{value:,.1f} {unit}"


def fmt_rate(row):
    parts = []
    if "items_per_second" in row:
        parts.append(f"{row['items_per_second'] / 1e6:,.2f} M items/s")
    if "bytes_per_second" in row:
        parts.append(f"{row['bytes_per_second'] / 1e9:,.2f} GB/s")
    return ", ".join(parts)


def main(path, command):
    with open(path) as f:
        data = json.load(f)
    ctx = data["context"]
    caches = ", ".join(f"L{c['level']} {c['type'][0].lower()} {c['size'] // 1024} KB"
                       for c in ctx.get("caches", []))
    rows = [b for b in data["benchmarks"] if b.get("aggregate_name") == "median"]
    if not rows:  # run with one repetition: no aggregates
        rows = [b for b in data["benchmarks"] if b.get("run_type") == "iteration"]
    reps = rows[0].get("repetitions", 1) if rows else 0
    print(HEADER.format(reps=reps, command=command, date=ctx.get("date", "?"),
                        host=ctx.get("host_name", "?"), cpus=ctx.get("num_cpus", "?"),
                        mhz=ctx.get("mhz_per_cpu", "?"), caches=caches or "?",
                        build="release (-O3, NDEBUG)",
                        lib_build=ctx.get("library_build_type", "?")), end="")
    for row in rows:
        name = row.get("run_name", row["name"])
        print(f"| {name} | {fmt_time(row['real_time'], row['time_unit'])} | "
              f"{fmt_time(row['cpu_time'], row['time_unit'])} | {fmt_rate(row)} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
