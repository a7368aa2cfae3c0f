#!/usr/bin/env bash
# End-to-end ingest benchmark: gsoc-loadgen -> gsocd (syslog over TCP) until
# gsoc_events_processed_total has counted every message.
#
# Usage: bench/e2e_ingest.sh [-n COUNT] [-c CONNECTIONS] [-t TEMPLATE] [-r RUNS]
#                            [-T TIMEOUT_S] [-f FRAMING] [-R] [-- EXTRA LOADGEN ARGS]
#   COUNT        messages per run                    (default 5000000, env COUNT)
#   CONNECTIONS  loadgen TCP connections             (default 2, env CONNECTIONS)
#   TEMPLATE     rfc3164 | rfc5424 | mix             (default mix, env TEMPLATE)
#   RUNS         runs against one gsocd              (default 5, env RUNS)
#   TIMEOUT_S    max seconds per run until processed (default 300, env TIMEOUT)
#   FRAMING      octet | lf                          (default octet, env FRAMING)
#   -R           what users run: a second gsocd with deploy/gsoc.yaml's rules
#                (the shipped pack), alert store (sync: batch), aggregation and
#                alerts file; each run goes to it, then to the pass-through
#                gsocd as the reference (env RULES=1). Also prints the alerts
#                committed per second and gsocd's CPU per message.
#   -B GSOCD_B   with -R: also a gsocd of another build (same config), each
#                run sent to both, for an A/B ratio measured in one run on a
#                noisy machine (env GSOCD_B).
# Binaries: env GSOCD (default build/engine/daemon/gsocd) and LOADGEN
# (default build/tools/loadgen/gsoc-loadgen), relative to the repository root.
#
# Per run: e2e rate = COUNT / (time from starting the send to the poll that
# saw the last event processed; polls every POLL_S, default 0.02 s). The
# loadgen's own send rate is printed too. Needs curl.
# env IO_THREADS / WORKERS set pipeline.io_threads / workers (default 1 / 0).
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
RULES="${RULES:-0}"
GSOCD_B="${GSOCD_B:-}"

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while getopts "n:c:t:r:T:f:RB:h" opt; do
  case "${opt}" in
    n) COUNT="${OPTARG}" ;;
    c) CONNECTIONS="${OPTARG}" ;;
    t) TEMPLATE="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    T) TIMEOUT="${OPTARG}" ;;
    f) FRAMING="${OPTARG}" ;;
    R) RULES=1 ;;
    B) GSOCD_B="${OPTARG}" ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")

[[ -z "${GSOCD_B}" || "${RULES}" == 1 ]] || { echo "e2e_ingest: -B needs -R" >&2; exit 2; }
for bin in "${GSOCD}" "${LOADGEN}" ${GSOCD_B:+"${GSOCD_B}"}; do
  [[ -x "${bin}" ]] || { echo "e2e_ingest: not executable: ${bin} (build it first)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "e2e_ingest: curl is required" >&2; exit 2; }

# shellcheck source=bench/shipped_rules.sh
source "${root}/bench/shipped_rules.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-e2e.XXXXXX")"
# Instances: "none" (pass-through) and, with -R, "rules". Per instance NAME:
# ${tmp}/NAME/{gsoc.yaml,ports.json,gsocd.log}, pid[NAME], port[NAME], mport[NAME].
declare -A pid port mport

cleanup() {
  local rc=$? name
  for name in "${!pid[@]}"; do
    if kill -0 "${pid[${name}]}" 2>/dev/null; then
      kill -TERM "${pid[${name}]}" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "${pid[${name}]}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pid[${name}]}" 2>/dev/null || true
      wait "${pid[${name}]}" 2>/dev/null || true
    fi
    if [[ ${rc} -ne 0 && -s "${tmp}/${name}/gsocd.log" ]]; then
      echo "--- last lines of the ${name} gsocd's log:" >&2
      tail -n 20 "${tmp}/${name}/gsocd.log" >&2
    fi
  done
  rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# write_config NAME: pass-through ("none"), or deploy/gsoc.yaml's rules,
# lists, store, aggregation and alerts file ("rules"); API off.
write_config() {
  local dir="${tmp}/$1" extra=""
  mkdir -p "${dir}"
  if [[ "$1" == rules* ]]; then
    extra="$(shipped_rules_yaml "${root}")
alerts: {file: ${dir}/var/alerts.jsonl}"
  fi
  cat >"${dir}/gsoc.yaml" <<EOF
log_level: warn
data_dir: ${dir}/var
agencies:
  - name: local
    cidrs: [127.0.0.0/8, "::1/128"]
listeners:
  - {name: syslog_tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
metrics: {address: 127.0.0.1, port: 0}
api: {enabled: false}
pipeline: {io_threads: ${IO_THREADS:-1}, workers: ${WORKERS:-0}}
${extra}
EOF
}

# json_port NAME KEY: the port of KEY in NAME's ports.json.
json_port() {
  sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "${tmp}/$1/ports.json"
}

start_gsocd() {
  local name=$1 dir="${tmp}/$1"
  write_config "${name}"
  local binary="${GSOCD}"
  [[ "${name}" == rules_b ]] && binary="${GSOCD_B}"
  "${binary}" --config "${dir}/gsoc.yaml" --ports-file "${dir}/ports.json" \
    >"${dir}/gsocd.log" 2>&1 &
  pid[${name}]=$!
  local deadline=$(($(date +%s) + 60))
  until [[ -s "${dir}/ports.json" ]]; do
    kill -0 "${pid[${name}]}" 2>/dev/null || { echo "e2e_ingest: gsocd (${name}) exited" >&2; exit 1; }
    (($(date +%s) < deadline)) || { echo "e2e_ingest: no ports file after 60 s" >&2; exit 1; }
    sleep 0.05
  done
  port[${name}]="$(json_port "${name}" syslog_tcp)"
  mport[${name}]="$(json_port "${name}" metrics)"
  [[ -n "${port[${name}]}" && -n "${mport[${name}]}" ]] ||
    { echo "e2e_ingest: bad ports file: $(cat "${dir}/ports.json")" >&2; exit 1; }
}

# metric NAME METRIC: the value of an unlabelled metric (0 if absent), as an integer.
metric() {
  curl -sf --max-time 5 "http://127.0.0.1:${mport[$1]}/metrics" |
    awk -v name="$2" '$1 == name { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure NAME INDEX: one run against instance NAME; sets rate, send_rate,
# alert_rate (alerts committed per second) and ns (gsocd CPU ns per message).
measure() {
  local name=$1 index=$2 base alerts_base target start csv processed end ticks hz
  hz="$(getconf CLK_TCK)"
  base="$(metric "${name}" gsoc_events_processed_total)"
  alerts_base="$(metric "${name}" gsoc_store_alerts_committed_total)"
  ticks="$(cpu_ticks "${pid[${name}]}")"
  target=$((base + COUNT))
  start="$(now)"
  csv="$("${LOADGEN}" --host 127.0.0.1 --port "${port[${name}]}" --count "${COUNT}" \
    --connections "${CONNECTIONS}" --template "${TEMPLATE}" --framing "${FRAMING}" \
    --csv ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})" ||
    { echo "e2e_ingest: gsoc-loadgen failed" >&2; exit 1; }
  send_rate="$(echo "${csv}" | awk -F, 'NR == 2 { printf "%.0f", $8 }')"
  while :; do
    processed="$(metric "${name}" gsoc_events_processed_total)"
    end="$(now)"
    ((processed >= target)) && break
    if awk -v s="${start}" -v e="${end}" -v t="${TIMEOUT}" 'BEGIN { exit !(e - s > t) }'; then
      echo "e2e_ingest: ${name} run ${index}: timeout: processed $((processed - base)) of ${COUNT}" >&2
      curl -sf "http://127.0.0.1:${mport[${name}]}/metrics" | grep -E '^gsoc_(events|queue)' >&2 || true
      exit 1
    fi
    sleep "${POLL_S}"
  done
  elapsed="$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", e - s }')"
  rate="$(awk -v n="${COUNT}" -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
  alert_rate="$(awk -v n="$(($(metric "${name}" gsoc_store_alerts_committed_total) - alerts_base))" \
    -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
  ns="$(awk -v d="$(($(cpu_ticks "${pid[${name}]}") - ticks))" -v hz="${hz}" -v n="${COUNT}" \
    'BEGIN { printf "%.0f", 1e9 * d / hz / n }')"
}

# run_once INDEX: prints "run I: ..." and records the e2e rates.
run_once() {
  local index=$1 line=""
  if [[ "${RULES}" == 1 ]]; then
    measure rules "${index}"
    rule_rates+=("${rate}")
    alert_rates+=("${alert_rate}")
    rule_ns+=("${ns}")
    line="$(printf 'rules %s msg/s, %s alerts/s committed, %s ns CPU/msg (sent at %s) | ' \
      "${rate}" "${alert_rate}" "${ns}" "${send_rate}")"
  fi
  if [[ -n "${GSOCD_B}" ]]; then
    measure rules_b "${index}"
    b_rates+=("${rate}")
    b_ns+=("${ns}")
    line+="$(printf 'B: rules %s msg/s, %s ns CPU/msg | ' "${rate}" "${ns}")"
  fi
  measure none "${index}"
  rates+=("${rate}")
  none_ns+=("${ns}")
  printf 'run %d: %s%d messages processed in %s s: %s msg/s end to end%s (loadgen sent at %s msg/s)\n' \
    "${index}" "${line}" "${COUNT}" "${elapsed}" "${rate}" \
    "$([[ "${RULES}" == 1 ]] && echo " without rules, ${ns} ns CPU/msg")" "${send_rate}"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_gsocd none
echo "gsocd pid ${pid[none]} (no rules): syslog_tcp 127.0.0.1:${port[none]}, metrics :${mport[none]}"
if [[ "${RULES}" == 1 ]]; then
  start_gsocd rules
  echo "gsocd pid ${pid[rules]} (shipped rules): syslog_tcp 127.0.0.1:${port[rules]}, metrics :${mport[rules]}"
fi
if [[ -n "${GSOCD_B}" ]]; then
  start_gsocd rules_b
  echo "gsocd pid ${pid[rules_b]} (B: ${GSOCD_B}, shipped rules): syslog_tcp 127.0.0.1:${port[rules_b]}"
fi
echo "load: ${COUNT} messages x ${RUNS} runs, ${CONNECTIONS} connection(s), template ${TEMPLATE}," \
  "framing ${FRAMING}; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
rates=()
none_ns=()
rule_rates=()
alert_rates=()
rule_ns=()
b_rates=()
b_ns=()
for i in $(seq 1 "${RUNS}"); do run_once "${i}"; done
if [[ "${RULES}" == 1 ]]; then
  echo "median with the shipped rules: $(median "${rule_rates[@]}") msg/s end to end," \
    "$(median "${alert_rates[@]}") alerts/s committed, $(median "${rule_ns[@]}") ns gsocd CPU/msg" \
    "over ${RUNS} run(s)"
  if [[ -n "${GSOCD_B}" ]]; then
    echo "median of B (${GSOCD_B}): $(median "${b_rates[@]}") msg/s end to end," \
      "$(median "${b_ns[@]}") ns gsocd CPU/msg; B/A rate $(awk -v b="$(median "${b_rates[@]}")" \
      -v a="$(median "${rule_rates[@]}")" 'BEGIN { printf "%.2f", b / a }')"
  fi
  echo "median without rules: $(median "${rates[@]}") msg/s end to end," \
    "$(median "${none_ns[@]}") ns gsocd CPU/msg over ${RUNS} run(s)"
else
  echo "median: $(median "${rates[@]}") msg/s end to end over ${RUNS} run(s)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
