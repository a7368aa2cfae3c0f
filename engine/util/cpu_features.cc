#include "engine/util/cpu_features.h"

namespace gsoc {

bool CpuHasAvx512Vbmi2() {
#if GSOC_HAVE_AVX512_VBMI2_TARGET
  // libgcc's and compiler-rt's CPU model checks XCR0 for the AVX-512 state.
  static const bool available =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
      __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi") &&
      __builtin_cpu_supports("bmi2");
  return available;
#else
  return false;
#endif
}

}  // namespace gsoc
