#include "collectors/json/json_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "collectors/json/json_unescape.h"
#include "collectors/json/windows_event.h"
#include "collectors/syslog/syslog_common.h"
#include "engine/util/time_format.h"

namespace gsoc {

static_assert(ByteArena::kPadding >= simdjson::SIMDJSON_PADDING,
              "CopyPadded must leave the padding simdjson reads past the input");

namespace {

namespace od = simdjson::ondemand;
using json_internal::MemberNaming;
using json_internal::NameMember;
using json_internal::Scope;
using syslog_internal::IsDigit;
using syslog_internal::ParseFraction;
using syslog_internal::ParseRfc3339;
using syslog_internal::Representable;
using syslog_internal::TimeParts;
using syslog_internal::ToUnixNanos;

// Members that fill the header, in order of preference.
constexpr std::string_view kTimeNames[] = {"@timestamp", "timestamp", "ts", "time"};
constexpr std::string_view kHostNames[] = {"host", "hostname"};
constexpr std::string_view kProgramNames[] = {"program", "app", "appname"};
constexpr std::string_view kMessageNames[] = {"message", "msg"};

template <size_t N>
int RankOf(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// The first '"' or '\\' (kSpace: or ' ') in [begin, end), or `end`. One
// pass, 16 bytes at a time where SSE2 is there: the line is followed by
// ByteArena::kPadding readable bytes, so a block may run past `end`.
template <bool kSpace = false>
const char* QuoteOrBackslash(const char* begin, const char* end) {
#if defined(__SSE2__)
  static_assert(ByteArena::kPadding >= 16);
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (const char* p = begin; p < end; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i found = _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
    if constexpr (kSpace) found = _mm_or_si128(found, _mm_cmpeq_epi8(bytes, _mm_set1_epi8(' ')));
    const auto mask = static_cast<uint32_t>(_mm_movemask_epi8(found));
    if (mask != 0) return std::min(end, p + std::countr_zero(mask));
  }
  return end;
#else
  for (const char* p = begin; p < end; ++p) {
    if (*p == '"' || *p == '\\' || (kSpace && *p == ' ')) return p;
  }
  return end;
#endif
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 8259 number grammar.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (IsDigit(s[i])) {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i == n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i == n || !IsDigit(s[i])) return false;
    while (i < n && IsDigit(s[i])) ++i;
  }
  return i == n;
}

// Plausible event times: 1970 .. 2261 (int64 nanoseconds end in 2262).
constexpr int64_t kMaxEpochSeconds = 9'200'000'000;

// RFC 3339 through the syslog parsers' lenient scanner (one time grammar for
// every collector), plus what JSON shippers also write: a space for 'T', a
// comma before the fraction (ISO 8601), "+HH" offsets and no zone (= UTC).
// Those are rewritten in a small stack copy; no allocation.
bool ParseJsonTime(std::string_view s, int64_t* nanos) {
  char text[64];
  if (s.size() < 19 || s.size() + 3 > sizeof(text)) return false;
  std::memcpy(text, s.data(), s.size());
  size_t size = s.size();
  if (text[10] == ' ') text[10] = 'T';
  if (size > 19 && text[19] == ',') text[19] = '.';
  if (size >= 22 && (text[size - 3] == '+' || text[size - 3] == '-') && IsDigit(text[size - 2]) &&
      IsDigit(text[size - 1])) {
    std::memcpy(text + size, "00", 2);  // +HH -> +HH00
    size += 2;
  }
  const char* p = text;
  const char* end = text + size;
  TimeParts t;
  if (!ParseRfc3339(p, end, /*strict=*/false, t) || p != end) return false;
  if (t.year < 1970 || !Representable(t)) return false;
  *nanos = ToUnixNanos(t);
  return true;
}

// Epoch seconds, fraction allowed ("1588205199.82437"; digits past the
// ninth are ignored), exponent tolerated.
bool ParseEpochSeconds(std::string_view s, int64_t* nanos) {
  if (s.empty() || !IsDigit(s[0])) return false;
  const char* p = s.data();
  const char* end = p + s.size();
  int64_t seconds = 0;
  while (p < end && IsDigit(*p)) {
    seconds = seconds * 10 + (*p++ - '0');
    if (seconds >= kMaxEpochSeconds) return false;
  }
  uint32_t fraction = 0;
  if (p < end && *p == '.') {
    ++p;
    const char* digits_end = p;
    while (digits_end < end && IsDigit(*digits_end)) ++digits_end;
    const char* nine = p + std::min<ptrdiff_t>(digits_end - p, 9);
    if (!ParseFraction(p, nine, 9, fraction)) return false;
    p = digits_end;
  }
  if (p != end) {
    if (*p != 'e' && *p != 'E') return false;
    double value = 0;
    const auto [parsed_end, ec] = std::from_chars(s.data(), end, value);
    if (ec != std::errc() || parsed_end != end) return false;
    if (!(value >= 0 && value < static_cast<double>(kMaxEpochSeconds))) return false;
    *nanos = static_cast<int64_t>(value * 1e9);
    return true;
  }
  *nanos = seconds * kNanosPerSecond + fraction;
  return true;
}

// An object member or array element where simdjson's iteration result
// holds it (check the result's error first). get(item) copied it, and the
// copy, a 16-byte load of the 8- and 4-byte stores that had just built it,
// missed store forwarding once an item: ~30% of WalkObject's time.
template <typename T>
T&& Held(simdjson::simdjson_result<T>& result) {
  return std::move(result).value_unsafe();
}

struct Candidate {
  std::string_view value;
  bool is_string = false;
  bool present = false;
};

class Walker {
 public:
  Walker(const od::parser& parser, od::document& doc, std::string_view line,
         const JsonParseOptions& options, Event& event, EventBatch& batch)
      : parser_(parser), doc_(doc), line_(line), options_(options), event_(event), batch_(batch) {}

  bool WalkObject(od::object& object, std::string_view prefix, size_t depth,
                  Scope scope = Scope::kPlain, std::string_view parent = {});
  // Validates a value that is kept as raw text (array elements).
  bool Validate(od::value& value, size_t depth);

  const char* reason() const { return reason_; }
  simdjson::error_code code() const { return code_; }

  Candidate time[std::size(kTimeNames)];
  Candidate host[std::size(kHostNames)];
  Candidate program[std::size(kProgramNames)];
  Candidate message[std::size(kMessageNames)];
  // Windows shapes (windows_event.h).
  bool windows_shape = false;  // evtx_dump or winlog members were renamed
  Candidate windows_time;      // TimeCreated_SystemTime
  Candidate windows_host;      // Computer
  bool top_event_id = false;   // top-level EventID / Channel / SourceName:
  bool top_channel = false;    // the NXLog shape
  bool top_source_name = false;
  bool names_have_spaces = false;  // some member name has a ' '

 private:
  bool Fail(simdjson::error_code code) {
    code_ = code;
    switch (code) {
      case simdjson::UTF8_ERROR:
        reason_ = "invalid UTF-8";
        break;
      case simdjson::DEPTH_ERROR:
        reason_ = "nesting too deep";
        break;
      case simdjson::STRING_ERROR:
        reason_ = "invalid string";
        break;
      default:
        reason_ = "malformed JSON";
    }
    return false;
  }
  bool Fail(const char* reason) {
    reason_ = reason;
    return false;
  }
  bool AddField(std::string_view name, std::string_view value) {
    if (++fields_ > options_.max_fields) return Fail("too many fields");
    batch_.AddField(event_, name, value);
    return true;
  }
  template <size_t N>
  static void Note(Candidate (&slots)[N], const std::string_view (&names)[N], std::string_view name,
                   std::string_view value, bool is_string) {
    const int rank = RankOf(names, name);
    if (rank >= 0 && !slots[rank].present) slots[rank] = {value, is_string, true};
  }
  bool ScalarText(od::value& value, od::json_type type, std::string_view* text);
  // The text of the JSON string whose first byte (after the opening quote)
  // is at `begin`, when it has no escape: a view into the line, which lives
  // in the batch arena, so nothing is unescaped or copied. False when it
  // has a backslash (the caller unescapes it) or is not in the line.
  // `*backslash`, when given: where its first escape is, when it is in the
  // line and has one (else left alone).
  bool InLine(const char* begin, std::string_view* text, const char** backslash = nullptr) const {
    const char* end = line_.data() + line_.size();
    if (begin <= line_.data() || begin > end) return false;
    return Plain(begin, QuoteOrBackslash(begin, end), text, backslash);
  }
  // InLine for a member name; notes a name with a space (names_have_spaces).
  bool KeyInLine(const char* begin, std::string_view* text) {
    const char* end = line_.data() + line_.size();
    if (begin <= line_.data() || begin > end) return false;
    const char* stop = QuoteOrBackslash</*kSpace=*/true>(begin, end);
    if (stop != end && *stop == ' ') {  // rare: NXLog's shape takes it out
      names_have_spaces = true;
      stop = QuoteOrBackslash(stop, end);
    }
    return Plain(begin, stop, text, nullptr);
  }
  // InLine's answer, given where the scan stopped.
  bool Plain(const char* begin, const char* stop, std::string_view* text,
             const char** backslash) const {
    if (stop == line_.data() + line_.size()) return false;
    if (*stop != '"') {
      if (backslash != nullptr) *backslash = stop;
      return false;
    }
    *text = std::string_view(begin, static_cast<size_t>(stop - begin));
    return true;
  }
  // A string value that has escapes, unescaped straight into the batch
  // arena (not into simdjson's buffer and copied from there). Its raw
  // `token`, quotes and trailing spaces included, bounds the unescaped length.
  // `backslash`: its first escape, when the string is in the line: what
  // comes before is copied, the rest unescaped a block at a time
  // (json_unescape.h) unless it needs simdjson's unescaper.
  bool UnescapeIntoArena(od::value& value, std::string_view token, const char* backslash,
                         std::string_view* text) {
    const size_t room = token.size() + simdjson::SIMDJSON_PADDING;
    ByteArena& arena = batch_.arena();
    char* const start = arena.Allocate(room);
    if (backslash != nullptr) {
      const char* const begin = token.data() + 1;
      const auto plain = static_cast<size_t>(backslash - begin);
      std::memcpy(start, begin, plain);
      const char* const stop = json_internal::UnescapeSimpleEscapes(
          backslash, token.data() + token.size(), start + plain);
      if (stop != nullptr) {
        *text = std::string_view(start, static_cast<size_t>(stop - start));
        arena.ShrinkLast(start, room, text->size());
        return true;
      }
    }
    od::raw_json_string raw;
    if (auto error = value.get_raw_json_string().get(raw)) {
      arena.ShrinkLast(start, room, 0);
      return Fail(error);
    }
    uint8_t* end = reinterpret_cast<uint8_t*>(start);
    const auto unescaped = parser_.unescape(raw, end);
    if (unescaped.error()) {
      arena.ShrinkLast(start, room, 0);
      return Fail(unescaped.error());
    }
    *text = unescaped.value_unsafe();
    arena.ShrinkLast(start, room, text->size());
    return true;
  }
  // `key_in_line`: the key is a view into the line (InLine), which outlives
  // the event; otherwise it lives in simdjson's buffer and is copied.
  std::string_view MemberName(const MemberNaming& naming, std::string_view prefix,
                              std::string_view key, bool key_in_line, std::string_view parent) {
    ByteArena& arena = batch_.arena();
    if (naming.parent_name) return parent;
    if (naming.join_parent) return arena.Concat({parent, "_", key});
    const auto kept = [&] { return key_in_line ? key : arena.Copy(key); };
    if (!naming.name.empty()) {
      if (naming.name.data() != key.data()) return naming.name;  // a static name
      if (naming.strip_spaces && key.find(' ') != std::string_view::npos)
        return json_internal::StripSpaces(arena, key);
      return kept();
    }
    return prefix.empty() ? kept() : arena.Concat({prefix, ".", key});
  }
  // Validates an array; `joined` = its strings joined by '\n' when every
  // element is a string (at most kMaxJoined), else empty.
  bool WalkDataArray(od::value& value, size_t depth, std::string_view* joined) {
    constexpr size_t kMaxJoined = 64;
    if (depth + 1 > options_.max_depth) return Fail("nesting too deep");
    od::array array;
    if (auto error = value.get_array().get(array)) return Fail(error);
    std::string_view parts[kMaxJoined];
    size_t count = 0, bytes = 0;
    bool strings = true;
    for (auto element_result : array) {
      if (auto error = element_result.error()) return Fail(error);
      od::value&& element = Held(element_result);
      od::json_type type;
      if (auto error = element.type().get(type)) return Fail(error);
      if (type != od::json_type::string || count == kMaxJoined) {
        strings = false;
        if (!Validate(element, depth + 1)) return false;
        continue;
      }
      if (auto error = element.get_string().get(parts[count])) return Fail(error);
      bytes += parts[count++].size() + 1;
    }
    if (!strings || count == 0) return true;
    char* out = batch_.arena().Allocate(bytes - 1);
    size_t at = 0;
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) out[at++] = '\n';
      std::memcpy(out + at, parts[i].data(), parts[i].size());
      at += parts[i].size();
    }
    *joined = std::string_view(out, at);
    return true;
  }
  void NoteTopLevel(std::string_view name) {
    if (name.size() == 7) {
      if (name == "EventID") top_event_id = true;
      if (name == "Channel") top_channel = true;
    } else if (name.size() == 10 && name == "SourceName") {
      top_source_name = true;
    }
  }
  // Whether `name` may be one of the header members (kTimeNames, ...): they
  // all start with '@' or a lower-case letter, and Windows names do not.
  static bool MayNameHeader(std::string_view name) {
    return !name.empty() && (name[0] == '@' || (name[0] >= 'a' && name[0] <= 'z'));
  }
  void NoteWindows(std::string_view name, std::string_view value, bool is_string) {
    if (name == "Computer" && !windows_host.present) windows_host = {value, is_string, true};
    if (name == "TimeCreated_SystemTime" && !windows_time.present) {
      windows_time = {value, is_string, true};
    }
  }

  const od::parser& parser_;
  od::document& doc_;
  std::string_view line_;
  const JsonParseOptions& options_;
  Event& event_;
  EventBatch& batch_;
  size_t fields_ = 0;
  const char* reason_ = "malformed JSON";
  simdjson::error_code code_ = simdjson::SUCCESS;
};

// Raw text of a number / true / false / null, validated.
bool Walker::ScalarText(od::value& value, od::json_type type, std::string_view* text) {
  std::string_view raw = TrimRight(value.raw_json_token());
  if (type == od::json_type::number) {
    if (!IsJsonNumber(raw)) return Fail("invalid number");
  } else if (type == od::json_type::boolean) {
    if (raw != "true" && raw != "false") return Fail("invalid literal");
  } else if (raw != "null") {
    return Fail("invalid literal");
  }
  *text = raw;
  return true;
}

bool Walker::Validate(od::value& value, size_t depth) {
  od::json_type type;
  if (auto error = value.type().get(type)) return Fail(error);
  switch (type) {
    case od::json_type::object: {
      if (depth + 1 > options_.max_depth) return Fail("nesting too deep");
      od::object object;
      if (auto error = value.get_object().get(object)) return Fail(error);
      for (auto field_result : object) {
        if (auto error = field_result.error()) return Fail(error);
        od::field&& field = Held(field_result);
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return Fail(error);
        if (!Validate(field.value(), depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      if (depth + 1 > options_.max_depth) return Fail("nesting too deep");
      od::array array;
      if (auto error = value.get_array().get(array)) return Fail(error);
      for (auto element_result : array) {
        if (auto error = element_result.error()) return Fail(error);
        od::value&& element = Held(element_result);
        if (!Validate(element, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto error = value.get_string().get(s)) return Fail(error);
      return true;
    }
    default: {
      std::string_view text;
      return ScalarText(value, type, &text);
    }
  }
}

bool Walker::WalkObject(od::object& object, std::string_view prefix, size_t depth, Scope scope,
                        std::string_view parent) {
  ByteArena& arena = batch_.arena();
  for (auto field_result : object) {
    if (auto error = field_result.error()) return Fail(error);
    od::field&& field = Held(field_result);
    std::string_view key;
    const bool key_in_line = KeyInLine(field.key().raw(), &key);
    if (!key_in_line) {
      if (auto error = field.unescaped_key().get(key)) return Fail(error);
      names_have_spaces |= key.find(' ') != std::string_view::npos;
    }
    od::value& value = field.value();
    od::json_type type;
    if (auto error = value.type().get(type)) return Fail(error);
    const bool is_object = type == od::json_type::object;
    const MemberNaming naming = NameMember(scope, key, is_object, depth);
    const std::string_view name = MemberName(naming, prefix, key, key_in_line, parent);
    if (scope != Scope::kPlain || naming.child != Scope::kPlain) windows_shape = true;
    if (depth == 1) NoteTopLevel(name);
    switch (type) {
      case od::json_type::object: {
        if (depth + 1 > options_.max_depth) return Fail("nesting too deep");
        od::object child;
        if (auto error = value.get_object().get(child)) return Fail(error);
        const std::string_view child_parent = naming.child == Scope::kEvtxSystemAttr ? parent
                                              : naming.child == Scope::kEvtxSystemSub
                                                  ? (key_in_line ? key : arena.Copy(key))
                                                  : name;
        if (!WalkObject(child, name, depth + 1, naming.child, child_parent)) return false;
        break;
      }
      case od::json_type::array: {
        // Keep the raw text, after validating it (depth included) element by
        // element; Windows event data arrays of strings (unnamed <Data>
        // elements) become their strings joined by newlines.
        const char* start = value.raw_json_token().data();
        if (scope == Scope::kData || scope == Scope::kDataSub) {
          std::string_view joined;
          if (!WalkDataArray(value, depth, &joined)) return false;
          if (!joined.empty()) {
            if (!AddField(name, joined)) return false;
            break;
          }
        } else if (!Validate(value, depth)) {
          return false;
        }
        const char* end = nullptr;
        if (auto error = doc_.current_location().get(end)) return Fail(error);
        if (end < start || end > line_.data() + line_.size()) return Fail("malformed JSON");
        if (!AddField(name, TrimRight(std::string_view(start, static_cast<size_t>(end - start))))) {
          return false;
        }
        break;
      }
      case od::json_type::string: {
        const std::string_view token = value.raw_json_token();
        std::string_view copy;
        const char* backslash = nullptr;
        if (!InLine(token.data() + 1, &copy, &backslash) &&
            !UnescapeIntoArena(value, token, backslash, &copy)) {
          return false;
        }
        if (!AddField(name, copy)) return false;
        if (scope != Scope::kPlain) NoteWindows(name, copy, true);
        if (depth == 1 && MayNameHeader(name)) {
          Note(time, kTimeNames, name, copy, true);
          Note(host, kHostNames, name, copy, true);
          Note(program, kProgramNames, name, copy, true);
          Note(message, kMessageNames, name, copy, true);
        }
        break;
      }
      default: {
        std::string_view text;
        if (!ScalarText(value, type, &text)) return false;
        if (!AddField(name, text)) return false;
        if (scope != Scope::kPlain) NoteWindows(name, text, false);
        if (depth == 1 && type == od::json_type::number && MayNameHeader(name))
          Note(time, kTimeNames, name, text, false);
        break;
      }
    }
  }
  return true;
}

bool TakeTime(const Candidate& c, Event& event) {
  if (!c.present) return false;
  int64_t nanos = 0;
  const bool ok = c.is_string
                      ? (ParseJsonTime(c.value, &nanos) || ParseEpochSeconds(c.value, &nanos))
                      : ParseEpochSeconds(c.value, &nanos);
  if (!ok) return false;
  event.event_time_ns = nanos;
  event.has_message_time = true;
  return true;
}

template <size_t N>
std::string_view FirstString(const Candidate (&slots)[N]) {
  for (const Candidate& c : slots) {
    if (c.present && c.is_string) return c.value;
  }
  return {};
}

}  // namespace

struct JsonLineParser::Impl {
  od::parser parser;
};

JsonLineParser::JsonLineParser(JsonParseOptions options)
    : impl_(std::make_unique<Impl>()), options_(options) {}

JsonLineParser::~JsonLineParser() = default;

bool JsonLineParser::ParseOrKeepRaw(std::string_view line, const SyslogParseContext& context,
                                    Event& event, EventBatch& batch) {
  ParseError error;
  event.raw = line;
  if (Parse(line, context, event, batch, &error)) return true;
  event.format = EventFormat::kUnparsed;
  event.parse_error = true;
  event.fields_count = 0;
  event.message = line;
  return false;
}

bool JsonLineParser::Parse(std::string_view line, const SyslogParseContext& context, Event& event,
                           EventBatch& batch, ParseError* error) {
  event.format = EventFormat::kJson;
  event.receive_time_ns = context.receive_time_ns;
  event.event_time_ns = context.receive_time_ns;
  event.has_message_time = false;
  event.raw = line;
  event.message = line;

  auto fail = [&](const char* reason, const char* where) {
    if (error != nullptr) {
      error->reason = reason;
      error->column = 0;
      if (where != nullptr && where >= line.data() && where <= line.data() + line.size()) {
        error->column = static_cast<size_t>(where - line.data());
      }
    }
    // The caller keeps the line as an unparsed event: drop the fields (they
    // stay in the batch's field table, unreferenced) and the header.
    event.fields_count = 0;
    event.format = EventFormat::kUnparsed;
    event.parse_error = true;
    event.host = event.program = {};
    event.message = line;
    event.event_time_ns = context.receive_time_ns;
    event.has_message_time = false;
    return false;
  };

  od::document doc;
  const simdjson::padded_string_view padded(line.data(), line.size(),
                                            line.size() + ByteArena::kPadding);
  if (auto err = impl_->parser.iterate(padded).get(doc)) {
    return fail(err == simdjson::UTF8_ERROR ? "invalid UTF-8" : "malformed JSON", nullptr);
  }
  auto location = [&]() -> const char* {
    const char* at = nullptr;
    if (doc.current_location().get(at)) return nullptr;
    return at;
  };
  od::object object;
  if (auto err = doc.get_object().get(object)) {
    return fail(err == simdjson::INCORRECT_TYPE ? "not a JSON object"
                : err == simdjson::UTF8_ERROR   ? "invalid UTF-8"
                                                : "malformed JSON",
                location());
  }
  Walker walker(impl_->parser, doc, line, options_, event, batch);
  if (!walker.WalkObject(object, {}, 1)) return fail(walker.reason(), location());
  // At the end of the document current_location() reports OUT_OF_BOUNDS.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    return fail("trailing content after the object", rest);
  }

  // Header from well-known members; Windows shapes add their own (below).
  for (const Candidate& c : walker.time) {
    if (TakeTime(c, event)) break;
  }
  event.host = FirstString(walker.host);
  if (walker.windows_shape) {
    if (!event.has_message_time) TakeTime(walker.windows_time, event);
    if (event.host.empty() && walker.windows_host.is_string) event.host = walker.windows_host.value;
  } else if (walker.top_event_id && (walker.top_channel || walker.top_source_name)) {
    const json_internal::NxlogHeader nxlog =
        json_internal::NormalizeNxlog(batch, event, walker.names_have_spaces);
    // Its canonical fields (Provider_Name, Computer, Security_UserID) count
    // towards the bound too.
    if (event.fields_count > options_.max_fields) return fail("too many fields", nullptr);
    if (!event.has_message_time) TakeTime({nxlog.time, true, !nxlog.time.empty()}, event);
    if (event.host.empty()) event.host = nxlog.host;
  }
  event.program = FirstString(walker.program);
  for (const Candidate& c : walker.message) {
    if (c.present && c.is_string) {
      event.message = c.value;
      break;
    }
  }
  return true;
}

}  // namespace gsoc
