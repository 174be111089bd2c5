#!/usr/bin/env python3
"""Prints 'N passed, N failed' (and skips) from meson test logs, so a run that ran nothing shows.

test_summary.py LOG         one line for one build; exit 1 if anything failed or nothing ran
test_summary.py --total LOG...  the same over several builds
"""
import json
import sys


def count(paths):
    passed = failed = skipped = 0
    for path in paths:
        with open(path) as f:
            for line in f:
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    return passed, failed, skipped


def main(argv):
    total = argv[:1] == ["--total"]
    paths = argv[1:] if total else argv
    passed, failed, skipped = count(paths)
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(("total: " if total else "") + line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
