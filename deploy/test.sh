#!/usr/bin/env bash
# Installs what is missing, builds Release and an ASan+UBSan (clang,
# libFuzzer) configuration, and runs every test of both with ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
"${root}/deploy/setup.sh" test

run_suite() {
  local dir="$1" e2e_jobs="$2"
  ctest --test-dir "${dir}" --output-on-failure -j "${jobs}" -LE "e2e|adversarial"
  ctest --test-dir "${dir}" --output-on-failure -j "${e2e_jobs}" -L "e2e|adversarial"
}

phase() { echo "== $1 ($(date -u +%T), ${SECONDS} s in)"; }

phase "Release: build"
"${root}/deploy/build.sh" release

# The ASan build runs at the lowest priority while the Release tests run: it
# takes only the CPU they leave idle (the end-to-end tests mostly wait on
# senders, timers and sockets), and saves minutes of the suite's wall time.
# Measured on the 2-core VM: Release e2e+adversarial took 282 s beside it
# against 288 s alone.
asan_log="${root}/build/asan-build.log"
nice -n 19 "${root}/deploy/build.sh" asan >"${asan_log}" 2>&1 &
asan_build=$!
trap 'kill "${asan_build}" 2>/dev/null || true' EXIT

# End-to-end and adversarial tests (labels e2e, adversarial) start gsocd and
# real senders and measure throughput, time and memory. In Release they run
# one at a time, after the rest ran in parallel. Under ASan they send less
# and assert only loose time bounds (the harness scales its timeouts by 4),
# so they run two at a time: 288 s instead of about twice that, all 93
# passing with a Release build running beside them (2026-12-04). The
# adversarial tests are RUN_SERIAL (tests/adversarial/CMakeLists.txt): they
# assert answer times, and beside another attack one took 1.4 s of its 1 s.
phase "Release: tests"
run_suite "${root}/build/release" 1

phase "AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer): build"
if ! wait "${asan_build}"; then
  tail -n 60 "${asan_log}"
  echo "deploy/test.sh: the ASan build failed (whole log: ${asan_log})" >&2
  exit 1
fi
trap - EXIT
tail -n 2 "${asan_log}"

phase "AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer): tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run_suite "${root}/build/asan" "${jobs}"
phase "deploy/test.sh: all suites passed"
