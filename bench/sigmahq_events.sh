# shellcheck shell=bash
# Sourced by the SigmaHQ benchmark scripts (not run): their common options
# and the Windows events they send. Needs $corpus (../shared/corpus).

# sigmahq_options "$@": reads -r RUNS, -n EVENTS and -d DATA into $runs,
# $events and $data (the caller sets their defaults first) and sets
# $shifted to the number of arguments they took; anything else calls the
# caller's `usage` function.
sigmahq_options() {
  local opt OPTIND=1
  while getopts "r:n:d:" opt; do
    case "${opt}" in
      r) runs="${OPTARG}" ;;
      n) events="${OPTARG}" ;;
      d) data="${OPTARG}" ;;
      *) usage ;;
    esac
  done
  shifted=$((OPTIND - 1))
}
#
# otrf: the OTRF LSASS comsvcs dump data set (184 lines of Sysmon and
# Security events in NXLog shape, ~1.5 KB each).
otrf="${corpus}/otrf-security-datasets/windows_atomic_lsass_comsvcs/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"

# make_sigmahq_events FILE LINES: makes FILE unless it holds at least LINES
# lines already: $otrf repeated until it has.
make_sigmahq_events() {
  local data=$1 want=$2 lines copies i
  if [[ -s "${data}" ]] && (($(wc -l <"${data}") >= want)); then return; fi
  lines=$(wc -l <"${otrf}")
  copies=$(((want + lines - 1) / lines))
  echo "making ${data}: ${copies} copies of ${otrf}" >&2
  mkdir -p "$(dirname "${data}")"
  for ((i = 0; i < copies; ++i)); do cat "${otrf}"; done >"${data}.tmp"
  mv "${data}.tmp" "${data}"
}
