#!/usr/bin/env bash
# Installs the Debian packages gsoc needs that are missing.
# Usage: deploy/setup.sh [build|test]   (test = build + test packages)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
want="${1:-build}"

missing=()
while read -r kind package; do
  [[ -z "${kind}" || "${kind}" == \#* ]] && continue
  [[ "${want}" == build && "${kind}" == test ]] && continue
  dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("${package}")
done < "${here}/packages.txt"

if ((${#missing[@]} == 0)); then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
${sudo} apt-get update -q
# Services that packages would start (rsyslog, prometheus) are not needed:
# the tests start their own instances.
printf '#!/bin/sh\nexit 101\n' | ${sudo} tee /usr/sbin/policy-rc.d >/dev/null
${sudo} chmod +x /usr/sbin/policy-rc.d
trap '${sudo} rm -f /usr/sbin/policy-rc.d' EXIT
${sudo} apt-get install -y -q --no-install-recommends "${missing[@]}"
