#!/usr/bin/env bash
# Builds the Debian package build/package/gsoc_<version>_amd64.deb with CPack
# (Release, without tests or benchmarks) and checks it with lintian when it
# is installed. Usage: deploy/package.sh [extra cmake args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${root}/build/package"
"${root}/deploy/setup.sh" build
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "${root}" -B "${out}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGSOC_TESTS=OFF \
  -DGSOC_BENCH=OFF -DGSOC_PACKAGE=ON "${launcher[@]}" "$@"
cmake --build "${out}" -j "$(nproc)"
(cd "${out}" && cpack -G DEB >/dev/null)
deb="$(ls "${out}"/gsoc_*_amd64.deb)"
echo "package: ${deb}"
if command -v lintian >/dev/null; then
  lintian --no-tag-display-limit "${deb}" || true
fi
