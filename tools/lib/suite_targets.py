#!/usr/bin/env python3
"""Prints the ninja targets a meson test suite needs (its test programs and their declared
dependencies), one per line, relative to the build directory: tools/test builds only these for
the sanitizer run of the unit suite.

usage: suite_targets.py BUILD_DIR SUITE
"""
import json
import os
import subprocess
import sys


def introspect(build_dir, what):
    out = subprocess.run(["meson", "introspect", build_dir, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    build_dir, suite = sys.argv[1], sys.argv[2]
    root = os.path.abspath(build_dir)
    files_by_id = {t["id"]: t["filename"] for t in introspect(build_dir, "--targets")}
    wanted = set()
    for test in introspect(build_dir, "--tests"):
        # Suites are reported as "<project>:<suite>".
        if not any(s == suite or s.endswith(":" + suite) for s in test["suite"]):
            continue
        paths = [test["cmd"][0]]
        for target_id in test.get("depends", []):
            paths += files_by_id.get(target_id, [])
        for path in paths:
            if os.path.abspath(path).startswith(root + os.sep):
                wanted.add(os.path.relpath(path, root))
    if not wanted:
        sys.exit(f"suite_targets.py: no targets for suite {suite!r} in {build_dir}")
    print("\n".join(sorted(wanted)))


if __name__ == "__main__":
    main()
