# shellcheck shell=bash disable=SC2153,SC2154  # variables set by the sourcing script
# Shared by bench/tls_ingest.sh and bench/tls_handshakes.sh (sourced, not run):
# a throw-away PKI made with openssl, a gsocd with a plain syslog_tcp
# listener, a syslog_tls listener requiring client certificates (tls_mtls)
# and one that does not (tls), metric reads, medians and CPU accounting.
#
# The caller sets: root, GSOCD, LOADGEN, KEY (ec | rsa), RULES (0 | 1) and
# calls bench_setup NAME, then start_gsocd. bench_cleanup runs on EXIT.
# env IO_THREADS sets pipeline.io_threads (default 1, as deploy/gsoc.yaml).

# shellcheck source=bench/shipped_rules.sh
source "${root}/bench/shipped_rules.sh"

CLIENT_CN="loadgen.bench.example"

bench_setup() {
  local name=$1
  for bin in "${GSOCD}" "${LOADGEN}"; do
    [[ -x "${bin}" ]] || { echo "${name}: not executable: ${bin} (build it first)" >&2; exit 2; }
  done
  for tool in curl openssl; do
    command -v "${tool}" >/dev/null || { echo "${name}: ${tool} is required" >&2; exit 2; }
  done
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-${name}.XXXXXX")"
  bench_tmp="${tmp}"  # tmp may point at a second instance's folder inside it
  gsocd_pid=""
  extra_pids=()       # further gsocd processes (tls_ingest.sh -R's reference)
  bench_name="${name}"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local rc=$? pid
  for pid in "${gsocd_pid}" ${extra_pids[@]+"${extra_pids[@]}"}; do
    [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || continue
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
  if [[ ${rc} -ne 0 && -s "${tmp}/gsocd.log" ]]; then
    echo "--- last lines of gsocd log:" >&2
    tail -n 20 "${tmp}/gsocd.log" >&2
  fi
  rm -rf "${bench_tmp}"
  exit "${rc}"
}

# new_key FILE: a private key of type KEY (ec: P-256, rsa: 2048 bits).
new_key() {
  if [[ "${KEY}" == rsa ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  fi
}

# issue NAME SUBJECT EXTENSIONS: NAME.crt/NAME.key signed by the CA.
issue() {
  local pki="${tmp}/pki"
  new_key "${pki}/$1.key"
  openssl req -new -key "${pki}/$1.key" -subj "$2" -out "${pki}/$1.csr"
  printf '%s\n' "$3" >"${pki}/$1.ext"
  openssl x509 -req -in "${pki}/$1.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
    -CAcreateserial -days 2 -sha256 -extfile "${pki}/$1.ext" -out "${pki}/$1.crt" 2>/dev/null
}

make_pki() {
  local pki="${tmp}/pki"
  mkdir -p "${pki}"
  new_key "${pki}/ca.key"
  openssl req -x509 -new -key "${pki}/ca.key" -subj "/CN=gsoc bench CA" -days 2 -sha256 \
    -out "${pki}/ca.crt"
  issue server "/CN=gsoc.bench" "$(printf '%s\n' 'basicConstraints=CA:FALSE' \
    'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1')"
  issue client "/CN=${CLIENT_CN}" "$(printf '%s\n' 'basicConstraints=CA:FALSE' \
    'extendedKeyUsage=clientAuth')"
}

write_config() {
  local pki="${tmp}/pki" rules=""
  if [[ "${RULES}" == 1 ]]; then
    rules="$(shipped_rules_yaml "${root}")
alerts: {file: false}"
  fi
  cat >"${tmp}/gsoc.yaml" <<EOF
log_level: warn
data_dir: ${tmp}/var
agencies:
  - name: local
    cidrs: [127.0.0.0/8, "::1/128"]
  - name: bench
    certificates: [${CLIENT_CN}]
listeners:
  - {name: syslog_tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
  - name: tls_mtls
    type: syslog_tls
    address: 127.0.0.1
    port: 0
    max_connections_per_peer: 4096
    max_connections_per_agency: 4096
    tls: {certificate: ${pki}/server.crt, private_key: ${pki}/server.key, client_ca: ${pki}/ca.crt}
  - name: tls
    type: syslog_tls
    address: 127.0.0.1
    port: 0
    max_connections_per_peer: 4096
    max_connections_per_agency: 4096
    tls: {certificate: ${pki}/server.crt, private_key: ${pki}/server.key}
metrics: {address: 127.0.0.1, port: 0}
api: {enabled: false}
pipeline: {io_threads: ${IO_THREADS:-1}}
${rules}
EOF
}

# json_port NAME: the port of NAME in ports.json.
json_port() {
  sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "${tmp}/ports.json"
}

start_gsocd() {
  make_pki
  write_config
  "${GSOCD}" --config "${tmp}/gsoc.yaml" --ports-file "${tmp}/ports.json" \
    >"${tmp}/gsocd.log" 2>&1 &
  gsocd_pid=$!
  local deadline=$(($(date +%s) + 60))
  until [[ -s "${tmp}/ports.json" ]]; do
    kill -0 "${gsocd_pid}" 2>/dev/null || { echo "${bench_name}: gsocd exited" >&2; exit 1; }
    (($(date +%s) < deadline)) || { echo "${bench_name}: no ports file after 60 s" >&2; exit 1; }
    sleep 0.05
  done
  tcp_port="$(json_port syslog_tcp)"
  mtls_port="$(json_port tls_mtls)"
  tls_port="$(json_port tls)"
  metrics_port="$(json_port metrics)"
  [[ -n "${tcp_port}" && -n "${mtls_port}" && -n "${tls_port}" && -n "${metrics_port}" ]] ||
    { echo "${bench_name}: bad ports file: $(cat "${tmp}/ports.json")" >&2; exit 1; }
}

# metric NAME [LABELS]: the value of NAME{LABELS} (0 if absent), as an
# integer; LABELS as printed, e.g. 'listener="tls",result="ok"'.
metric() {
  local series="$1"
  [[ -n "${2:-}" ]] && series="$1{$2}"
  curl -sf --max-time 5 "http://127.0.0.1:${metrics_port}/metrics" |
    awk -v name="${series}" '$1 == name { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }'
}

# loadgen_tls_args LISTENER: the TLS options of gsoc-loadgen for a listener
# (tls_mtls: with the client certificate), version and cipher as configured.
loadgen_tls_args() {
  local pki="${tmp}/pki" port="${tls_port}" ciphers
  tls_args=(--transport tls --tls-ca "${pki}/ca.crt" --tls-version "${TLS_VERSION}")
  if [[ "$1" == tls_mtls ]]; then
    tls_args+=(--tls-cert "${pki}/client.crt" --tls-key "${pki}/client.key")
    port="${mtls_port}"
  fi
  tls_args+=(--port "${port}")
  if [[ "${TLS_VERSION}" == 1.3 ]]; then
    ciphers="TLS_AES_128_GCM_SHA256"
  elif [[ "${KEY}" == rsa ]]; then
    ciphers="ECDHE-RSA-AES128-GCM-SHA256"
  else
    ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"
  fi
  tls_args+=(--tls-ciphers "${ciphers}")
}

# cpu_ticks PID: user + system clock ticks of a process so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

now() { date +%s.%N; }

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
