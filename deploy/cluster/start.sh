#!/usr/bin/env bash
# A local cluster for trying issue 14 by hand: three nats-server JetStream
# servers (n1-n3.conf, clients on 127.0.0.1:4222-4224, routes on
# 6222-6224) and three gsocd nodes: ingest (gsoc-ingest.yaml, syslog TCP on
# 127.0.0.1:5514), detect and correlate (gsoc-detect.yaml, the shipped rule
# pack; it owns every correlation partition) and store (gsoc-store.yaml, API
# and console on 127.0.0.1:8081).
#
# Usage: deploy/cluster/start.sh [start|stop|status]
#   GSOCD=path/to/gsocd (default: build/release/engine/daemon/gsocd)
#   GSOCCTL=path/to/gsocctl (default: build/release/tools/gsocctl/gsocctl;
#   status runs `gsocctl cluster status` with it when the cluster answers)
# Everything lives under deploy/cluster/var; stop kills what start started,
# by the PIDs it wrote there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
var="${here}/var"
gsocd="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
gsocctl="${GSOCCTL:-${root}/build/release/tools/gsocctl/gsocctl}"
nats_server="$(command -v nats-server || echo /usr/sbin/nats-server)"

start() {
  mkdir -p "${var}"
  for n in 1 2 3; do
    "${nats_server}" -c "${here}/n${n}.conf" -sd "${var}/nats/n${n}" >"${var}/n${n}.log" 2>&1 &
    echo $! >"${var}/n${n}.pid"
  done
  for port in 4222 4223 4224; do
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break
      sleep 0.1
    done
  done
  for node in store detect ingest; do
    "${gsocd}" --config "${here}/gsoc-${node}.yaml" >"${var}/${node}.log" 2>&1 &
    echo $! >"${var}/${node}.pid"
  done
  echo "started: nats on 4222-4224; gsocd ingest on 127.0.0.1:5514, detect, store with the"
  echo "         API on http://127.0.0.1:8081 (token in ${here}/var/store/api-token; logs in ${var})"
  echo "try:     logger -n 127.0.0.1 -P 5514 -T 'sshd[1]: Failed password for root from 198.18.0.7 port 1 ssh2'"
}

stop() {
  for name in ingest detect store n1 n2 n3; do
    [[ -f "${var}/${name}.pid" ]] || continue
    kill "$(cat "${var}/${name}.pid")" 2>/dev/null || true
    rm -f "${var}/${name}.pid"
  done
  echo "stopped"
}

status() {
  for name in n1 n2 n3 ingest detect store; do
    if [[ -f "${var}/${name}.pid" ]] && kill -0 "$(cat "${var}/${name}.pid")" 2>/dev/null; then
      echo "${name}: running (pid $(cat "${var}/${name}.pid"))"
    else
      echo "${name}: stopped"
    fi
  done
  if [[ -x "${gsocctl}" ]]; then
    echo
    # The nodes, partition owners, streams and consumer lag, as JetStream
    # sees them (exit 1, said on stderr, when no server answers).
    "${gsocctl}" cluster status --config "${here}/gsoc-store.yaml" --timeout 2 || true
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
