#!/usr/bin/env bash
# TLS ingest benchmark: gsoc-loadgen --transport tls -> gsocd (syslog_tls,
# RFC 5425) until gsoc_events_processed_total has counted every message, and
# the same load over plain TCP to the same gsocd right after each TLS run,
# as the reference for the ratio. Like bench/e2e_ingest.sh (pass-through
# pipeline unless -R), with a throw-away CA, server and client certificate.
#
# Usage: bench/tls_ingest.sh [-n COUNT] [-c CONNECTIONS] [-r RUNS] [-v 1.2|1.3]
#                            [-k ec|rsa] [-m 0|1] [-R] [-T TIMEOUT_S] [-- EXTRA LOADGEN ARGS]
#   COUNT        messages per run                     (default 5000000, env COUNT)
#   CONNECTIONS  loadgen connections                  (default 2, env CONNECTIONS)
#   RUNS         TLS + TCP run pairs                  (default 5, env RUNS)
#   TLS_VERSION  1.3 (TLS_AES_128_GCM_SHA256) or 1.2 (ECDHE-{ECDSA,RSA}-AES128-GCM-SHA256)
#                                                     (default 1.3, env TLS_VERSION)
#   KEY          ec (P-256) or rsa (2048) keys        (default ec, env KEY)
#   MTLS         1: client certificate, agency from it; 0: server certificate only
#                                                     (default 1, env MTLS)
#   -R           load the shipped rules (rules/), as deploy/gsoc.yaml does (env RULES=1);
#                each run then also goes (TLS, then TCP) to a second gsocd
#                without rules, as the same-run reference
#   TIMEOUT_S    max seconds per run until processed  (default 300, env TIMEOUT)
# Binaries: env GSOCD (default build/engine/daemon/gsocd) and LOADGEN
# (default build/tools/loadgen/gsoc-loadgen), relative to the repository root.
#
# Per run: e2e rate = COUNT / (time from starting the send to the poll that
# saw the last event processed; polls every POLL_S, default 0.02 s), and the
# CPU gsocd and gsoc-loadgen used meanwhile (100% = one core). Needs curl,
# openssl and /usr/bin/time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/engine/daemon/gsocd}"
LOADGEN="${LOADGEN:-${root}/build/tools/loadgen/gsoc-loadgen}"
COUNT="${COUNT:-5000000}"
CONNECTIONS="${CONNECTIONS:-2}"
RUNS="${RUNS:-5}"
TLS_VERSION="${TLS_VERSION:-1.3}"
KEY="${KEY:-ec}"
MTLS="${MTLS:-1}"
RULES="${RULES:-0}"
TIMEOUT="${TIMEOUT:-300}"
POLL_S="${POLL_S:-0.02}"

usage() { sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while getopts "n:c:r:v:k:m:RT:h" opt; do
  case "${opt}" in
    n) COUNT="${OPTARG}" ;;
    c) CONNECTIONS="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    v) TLS_VERSION="${OPTARG}" ;;
    k) KEY="${OPTARG}" ;;
    m) MTLS="${OPTARG}" ;;
    R) RULES=1 ;;
    T) TIMEOUT="${OPTARG}" ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")
[[ -x /usr/bin/time ]] || { echo "tls_ingest: /usr/bin/time is required" >&2; exit 2; }

# shellcheck source=bench/tls_common.sh
source "${root}/bench/tls_common.sh"

# measure LABEL LOADGEN-ARGS...: one run; sets rate, send_rate, cpu_gsocd,
# cpu_loadgen (% of one core) and ns_gsocd (gsocd CPU ns per message).
measure() {
  local label=$1 base target start csv processed end elapsed ticks_before ticks_after hz
  shift
  hz="$(getconf CLK_TCK)"
  base="$(metric gsoc_events_processed_total)"
  target=$((base + COUNT))
  ticks_before="$(cpu_ticks "${gsocd_pid}")"
  start="$(now)"
  csv="$(/usr/bin/time -f '%U %S' -o "${tmp}/loadgen.time" "${LOADGEN}" --host 127.0.0.1 \
    --count "${COUNT}" --connections "${CONNECTIONS}" --template mix --csv "$@" \
    ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})" ||
    { echo "tls_ingest: gsoc-loadgen failed (${label})" >&2; exit 1; }
  send_rate="$(echo "${csv}" | awk -F, 'NR == 2 { printf "%.0f", $8 }')"
  while :; do
    processed="$(metric gsoc_events_processed_total)"
    end="$(now)"
    ((processed >= target)) && break
    if awk -v s="${start}" -v e="${end}" -v t="${TIMEOUT}" 'BEGIN { exit !(e - s > t) }'; then
      echo "tls_ingest: ${label}: timeout: processed $((processed - base)) of ${COUNT}" >&2
      exit 1
    fi
    sleep "${POLL_S}"
  done
  ticks_after="$(cpu_ticks "${gsocd_pid}")"
  elapsed="$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", e - s }')"
  rate="$(awk -v n="${COUNT}" -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
  cpu_gsocd="$(awk -v d="$((ticks_after - ticks_before))" -v hz="${hz}" -v t="${elapsed}" \
    'BEGIN { printf "%.0f", 100 * d / hz / t }')"
  cpu_loadgen="$(awk -v t="${elapsed}" '{ printf "%.0f", 100 * ($1 + $2) / t }' \
    "${tmp}/loadgen.time")"
  ns_gsocd="$(awk -v d="$((ticks_after - ticks_before))" -v hz="${hz}" -v n="${COUNT}" \
    'BEGIN { printf "%.0f", 1e9 * d / hz / n }')"
}

# save_instance NAME / use_instance NAME: which gsocd measure() talks to
# (main: as configured; reference: -R's pass-through one).
declare -A instance
save_instance() {
  instance[$1.tmp]=${tmp} instance[$1.pid]=${gsocd_pid} instance[$1.tcp]=${tcp_port}
  instance[$1.mtls]=${mtls_port} instance[$1.tls]=${tls_port} instance[$1.metrics]=${metrics_port}
}
use_instance() {
  tmp=${instance[$1.tmp]} gsocd_pid=${instance[$1.pid]} tcp_port=${instance[$1.tcp]}
  mtls_port=${instance[$1.mtls]} tls_port=${instance[$1.tls]} metrics_port=${instance[$1.metrics]}
}

# start_reference: -R's pass-through gsocd (own folder, PKI and ports).
start_reference() {
  save_instance main
  tmp="${bench_tmp}/reference"
  mkdir -p "${tmp}"
  RULES=0 start_gsocd
  extra_pids+=("${gsocd_pid}")
  save_instance reference
  use_instance main
}

# reference_run INDEX: a TLS and a TCP run to the reference gsocd.
reference_run() {
  local listener=tls_mtls
  [[ "${MTLS}" == 1 ]] || listener=tls
  use_instance reference
  loadgen_tls_args "${listener}"
  measure "reference tls run $1" "${tls_args[@]}"
  ref_tls_rates+=("${rate}")
  ref_tls_ns+=("${ns_gsocd}")
  printf ' | no rules: tls %s msg/s (%s ns/msg)' "${rate}" "${ns_gsocd}"
  measure "reference tcp run $1" --port "${tcp_port}"
  ref_tcp_rates+=("${rate}")
  ref_tcp_ns+=("${ns_gsocd}")
  printf ', tcp %s msg/s (%s ns/msg)' "${rate}" "${ns_gsocd}"
  use_instance main
}

# run_once INDEX: a TLS run, then a TCP run; records both rates.
run_once() {
  local index=$1 listener=tls_mtls
  [[ "${MTLS}" == 1 ]] || listener=tls
  loadgen_tls_args "${listener}"
  measure "tls run ${index}" "${tls_args[@]}"
  tls_rates+=("${rate}")
  tls_ns+=("${ns_gsocd}")
  printf 'run %d: tls %s msg/s (sent at %s; cpu gsocd %s%% = %s ns/msg, loadgen %s%%)' \
    "${index}" "${rate}" "${send_rate}" "${cpu_gsocd}" "${ns_gsocd}" "${cpu_loadgen}"
  local tls_rate=${rate}
  measure "tcp run ${index}" --port "${tcp_port}"
  tcp_rates+=("${rate}")
  tcp_ns+=("${ns_gsocd}")
  ratios+=("$(awk -v a="${tls_rate}" -v b="${rate}" 'BEGIN { printf "%.3f", a / b }')")
  printf ' | tcp %s msg/s (sent at %s; cpu gsocd %s%% = %s ns/msg, loadgen %s%%) | tls/tcp %s' \
    "${rate}" "${send_rate}" "${cpu_gsocd}" "${ns_gsocd}" "${cpu_loadgen}" "${ratios[-1]}"
  [[ "${RULES}" == 1 ]] && reference_run "${index}"
  printf '\n'
}

bench_setup tls_ingest
start_gsocd
ref_tls_rates=()
ref_tcp_rates=()
ref_tls_ns=()
ref_tcp_ns=()
if [[ "${RULES}" == 1 ]]; then
  start_reference
  echo "reference gsocd pid ${instance[reference.pid]} without rules (same listeners)"
fi
echo "gsocd pid ${gsocd_pid}: syslog_tcp :${tcp_port}, syslog_tls :${mtls_port} (client certificates)" \
  "and :${tls_port}, metrics :${metrics_port}; rules: $([[ "${RULES}" == 1 ]] && echo shipped || echo none)"
echo "load: ${COUNT} messages x ${RUNS} runs, ${CONNECTIONS} connection(s), template mix," \
  "TLS ${TLS_VERSION}, ${KEY} keys, mutual TLS ${MTLS}; $(nproc) cores"
tls_rates=()
tcp_rates=()
tls_ns=()
tcp_ns=()
ratios=()
for i in $(seq 1 "${RUNS}"); do run_once "${i}"; done
echo "median: tls $(median "${tls_rates[@]}") msg/s, tcp $(median "${tcp_rates[@]}") msg/s," \
  "tls/tcp $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }') over ${RUNS} run(s);" \
  "gsocd CPU per message: tls $(median "${tls_ns[@]}") ns, tcp $(median "${tcp_ns[@]}") ns"
if [[ "${RULES}" == 1 ]]; then
  echo "median without rules (same runs): tls $(median "${ref_tls_rates[@]}") msg/s," \
    "tcp $(median "${ref_tcp_rates[@]}") msg/s; gsocd CPU per message: tls" \
    "$(median "${ref_tls_ns[@]}") ns, tcp $(median "${ref_tcp_ns[@]}") ns"
fi
if [[ "${MTLS}" == 1 ]]; then
  by_certificate="$(metric gsoc_events_received_total 'listener="tls_mtls",agency="bench"')"
  echo "events from the client certificate's agency (bench): ${by_certificate} of $((COUNT * RUNS))"
  ((by_certificate == COUNT * RUNS)) || { echo "tls_ingest: agency mapping lost events" >&2; exit 1; }
fi
