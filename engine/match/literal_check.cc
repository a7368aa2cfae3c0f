#include "engine/match/literal_check.h"

#include <bit>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/util/ascii.h"

namespace gsoc::match::internal {

namespace {

constexpr char UpperAscii(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// Whether `value` holds `lower` (lower case, not empty) ignoring ASCII
// case. Where SSE2 is there, 16 start positions a step: those whose first
// and last bytes match (either case) are compared in full, so a value is
// read about twice, not once per position.
bool ContainsFolded(std::string_view value, std::string_view lower) {
  const size_t n = lower.size();
  if (n > value.size()) return false;
  const size_t last_start = value.size() - n;  // the last position the literal fits
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i first_lower = _mm_set1_epi8(lower.front());
  const __m128i first_upper = _mm_set1_epi8(UpperAscii(lower.front()));
  const __m128i last_lower = _mm_set1_epi8(lower.back());
  const __m128i last_upper = _mm_set1_epi8(UpperAscii(lower.back()));
  // Blocks of 16 starts whose last-byte loads stay inside the value.
  for (; i + 16 <= last_start + 1; i += 16) {
    const __m128i firsts = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i));
    const __m128i lasts =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i + n - 1));
    const __m128i hits = _mm_and_si128(
        _mm_or_si128(_mm_cmpeq_epi8(firsts, first_lower), _mm_cmpeq_epi8(firsts, first_upper)),
        _mm_or_si128(_mm_cmpeq_epi8(lasts, last_lower), _mm_cmpeq_epi8(lasts, last_upper)));
    for (auto mask = static_cast<uint32_t>(_mm_movemask_epi8(hits)); mask != 0; mask &= mask - 1) {
      if (EqualsLowerAscii(lower, value.substr(i + std::countr_zero(mask), n))) return true;
    }
  }
#endif
  for (; i <= last_start; ++i) {
    if (AsciiLowerChar(value[i]) == lower.front() && EqualsLowerAscii(lower, value.substr(i, n)))
      return true;
  }
  return false;
}

}  // namespace

LiteralCheck::LiteralCheck(Kind kind, std::string_view text, bool cased)
    : kind_(kind), cased_(cased), text_(cased ? std::string(text) : AsciiLower(text)) {}

bool LiteralCheck::Matches(std::string_view value) const {
  const size_t n = text_.size();
  if (n > value.size()) return false;
  switch (kind_) {
    case Kind::kContains:
      if (n == 0) return true;
      return cased_ ? value.find(text_) != std::string_view::npos : ContainsFolded(value, text_);
    case Kind::kPrefix:
      value = value.substr(0, n);
      break;
    case Kind::kSuffix:
      value = value.substr(value.size() - n);
      break;
    case Kind::kWhole:
      if (value.size() != n) return false;
      break;
  }
  return cased_ ? value == text_ : EqualsLowerAscii(text_, value);
}

}  // namespace gsoc::match::internal
