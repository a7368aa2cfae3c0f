// Sigma value transformations: wildcard splitting/escaping, base64,
// base64offset, UTF-16 encodings and windash expansion.
#include <cstdint>

#include "engine/rules/sigma_internal.h"

namespace gsoc::rules::internal {
namespace {

bool IsEscapable(char c) { return c == '*' || c == '?' || c == '\\'; }

void AppendLiteral(std::vector<ValuePiece>& pieces, char c) {
  if (pieces.empty() || pieces.back().kind != ValuePiece::Kind::kLiteral) pieces.push_back({});
  pieces.back().literal.push_back(c);
}

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c >= 0x80;
}

bool IsWindashAt(std::string_view value, size_t i) {
  if (value[i] != '-' && value[i] != '/') return false;
  const bool word_before = i > 0 && IsWordByte(static_cast<unsigned char>(value[i - 1]));
  const bool word_after =
      i + 1 < value.size() && IsWordByte(static_cast<unsigned char>(value[i + 1]));
  return !word_before && word_after;
}

// Decodes one UTF-8 code point at `pos`; false if invalid.
bool DecodeUtf8(std::string_view s, size_t& pos, uint32_t& code) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  int extra = 0;
  uint32_t minimum = 0;
  if (lead < 0x80) {
    code = lead;
  } else if ((lead & 0xE0) == 0xC0) {
    code = lead & 0x1F, extra = 1, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    code = lead & 0x0F, extra = 2, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    code = lead & 0x07, extra = 3, minimum = 0x10000;
  } else {
    return false;
  }
  if (pos + extra >= s.size()) return false;
  for (int k = 1; k <= extra; ++k) {
    if ((byte(pos + k) & 0xC0) != 0x80) return false;
    code = (code << 6) | (byte(pos + k) & 0x3F);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
  pos += extra + 1;
  return true;
}

void AppendUnit(std::string& out, uint16_t unit, bool big_endian) {
  const char high = static_cast<char>(unit >> 8);
  const char low = static_cast<char>(unit & 0xFF);
  if (big_endian) {
    out += high;
    out += low;
  } else {
    out += low;
    out += high;
  }
}

}  // namespace

std::vector<ValuePiece> SplitSigmaValue(std::string_view value) {
  std::vector<ValuePiece> pieces;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() && IsEscapable(value[i + 1])) {
      AppendLiteral(pieces, value[++i]);
    } else if (c == '*') {
      pieces.push_back({ValuePiece::Kind::kAnyRun, {}});
    } else if (c == '?') {
      pieces.push_back({ValuePiece::Kind::kAnyChar, {}});
    } else {
      AppendLiteral(pieces, c);
    }
  }
  return pieces;
}

std::string EscapeSigmaLiteral(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (const char c : literal) {
    if (IsEscapable(c)) out += '\\';
    out += c;
  }
  return out;
}

std::string JoinSigmaValue(const std::vector<ValuePiece>& pieces) {
  std::string out;
  for (const ValuePiece& piece : pieces) {
    switch (piece.kind) {
      case ValuePiece::Kind::kLiteral:
        out += EscapeSigmaLiteral(piece.literal);
        break;
      case ValuePiece::Kind::kAnyRun:
        out += '*';
        break;
      case ValuePiece::Kind::kAnyChar:
        out += '?';
        break;
    }
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    const size_t left = bytes.size() - i;
    if (left > 1) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (left > 2) group |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += left > 1 ? kAlphabet[(group >> 6) & 63] : '=';
    out += left > 2 ? kAlphabet[group & 63] : '=';
  }
  return out;
}

// base64(i spaces + value)[start[i] : end[(len + i) % 3]] with Python slicing.
std::vector<std::string> Base64OffsetVariants(std::string_view bytes) {
  static constexpr int kStart[3] = {0, 2, 3};
  static constexpr int kEndTrim[3] = {0, 3, 2};
  std::vector<std::string> variants;
  for (int i = 0; i < 3; ++i) {
    const std::string encoded = Base64Encode(std::string(i, ' ') + std::string(bytes));
    const int length = static_cast<int>(encoded.size());
    const int end = length - kEndTrim[(bytes.size() + i) % 3];
    variants.push_back(end > kStart[i] ? encoded.substr(kStart[i], end - kStart[i]) : "");
  }
  return variants;
}

std::optional<std::string> EncodeUtf16(std::string_view utf8, Utf16Kind kind) {
  const bool big_endian = kind == Utf16Kind::kBigEndian;
  std::string out;
  if (kind == Utf16Kind::kWithBom) out = "\xFF\xFE";
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t code = 0;
    if (!DecodeUtf8(utf8, pos, code)) return std::nullopt;
    if (code >= 0x10000) {
      code -= 0x10000;
      AppendUnit(out, static_cast<uint16_t>(0xD800 | (code >> 10)), big_endian);
      AppendUnit(out, static_cast<uint16_t>(0xDC00 | (code & 0x3FF)), big_endian);
    } else {
      AppendUnit(out, static_cast<uint16_t>(code), big_endian);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> ExpandWindash(std::string_view value, size_t max_variants) {
  static constexpr std::string_view kDashes[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94",
                                                 "\xE2\x80\x95"};
  std::vector<std::string> variants{""};
  size_t literal_start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    const bool dash = i < value.size() && IsWindashAt(value, i);
    if (!dash && i < value.size()) continue;
    for (std::string& variant : variants) variant += value.substr(literal_start, i - literal_start);
    if (!dash) break;
    if (variants.size() * 5 > max_variants) return std::nullopt;
    std::vector<std::string> next;
    next.reserve(variants.size() * 5);
    for (const std::string& variant : variants)
      for (const std::string_view replacement : kDashes)
        next.push_back(variant + std::string(replacement));
    variants = std::move(next);
    literal_start = i + 1;
  }
  return variants;
}

bool GlobMatch(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1, n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace gsoc::rules::internal
