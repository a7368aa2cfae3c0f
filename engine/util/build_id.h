// The GNU build ID (`ld --build-id`) of the binary or shared object this
// code was linked into: a digest of its bytes, so it changes whenever the
// code does. On-disk caches of what the code computed (the Sigma parse
// cache, engine/rules/sigma_cache.h) keep it, and a cache made by another
// build is not used. Empty when the linker wrote none: such a cache is then
// not used at all.
#pragma once

#include <string>

namespace gsoc {

// The ID's bytes (20 with the default SHA-1 style); read once, thread-safe.
const std::string& BuildId();

}  // namespace gsoc
