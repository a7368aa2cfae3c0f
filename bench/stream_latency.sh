#!/usr/bin/env bash
# Event-to-client latency of the live alert stream: starts gsocd with the
# shipped rule pack (alert store with `sync: batch`), then runs
# gsoc_bench_stream_latency against it RUNS times and prints each run's
# p50/p90/p99/max and the median p50 and p99 over the runs.
#
# Usage: bench/stream_latency.sh [-r RATE] [-s SECONDS] [-n RUNS]
#   RATE     alerts per second     (default 10000, env RATE)
#   SECONDS  per run               (default 10, env SECONDS_PER_RUN)
#   RUNS     runs                  (default 3, env RUNS)
# Binaries: env GSOCD (default build/release/engine/daemon/gsocd) and BENCH
# (default build/release/bench/gsoc_bench_stream_latency).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
BENCH="${BENCH:-${root}/build/release/bench/gsoc_bench_stream_latency}"
RATE="${RATE:-10000}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
RUNS="${RUNS:-3}"

while getopts "r:s:n:h" opt; do
  case "${opt}" in
    r) RATE="${OPTARG}" ;;
    s) SECONDS_PER_RUN="${OPTARG}" ;;
    n) RUNS="${OPTARG}" ;;
    *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done

for bin in "${GSOCD}" "${BENCH}"; do
  [[ -x "${bin}" ]] || { echo "stream_latency: not executable: ${bin} (build it first)" >&2; exit 2; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-latency.XXXXXX")"
gsocd_pid=""
cleanup() {
  local rc=$?
  if [[ -n "${gsocd_pid}" ]] && kill -0 "${gsocd_pid}" 2>/dev/null; then
    kill -TERM "${gsocd_pid}" 2>/dev/null || true
    wait "${gsocd_pid}" 2>/dev/null || true
  fi
  [[ ${rc} -ne 0 && -s "${tmp}/gsocd.log" ]] && tail -n 20 "${tmp}/gsocd.log" >&2
  rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT

cat >"${tmp}/gsoc.yaml" <<EOF_CONFIG
log_level: warn
data_dir: ${tmp}/var
agencies:
  - {name: local, cidrs: [127.0.0.0/8]}
listeners:
  - {name: syslog_tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
metrics: {port: 0}
api: {port: 0}
alerts: {file: false}
rules:
  sigma: [${root}/rules/sigma]
  decoders: [${root}/rules/decoders]
  logsources: ${root}/rules/logsources.yaml
  lists:
    - {name: bad_ips, file: ${root}/rules/lists/bad_ips.txt}
    - {name: bad_domains, file: ${root}/rules/lists/bad_domains.txt}
EOF_CONFIG

"${GSOCD}" --config "${tmp}/gsoc.yaml" --ports-file "${tmp}/ports.json" >"${tmp}/gsocd.log" 2>&1 &
gsocd_pid=$!
for _ in $(seq 600); do [[ -s "${tmp}/ports.json" ]] && break; sleep 0.05; done
[[ -s "${tmp}/ports.json" ]] || { echo "stream_latency: gsocd did not start" >&2; exit 1; }
port() { sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "${tmp}/ports.json"; }
token="$(tr -d '[:space:]' <"${tmp}/var/api-token")"

p50s=() p99s=()
for run in $(seq "${RUNS}"); do
  line="$("${BENCH}" --tcp "$(port syslog_tcp)" --api "$(port api)" --token "${token}" \
        --rate "${RATE}" --seconds "${SECONDS_PER_RUN}" \
    --first-source "$(( (run - 1) * RATE / 2 * SECONDS_PER_RUN ))")"
  echo "run ${run}: ${line}"
  p50s+=("$(echo "${line}" | sed -n 's/.*p50 \([0-9.]*\).*/\1/p')")
  p99s+=("$(echo "${line}" | sed -n 's/.*p99 \([0-9.]*\).*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median over ${RUNS} runs at ${RATE} alerts/s: p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms"
