#!/usr/bin/env bash
# The console's API calls over a large store (issue 12 targets, at
# 10,000,000 stored alerts: first view < 1 s, a filter change < 200 ms,
# triage of 1,000 alerts in one request < 1 s).
#
# Fills a data dir with gsoc_bench_console_fill (N alerts over 8 agencies,
# the shipped rules, 7 days, with triage states), starts gsocd on it (the
# shipped rule pack, store sync batch), then times RUNS times, with curl:
#   first view    GET whoami, alerts?limit=1 (probe), alerts?limit=200,
#                 overview, and rules/{id} of every rule on that first page
#                 (sequential: the sum is what the page waits for at worst)
#   filter change GET alerts?<filter>&limit=200 for each filter the console has
#   triage        POST alerts/triage with 1,000 ids (ack; new ids each run)
# and prints each time and the medians. The data dir is deleted at the end
# unless -k (then -d DIR reuses it without filling again).
#
# Usage: bench/console_scale.sh [-n ALERTS] [-r RUNS] [-d DIR] [-k]
#   ALERTS default 10000000 (env ALERTS); RUNS default 3 (env RUNS);
#   DIR default a new directory under ${TMPDIR:-/tmp}.
# Binaries: env GSOCD (build/release/engine/daemon/gsocd) and FILL
# (build/release/bench/gsoc_bench_console_fill).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
FILL="${FILL:-${root}/build/release/bench/gsoc_bench_console_fill}"
ALERTS="${ALERTS:-10000000}"
RUNS="${RUNS:-3}"
dir=""
keep=0

while getopts "n:r:d:kh" opt; do
  case "${opt}" in
    n) ALERTS="${OPTARG}" ;;
    r) RUNS="${OPTARG}" ;;
    d) dir="${OPTARG}" ;;
    k) keep=1 ;;
    *) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
for bin in "${GSOCD}" "${FILL}"; do
  [[ -x "${bin}" ]] || { echo "console_scale: not executable: ${bin} (build it first)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "console_scale: needs curl" >&2; exit 2; }

[[ -n "${dir}" ]] || dir="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-console-scale.XXXXXX")"
mkdir -p "${dir}/var"
gsocd_pid=""
cleanup() {
  local rc=$?
  if [[ -n "${gsocd_pid}" ]] && kill -0 "${gsocd_pid}" 2>/dev/null; then
    kill -TERM "${gsocd_pid}" 2>/dev/null || true
    wait "${gsocd_pid}" 2>/dev/null || true
  fi
  [[ ${rc} -ne 0 && -s "${dir}/gsocd.log" ]] && tail -n 20 "${dir}/gsocd.log" >&2
  if [[ ${keep} -eq 0 ]]; then rm -rf "${dir}"; else echo "kept: ${dir}"; fi
  exit "${rc}"
}
trap cleanup EXIT

# The shipped rules: "<id>\t<title>\t<level>" (so /api/v1/rules/{id} finds them).
python3 - "${root}/rules/sigma" >"${dir}/rules.tsv" <<'EOF_PY'
import pathlib, sys, yaml
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.yml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("id") and doc.get("title"):
            print(f"{doc['id']}\t{doc['title']}\t{doc.get('level', 'medium')}")
EOF_PY
echo "rules: $(wc -l <"${dir}/rules.tsv") from ${root}/rules/sigma"

if [[ ! -d "${dir}/var/alerts.db" ]]; then
  nice -n 5 "${FILL}" --dir "${dir}/var" --rules "${dir}/rules.tsv" --alerts "${ALERTS}"
fi
echo "data dir: $(du -sh "${dir}/var/alerts.db" | cut -f1) alerts.db, $(du -sh "${dir}/var/triage.db" | cut -f1) triage.db"

cat >"${dir}/gsoc.yaml" <<EOF_CONFIG
log_level: info
data_dir: ${dir}/var
agencies:
  - {name: local, cidrs: [127.0.0.0/8]}
listeners:
  - {name: syslog_tcp, type: syslog_tcp, address: 127.0.0.1, port: 0}
metrics: {port: 0}
api: {port: 0}
store: {path: ${dir}/var/alerts.db, sync: batch, retention_age: 0}
alerts: {file: false}
rules:
  sigma: [${root}/rules/sigma]
  decoders: [${root}/rules/decoders]
  logsources: ${root}/rules/logsources.yaml
  lists:
    - {name: bad_ips, file: ${root}/rules/lists/bad_ips.txt}
    - {name: bad_domains, file: ${root}/rules/lists/bad_domains.txt}
EOF_CONFIG

rm -f "${dir}/ports.json"
start=$(date +%s.%N)
"${GSOCD}" --config "${dir}/gsoc.yaml" --ports-file "${dir}/ports.json" >"${dir}/gsocd.log" 2>&1 &
gsocd_pid=$!
for _ in $(seq 12000); do [[ -s "${dir}/ports.json" ]] && break; sleep 0.05; done  # a 10M store: minutes
[[ -s "${dir}/ports.json" ]] || { echo "console_scale: gsocd did not start" >&2; exit 1; }
echo "gsocd ready in $(echo "$(date +%s.%N) - ${start}" | bc) s ($(grep -o 'overview: [0-9]* stored alerts[^"]*' "${dir}/gsocd.log" | head -1))"
port="$(sed -n 's/.*"api": *\([0-9][0-9]*\).*/\1/p' "${dir}/ports.json")"
token="$(tr -d '[:space:]' <"${dir}/var/api-token")"
base="http://127.0.0.1:${port}"

# ms for one request; the body goes to ${dir}/body.
get() {
  curl -sS -o "${dir}/body" -w '%{time_total}\n' -H "Authorization: Bearer ${token}" "${base}$1" |
    awk '{ printf "%.1f", $1 * 1000 }'
}
post() {
  curl -sS -o "${dir}/body" -w '%{time_total}\n' -H "Authorization: Bearer ${token}" \
    -H 'Content-Type: application/json' --data-binary "@$2" "${base}$1" |
    awk '{ printf "%.1f", $1 * 1000 }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

first_view() {
  local total=0 ms
  for path in /api/v1/whoami '/api/v1/alerts?limit=1' '/api/v1/alerts?limit=200'; do
    ms=$(get "${path}")
    total=$(echo "${total} + ${ms}" | bc)
  done
  local rules
  rules=$(python3 -c 'import json, sys; print("\n".join(sorted({a["rule"]["id"] for a in json.load(open(sys.argv[1]))["alerts"]})))' "${dir}/body")
  ms=$(get /api/v1/overview)
  total=$(echo "${total} + ${ms}" | bc)
  for rule in ${rules}; do
    ms=$(get "/api/v1/rules/$(enc "${rule}")")
    total=$(echo "${total} + ${ms}" | bc)
  done
  echo "${total} $(echo "${rules}" | wc -l)"
}

rare_rule="$(tail -n 1 "${dir}/rules.tsv" | cut -f1)"
filters=(
  "agency=moh"
  "level=high%2B"
  "rule=$(enc "${rare_rule}")"
  "status=closed"
  "status=acknowledged&agency=moj"
  "assignee=carol"
  "status=new&level=critical"
  "q=oracle"
  "q=203.0.77.191"
  "agency=mod&level=medium%2B&q=postgres"
)
declare -A filter_ms
first_ms=() triage_ms=()
for run in $(seq "${RUNS}"); do
  read -r ms rules <<<"$(first_view)"
  first_ms+=("${ms}")
  line="run ${run}: first view ${ms} ms (${rules} rule lookups)"
  for filter in "${filters[@]}"; do
    ms=$(get "/api/v1/alerts?${filter}&limit=200")
    count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["alerts"]))' "${dir}/body")
    filter_ms["${filter}"]+="${ms} "
    line+=" | ${filter} ${ms} ms (${count})"
  done
  get '/api/v1/alerts?status=new&limit=1000' >/dev/null
  python3 -c 'import json, sys; ids = [a["id"] for a in json.load(open(sys.argv[1]))["alerts"]]; print(json.dumps({"ids": ids, "action": "ack"}))' \
    "${dir}/body" >"${dir}/triage.json"
  ms=$(post /api/v1/alerts/triage "${dir}/triage.json")
  ok=$(grep -o '"ok":true' "${dir}/body" | wc -l)
  triage_ms+=("${ms}")
  echo "${line} | triage 1000: ${ms} ms (${ok} ok)"
done
echo "--- medians over ${RUNS} runs, $(curl -sS -H "Authorization: Bearer ${token}" "${base}/api/v1/alerts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alerts"][0]["id"])') alerts stored"
echo "first view: $(median "${first_ms[@]}") ms"
for filter in "${filters[@]}"; do
  # shellcheck disable=SC2086
  echo "filter ${filter}: $(median ${filter_ms["${filter}"]}) ms"
done
echo "triage of 1,000 alerts: $(median "${triage_ms[@]}") ms"
