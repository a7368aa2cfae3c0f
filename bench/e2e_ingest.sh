#!/usr/bin/env bash
# End-to-end ingest benchmark: gsoc-loadgen -> gsocd (syslog over TCP) until
# gsoc_events_processed_total has counted every message.
#
# Usage: bench/e2e_ingest.sh [-n COUNT] [-c CONNECTIONS] [-t TEMPLATE] [-r RUNS]
#                            [-T TIMEOUT_S] [-f FRAMING] [-- EXTRA LOADGEN ARGS]
#   COUNT        messages per run                    (default 5000000, env COUNT)
#   CONNECTIONS  loadgen TCP connections             (default 2, env CONNECTIONS)
#   TEMPLATE     rfc3164 | rfc5424 | mix             (default mix, env TEMPLATE)
#   RUNS         runs against one gsocd              (default 5, env RUNS)
#   TIMEOUT_S    max seconds per run until processed (default 300, env TIMEOUT)
#   FRAMING      octet | lf                          (default octet, env FRAMING)
# Binaries: env GSOCD (default build/engine/daemon/gsocd) and LOADGEN
# (default build/tools/loadgen/gsoc-loadgen), relative to the repository root.
#
# Per run: e2e rate = COUNT / (time from starting the send to the poll that
# saw the last event processed; polls every POLL_S, default 0.02 s). The
# loadgen's own send rate is printed too. Needs curl.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/engine/daemon/gsocd}"
LOADGEN="${LOADGEN:-${root}/build/tools/loadgen/gsoc-loadgen}"
COUNT="${COUNT:-5000000}"
CONNECTIONS="${CONNECTIONS:-2}"
TEMPLATE="${TEMPLATE:-mix}"
RUNS="${RUNS:-5}"
TIMEOUT="${TIMEOUT:-300}"
FRAMING="${FRAMING:-octet}"
POLL_S="${POLL_S:-0.02}"

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while getopts "n:c:t:r:T:f:h" opt; do
  case "${opt}" in
    n) COUNT="${OPTARG}" ;;
    c) CONNECTIONS="${OPTARG}" ;;
    t) TEMPLATE="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    T) TIMEOUT="${OPTARG}" ;;
    f) FRAMING="${OPTARG}" ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")

for bin in "${GSOCD}" "${LOADGEN}"; do
  [[ -x "${bin}" ]] || { echo "e2e_ingest: not executable: ${bin} (build it first)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "e2e_ingest: curl is required" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-e2e.XXXXXX")"
gsocd_pid=""

cleanup() {
  local rc=$?
  if [[ -n "${gsocd_pid}" ]] && kill -0 "${gsocd_pid}" 2>/dev/null; then
    kill -TERM "${gsocd_pid}" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "${gsocd_pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${gsocd_pid}" 2>/dev/null || true
    wait "${gsocd_pid}" 2>/dev/null || true
  fi
  if [[ ${rc} -ne 0 && -s "${tmp}/gsocd.log" ]]; then
    echo "--- last lines of gsocd log:" >&2
    tail -n 20 "${tmp}/gsocd.log" >&2
  fi
  rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

write_config() {
  cat >"${tmp}/gsoc.yaml" <<EOF
log_level: warn
data_dir: ${tmp}/var
agencies:
  - name: local
    cidrs: [127.0.0.0/8, "::1/128"]
listeners:
  - {name: syslog_tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
metrics: {address: 127.0.0.1, port: 0}
EOF
}

# json_port NAME: the port of NAME in ports.json.
json_port() {
  sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "${tmp}/ports.json"
}

start_gsocd() {
  "${GSOCD}" --config "${tmp}/gsoc.yaml" --ports-file "${tmp}/ports.json" \
    >"${tmp}/gsocd.log" 2>&1 &
  gsocd_pid=$!
  local deadline=$(($(date +%s) + 30))
  until [[ -s "${tmp}/ports.json" ]]; do
    kill -0 "${gsocd_pid}" 2>/dev/null || { echo "e2e_ingest: gsocd exited" >&2; exit 1; }
    (($(date +%s) < deadline)) || { echo "e2e_ingest: no ports file after 30 s" >&2; exit 1; }
    sleep 0.05
  done
  syslog_port="$(json_port syslog_tcp)"
  metrics_port="$(json_port metrics)"
  [[ -n "${syslog_port}" && -n "${metrics_port}" ]] ||
    { echo "e2e_ingest: bad ports file: $(cat "${tmp}/ports.json")" >&2; exit 1; }
}

# metric NAME: the value of an unlabelled metric (0 if absent), as an integer.
metric() {
  curl -sf --max-time 5 "http://127.0.0.1:${metrics_port}/metrics" |
    awk -v name="$1" '$1 == name { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }'
}

# run_once INDEX: prints "run I: ..." and records the e2e rate in rates[].
run_once() {
  local index=$1 base target start csv send_rate processed end elapsed rate
  base="$(metric gsoc_events_processed_total)"
  target=$((base + COUNT))
  start="$(now)"
  csv="$("${LOADGEN}" --host 127.0.0.1 --port "${syslog_port}" --count "${COUNT}" \
    --connections "${CONNECTIONS}" --template "${TEMPLATE}" --framing "${FRAMING}" \
    --csv ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})" ||
    { echo "e2e_ingest: gsoc-loadgen failed" >&2; exit 1; }
  send_rate="$(echo "${csv}" | awk -F, 'NR == 2 { printf "%.0f", $8 }')"
  while :; do
    processed="$(metric gsoc_events_processed_total)"
    end="$(now)"
    ((processed >= target)) && break
    if awk -v s="${start}" -v e="${end}" -v t="${TIMEOUT}" 'BEGIN { exit !(e - s > t) }'; then
      echo "e2e_ingest: run ${index}: timeout: processed $((processed - base)) of ${COUNT}" >&2
      curl -sf "http://127.0.0.1:${metrics_port}/metrics" | grep -E '^gsoc_(events|queue)' >&2 || true
      exit 1
    fi
    sleep "${POLL_S}"
  done
  elapsed="$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", e - s }')"
  rate="$(awk -v n="${COUNT}" -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
  rates+=("${rate}")
  printf 'run %d: %d messages processed in %s s: %s msg/s end to end (loadgen sent at %s msg/s)\n' \
    "${index}" "${COUNT}" "${elapsed}" "${rate}" "${send_rate}"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

write_config
start_gsocd
echo "gsocd pid ${gsocd_pid}: syslog_tcp 127.0.0.1:${syslog_port}, metrics :${metrics_port}"
echo "load: ${COUNT} messages x ${RUNS} runs, ${CONNECTIONS} connection(s), template ${TEMPLATE}, framing ${FRAMING}"
rates=()
for i in $(seq 1 "${RUNS}"); do run_once "${i}"; done
echo "median: $(median "${rates[@]}") msg/s end to end over ${RUNS} run(s)"
