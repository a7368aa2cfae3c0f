#!/usr/bin/env bash
# Every rule of the SigmaHQ corpus over ~1,000,000 Windows events (issue 9):
# `gsocctl replay --format json` with rules/, rules-emerging-threats/ and
# rules-threat-hunting/, whole process, alerts to /dev/null.
#
# Usage: bench/sigmahq_corpus.sh [-r RUNS] [-n EVENTS] [-d DATA] [-j THREADS] GSOCCTL...
#   Runs each GSOCCTL binary RUNS times (default 3), alternating between them
#   (old, new, old, new, ...) so that a ratio is measured in the same minutes
#   on a shared machine. Prints one row per run: binary, wall, the replay's
#   own events/s, max RSS, alerts.
#   -d DATA: the events file; made when missing by repeating the OTRF LSASS
#     comsvcs dump data set (184 lines, ~1.5 KB each) until it holds at least
#     EVENTS lines (default 1,000,000: 5,435 copies, 1,000,040 lines, 1.5 GB).
#   -j THREADS: passed to replay as --threads (binaries that have it).
#   The compiled rule cache ($TMPDIR/gsocctl-hs-cache) is warmed by one
#   replay of the first 184 lines per binary before the timed runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${GSOC_CORPUS_DIR:-$(cd "${root}/.." && pwd)/shared/corpus}"
runs=3
events=1000000
data=/tmp/prof/win1m.json
threads=""
while getopts "r:n:d:j:" opt; do
  case "${opt}" in
    r) runs="${OPTARG}" ;;
    n) events="${OPTARG}" ;;
    d) data="${OPTARG}" ;;
    j) threads="${OPTARG}" ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [[ $# -eq 0 ]]; then
  echo "usage: $0 [-r RUNS] [-n EVENTS] [-d DATA] [-j THREADS] GSOCCTL..." >&2
  exit 2
fi
otrf="${corpus}/otrf-security-datasets/windows_atomic_lsass_comsvcs/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"
sigma="${corpus}/sigmahq"
if [[ ! -s "${data}" ]] || (($(wc -l <"${data}") < events)); then
  lines=$(wc -l <"${otrf}")
  copies=$(((events + lines - 1) / lines))
  echo "making ${data}: ${copies} copies of ${otrf}" >&2
  mkdir -p "$(dirname "${data}")"
  for ((i = 0; i < copies; ++i)); do cat "${otrf}"; done >"${data}.tmp"
  mv "${data}.tmp" "${data}"
fi
rules=(--rules "${sigma}/rules" --rules "${sigma}/rules-emerging-threats"
  --rules "${sigma}/rules-threat-hunting")
extra=()
[[ -n "${threads}" ]] && extra=(--threads "${threads}")
for bin in "$@"; do
  "${bin}" replay --format json "${rules[@]}" "${extra[@]}" "${otrf}" >/dev/null 2>&1
done
log=$(mktemp)
trap 'rm -f "${log}"' EXIT
echo "# $(date -u '+%F %T') UTC, load average: $(cut -d' ' -f1-3 /proc/loadavg), ${data}"
printf '%-40s %8s %12s %10s %8s\n' binary wall_s events/s maxrss_MiB alerts
for ((run = 0; run < runs; ++run)); do
  for bin in "$@"; do
    /usr/bin/time -f '%e %M' -o "${log}.time" "${bin}" replay --format json "${rules[@]}" \
      "${extra[@]}" "${data}" 2>"${log}" >/dev/null
    read -r wall rss <"${log}.time"
    summary=$(grep 'events/s' "${log}")
    rate=$(sed -n 's/.*alert(s), \([0-9]*\) events\/s.*/\1/p' <<<"${summary}")
    alerts=$(sed -n 's/.* \([0-9]*\) alert(s).*/\1/p' <<<"${summary}")
    printf '%-40s %8s %12s %10s %8s\n' "${bin}" "${wall}" "${rate}" "$((rss / 1024))" "${alerts}"
  done
done
rm -f "${log}.time"
