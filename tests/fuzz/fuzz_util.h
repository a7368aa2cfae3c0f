// Helpers shared by the fuzz targets.
#pragma once

#include <cstdlib>
#include <string_view>

namespace gsoc::fuzz {

// A failed invariant: abort, so that libFuzzer saves the input as a crash.
inline void Check(bool ok) {
  if (!ok) std::abort();
}

// Reads every byte of `view`, so that ASan reports a view out of bounds.
inline unsigned Touch(std::string_view view) {
  unsigned sum = 0;
  for (char c : view) sum += static_cast<unsigned char>(c);
  return sum;
}

// Keeps a value computed from touched bytes alive.
inline volatile unsigned g_sink = 0;
inline void Sink(unsigned value) { g_sink = value; }

}  // namespace gsoc::fuzz
