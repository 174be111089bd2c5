#!/usr/bin/env bash
# The t38relay-inspect command line: exit codes, one-line errors, JSON output.
set -u
inspect=$1
fail=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}

out=$("$inspect" --pcap /nonexistent.pcap 2>&1); rc=$?
check "missing file exits non-zero" test $rc -ne 0
check "missing file is one line" test "$(printf '%s\n' "$out" | wc -l)" -eq 1
check "missing file names the file" grep -q nonexistent.pcap <<<"$out"

"$inspect" >/dev/null 2>&1; rc=$?
check "no input is a usage error" test $rc -eq 2
"$inspect" --hex 0g >/dev/null 2>&1; rc=$?
check "bad hex is a usage error" test $rc -eq 2
"$inspect" --stun-long-term nocolons --hex 00 >/dev/null 2>&1; rc=$?
check "bad credentials are a usage error" test $rc -eq 2

out=$("$inspect" --hex 16fefd00000000000000000005 2>&1); rc=$?
check "hex decodes" test $rc -eq 0
check "hex prints a DTLS error" grep -q '"error":"dtls-truncated-record"' <<<"$out"

if [ -n "${T38_VECTORS_DIR:-}" ] && [ -d "$T38_VECTORS_DIR" ]; then
  out=$("$inspect" --pcap "$T38_VECTORS_DIR/stun/rfc5769_vectors.pcap" \
        --stun-password VOkJxbRl1RmTxUk/WvJxBt); rc=$?
  check "pcap decodes" test $rc -eq 0
  check "one JSON line per datagram" test "$(printf '%s\n' "$out" | wc -l)" -eq 4
  check "integrity checked" test "$(grep -c '"integrity_ok":true' <<<"$out")" -eq 3
  out=$("$inspect" --pcap "$T38_VECTORS_DIR/asterisk-testsuite/ast-2016-003/sipp/crash.pcap" \
        --port 2 --summary)
  check "summary counts errors" grep -q '"errors_by_name":{"udptl-truncated":2}' <<<"$out"
fi
exit $fail
