#!/usr/bin/env bash
# A local cluster for trying issue 14's first slice by hand: three
# nats-server JetStream servers (n1-n3.conf, clients on 127.0.0.1:4222-4224,
# routes on 6222-6224) and one gsocd ingest node (gsoc-ingest.yaml, syslog
# TCP on 127.0.0.1:5514). Only the ingest role is built so far
# (engine/cluster/README.md); the events wait in the GSOC_EVENTS stream.
#
# Usage: deploy/cluster/start.sh [start|stop|status]
#   GSOCD=path/to/gsocd (default: build/release/engine/daemon/gsocd)
# Everything lives under deploy/cluster/var; stop kills what start started,
# by the PIDs it wrote there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
var="${here}/var"
gsocd="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
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
  "${gsocd}" --config "${here}/gsoc-ingest.yaml" >"${var}/ingest.log" 2>&1 &
  echo $! >"${var}/ingest.pid"
  echo "started: nats on 4222-4224, gsocd ingest node on 127.0.0.1:5514 (logs in ${var})"
  echo "try:     logger -n 127.0.0.1 -P 5514 -T 'hello cluster'"
}

stop() {
  for name in ingest n1 n2 n3; do
    [[ -f "${var}/${name}.pid" ]] || continue
    kill "$(cat "${var}/${name}.pid")" 2>/dev/null || true
    rm -f "${var}/${name}.pid"
  done
  echo "stopped"
}

status() {
  for name in n1 n2 n3 ingest; do
    if [[ -f "${var}/${name}.pid" ]] && kill -0 "$(cat "${var}/${name}.pid")" 2>/dev/null; then
      echo "${name}: running (pid $(cat "${var}/${name}.pid"))"
    else
      echo "${name}: stopped"
    fi
  done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
