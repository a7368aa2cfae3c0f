#!/usr/bin/env bash
# Installs the Debian packages gsoc needs that are missing.
# Usage: deploy/setup.sh [build|test]   (test = build + test packages)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
want="${1:-build}"

# Packages that conflict with an installed one (syslog-ng-core with rsyslog:
# both are the system log daemon) are unpacked, not installed, under
# /opt/gsoc-test-tools/<package>; tests run them from there.
tools_dir=/opt/gsoc-test-tools
missing=()
unpack=()
while read -r kind package; do
  [[ -z "${kind}" || "${kind}" == \#* ]] && continue
  if [[ "${kind}" == build-if-missing ]]; then
    # A command another package already provides (npm bundled with a newer
    # nodejs) is not replaced by Debian's package.
    command -v "${package}" >/dev/null 2>&1 && continue
    kind=build
  fi
  [[ "${want}" == build && ( "${kind}" == test || "${kind}" == unpack ) ]] && continue
  if [[ "${kind}" == unpack ]]; then
    [[ -d "${tools_dir}/${package}" ]] || unpack+=("${package}")
    continue
  fi
  dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("${package}")
done < "${here}/packages.txt"

sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
unpack_tools() {
  local package dir
  for package in "${unpack[@]}"; do
    dir="$(mktemp -d)"
    (cd "${dir}" && apt-get download -q "${package}")
    ${sudo} mkdir -p "${tools_dir}/${package}.new"
    ${sudo} dpkg-deb -x "${dir}"/"${package}"_*.deb "${tools_dir}/${package}.new"
    ${sudo} mv "${tools_dir}/${package}.new" "${tools_dir}/${package}"
    rm -rf "${dir}"
    echo "setup: unpacked ${package} into ${tools_dir}/${package}"
  done
}
if ((${#missing[@]} == 0)); then
  echo "setup: all packages present"
  if ((${#unpack[@]} > 0)); then unpack_tools; fi
  exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
${sudo} apt-get update -q
# Services that packages would start (rsyslog, prometheus) are not needed:
# the tests start their own instances.
printf '#!/bin/sh\nexit 101\n' | ${sudo} tee /usr/sbin/policy-rc.d >/dev/null
${sudo} chmod +x /usr/sbin/policy-rc.d
trap '${sudo} rm -f /usr/sbin/policy-rc.d' EXIT
${sudo} apt-get install -y -q --no-install-recommends "${missing[@]}"
if ((${#unpack[@]} > 0)); then unpack_tools; fi
