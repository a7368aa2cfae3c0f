#include "engine/util/json_writer.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "engine/util/cpu_features.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if GSOC_HAVE_AVX512_VBMI2_TARGET
#include <immintrin.h>
#endif

namespace gsoc {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  size_t length;
  uint32_t min;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xe0) == 0xc0) {
    length = 2;
    min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    length = 3;
    min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  uint32_t cp = b0 & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return length;
}

// Per byte: 0 = copied as is, 1 = the start of a UTF-8 sequence (checked),
// 'u' = \u00XX, else the letter after the backslash.
constexpr std::array<char, 256> kEscapes = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['"'] = '"';
  table['\\'] = '\\';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  for (int c = 0x80; c < 0x100; ++c) table[c] = 1;
  return table;
}();

// The bytes of text[0, 16) that are not copied as they are (kEscapes not
// 0) as a bit mask: one signed compare finds both the control bytes and
// those >= 0x80 (negative as signed), two more the quote and backslash.
#if defined(__SSE2__)
uint32_t SpecialBytes(const char* text) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
  const __m128i special = _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
                                       _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
  return static_cast<uint32_t>(_mm_movemask_epi8(special));
}
constexpr bool kBlocks = true;
#else
uint32_t SpecialBytes(const char*) { return 0; }
constexpr bool kBlocks = false;
#endif

// Escapes text[*i, *i + 16) while at least 32 bytes are left, so that a
// 16-byte load from any position in the block stays inside `text`: each
// run of plain bytes is one 16-byte copy (the output moves past the plain
// ones only), each quote, backslash, \n, \r or \t two bytes. Stops at a
// byte that needs more (a control byte, a byte >= 0x80) for the caller to
// take. The room: at least 2 bytes per input byte left, so 33 or more.
bool EscapeBlock(std::string_view text, size_t* i, char** o) {
  const size_t block = *i;
  uint32_t special = SpecialBytes(text.data() + block);
  while (special != 0) {
    const size_t at = block + static_cast<size_t>(std::countr_zero(special));
    std::memcpy(*o, text.data() + *i, 16);
    *o += at - *i;
    *i = at;
    const char kind = kEscapes[static_cast<uint8_t>(text[at])];
    if (kind == 1 || kind == 'u') return false;
    (*o)[0] = '\\';
    (*o)[1] = kind;
    *o += 2;
    *i = at + 1;
    special &= special - 1;
  }
  std::memcpy(*o, text.data() + *i, 16);
  *o += block + 16 - *i;
  *i = block + 16;
  return true;
}

#if GSOC_HAVE_AVX512_VBMI2_TARGET
// kEscapes for the ASCII bytes, as a 128-byte lookup table: the letter of a
// two-byte escape, 1 for the other control bytes (six bytes: the caller's).
struct ShortEscapes {
  alignas(64) char bytes[128] = {};
  constexpr ShortEscapes() {
    for (int c = 0; c < 128; ++c) bytes[c] = kEscapes[c] == 'u' ? char{1} : kEscapes[c];
  }
};
constexpr ShortEscapes kShortEscapes;

// Each of the low 32 bytes of `bytes` twice. (The maskz form: GCC 12's
// unmasked one warns of its undefined source.)
GSOC_AVX512_VBMI2_TARGET inline __m512i Pairs(__m512i pairs, __m512i bytes) {
  return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, pairs, bytes);
}

// Escapes text[*i, ...) 32 bytes at a time while its bytes are ASCII and
// none needs a six-byte escape; stops at such a byte (for the caller) or
// at the end. Each input byte is put twice in a 64-byte register, the pair
// becomes `\` + letter where the byte needs an escape, the second byte of
// the others is dropped by a compress. Loads and stores are masked: no
// byte outside text or past the output is touched. Room: two bytes per
// input byte, as AppendEscaped makes.
GSOC_AVX512_VBMI2_TARGET void EscapeBlocksAvx512(std::string_view text, size_t* i, char** o) {
  const __m512i table_low = _mm512_load_si512(kShortEscapes.bytes);
  const __m512i table_high = _mm512_load_si512(kShortEscapes.bytes + 64);
  alignas(64) static constexpr auto kPairs = [] {
    std::array<uint8_t, 64> pairs{};
    for (size_t j = 0; j < 64; ++j) pairs[j] = static_cast<uint8_t>(j / 2);
    return pairs;
  }();
  const __m512i pairs = _mm512_load_si512(kPairs.data());
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i long_escape = _mm512_set1_epi8(1);
  while (*i < text.size()) {
    const size_t left = text.size() - *i;
    const uint32_t valid = left >= 32 ? ~uint32_t{0} : (uint32_t{1} << left) - 1;
    const __m512i bytes = _mm512_maskz_loadu_epi8(valid, text.data() + *i);
    const __m512i letters = _mm512_permutex2var_epi8(table_low, bytes, table_high);
    const auto stops = static_cast<uint32_t>(_mm512_movepi8_mask(bytes) |
                                             _mm512_cmpeq_epi8_mask(letters, long_escape)) &
                       valid;
    const uint32_t taken = stops != 0 ? (stops & (0 - stops)) - 1 : valid;
    const auto escaped = static_cast<uint32_t>(_mm512_test_epi8_mask(letters, letters)) & taken;
    const uint64_t letter_slots = _pdep_u64(escaped, 0xAAAA'AAAA'AAAA'AAAAULL);
    const uint64_t keep = _pdep_u64(taken, 0x5555'5555'5555'5555ULL) | letter_slots;
    __m512i out = Pairs(pairs, bytes);
    out = _mm512_mask_mov_epi8(out, letter_slots >> 1, backslash);
    out = _mm512_mask_mov_epi8(out, letter_slots, Pairs(pairs, letters));
    const auto count = static_cast<unsigned>(std::popcount(keep));
    _mm512_mask_storeu_epi8(*o, _bzhi_u64(~uint64_t{0}, count),
                            _mm512_maskz_compress_epi8(keep, out));
    *o += count;
    *i += static_cast<size_t>(std::popcount(taken));
    if (stops != 0) return;
  }
}
#endif

// Written through a pointer into room made once (two bytes per input byte,
// the most a quote, backslash or \n takes; the rare six-byte escapes make
// more room when they need it): alert JSON escapes every alert's raw line,
// and a Windows JSON line has a quote or backslash every few bytes.
using json_writer_internal::EscapePath;

void AppendEscaped(std::string& out, std::string_view text, EscapePath path) {
  static const char kHex[] = "0123456789abcdef";
  size_t at = out.size();
  out.resize(at + 2 * text.size() + 2);
  char* o = out.data() + at;
  char* end = out.data() + out.size();
  *o++ = '"';
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
#if GSOC_HAVE_AVX512_VBMI2_TARGET
    if (path == EscapePath::kAvx512Blocks) {
      EscapeBlocksAvx512(text, &i, &o);
      if (i == n) break;
    }
#endif
    if (path == EscapePath::kSse2Blocks && n - i >= 32 && EscapeBlock(text, &i, &o)) continue;
    const char kind = kEscapes[static_cast<uint8_t>(text[i])];
    if (kind == 0) {  // plain ASCII
      *o++ = text[i++];
      continue;
    }
    if (kind != 1 && kind != 'u') {
      o[0] = '\\';
      o[1] = kind;
      o += 2;
      ++i;
      continue;
    }
    // Six bytes at most for one input byte (\u00XX, \ufffd), and the input
    // left (two each) plus the closing quote after it.
    if (static_cast<size_t>(end - o) < 6 + 2 * (n - i - 1) + 1) {
      at = static_cast<size_t>(o - out.data());
      out.resize(at + 6 + 2 * (n - i) + 1);
      o = out.data() + at;
      end = out.data() + out.size();
    }
    if (kind == 'u') {
      const auto c = static_cast<uint8_t>(text[i]);
      std::memcpy(o, "\\u00", 4);
      o[4] = kHex[c >> 4];
      o[5] = kHex[c & 0xf];
      o += 6;
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      std::memcpy(o, "\\ufffd", 6);
      o += 6;
      ++i;
    } else {  // valid: as many bytes out as in
      std::memcpy(o, text.data() + i, length);
      o += length;
      i += length;
    }
  }
  *o++ = '"';
  out.resize(static_cast<size_t>(o - out.data()));
}

EscapePath WidestEscapePath() {
  if (CpuHasAvx512Vbmi2()) return EscapePath::kAvx512Blocks;
  return kBlocks ? EscapePath::kSse2Blocks : EscapePath::kBytewise;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static const EscapePath path = WidestEscapePath();
  AppendEscaped(out, text, path);
}

namespace json_writer_internal {

bool HasEscapePath(EscapePath path) {
  switch (path) {
    case EscapePath::kBytewise:
      return true;
    case EscapePath::kSse2Blocks:
      return kBlocks;
    case EscapePath::kAvx512Blocks:
      return GSOC_HAVE_AVX512_VBMI2_TARGET && CpuHasAvx512Vbmi2();
  }
  return false;
}

void AppendJsonStringBy(EscapePath path, std::string& out, std::string_view text) {
  AppendEscaped(out, text, path);
}

}  // namespace json_writer_internal

}  // namespace gsoc
