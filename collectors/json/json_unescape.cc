#include "collectors/json/json_unescape.h"

#include <bit>
#include <cstdint>

#include "engine/util/cpu_features.h"

#if GSOC_HAVE_AVX512_VBMI2_TARGET
#include <immintrin.h>
#endif

namespace gsoc::json_internal {

unsigned long long EscapedBytes(unsigned long long backslashes, unsigned long long& carry) {
  constexpr uint64_t kEven = 0x5555'5555'5555'5555ULL;
  // A byte escaped by the previous block's last backslash escapes nothing.
  const uint64_t b = backslashes & ~carry;
  // Each run of backslashes escapes with its 1st, 3rd, ... backslash.
  const uint64_t starts = b & ~(b << 1);
  // Adding a run's start bit to the run clears the run (and sets the bit
  // after it): what survives are the runs that start on even bytes.
  const uint64_t sum = b + (starts & ~kEven);
  const uint64_t even_runs = b & sum;
  const uint64_t odd_runs = b & ~sum;
  const uint64_t escaping = (even_runs & kEven) | (odd_runs & ~kEven);
  const uint64_t escaped = escaping << 1 | carry;
  carry = escaping >> 63;
  return escaped;
}

#if GSOC_HAVE_AVX512_VBMI2_TARGET

namespace {

// What each escaped byte stands for, by its low 7 bits; 0 = not a one-byte
// escape (\u, or invalid).
struct EscapeTable {
  alignas(64) uint8_t bytes[128] = {};
  constexpr EscapeTable() {
    constexpr char kPairs[][2] = {{'"', '"'},  {'\\', '\\'}, {'/', '/'},  {'b', '\b'},
                                  {'f', '\f'}, {'n', '\n'},  {'r', '\r'}, {'t', '\t'}};
    for (const auto& [letter, meaning] : kPairs) {
      bytes[static_cast<uint8_t>(letter)] = static_cast<uint8_t>(meaning);
    }
  }
};
constexpr EscapeTable kEscapes;

GSOC_AVX512_VBMI2_TARGET char* UnescapeBlocks(const char* src, const char* limit, char* dst) {
  const __m512i quote = _mm512_set1_epi8('"');
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i table_low = _mm512_load_si512(kEscapes.bytes);
  const __m512i table_high = _mm512_load_si512(kEscapes.bytes + 64);
  unsigned long long carry = 0;
  for (; src < limit; src += 64) {
    const __m512i bytes = _mm512_loadu_si512(src);
    const uint64_t backslashes = _mm512_cmpeq_epi8_mask(bytes, backslash);
    uint64_t escaped = EscapedBytes(backslashes, carry);
    const uint64_t closing = _mm512_cmpeq_epi8_mask(bytes, quote) & ~escaped;
    // The bytes before the closing quote, or the whole block.
    const uint64_t inside = closing != 0 ? (closing & (0 - closing)) - 1 : ~uint64_t{0};
    escaped &= inside;
    const __m512i meaning = _mm512_permutex2var_epi8(table_low, bytes, table_high);
    const uint64_t simple = _mm512_test_epi8_mask(meaning, meaning) & ~_mm512_movepi8_mask(bytes);
    if ((escaped & ~simple) != 0) return nullptr;  // \u or invalid: simdjson's
    const __m512i out = _mm512_mask_blend_epi8(escaped, bytes, meaning);
    const uint64_t keep = inside & ~(backslashes & ~escaped);
    _mm512_storeu_si512(dst, _mm512_maskz_compress_epi8(keep, out));
    dst += std::popcount(keep);
    if (closing != 0) return src + std::countr_zero(closing) < limit ? dst : nullptr;
  }
  return nullptr;
}

}  // namespace

#endif

bool BlockUnescapeAvailable() { return CpuHasAvx512Vbmi2(); }

char* UnescapeSimpleEscapes(const char* src, const char* limit, char* dst) {
#if GSOC_HAVE_AVX512_VBMI2_TARGET
  if (BlockUnescapeAvailable()) return UnescapeBlocks(src, limit, dst);
#endif
  (void)src, (void)limit, (void)dst;
  return nullptr;
}

}  // namespace gsoc::json_internal
