#!/usr/bin/env bash
# Quick start: installs what is missing, builds Release and runs gsocd in the
# foreground on deploy/gsoc.yaml (loopback ports 5514 tcp+udp, 5515 JSON,
# metrics 9102; data in deploy/var/). Ctrl-C stops it cleanly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${root}/deploy/setup.sh" build
"${root}/deploy/build.sh" release -DGSOC_TESTS=OFF -DGSOC_BENCH=OFF
exec "${root}/build/release/engine/daemon/gsocd" --config "${root}/deploy/gsoc.yaml" "$@"
