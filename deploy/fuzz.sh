#!/usr/bin/env bash
# Long fuzzing: builds the libFuzzer targets (the asan configuration: clang,
# ASan + UBSan, GSOC_FUZZ=ON) and runs each for MINUTES, up to JOBS at once,
# from its corpus in the repository (tests/fuzz/corpus/<target>/). New inputs
# that add coverage are merged back into that corpus (libFuzzer -merge=1);
# when the corpus would exceed MAX_FILES files or MAX_KIB KiB it is minimised,
# and if still too big the new inputs are not kept. Crashes, leaks, timeouts
# and out-of-memory inputs are saved under WORK/<target>/ and fail the run
# with the reproducer's path and the command that replays it.
#
# Usage: deploy/fuzz.sh [--minutes N] [--jobs N] [--work DIR] [--no-build]
#                       [--no-merge] [TARGET...]
#   --minutes N  per target (default 10, env MINUTES); fractions allowed
#   --jobs N     targets at once (default nproc, env JOBS)
#   --work DIR   logs, new inputs and crashes (default build/fuzz-work)
#   --no-build   use build/asan as it is
#   --no-merge   leave tests/fuzz/corpus untouched
#   TARGET       names from tests/fuzz/CMakeLists.txt (default: all)
# Env: MAX_FILES (default 1000) and MAX_KIB (default 512) cap one corpus;
# NICE (default 10) is the fuzzers' nice level; BUILD (default build/asan);
# FUZZ_FLAGS: more libFuzzer flags (e.g. -len_control=0 for long inputs now).
# Exit: 0 all clean, 1 a target found something (or failed to run), 2 usage.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MINUTES="${MINUTES:-10}"
JOBS="${JOBS:-$(nproc)}"
WORK="${root}/build/fuzz-work"
BUILD="${BUILD:-${root}/build/asan}"
MAX_FILES="${MAX_FILES:-1000}"
MAX_KIB="${MAX_KIB:-512}"
NICE="${NICE:-10}"
build=1 merge=1 targets=()

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-merge) merge=0; shift ;;
    -h|--help) usage 0 ;;
    -*) usage 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

# Targets and their -max_len, from `gsoc_add_fuzzer(NAME SOURCE ... [MAX_LEN n])`.
declare -A max_len
while read -r name len; do max_len["${name}"]="${len}"; done < <(
  sed -n 's/^gsoc_add_fuzzer(\([a-z0-9_]*\) .*/\1 &/p' "${root}/tests/fuzz/CMakeLists.txt" |
    awk '{ len = 70000; if (match($0, /MAX_LEN [0-9]+/)) len = substr($0, RSTART + 8, RLENGTH - 8)
           print $1, len }')
((${#targets[@]})) || mapfile -t targets < <(printf "%s\n" "${!max_len[@]}" | sort)
for target in "${targets[@]}"; do
  [[ -n "${max_len[${target}]:-}" ]] || { echo "fuzz: unknown target ${target}" >&2; exit 2; }
done
read -ra extra <<<"${FUZZ_FLAGS:-}"
seconds="$(awk -v m="${MINUTES}" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')"

if ((build)); then
  [[ -f "${BUILD}/CMakeCache.txt" ]] || TARGETS=none "${root}/deploy/build.sh" asan
  grep -q '^GSOC_FUZZ:BOOL=ON' "${BUILD}/CMakeCache.txt" ||
    { echo "fuzz: ${BUILD} is not configured with GSOC_FUZZ=ON" >&2; exit 2; }
  nice -n "${NICE}" cmake --build "${BUILD}" -j "${JOBS}" --target "${targets[@]}"
fi

# corpus_size DIR: "FILES files, KIB KiB".
corpus_size() {
  local files bytes
  files="$(find "$1" -type f | wc -l)"
  bytes="$(find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
  echo "${files} files, $(((bytes + 1023) / 1024)) KiB"
}
over_cap() {
  local files kib
  files="$(find "$1" -type f | wc -l)"
  kib="$(find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", (s + 1023) / 1024 }')"
  ((files > MAX_FILES || kib > MAX_KIB))
}

# merge_back TARGET: adds the new inputs that add coverage to the repo corpus,
# within the caps.
merge_back() {
  local target=$1 bin="${BUILD}/tests/fuzz/$1" corpus="${root}/tests/fuzz/corpus/$1"
  local dir="${WORK}/$1" len="${max_len[$1]}"
  rm -rf "${dir}/merged" "${dir}/min" && cp -r "${corpus}" "${dir}/merged"
  "${bin}" -merge=1 -max_len="${len}" -rss_limit_mb=2048 -timeout=30 \
    "${dir}/merged" "${dir}/new" >>"${dir}/merge.log" 2>&1 || return 1
  if over_cap "${dir}/merged"; then
    mkdir -p "${dir}/min"
    "${bin}" -merge=1 -max_len="${len}" -rss_limit_mb=2048 -timeout=30 \
      "${dir}/min" "${dir}/merged" >>"${dir}/merge.log" 2>&1 || return 1
    rm -rf "${dir}/merged" && mv "${dir}/min" "${dir}/merged"
  fi
  if over_cap "${dir}/merged"; then
    echo "${target}: corpus would be $(corpus_size "${dir}/merged") (cap ${MAX_FILES} files," \
      "${MAX_KIB} KiB): new inputs not kept" >>"${dir}/summary"
    return 0
  fi
  rm -rf "${corpus}" && mv "${dir}/merged" "${corpus}"
}

# run_target TARGET: fuzzes it; writes WORK/TARGET/summary; returns 1 on a finding.
run_target() {
  local target=$1 bin="${BUILD}/tests/fuzz/$1" corpus="${root}/tests/fuzz/corpus/$1"
  local dir="${WORK}/$1" rc=0 before stats artifact
  mkdir -p "${dir}/new" "${dir}/crashes" "${corpus}"
  before="$(corpus_size "${corpus}")"
  ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" nice -n "${NICE}" "${bin}" \
    -max_total_time="${seconds}" -rss_limit_mb=2048 -timeout=30 -max_len="${max_len[${target}]}" \
    -print_final_stats=1 -artifact_prefix="${dir}/crashes/" ${extra[@]+"${extra[@]}"} "${dir}/new" "${corpus}" \
    >"${dir}/log" 2>&1 || rc=$?
  stats="$(grep -E '^#[0-9]+' "${dir}/log" | tail -n 1 | sed 's/^\(#[0-9]*\)[[:space:]]*[A-Z]*/\1/')"
  local execs rate
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "${dir}/log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "${dir}/log")"
  {
    echo "${target}: ${MINUTES} min, ${execs:-?} execs, ${rate:-?} exec/s; ${stats}"
    if ((rc != 0)); then
      artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "${dir}/log" | tail -n 1)"
      echo "${target}: FAILED (exit ${rc}): $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|ALARM|out-of-memory|deadly signal' "${dir}/log" || echo 'see log')"
      echo "  reproducer: ${artifact:-none written; see ${dir}/log}"
      echo "  replay:     ${bin} ${artifact:-<input>}"
      echo "  minimise:   ${bin} -minimize_crash=1 -runs=100000 ${artifact:-<input>}"
      echo "  log:        ${dir}/log"
    fi
  } >"${dir}/summary"
  if ((rc == 0 && merge)); then
    merge_back "${target}" || echo "${target}: merge failed: see ${dir}/merge.log" >>"${dir}/summary"
  fi
  echo "${target}: corpus ${before} -> $(corpus_size "${corpus}")" >>"${dir}/summary"
  return $((rc != 0))
}

mkdir -p "${WORK}"
echo "fuzz: ${#targets[@]} target(s), ${MINUTES} min each, ${JOBS} at once; work in ${WORK}"
running=0
for target in "${targets[@]}"; do
  rm -rf "${WORK:?}/${target}"
  if ((running >= JOBS)); then wait -n || true; running=$((running - 1)); fi
  run_target "${target}" &
  running=$((running + 1))
done
wait || true
failed=0
for target in "${targets[@]}"; do
  [[ -s "${WORK}/${target}/summary" ]] || echo "${target}: FAILED: no summary" >"${WORK}/${target}/summary"
  cat "${WORK}/${target}/summary"
  ! grep -q FAILED "${WORK}/${target}/summary" || failed=1
done
if ((failed)); then echo "fuzz: FAILED (see above)"; exit 1; fi
echo "fuzz: all ${#targets[@]} target(s) clean"
