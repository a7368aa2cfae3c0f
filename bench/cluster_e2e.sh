#!/usr/bin/env bash
# Cluster benchmark (issue 14): a 3-server nats-server JetStream cluster
# (replicas 3) on loopback ports chosen at run time, and gsocd nodes with one
# role each, the shipped rule pack on the detect and correlate nodes.
#
# Usage: bench/cluster_e2e.sh [-m e2e|scaling] [-n COUNT] [-r RUNS] [-t TEMPLATE] [-f FILE]
#   e2e      (default) gsoc-loadgen -> ingest -> GSOC_EVENTS -> detect ->
#            GSOC_ALERTS / GSOC_HITS -> correlate -> GSOC_ALERTS -> store.
#            A run ends when the detect node processed every event, the
#            correlate node every hit, and the store every alert published.
#            Prints events/s end to end, alerts/s stored, the JetStream
#            messages and bytes per event, and each process's CPU per event.
#   scaling  the detect stage alone: GSOC_EVENTS is filled with COUNT events
#            through the ingest node while no detect node runs, then drained
#            by 1 detect node pinned to CPU 0, refilled, and drained by 2
#            detect nodes pinned to CPUs 0 and 1 (taskset). Prints events/s
#            of each and their ratio, the detect nodes' CPU per event, and
#            the JetStream hop's: the three nats-servers' CPU per event
#            while the ingest node fills the stream and while it is drained
#            (the drains include the hits and alerts the detect nodes
#            publish).
#   COUNT     messages per run                  (default 2000000, env COUNT)
#   RUNS      runs                              (default 3, env RUNS)
#   TEMPLATE  gsoc-loadgen template             (default mix, env TEMPLATE)
#   FILE      send the lines of FILE instead, from the start again and again
#             (env FILE), e.g. the corpus's loghub/Linux_full/Linux.log: a
#             real Linux host's syslog, 15% of it PAM failures the shipped
#             pack alerts on, where `mix` is ~59% alert-worthy lines
#   env COMPRESSION=none: cluster.compression none (default lz4)
#   env AGGREGATE=false: alerts.aggregate off (default on, as deploy/gsoc.yaml)
#   env PARTITIONS=N: cluster.partitions (default gsocd's)
#   env DETECT_CONSUMERS=N: the detect nodes' cluster.detect_consumers
#     (default gsocd's: one per core, at least 2)
#   env INGEST_BATCH=N: the ingest node's pipeline.batch_events (default
#     4096, as deploy/cluster/gsoc-ingest.yaml)
# Binaries: env GSOCD (default build/release/engine/daemon/gsocd) and LOADGEN
# (default build/release/tools/loadgen/gsoc-loadgen). Needs nats-server,
# curl, python3 (free ports) and taskset. Everything it starts is stopped by
# PID; its files live in a temporary directory removed at exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
LOADGEN="${LOADGEN:-${root}/build/release/tools/loadgen/gsoc-loadgen}"
MODE="${MODE:-e2e}"
COUNT="${COUNT:-2000000}"
RUNS="${RUNS:-3}"
TEMPLATE="${TEMPLATE:-mix}"
FILE="${FILE:-}"
TIMEOUT="${TIMEOUT:-600}"
COMPRESSION="${COMPRESSION:-lz4}"
AGGREGATE="${AGGREGATE:-true}"
INGEST_BATCH="${INGEST_BATCH:-4096}"
NATS_SERVER="$(command -v nats-server || echo /usr/sbin/nats-server)"

usage() { sed -n '2,39p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts "m:n:r:t:f:h" opt; do
  case "${opt}" in
    f) FILE="${OPTARG}" ;;
    m) MODE="${OPTARG}" ;;
    n) COUNT="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    t) TEMPLATE="${OPTARG}" ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
[[ "${MODE}" == e2e || "${MODE}" == scaling ]] || usage 2
for bin in "${GSOCD}" "${LOADGEN}" "${NATS_SERVER}"; do
  [[ -x "${bin}" ]] || { echo "cluster_e2e: not executable: ${bin}" >&2; exit 2; }
done
for tool in curl python3 taskset; do
  command -v "${tool}" >/dev/null || { echo "cluster_e2e: ${tool} is required" >&2; exit 2; }
done

# shellcheck source=bench/shipped_rules.sh
source "${root}/bench/shipped_rules.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-cluster-bench.XXXXXX")"
declare -A pid mport
# stop_all NAME...: SIGTERM to each, then SIGKILL (said) to any still
# running 10 s later.
stop_all() {
  local name
  for name in "$@"; do kill -TERM "${pid[${name}]}" 2>/dev/null || true; done
  for name in "$@"; do
    for _ in $(seq 100); do kill -0 "${pid[${name}]}" 2>/dev/null || break; sleep 0.1; done
    if kill -KILL "${pid[${name}]}" 2>/dev/null; then
      echo "cluster_e2e: ${name} did not stop within 10 s of SIGTERM; killed" >&2
    fi
    wait "${pid[${name}]}" 2>/dev/null || true
  done
}
cleanup() {
  local rc=$? name nodes=() servers=()
  for name in "${!pid[@]}"; do
    if [[ "${name}" == n[0-9] ]]; then servers+=("${name}"); else nodes+=("${name}"); fi
  done
  # The gsocd nodes first, while JetStream can still take what they flush.
  stop_all ${nodes[@]+"${nodes[@]}"}
  stop_all ${servers[@]+"${servers[@]}"}
  for name in "${!pid[@]}"; do
    if [[ ${rc} -ne 0 && -s "${tmp}/${name}.log" ]]; then
      echo "--- last lines of ${name}'s log:" >&2
      tail -n 15 "${tmp}/${name}.log" >&2
    fi
  done
  rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
}

# ---- nats-server cluster --------------------------------------------------
read -r -a ports <<<"$(free_ports 6)"
client_ports=("${ports[@]:0:3}")
route_ports=("${ports[@]:3:3}")
servers=""
for i in 0 1 2; do servers+="${servers:+, }nats://127.0.0.1:${client_ports[i]}"; done
start_nats() {
  local i=$1 routes="" j
  for j in 0 1 2; do
    [[ ${j} == "${i}" ]] || routes+="${routes:+, }nats-route://127.0.0.1:${route_ports[j]}"
  done
  cat >"${tmp}/n${i}.conf" <<EOF
server_name: n${i}
listen: 127.0.0.1:${client_ports[i]}
jetstream { store_dir: "${tmp}/nats/n${i}", max_memory_store: 64MB, max_file_store: 16GB }
cluster { name: gsoc_bench, listen: 127.0.0.1:${route_ports[i]}, routes: [${routes}] }
EOF
  "${NATS_SERVER}" -c "${tmp}/n${i}.conf" >"${tmp}/n${i}.log" 2>&1 &
  pid[n${i}]=$!
}
for i in 0 1 2; do start_nats "${i}"; done
for port in "${client_ports[@]}"; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break; sleep 0.1; done
done

# ---- gsocd nodes ------------------------------------------------------------
# write_node NAME ROLE: a config with one role; detect and correlate get the
# shipped pack, ingest a TCP listener.
write_node() {
  local name=$1 role=$2 extra="" listeners="" cluster_extra=""
  case "${role}" in
    ingest) listeners="listeners:
  - {name: tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
pipeline: {batch_events: ${INGEST_BATCH}}" ;;
    detect) extra="$(shipped_rules_yaml "${root}")"
      cluster_extra="  listeners: [tcp]${DETECT_CONSUMERS:+
  detect_consumers: ${DETECT_CONSUMERS}}" ;;
    correlate) extra="$(shipped_rules_yaml "${root}")" ;;
  esac
  cat >"${tmp}/${name}.yaml" <<EOF
log_level: warn
data_dir: ${tmp}/${name}
agencies:
  - {name: local, cidrs: [127.0.0.0/8]}
${listeners}
metrics: {address: 127.0.0.1, port: 0}
api: {enabled: false}
alerts: {aggregate: {enabled: ${AGGREGATE}}}
${extra}
cluster:
  servers: [${servers}]
  node: ${name}
  roles: [${role}]
  replicas: 3
  stream_max_bytes: 2GiB
  compression: ${COMPRESSION}
${PARTITIONS:+  partitions: ${PARTITIONS}}
${cluster_extra}
EOF
}

# start_node NAME ROLE [CPU]: starts it (pinned to CPU when given) and waits
# for its ports file.
start_node() {
  local name=$1 role=$2 cpu=${3:-} launcher=()
  [[ -n "${cpu}" ]] && launcher=(taskset -c "${cpu}")
  write_node "${name}" "${role}"
  rm -f "${tmp}/${name}.ports"
  "${launcher[@]}" "${GSOCD}" --config "${tmp}/${name}.yaml" --ports-file "${tmp}/${name}.ports" \
    >"${tmp}/${name}.log" 2>&1 &
  pid[${name}]=$!
  local deadline=$(($(date +%s) + 90))
  until [[ -s "${tmp}/${name}.ports" ]]; do
    kill -0 "${pid[${name}]}" 2>/dev/null || { echo "cluster_e2e: ${name} exited" >&2; exit 1; }
    (($(date +%s) < deadline)) || { echo "cluster_e2e: ${name}: no ports file" >&2; exit 1; }
    sleep 0.1
  done
  mport[${name}]="$(sed -n 's/.*"metrics": *\([0-9][0-9]*\).*/\1/p' "${tmp}/${name}.ports")"
}

stop_node() {
  local name=$1
  kill -TERM "${pid[${name}]}" 2>/dev/null || true
  wait "${pid[${name}]}" 2>/dev/null || true
  unset "pid[${name}]"
}

# metric NAME METRIC: the sum of METRIC's samples on node NAME (0 if absent).
metric() {
  curl -sf --max-time 5 "http://127.0.0.1:${mport[$1]}/metrics" |
    awk -v name="$2" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%.0f", sum }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
servers_ticks() { echo $(($(cpu_ticks "${pid[n0]}") + $(cpu_ticks "${pid[n1]}") + $(cpu_ticks "${pid[n2]}"))); }
ns_per_event() {  # TICKS EVENTS
  awk -v d="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.0f", 1e9 * d / hz / n }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

[[ -z "${FILE}" || -r "${FILE}" ]] || { echo "cluster_e2e: cannot read ${FILE}" >&2; exit 2; }
source_args=(--template "${TEMPLATE}")
source_name="${TEMPLATE}"
if [[ -n "${FILE}" ]]; then
  source_args=(--file "${FILE}")
  source_name="$(basename "${FILE}")"
fi
send() {  # PORT
  "${LOADGEN}" --host 127.0.0.1 --port "$1" --count "${COUNT}" --connections 2 \
    "${source_args[@]}" --framing octet --csv >/dev/null
}

# wait_for CONDITION_FUNCTION: polls until it succeeds or TIMEOUT passes.
wait_for() {
  local start end
  start="$(now)"
  until "$1"; do
    end="$(now)"
    if awk -v s="${start}" -v e="${end}" -v t="${TIMEOUT}" 'BEGIN { exit !(e - s > t) }'; then
      echo "cluster_e2e: timeout waiting for $1" >&2
      exit 1
    fi
    sleep 0.05
  done
}

# ---- e2e ------------------------------------------------------------------------
ingested_base=0 detected_base=0
all_done() {
  local detected hits_published hits_done published stored
  detected=$(($(metric detect gsoc_cluster_detect_events_total) - detected_base))
  ((detected >= COUNT)) || return 1
  hits_published=$(($(metric detect gsoc_cluster_hits_published_total) +
    $(metric detect gsoc_cluster_aggregation_hits_published_total)))
  hits_done=$(($(metric correlate gsoc_cluster_correlate_hits_total) +
    $(metric correlate gsoc_aggregate_hits_total)))
  ((hits_done >= hits_published)) || return 1
  # Correlation alerts and aggregate versions both count as the correlate
  # role's; a version older than the stored one is dropped by the store.
  published=$(($(metric detect gsoc_cluster_alerts_published_total) +
    $(metric correlate gsoc_cluster_correlation_alerts_published_total)))
  stored=$(($(metric store gsoc_cluster_store_alerts_total) +
    $(metric store gsoc_cluster_store_already_stored_total) +
    $(metric store gsoc_cluster_store_aggregate_versions_superseded_total)))
  ((stored >= published))
}

run_e2e() {
  start_node store store
  start_node correlate correlate
  start_node detect detect
  start_node ingest ingest
  local port rates=() alert_rates=() i
  port="$(sed -n 's/.*"tcp": *\([0-9][0-9]*\).*/\1/p' "${tmp}/ingest.ports")"
  echo "cluster e2e: ${COUNT} ${source_name} messages a run over 2 TCP connections, replicas 3, compression ${COMPRESSION}, aggregation ${AGGREGATE}"
  for i in $(seq "${RUNS}"); do
    detected_base="$(metric detect gsoc_cluster_detect_events_total)"
    local stored0 msgs0 bytes0 start end elapsed rate name
    stored0="$(metric store gsoc_cluster_store_alerts_total)"
    msgs0="$(metric ingest gsoc_cluster_published_messages_total)"
    bytes0="$(metric ingest gsoc_cluster_published_bytes_total)"
    declare -A ticks0=()
    for name in "${!pid[@]}"; do ticks0[${name}]="$(cpu_ticks "${pid[${name}]}")"; done
    start="$(now)"
    send "${port}"
    wait_for all_done
    end="$(now)"
    elapsed="$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", e - s }')"
    rate="$(awk -v n="${COUNT}" -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
    local stored=$(($(metric store gsoc_cluster_store_alerts_total) - stored0))
    local alert_rate msgs bytes
    alert_rate="$(awk -v n="${stored}" -v t="${elapsed}" 'BEGIN { printf "%.0f", n / t }')"
    msgs=$(($(metric ingest gsoc_cluster_published_messages_total) - msgs0))
    bytes=$(($(metric ingest gsoc_cluster_published_bytes_total) - bytes0))
    rates+=("${rate}")
    alert_rates+=("${alert_rate}")
    local flows=""
    flows=" alerts $(metric detect gsoc_cluster_alerts_published_total) in $(metric detect gsoc_cluster_alert_messages_published_total) messages;"
    local detected
    detected="$(metric detect gsoc_cluster_detect_events_total)"
    flows+=" hits $(metric detect gsoc_cluster_hits_published_total) + aggregation hits $(metric detect gsoc_cluster_aggregation_hits_published_total) in $(metric detect gsoc_cluster_hit_messages_published_total) messages,"
    flows+=" $(awk -v a="$(metric detect gsoc_cluster_hit_bytes_published_total)" -v b="${detected}" 'BEGIN { printf "%.1f", a / b }') bytes/event as sent"
    flows+=" ($(awk -v a="$(metric detect gsoc_cluster_hit_raw_bytes_published_total)" -v b="${detected}" 'BEGIN { printf "%.1f", a / b }') before LZ4);"
    flows+=" correlate: $(metric correlate gsoc_cluster_aggregate_flush_markers_total) flush markers, $(metric correlate gsoc_cluster_correlate_consumer_errors_total) consumers made again, $(metric correlate gsoc_cluster_correlate_hit_messages_total) hits messages read;"
    local cpu=""
    for name in ingest detect correlate store n0 n1 n2; do
      cpu+=" ${name} $(ns_per_event $(($(cpu_ticks "${pid[${name}]}") - ticks0[${name}])) "${COUNT}")"
    done
    printf 'run %d: %s events/s end to end (%.2f s), %s alerts stored/s (%d); GSOC_EVENTS %.1f events/message, %.1f bytes/event; detect published (all runs)%s CPU ns/event:%s\n' \
      "${i}" "${rate}" "${elapsed}" "${alert_rate}" "${stored}" \
      "$(awk -v a="${COUNT}" -v b="${msgs}" 'BEGIN { print a / b }')" \
      "$(awk -v a="${bytes}" -v b="${COUNT}" 'BEGIN { print a / b }')" "${flows}" "${cpu}"
  done
  echo "median: $(median "${rates[@]}") events/s end to end, $(median "${alert_rates[@]}") alerts stored/s"
}

# ---- scaling ---------------------------------------------------------------------
events_queued() {  # everything sent is in GSOC_EVENTS
  (($(metric ingest gsoc_cluster_published_events_total) - ingested_base >= COUNT))
}
detect_total() {
  local sum=0 name
  for name in "${!pid[@]}"; do
    [[ ${name} == detect* ]] && sum=$((sum + $(metric "${name}" gsoc_cluster_detect_events_total)))
  done
  echo "${sum}"
}
drained() { (($(detect_total) >= COUNT)); }

# drain_with N: starts N detect nodes (node k on CPU k), times the drain of
# the COUNT queued events, stops them; sets rate and ns.
drain_with() {
  local n=$1 k start end ticks=0 name
  for k in $(seq 0 $((n - 1))); do start_node "detect${k}" detect "${k}"; done
  # Timed from when all are up; what the first drained meanwhile is not counted.
  start="$(now)"
  local before
  before="$(detect_total)"
  local t0=()
  for k in $(seq 0 $((n - 1))); do t0+=("$(cpu_ticks "${pid[detect${k}]}")"); done
  local servers0
  servers0="$(servers_ticks)"
  wait_for drained
  end="$(now)"
  for k in $(seq 0 $((n - 1))); do ticks=$((ticks + $(cpu_ticks "${pid[detect${k}]}") - t0[k])); done
  rate="$(awk -v n="$((COUNT - before))" -v s="${start}" -v e="${end}" 'BEGIN { printf "%.0f", n / (e - s) }')"
  ns="$(ns_per_event "${ticks}" "$((COUNT - before))")"
  servers_ns="$(ns_per_event $(($(servers_ticks) - servers0)) "$((COUNT - before))")"
  for k in $(seq 0 $((n - 1))); do stop_node "detect${k}"; done
}

run_scaling() {
  start_node ingest ingest
  local port ones=() twos=() ratios=() i
  port="$(sed -n 's/.*"tcp": *\([0-9][0-9]*\).*/\1/p' "${tmp}/ingest.ports")"
  echo "detect scaling: ${COUNT} ${source_name} events queued in GSOC_EVENTS, then drained"
  for i in $(seq "${RUNS}"); do
    ingested_base="$(metric ingest gsoc_cluster_published_events_total)"
    local fill_start ingest0 servers0
    fill_start="$(now)"
    ingest0="$(cpu_ticks "${pid[ingest]}")"
    servers0="$(servers_ticks)"
    send "${port}"
    wait_for events_queued
    local fill ingest_ns fill_servers_ns
    fill="$(awk -v n="${COUNT}" -v s="${fill_start}" -v e="$(now)" 'BEGIN { printf "%.0f", n / (e - s) }')"
    ingest_ns="$(ns_per_event $(($(cpu_ticks "${pid[ingest]}") - ingest0)) "${COUNT}")"
    fill_servers_ns="$(ns_per_event $(($(servers_ticks) - servers0)) "${COUNT}")"
    drain_with 1
    local one=${rate} one_ns=${ns} one_servers_ns=${servers_ns}
    ingested_base="$(metric ingest gsoc_cluster_published_events_total)"
    send "${port}"
    wait_for events_queued
    drain_with 2
    local two=${rate} two_ns=${ns}
    ones+=("${one}")
    twos+=("${two}")
    ratios+=("$(awk -v a="${two}" -v b="${one}" 'BEGIN { printf "%.2f", a / b }')")
    echo "run ${i}: fill ${fill} events/s (ingest ${ingest_ns}, nats-servers ${fill_servers_ns} ns CPU/event); 1 detect node on CPU 0: ${one} events/s (${one_ns} ns CPU/event, nats-servers ${one_servers_ns}); 2 on CPUs 0+1: ${two} events/s (${two_ns} ns CPU/event, nats-servers ${servers_ns}); ratio ${ratios[-1]}"
  done
  echo "median: 1 node $(median "${ones[@]}") events/s, 2 nodes $(median "${twos[@]}") events/s, ratio $(median "${ratios[@]}")"
}

if [[ "${MODE}" == e2e ]]; then run_e2e; else run_scaling; fi
