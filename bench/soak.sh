#!/usr/bin/env bash
# Soak: gsocd (Release, the shipped config deploy/gsoc.yaml and rule pack, data
# in a temp dir) under moderate mixed load for a long time, with rule reloads,
# API queries and live-stream clients that disconnect and resume. Samples the
# process every INTERVAL s into a CSV and judges at the end that memory, file
# descriptors, threads and latency stayed flat. Exit 0 = flat, 1 = not flat
# (or gsocd died / lost events), 2 = usage.
#
# Usage: bench/soak.sh [-m MINUTES] [-i INTERVAL] [-r RATE] [-a AGENCIES] [-o CSV]
#   MINUTES   length of the load phase       (default 30, env MINUTES)
#   INTERVAL  seconds between samples        (default 10, env INTERVAL)
#   RATE      events/s in total, about       (default 10000, env RATE)
#   AGENCIES  extra agencies (127.1N.0.0/16) (default 4, env AGENCIES)
#   CSV       samples file (default soak-<date>.csv in the current folder);
#             the gsocd, load, API and stream logs are kept in <CSV>-logs/
# Load: gsoc-loadgen `mix` over TCP (40% of RATE) and UDP (10%) from
# 127.0.0.1 (agency `local`); per extra agency, bench/soak_load.py sends
# RFC 3164 over TCP, over UDP and JSON lines (Winlogbeat-style 4625 events)
# from its own 127.1N.0.1 address (50% shared). Every RELOAD_S (default 60) s
# a rule reload, alternating SIGHUP and POST /api/v1/rules/reload. An API
# client queries /api/v1/alerts?limit=50 every 0.2 s; STREAMS (default 3) SSE
# clients hold a stream 5 s, drop it and resume with Last-Event-ID.
# Flatness (env overrides): mean RSS of the last third <= mean of the middle
# third x (1 + RSS_TOL_PCT/100, default 10%) + 8 MiB; max fds and threads of
# the last third <= those of the middle third + FD_SLACK (16) / THREAD_SLACK (4);
# API p99 and stream-resume p99 over the run <= P99_MS (1000); peak RSS <=
# RSS_MAX_MIB (1024: issue 11's 1 GiB target); every /metrics scrape answers
# within P99_MS (issue 11: scrapes within 1 s); no duplicate
# stream ids; every received event processed or discarded within 60 s of
# the end of the load; gsocd alive throughout.
# Binaries: env GSOCD (default build/release/engine/daemon/gsocd) and LOADGEN
# (default build/release/tools/loadgen/gsoc-loadgen). Needs curl and python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GSOCD="${GSOCD:-${root}/build/release/engine/daemon/gsocd}"
LOADGEN="${LOADGEN:-${root}/build/release/tools/loadgen/gsoc-loadgen}"
MINUTES="${MINUTES:-30}"
INTERVAL="${INTERVAL:-10}"
RATE="${RATE:-10000}"
AGENCIES="${AGENCIES:-4}"
RELOAD_S="${RELOAD_S:-60}"
STREAMS="${STREAMS:-3}"
RSS_TOL_PCT="${RSS_TOL_PCT:-10}"
FD_SLACK="${FD_SLACK:-16}"
THREAD_SLACK="${THREAD_SLACK:-4}"
P99_MS="${P99_MS:-1000}"
RSS_MAX_MIB="${RSS_MAX_MIB:-1024}"
CSV=""

usage() { sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts "m:i:r:a:o:h" opt; do
  case "${opt}" in
    m) MINUTES="${OPTARG}" ;;
    i) INTERVAL="${OPTARG}" ;;
    r) RATE="${OPTARG}" ;;
    a) AGENCIES="${OPTARG}" ;;
    o) CSV="${OPTARG}" ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
CSV="${CSV:-soak-$(date -u +%Y%m%dT%H%M%SZ).csv}"
logs="${CSV%.csv}-logs"  # gsocd, load, API and stream logs are kept here
((AGENCIES >= 1 && AGENCIES <= 9)) || { echo "soak: AGENCIES must be 1..9" >&2; exit 2; }
for bin in "${GSOCD}" "${LOADGEN}"; do
  [[ -x "${bin}" ]] || { echo "soak: not executable: ${bin} (build it first)" >&2; exit 2; }
done
for tool in curl python3; do
  command -v "${tool}" >/dev/null || { echo "soak: ${tool} is required" >&2; exit 2; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gsoc-soak.XXXXXX")"
gsocd_pid=""
helpers=()

stop_helpers() {
  local pid
  for pid in ${helpers[@]+"${helpers[@]}"}; do
    pkill -TERM -P "${pid}" 2>/dev/null || true # a loop's sleep or curl
    kill -TERM "${pid}" 2>/dev/null || true
  done
  for pid in ${helpers[@]+"${helpers[@]}"}; do wait "${pid}" 2>/dev/null || true; done
  helpers=()
}

cleanup() {
  local rc=$?
  stop_helpers
  if [[ -n "${gsocd_pid}" ]] && kill -0 "${gsocd_pid}" 2>/dev/null; then
    kill -TERM "${gsocd_pid}" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "${gsocd_pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${gsocd_pid}" 2>/dev/null || true
    wait "${gsocd_pid}" 2>/dev/null || true
  fi
  if [[ ${rc} -ne 0 && -s "${tmp}/gsocd.log" ]]; then
    echo "--- last lines of gsocd log:" >&2
    tail -n 20 "${tmp}/gsocd.log" >&2
  fi
  mkdir -p "${logs}"
  cp "${tmp}"/*.log "${logs}/" 2>/dev/null || true
  rm -rf "${tmp}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The shipped config, with ports from the kernel, the shipped rules by
# absolute path, warnings only, and one agency per 127.1N.0.0/16 besides local.
write_config() {
  local agencies="  - name: local\n    cidrs: [127.0.0.0/16, \"::1/128\"]"
  local n
  for n in $(seq 1 "${AGENCIES}"); do
    agencies+="\n  - name: soak${n}\n    cidrs: [127.1${n}.0.0/16]"
  done
  sed -e 's/^\( *port:\) [0-9][0-9]*/\1 0/' -e "s#\.\./rules#${root}/rules#g" \
    -e 's/^log_level: info/log_level: warn/' "${root}/deploy/gsoc.yaml" |
    awk -v repl="${agencies}" '
      /^agencies:/ { print; gsub(/\\n/, "\n", repl); print repl; skip = 1; next }
      skip && /^[^ #-]/ { skip = 0 }
      !skip { print }' >"${tmp}/gsoc.yaml"
}

port() { sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "${tmp}/ports.json"; }

start_gsocd() {
  nice -n "${NICE:-10}" "${GSOCD}" --config "${tmp}/gsoc.yaml" --ports-file "${tmp}/ports.json" \
    >"${tmp}/gsocd.log" 2>&1 &
  gsocd_pid=$!
  for _ in $(seq 600); do [[ -s "${tmp}/ports.json" ]] && break; sleep 0.05; done
  [[ -s "${tmp}/ports.json" ]] || { echo "soak: gsocd did not start" >&2; exit 1; }
  tcp_port="$(port syslog_tcp)" udp_port="$(port syslog_udp)" json_port="$(port json)"
  metrics_port="$(port metrics)" api_port="$(port api)"
  token_file="${tmp}/var/api-token"
  for _ in $(seq 100); do [[ -s "${token_file}" ]] && break; sleep 0.05; done
  token="$(tr -d '[:space:]' <"${token_file}")"
}

start_load() {
  local share=$((RATE / 2 / (AGENCIES * 3))) n
  nice -n 10 "${LOADGEN}" --port "${tcp_port}" --template mix --framing octet \
    --rate $((RATE * 2 / 5)) --duration $((MINUTES * 60 + 60)) --connections 2 -q \
    2>>"${tmp}/load.log" &
  helpers+=($!)
  nice -n 10 "${LOADGEN}" --transport udp --port "${udp_port}" --template rfc5424 \
    --rate $((RATE / 10)) --duration $((MINUTES * 60 + 60)) -q 2>>"${tmp}/load.log" &
  helpers+=($!)
  for n in $(seq 1 "${AGENCIES}"); do
    local spec transport p
    for spec in "tcp:${tcp_port}" "udp:${udp_port}" "json:${json_port}"; do
      transport="${spec%%:*}" p="${spec#*:}"
      nice -n 10 python3 "${root}/bench/soak_load.py" send --source "127.1${n}.0.1" --port "${p}" \
        --transport "${transport}" --rate "${share}" --host-name "soak${n}-${transport}" \
        --seed "${n}" 2>>"${tmp}/load.log" &
      helpers+=($!)
    done
  done
}

start_clients() {
  local n
  (
    while :; do
      curl -s -o /dev/null -w "%{time_total} %{http_code}\n" --max-time 10 \
        -H "Authorization: Bearer ${token}" \
        "http://127.0.0.1:${api_port}/api/v1/alerts?limit=50" |
        awk -v t="$(date +%s)" '{ printf "%d,%.1f,%s\n", t, $1 * 1000, $2 }' >>"${tmp}/api.log"
      sleep 0.2
    done
  ) &
  helpers+=($!)
  for n in $(seq 1 "${STREAMS}"); do
    python3 "${root}/bench/soak_load.py" stream --port "${api_port}" --token-file "${token_file}" \
      --log "${tmp}/stream.log" --hold 5 --pause "${n}" 2>>"${tmp}/load.log" &
    helpers+=($!)
  done
  (
    local i=0
    while :; do
      sleep "${RELOAD_S}"
      if ((i++ % 2 == 0)); then
        kill -HUP "${gsocd_pid}"
      else
        curl -s -o /dev/null --max-time 10 -X POST -H "Authorization: Bearer ${token}" \
          "http://127.0.0.1:${api_port}/api/v1/rules/reload"
      fi
      date +%s >>"${tmp}/reloads.log"
    done
  ) &
  helpers+=($!)
}

# metric NAME [LABEL_RE]: the sum of NAME over its label sets (0 if absent).
metrics_text() { curl -sf --max-time 5 "http://127.0.0.1:${metrics_port}/metrics" || true; }
# A timed scrape: sets `metrics` and `scrape_ms` (curl's own time, not
# its start on a busy machine; 5000 when it failed).
timed_scrape() {
  local out
  out="$(curl -s --max-time 5 -w '\n#scrape %{time_total} %{http_code}\n' \
    "http://127.0.0.1:${metrics_port}/metrics" || true)"
  scrape_ms="$(awk '/^#scrape / { printf "%d", ($3 == 200 ? $2 * 1000 : 5000) }' <<<"${out}")"
  scrape_ms="${scrape_ms:-5000}"
  metrics="$(grep -v '^#scrape ' <<<"${out}" || true)"
}
metric() {
  awk -v name="$1" -v want="${2:-}" '
    { split($1, p, "{") } p[1] == name && (want == "" || index($1, want)) { s += $2 }
    END { printf "%.0f", s }' <<<"${metrics}"
}

# pct FILE COLUMN SINCE P: the P-th percentile of COLUMN of CSV FILE rows
# whose first column (unix time) is >= SINCE (-1 if none). Stream rows count
# only when resumed (column 6: the request carried Last-Event-ID).
pct() {
  awk -F, -v c="$2" -v s="$3" '$1 >= s && (NF < 6 || $6 == 1) { print $c }' "$1" 2>/dev/null |
    sort -n |
    awk -v p="$4" '{ v[NR] = $1 } END { if (!NR) { print -1; exit }
      i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.1f", v[i] }'
}

sample() {
  local t=$1 since=$2 rss fds threads
  rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/${gsocd_pid}/status")"
  threads="$(awk '/^Threads:/ { print $2 }' "/proc/${gsocd_pid}/status")"
  fds="$(find "/proc/${gsocd_pid}/fd" -mindepth 1 -maxdepth 1 | wc -l)"
  timed_scrape
  printf '%d,%d,%d,%d,%s,%s,%s,%s,%d,%d,%d,%d,%d,%d\n' "${t}" "${rss}" "${fds}" "${threads}" \
    "$(pct "${tmp}/api.log" 2 "${since}" 50)" "$(pct "${tmp}/api.log" 2 "${since}" 99)" \
    "$(pct "${tmp}/stream.log" 2 "${since}" 50)" "$(pct "${tmp}/stream.log" 2 "${since}" 99)" \
    "$(metric gsoc_events_received_total)" "$(metric gsoc_events_processed_total)" \
    "$(metric gsoc_store_alerts_committed_total)" \
    "$(metric gsoc_rule_reloads_total 'result="success"')" \
    "$(metric gsoc_events_discarded_total)" "${scrape_ms}"
}

# judge: prints the summary and returns 1 when something was not flat.
judge() {
  local third=$((${#rows[@]} / 3)) verdict=0
  ((third >= 1)) || { echo "soak: too few samples (${#rows[@]}) to judge" >&2; return 1; }
  local mid last
  mid="$(printf '%s\n' "${rows[@]:third:third}")"
  last="$(printf '%s\n' "${rows[@]:$((2 * third))}")"
  local mid_rss last_rss mid_fd last_fd mid_thr last_thr
  mid_rss="$(awk -F, '{ s += $2 } END { printf "%.0f", s / NR }' <<<"${mid}")"
  last_rss="$(awk -F, '{ s += $2 } END { printf "%.0f", s / NR }' <<<"${last}")"
  mid_fd="$(awk -F, '$3 > m { m = $3 } END { print m }' <<<"${mid}")"
  last_fd="$(awk -F, '$3 > m { m = $3 } END { print m }' <<<"${last}")"
  mid_thr="$(awk -F, '$4 > m { m = $4 } END { print m }' <<<"${mid}")"
  last_thr="$(awk -F, '$4 > m { m = $4 } END { print m }' <<<"${last}")"
  local first="${rows[0]}" end="${rows[-1]}"
  local api50 api99 apimax s50 s99 smax dups conns api_fail
  api50="$(pct "${tmp}/api.log" 2 0 50)" api99="$(pct "${tmp}/api.log" 2 0 99)"
  apimax="$(pct "${tmp}/api.log" 2 0 100)"
  api_fail="$(awk -F, '$3 != 200 { n++ } END { print n + 0 }' "${tmp}/api.log")"
  s50="$(pct "${tmp}/stream.log" 2 0 50)" s99="$(pct "${tmp}/stream.log" 2 0 99)"
  smax="$(pct "${tmp}/stream.log" 2 0 100)"
  dups="$(awk -F, '{ d += $4 } END { print d + 0 }' "${tmp}/stream.log")"
  conns="$(awk -F, '$5 == 200 && $6 == 1 { n++ } END { print n + 0 }' "${tmp}/stream.log")"
  echo "samples: ${#rows[@]} every ${INTERVAL} s; CSV: ${CSV}"
  echo "RSS: start $(($(cut -d, -f2 <<<"${first}") / 1024)) MiB -> $(($(cut -d, -f2 <<<"${end}") / 1024)) MiB at the end;" \
    "mean middle third $((mid_rss / 1024)) MiB, last third $((last_rss / 1024)) MiB"
  echo "fds: start $(cut -d, -f3 <<<"${first}"), max middle ${mid_fd}, max last ${last_fd};" \
    "threads: max middle ${mid_thr}, max last ${last_thr}"
  local peak_rss scrape_max scrape_slow
  peak_rss="$(printf '%s\n' "${rows[@]}" | awk -F, '$2 > m { m = $2 } END { print m }')"
  scrape_max="$(printf '%s\n' "${rows[@]}" | awk -F, '$14 > m { m = $14 } END { print m + 0 }')"
  scrape_slow="$(printf '%s\n' "${rows[@]}" | awk -F, -v m="${P99_MS}" '$14 > m { n++ } END { print n + 0 }')"
  echo "RSS peak $((peak_rss / 1024)) MiB (target <= ${RSS_MAX_MIB} MiB)"
  echo "/metrics scrapes: max ${scrape_max} ms, ${scrape_slow} of ${#rows[@]} over ${P99_MS} ms"
  echo "API query latency (ms): p50 ${api50}, p99 ${api99}, max ${apimax}" \
    "over $(wc -l <"${tmp}/api.log") queries, ${api_fail} not 200"
  echo "stream resume (ms to first event): p50 ${s50}, p99 ${s99}, max ${smax}" \
    "over ${conns} resumed connections, ${dups} duplicate ids"
  echo "events received ${final_received}, processed ${final_processed}, discarded" \
    "${final_discarded}; alerts committed ${final_alerts}; reloads issued" \
    "$(wc -l <"${tmp}/reloads.log" 2>/dev/null || echo 0), succeeded ${final_reloads}"
  awk '/^gsoc_events_discarded_total/ && $2 != 0 { print "  " $0 }' <<<"${metrics}"
  if ((last_rss > mid_rss * (100 + RSS_TOL_PCT) / 100 + 8192)); then
    echo "NOT FLAT: RSS grew more than ${RSS_TOL_PCT}% + 8 MiB from the middle to the last third"
    verdict=1
  fi
  if ((peak_rss > RSS_MAX_MIB * 1024)); then
    echo "OVER TARGET: peak RSS $((peak_rss / 1024)) MiB > ${RSS_MAX_MIB} MiB"
    verdict=1
  fi
  ((scrape_slow == 0)) || { echo "NOT FLAT: ${scrape_slow} /metrics scrapes over ${P99_MS} ms"; verdict=1; }
  ((last_fd <= mid_fd + FD_SLACK)) || { echo "NOT FLAT: fds grew by more than ${FD_SLACK}"; verdict=1; }
  ((last_thr <= mid_thr + THREAD_SLACK)) ||
    { echo "NOT FLAT: threads grew by more than ${THREAD_SLACK}"; verdict=1; }
  awk -v a="${api99}" -v s="${s99}" -v m="${P99_MS}" 'BEGIN { exit !(a <= m && s <= m && a >= 0 && s >= 0) }' ||
    { echo "NOT FLAT: a p99 latency is above ${P99_MS} ms (or no samples)"; verdict=1; }
  ((dups == 0)) || { echo "FAIL: ${dups} stream ids were sent twice"; verdict=1; }
  ((api_fail == 0)) || { echo "FAIL: ${api_fail} API queries did not answer 200"; verdict=1; }
  ((final_processed + final_discarded >= final_received)) ||
    { echo "FAIL: $((final_received - final_processed - final_discarded)) events not processed"; verdict=1; }
  ((final_reloads > 0)) || { echo "FAIL: no rule reload succeeded"; verdict=1; }
  return "${verdict}"
}

write_config
start_gsocd
echo "gsocd pid ${gsocd_pid}; load ~${RATE} events/s for ${MINUTES} min from local + ${AGENCIES}" \
  "agencies; reloads every ${RELOAD_S} s; ${STREAMS} stream clients; samples every ${INTERVAL} s"
: >"${tmp}/api.log"
: >"${tmp}/stream.log"
start_load
start_clients
echo "unix_time,rss_kib,fds,threads,api_p50_ms,api_p99_ms,stream_resume_p50_ms," \
  "stream_resume_p99_ms,events_received,events_processed,alerts_committed,reloads_ok," \
  "events_discarded,scrape_ms" | tr -d ' ' >"${CSV}"
rows=()
begin=$(date +%s)
end_at=$((begin + MINUTES * 60))
since=${begin}
while (($(date +%s) < end_at)); do
  sleep "${INTERVAL}"
  kill -0 "${gsocd_pid}" 2>/dev/null || { echo "soak: gsocd died" >&2; exit 1; }
  now=$(date +%s)
  row="$(sample "${now}" "${since}")"
  since=${now}
  rows+=("${row}")
  echo "${row}" >>"${CSV}"
  [[ -n "${VERBOSE:-}" ]] && echo "${row}"
done
stop_helpers
# Let the pipeline drain: received must be processed (or discarded).
for _ in $(seq 60); do
  metrics="$(metrics_text)"
  final_received="$(metric gsoc_events_received_total)"
  final_processed="$(metric gsoc_events_processed_total)"
  final_discarded="$(metric gsoc_events_discarded_total)"
  ((final_processed + final_discarded >= final_received)) && break
  sleep 1
done
final_alerts="$(metric gsoc_store_alerts_committed_total)"
final_reloads="$(metric gsoc_rule_reloads_total 'result="success"')"
if judge; then echo "verdict: FLAT"; else echo "verdict: NOT FLAT"; exit 1; fi
