#!/usr/bin/env bash
# Every rule of the SigmaHQ corpus over ~1,000,000 Windows events (issue 9):
# `gsocctl replay --format json` with rules/, rules-emerging-threats/ and
# rules-threat-hunting/, whole process, alerts to /dev/null.
#
# Usage: bench/sigmahq_corpus.sh [-r RUNS] [-n EVENTS] [-d DATA] GSOCCTL[@THREADS]...
#   Runs each GSOCCTL binary RUNS times (default 3), alternating between them
#   (old, new, old, new, ...) so that a ratio is measured in the same minutes
#   on a shared machine; BINARY@N runs it with `replay --threads N`, BINARY
#   alone with replay's default (one matching thread per core since
#   2026-12-05; one thread before: use @1 for that). Prints
#   one row per run: binary, wall (whole process, the rule load included),
#   events / wall, the replay's own events/s (from the first event to the
#   last: the load excluded), CPU seconds (user + system, all threads: on a
#   loaded machine less disturbed than wall), max RSS, alerts.
#   -d DATA: the events file; made when missing by repeating the OTRF LSASS
#     comsvcs dump data set (184 lines, ~1.5 KB each) until it holds at least
#     EVENTS lines (default 1,000,000: 5,435 copies, 1,000,040 lines, 1.5 GB).
#   The compiled rule cache (gsocctl's, ~/.cache/gsoc) is warmed by one
#   replay of the first 184 lines per binary before the timed runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${GSOC_CORPUS_DIR:-$(cd "${root}/.." && pwd)/shared/corpus}"
runs=3
events=1000000
data=/tmp/prof/win1m.json
usage() {
  echo "usage: $0 [-r RUNS] [-n EVENTS] [-d DATA] GSOCCTL[@THREADS]..." >&2
  exit 2
}
# shellcheck source=bench/sigmahq_events.sh
source "${root}/bench/sigmahq_events.sh"
sigmahq_options "$@"
shift "${shifted}"
[[ $# -ne 0 ]] || usage
sigma="${corpus}/sigmahq"
make_sigmahq_events "${data}" "${events}"
rules=(--rules "${sigma}/rules" --rules "${sigma}/rules-emerging-threats"
  --rules "${sigma}/rules-threat-hunting")
# "path@N" -> the command line of a run.
command_of() {
  local bin="${1%@*}"
  if [[ "$1" == *@* ]]; then
    echo "${bin} replay --threads ${1##*@}"
  else
    echo "${bin} replay"
  fi
}
for spec in "$@"; do  # warm the compiled rule cache
  $(command_of "${spec}") --format json "${rules[@]}" "${otrf}" >/dev/null 2>&1
done
log=$(mktemp)
trap 'rm -f "${log}" "${log}.time"' EXIT
lines=$(wc -l <"${data}")
echo "# $(date -u '+%F %T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), ${lines} events"
printf '%-44s %8s %12s %12s %8s %10s %8s\n' binary wall_s events/wall replay_ev/s cpu_s \
  maxrss_MiB alerts
for ((run = 0; run < runs; ++run)); do
  for spec in "$@"; do
    /usr/bin/time -f '%e %M %U %S' -o "${log}.time" $(command_of "${spec}") --format json \
      "${rules[@]}" "${data}" 2>"${log}" >/dev/null
    read -r wall rss user system <"${log}.time"
    summary=$(grep 'events/s' "${log}")
    rate=$(sed -n 's/.*alert(s), \([0-9]*\) events\/s.*/\1/p' <<<"${summary}")
    alerts=$(sed -n 's/.* \([0-9]*\) alert(s).*/\1/p' <<<"${summary}")
    printf '%-44s %8s %12.0f %12s %8.2f %10s %8s\n' "${spec}" "${wall}" \
      "$(bc -l <<<"${lines} / ${wall}")" "${rate}" "$(bc -l <<<"${user} + ${system}")" \
      "$((rss / 1024))" "${alerts}"
  done
done
echo "# end $(date -u '+%T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
