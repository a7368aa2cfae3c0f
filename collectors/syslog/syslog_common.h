// Private helpers shared by the collectors' parsers (RFC 5424, RFC 3164, and
// the JSON parser's time members): character classes, PRI, RFC 3339
// timestamps and STRUCTURED-DATA. Header-only so the scanners inline into the
// parsers. Not part of the public API.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "collectors/syslog/syslog_parser.h"
#include "engine/util/time_format.h"

namespace gsoc::syslog_internal {

inline constexpr int64_t kSecondsPerDay = 86400;

inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
inline bool IsAlpha(char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26; }
inline bool IsPrintUsAscii(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126;
}
// SD-NAME: PRINTUSASCII except '=', SP, ']', '"'.
inline bool IsSdNameChar(char c) { return IsPrintUsAscii(c) && c != '=' && c != ']' && c != '"'; }

inline bool Fail(ParseError* error, std::string_view reason, const char* begin, const char* at) {
  if (error != nullptr) {
    error->reason = reason;
    error->column = static_cast<size_t>(at - begin);
  }
  return false;
}

// Two ASCII digits at p (caller guarantees p + 2 <= end); -1 when not digits.
inline int TwoDigits(const char* p) {
  if (!IsDigit(p[0]) || !IsDigit(p[1])) return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

// "<PRI>" at *p. strict: RFC 5424 (no leading zeros except "<0>"); lenient
// accepts leading zeros. 1-3 digits, value 0..191. Advances p past '>'.
inline bool ParsePri(const char*& p, const char* end, const char* begin, bool strict, int& pri,
                     ParseError* error) {
  if (p >= end || *p != '<') return Fail(error, "missing PRI", begin, p);
  const char* q = p + 1;
  const char* digits = q;
  int value = 0;
  while (q < end && IsDigit(*q) && q - digits < 3) {
    value = value * 10 + (*q - '0');
    ++q;
  }
  const size_t n = static_cast<size_t>(q - digits);
  if (n == 0) return Fail(error, "invalid PRI", begin, q);
  if (q >= end || *q != '>') return Fail(error, "invalid PRI", begin, q);
  if (strict && n > 1 && digits[0] == '0') return Fail(error, "invalid PRI", begin, digits);
  if (value > 191) return Fail(error, "PRI out of range", begin, digits);
  pri = value;
  p = q + 1;
  return true;
}

struct TimeParts {
  int64_t year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  uint32_t nanos = 0;
  int32_t offset_seconds = 0;  // east of UTC
  bool has_zone = false;
};

// int64 nanoseconds since the epoch cover 1677-09-21 .. 2262-04-11; a
// grammatically valid timestamp outside these whole years is kept out of
// event_time_ns (has_message_time stays false).
inline bool Representable(const TimeParts& t) { return t.year >= 1678 && t.year <= 2261; }

inline int64_t ToUnixNanos(const TimeParts& t) {
  const int64_t days = DaysFromCivil(t.year, t.month, t.day);
  const int64_t seconds =
      days * kSecondsPerDay + t.hour * 3600 + t.minute * 60 + t.second - t.offset_seconds;
  return seconds * kNanosPerSecond + t.nanos;
}

// Fraction digits after '.': strict allows 1-6 (RFC 5424 TIME-SECFRAC), lenient 1-9.
inline bool ParseFraction(const char*& p, const char* end, unsigned max_digits, uint32_t& nanos) {
  const char* q = p;
  uint32_t value = 0;
  unsigned n = 0;
  while (q < end && IsDigit(*q)) {
    if (n == max_digits) return false;
    value = value * 10 + static_cast<uint32_t>(*q - '0');
    ++n;
    ++q;
  }
  if (n == 0) return false;
  static constexpr uint32_t kScale[] = {1,     100000000, 10000000, 1000000, 100000,
                                        10000, 1000,      100,      10,      1};
  nanos = value * kScale[n];
  p = q;
  return true;
}

// RFC 3339 date-time at p: YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm).
// strict (RFC 5424): upper-case T/Z, at most 6 fraction digits, zone
// required. Lenient: t/z in any case, 9 fraction digits, zone optional,
// "+hhmm" accepted. Validates field ranges and the day of the month.
inline bool ParseRfc3339(const char*& p, const char* end, bool strict, TimeParts& t) {
  const char* q = p;
  if (end - q < 19) return false;
  for (int i = 0; i < 4; ++i) {
    if (!IsDigit(q[i])) return false;
  }
  t.year = (q[0] - '0') * 1000 + (q[1] - '0') * 100 + (q[2] - '0') * 10 + (q[3] - '0');
  if (q[4] != '-' || q[7] != '-' || q[13] != ':' || q[16] != ':') return false;
  const int month = TwoDigits(q + 5), day = TwoDigits(q + 8), hour = TwoDigits(q + 11),
            minute = TwoDigits(q + 14), second = TwoDigits(q + 17);
  if (q[10] != 'T' && (strict || q[10] != 't')) return false;
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > (strict ? 59 : 60)) {
    return false;
  }
  t.month = static_cast<unsigned>(month);
  t.day = static_cast<unsigned>(day);
  if (t.day > DaysInMonth(t.year, t.month)) return false;
  t.hour = static_cast<unsigned>(hour);
  t.minute = static_cast<unsigned>(minute);
  t.second = static_cast<unsigned>(second);
  q += 19;
  t.nanos = 0;
  if (q < end && *q == '.') {
    ++q;
    if (!ParseFraction(q, end, strict ? 6 : 9, t.nanos)) return false;
  }
  t.has_zone = false;
  t.offset_seconds = 0;
  if (q < end && (*q == 'Z' || (!strict && *q == 'z'))) {
    t.has_zone = true;
    ++q;
  } else if (q < end && (*q == '+' || *q == '-')) {
    const int sign = *q == '-' ? -1 : 1;
    if (end - q < 5) return false;
    const int oh = TwoDigits(q + 1);
    int om;
    if (end - q >= 6 && q[3] == ':') {
      om = TwoDigits(q + 4);
      q += 6;
    } else {
      if (strict) return false;
      om = TwoDigits(q + 3);
      q += 5;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    t.has_zone = true;
    t.offset_seconds = sign * (oh * 3600 + om * 60);
  } else if (strict) {
    return false;
  }
  p = q;
  return true;
}

// Unescapes an SD-PARAM value (\" \\ \] ; any other backslash is literal,
// RFC 5424 section 6.3.3) into the arena.
inline std::string_view UnescapeSdValue(std::string_view value, ByteArena& arena) {
  char* out = arena.Allocate(value.size());
  size_t n = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size()) {
      const char next = value[i + 1];
      if (next == '"' || next == '\\' || next == ']') {
        c = next;
        ++i;
      }
    }
    out[n++] = c;
  }
  return {out, n};
}

inline constexpr size_t kMaxSdIdsChecked = 64;

// STRUCTURED-DATA elements starting at p (which points at '['): one or more
// "[SD-ID *(SP SD-NAME=\"value\")]". When add_fields, adds one field
// sd.<SD-ID>.<name> per parameter. On success p points after the last ']'
// and *param_count holds the number of parameters. Duplicate SD-IDs are
// refused (RFC 5424 section 6.3.2) among the first kMaxSdIdsChecked elements.
inline bool ParseStructuredData(const char*& p, const char* end, const char* begin, bool add_fields,
                                Event& event, EventBatch& batch, ParseError* error,
                                int* param_count) {
  std::string_view ids[kMaxSdIdsChecked];
  size_t id_count = 0;
  int params = 0;
  const char* q = p;
  do {
    ++q;  // '['
    const char* id_begin = q;
    while (q < end && IsSdNameChar(*q) && *q != ' ') ++q;
    const size_t id_len = static_cast<size_t>(q - id_begin);
    if (id_len == 0 || id_len > 32) return Fail(error, "invalid SD-ID", begin, q);
    const std::string_view id(id_begin, id_len);
    for (size_t i = 0; i < id_count; ++i) {
      if (ids[i] == id) return Fail(error, "duplicate SD-ID", begin, q);
    }
    if (id_count < kMaxSdIdsChecked) ids[id_count++] = id;
    for (;;) {
      if (q >= end) return Fail(error, "truncated STRUCTURED-DATA", begin, q);
      if (*q == ']') {
        ++q;
        break;
      }
      if (*q != ' ') return Fail(error, "invalid SD-ID", begin, q);
      ++q;
      const char* name_begin = q;
      while (q < end && IsSdNameChar(*q) && *q != ' ') ++q;
      const size_t name_len = static_cast<size_t>(q - name_begin);
      if (name_len == 0 || name_len > 32) return Fail(error, "invalid SD-PARAM name", begin, q);
      if (q >= end || *q != '=') return Fail(error, "expected '=' in SD-PARAM", begin, q);
      ++q;
      if (q >= end || *q != '"') return Fail(error, "expected '\"' in SD-PARAM", begin, q);
      ++q;
      const char* value_begin = q;
      bool escaped = false;
      for (;;) {
        if (q >= end) return Fail(error, "unterminated SD-PARAM value", begin, q);
        const char c = *q;
        if (c == '"') break;
        if (c == '\\') {
          escaped = true;
          if (end - q < 2) return Fail(error, "unterminated SD-PARAM value", begin, end);
          q += 2;
          continue;
        }
        if (c == ']') return Fail(error, "unescaped ']' in SD-PARAM value", begin, q);
        ++q;
      }
      const std::string_view raw_value(value_begin, static_cast<size_t>(q - value_begin));
      ++q;  // closing quote
      ++params;
      if (add_fields) {
        ByteArena& arena = batch.arena();
        const std::string_view name =
            arena.Concat({"sd.", id, ".", std::string_view(name_begin, name_len)});
        batch.AddField(event, name, escaped ? UnescapeSdValue(raw_value, arena) : raw_value);
      }
    }
  } while (q < end && *q == '[');
  p = q;
  if (param_count != nullptr) *param_count = params;
  return true;
}

inline std::string_view StripBom(std::string_view message) {
  if (message.size() >= 3 && static_cast<unsigned char>(message[0]) == 0xEF &&
      static_cast<unsigned char>(message[1]) == 0xBB &&
      static_cast<unsigned char>(message[2]) == 0xBF) {
    message.remove_prefix(3);
  }
  return message;
}

}  // namespace gsoc::syslog_internal
