#!/usr/bin/env bash
# Installs what is missing, builds Release and an ASan+UBSan (clang,
# libFuzzer) configuration, and runs every test of both with ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
"${root}/deploy/setup.sh" test

run_suite() {
  local dir="$1"
  # End-to-end and adversarial tests (labels e2e, adversarial) start gsocd
  # and real senders and measure throughput, time and memory: they run one
  # at a time, after the rest ran in parallel.
  ctest --test-dir "${dir}" --output-on-failure -j "${jobs}" -LE "e2e|adversarial"
  ctest --test-dir "${dir}" --output-on-failure -L "e2e|adversarial"
}

echo "== Release"
"${root}/deploy/build.sh" release
run_suite "${root}/build/release"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"${root}/deploy/build.sh" asan
run_suite "${root}/build/asan"
echo "deploy/test.sh: all suites passed"
