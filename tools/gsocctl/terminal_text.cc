#include "tools/gsocctl/terminal_text.h"

#include <cstdint>
#include <cstdio>

namespace gsoc::ctl {

namespace {

// Length of the UTF-8 sequence at text[0] and its code point; 0 when invalid
// (overlong, surrogate, beyond U+10FFFF, cut short).
size_t DecodeUtf8(std::string_view text, uint32_t& code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  if (code_point < min || code_point > 0x10ffff) return 0;
  if (code_point >= 0xd800 && code_point <= 0xdfff) return 0;
  return length;
}

bool IsDangerousCodePoint(uint32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

void AppendEscape(std::string& out, const char* format, unsigned value) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), format, value);
  out += buffer;
}

std::string Escape(std::string_view text, bool json) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto lead = static_cast<unsigned char>(text.front());
    if (json && (lead == '\t' || lead == '\n' || lead == '\r')) {  // whitespace between tokens
      out.push_back(' ');
      text.remove_prefix(1);
      continue;
    }
    if (lead < 0x20 || lead == 0x7f) {
      AppendEscape(out, json ? "\\u%04x" : "\\x%02x", lead);
      text.remove_prefix(1);
      continue;
    }
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      text.remove_prefix(1);
      continue;
    }
    uint32_t code_point = 0;
    const size_t length = DecodeUtf8(text, code_point);
    if (length == 0) {
      if (json) {
        out += "\\ufffd";
      } else {
        AppendEscape(out, "\\x%02x", lead);
      }
      text.remove_prefix(1);
    } else if (IsDangerousCodePoint(code_point)) {
      AppendEscape(out, "\\u%04x", code_point);
      text.remove_prefix(length);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

}  // namespace

std::string TerminalSafe(std::string_view text) { return Escape(text, false); }
std::string TerminalSafeJson(std::string_view json) { return Escape(json, true); }

}  // namespace gsoc::ctl
