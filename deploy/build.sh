#!/usr/bin/env bash
# Builds one configuration of gsoc.
# Usage: deploy/build.sh release|asan [extra cmake args]
#   release: build/release, g++ -O3
#   asan:    build/asan, clang with AddressSanitizer + UndefinedBehaviorSanitizer
#            and libFuzzer targets
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-release}"
shift || true
jobs="$(nproc)"

# ccache (when installed) makes rebuilds and fresh clones on a machine that
# built before cheap; paths are hashed relative to the build folder.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=/ CCACHE_NOHASHDIR=1
fi

case "${kind}" in
  release)
    # Options are always stated (later "$@" wins): the CMake cache would
    # otherwise keep what an earlier run.sh chose (no tests, no benchmarks).
    cmake -S "${root}" -B "${root}/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DGSOC_TESTS=ON -DGSOC_BENCH=ON "${launcher[@]}" "$@"
    ;;
  asan)
    # -O1 with line tables only: sanitizer reports keep file:line stacks, and
    # the Beast/Asio-heavy files compile in half the time of -O2 -g.
    CXX=clang++ cmake -S "${root}" -B "${root}/build/asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" -DGSOC_SANITIZE=ON -DGSOC_FUZZ=ON -DGSOC_TESTS=ON -DGSOC_BENCH=OFF "${launcher[@]}" "$@"
    ;;
  *)
    echo "usage: $0 release|asan" >&2
    exit 2
    ;;
esac
cmake --build "${root}/build/${kind}" -j "${jobs}"
