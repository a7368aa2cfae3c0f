#!/usr/bin/env bash
# TLS connection-rate benchmark: gsoc-loadgen --handshakes (or, with -M,
# --reconnect-every 1: one message per connection) against gsocd's
# syslog_tls listeners, with mutual TLS (client certificate, agency from it)
# and without. Every connection is a full handshake (no resumption). The
# rate is the loadgen's (connections after each sender's first / elapsed);
# gsocd's gsoc_tls_handshakes_total{result="ok"} must count every one of them.
#
# Usage: bench/tls_handshakes.sh [-d SECONDS] [-c CONNECTIONS] [-r RUNS] [-v 1.2|1.3]
#                                [-k ec|rsa] [-l "mtls tls"] [-M] [-- EXTRA LOADGEN ARGS]
#   SECONDS      per run                             (default 3, env DURATION)
#   CONNECTIONS  loadgen connections in parallel     (default 4, env CONNECTIONS)
#   RUNS         runs per listener                   (default 5, env RUNS)
#   TLS_VERSION  1.3 or 1.2                           (default 1.3, env TLS_VERSION)
#   KEY          ec (P-256) or rsa (2048) keys       (default ec, env KEY)
#   LISTENERS    mtls (client certificates) and/or tls (server certificate only)
#                                                    (default "mtls tls", env LISTENERS)
#   -M           send one message on each connection (env MESSAGES=1)
# Binaries: env GSOCD (default build/engine/daemon/gsocd) and LOADGEN
# (default build/tools/loadgen/gsoc-loadgen), relative to the repository root.
# Prints per run the rate, the mean time of one reconnect as the client saw
# it, and the CPU gsocd and gsoc-loadgen used (100% = one core). Needs curl,
# openssl and /usr/bin/time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/engine/daemon/gsocd}"
LOADGEN="${LOADGEN:-${root}/build/tools/loadgen/gsoc-loadgen}"
DURATION="${DURATION:-3}"
CONNECTIONS="${CONNECTIONS:-4}"
RUNS="${RUNS:-5}"
TLS_VERSION="${TLS_VERSION:-1.3}"
KEY="${KEY:-ec}"
LISTENERS="${LISTENERS:-mtls tls}"
MESSAGES="${MESSAGES:-0}"
RULES=0

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while getopts "d:c:r:v:k:l:Mh" opt; do
  case "${opt}" in
    d) DURATION="${OPTARG}" ;;
    c) CONNECTIONS="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    v) TLS_VERSION="${OPTARG}" ;;
    k) KEY="${OPTARG}" ;;
    l) LISTENERS="${OPTARG}" ;;
    M) MESSAGES=1 ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))
EXTRA_ARGS=("$@")
[[ -x /usr/bin/time ]] || { echo "tls_handshakes: /usr/bin/time is required" >&2; exit 2; }

# shellcheck source=bench/tls_common.sh
source "${root}/bench/tls_common.sh"

# ok_handshakes LISTENER: gsocd's count of accepted handshakes on it.
ok_handshakes() { metric gsoc_tls_handshakes_total "listener=\"$1\",result=\"ok\""; }

# refused LISTENER: handshakes on it that did not end "ok".
refused() {
  curl -sf --max-time 5 "http://127.0.0.1:${metrics_port}/metrics" |
    awk -v l="listener=\"$1\"" 'index($1, "gsoc_tls_handshakes_total{") == 1 && index($1, l) &&
      !index($1, "result=\"ok\"") { n += $2 } END { printf "%.0f", n }'
}

# run_once LISTENER INDEX: one run; prints it and records the rate.
run_once() {
  local listener=$1 index=$2 before target csv made rate ms ticks_before ticks_after cpu_gsocd
  local cpu_loadgen elapsed mode=(--handshakes) hz deadline us_gsocd us_loadgen
  hz="$(getconf CLK_TCK)"
  [[ "${MESSAGES}" == 1 ]] && mode=(--reconnect-every 1)
  loadgen_tls_args "${listener}"
  before="$(ok_handshakes "${listener}")"
  ticks_before="$(cpu_ticks "${gsocd_pid}")"
  csv="$(/usr/bin/time -f '%U %S' -o "${tmp}/loadgen.time" "${LOADGEN}" --host 127.0.0.1 \
    "${tls_args[@]}" "${mode[@]}" --duration "${DURATION}" --connections "${CONNECTIONS}" \
    --csv ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})" ||
    { echo "tls_handshakes: gsoc-loadgen failed (${listener} run ${index})" >&2; exit 1; }
  ticks_after="$(cpu_ticks "${gsocd_pid}")"
  made="$(echo "${csv}" | awk -F, 'NR == 2 { print $12 }')"
  rate="$(echo "${csv}" | awk -F, 'NR == 2 { printf "%.0f", $13 }')"
  ms="$(echo "${csv}" | awk -F, 'NR == 2 { print $14 }')"
  elapsed="$(echo "${csv}" | awk -F, 'NR == 2 { print $7 }')"
  # gsocd counts a handshake once it has read the client's Finished.
  target=$((before + made + CONNECTIONS))
  deadline=$(($(date +%s) + 10))
  until (($(ok_handshakes "${listener}") >= target)); do
    (($(date +%s) < deadline)) || {
      echo "tls_handshakes: gsocd counted $(($(ok_handshakes "${listener}") - before))" \
        "ok handshakes of $((made + CONNECTIONS))" >&2
      curl -sf "http://127.0.0.1:${metrics_port}/metrics" |
        grep -E "^gsoc_(tls|connections)[a-z_]*\{listener=\"${listener}\"" >&2 || true
      exit 1
    }
    sleep 0.05
  done
  cpu_gsocd="$(awk -v d="$((ticks_after - ticks_before))" -v hz="${hz}" -v t="${elapsed}" \
    'BEGIN { printf "%.0f", 100 * d / hz / t }')"
  cpu_loadgen="$(awk -v t="${elapsed}" '{ printf "%.0f", 100 * ($1 + $2) / t }' \
    "${tmp}/loadgen.time")"
  # CPU per handshake (the senders' first connections included).
  us_gsocd="$(awk -v d="$((ticks_after - ticks_before))" -v hz="${hz}" \
    -v n="$((made + CONNECTIONS))" 'BEGIN { printf "%.0f", 1e6 * d / hz / n }')"
  us_loadgen="$(awk -v n="$((made + CONNECTIONS))" '{ printf "%.0f", 1e6 * ($1 + $2) / n }' \
    "${tmp}/loadgen.time")"
  rates+=("${rate}")
  gsocd_us+=("${us_gsocd}")
  loadgen_us+=("${us_loadgen}")
  printf '%s run %d: %s handshakes/s (%s in %s s, %s ms each; cpu gsocd %s%% = %s us/handshake,' \
    "${listener}" "${index}" "${rate}" "${made}" "${elapsed}" "${ms}" "${cpu_gsocd}" "${us_gsocd}"
  printf ' loadgen %s%% = %s us/handshake)\n' "${cpu_loadgen}" "${us_loadgen}"
}

bench_setup tls_handshakes
start_gsocd
echo "gsocd pid ${gsocd_pid}: syslog_tls :${mtls_port} (tls_mtls, client certificates) and" \
  ":${tls_port} (tls), metrics :${metrics_port}"
echo "load: ${RUNS} runs of ${DURATION} s per listener, ${CONNECTIONS} connection(s) in parallel," \
  "TLS ${TLS_VERSION}, ${KEY} keys, $([[ "${MESSAGES}" == 1 ]] && echo "one message" ||
    echo "no message") per connection; $(nproc) cores"
for name in ${LISTENERS}; do
  listener=tls
  [[ "${name}" == mtls ]] && listener=tls_mtls
  rates=()
  gsocd_us=()
  loadgen_us=()
  for i in $(seq 1 "${RUNS}"); do run_once "${listener}" "${i}"; done
  g="$(median "${gsocd_us[@]}")"
  l="$(median "${loadgen_us[@]}")"
  echo "median ${listener}: $(median "${rates[@]}") handshakes/s over ${RUNS} run(s);" \
    "refused handshakes: $(refused "${listener}"); CPU per handshake: gsocd ${g} us," \
    "loadgen ${l} us; $(nproc) cores / both: $(awk -v g="${g}" -v l="${l}" -v c="$(nproc)" \
      'BEGIN { printf "%.0f", c * 1e6 / (g + l) }') handshakes/s if they had the machine alone"
done
