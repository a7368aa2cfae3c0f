// Lenient RFC 3164 parser (see syslog_parser.h for the contract and
// README.md for the heuristics).
#include "collectors/syslog/syslog_common.h"
#include "collectors/syslog/syslog_parser.h"
#include "engine/util/saturating.h"

namespace gsoc {

using namespace syslog_internal;

namespace {

// PRI used when the message has none: user.notice, as RFC 3164 section 4.3.3
// tells a relay to assume, and as rsyslog does.
constexpr int kDefaultPri = 13;

// "Jan".."Dec" in any letter case; 0 when not a month.
inline unsigned MonthFromAbbrev(const char* p) {
  const uint32_t key = (static_cast<uint32_t>(p[0] | 0x20) << 16) |
                       (static_cast<uint32_t>(p[1] | 0x20) << 8) |
                       static_cast<uint32_t>(p[2] | 0x20);
  switch (key) {
    case ('j' << 16) | ('a' << 8) | 'n':
      return 1;
    case ('f' << 16) | ('e' << 8) | 'b':
      return 2;
    case ('m' << 16) | ('a' << 8) | 'r':
      return 3;
    case ('a' << 16) | ('p' << 8) | 'r':
      return 4;
    case ('m' << 16) | ('a' << 8) | 'y':
      return 5;
    case ('j' << 16) | ('u' << 8) | 'n':
      return 6;
    case ('j' << 16) | ('u' << 8) | 'l':
      return 7;
    case ('a' << 16) | ('u' << 8) | 'g':
      return 8;
    case ('s' << 16) | ('e' << 8) | 'p':
      return 9;
    case ('o' << 16) | ('c' << 8) | 't':
      return 10;
    case ('n' << 16) | ('o' << 8) | 'v':
      return 11;
    case ('d' << 16) | ('e' << 8) | 'c':
      return 12;
    default:
      return 0;
  }
}

// "hh:mm:ss" at p (8 bytes available checked by the caller).
inline bool ParseClock(const char* p, TimeParts& t) {
  if (p[2] != ':' || p[5] != ':') return false;
  const int h = TwoDigits(p), m = TwoDigits(p + 3), s = TwoDigits(p + 6);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return false;
  t.hour = static_cast<unsigned>(h);
  t.minute = static_cast<unsigned>(m);
  t.second = static_cast<unsigned>(s);
  return true;
}

// BSD timestamp "Mmm dd hh:mm:ss" / "Mmm  d hh:mm:ss" / "Mmm d hh:mm:ss" /
// "Mmm dd yyyy hh:mm:ss", optional ".fraction", optional trailing ':'.
// Must end at SP or end of input. has_year tells whether a year was given.
inline bool ParseBsdTimestamp(const char*& p, const char* end, TimeParts& t, bool& has_year) {
  const char* q = p;
  if (end - q < 14) return false;  // "Mmm d hh:mm:ss"
  const unsigned month = MonthFromAbbrev(q);
  if (month == 0 || q[3] != ' ') return false;
  q += 4;
  if (*q == ' ') ++q;
  if (q >= end || !IsDigit(*q)) return false;
  unsigned day = static_cast<unsigned>(*q++ - '0');
  if (q < end && IsDigit(*q)) day = day * 10 + static_cast<unsigned>(*q++ - '0');
  if (day < 1 || day > 31 || q >= end || *q != ' ') return false;
  ++q;
  has_year = false;
  if (end - q >= 5 && IsDigit(q[0]) && IsDigit(q[1]) && IsDigit(q[2]) && IsDigit(q[3]) &&
      q[4] == ' ') {
    t.year = (q[0] - '0') * 1000 + (q[1] - '0') * 100 + (q[2] - '0') * 10 + (q[3] - '0');
    has_year = true;
    q += 5;
  }
  if (end - q < 8 || !ParseClock(q, t)) return false;
  q += 8;
  t.nanos = 0;
  if (q < end && *q == '.') {
    const char* f = q + 1;
    if (ParseFraction(f, end, 9, t.nanos)) q = f;
  }
  if (q < end && *q == ':') ++q;
  if (q < end && *q != ' ') return false;
  t.month = month;
  t.day = day;
  t.has_zone = false;
  t.offset_seconds = 0;
  p = q;
  return true;
}

// The calendar year of a local time, remembered per thread for the year
// it falls in: every message of a stream asks for the same one, and the
// civil conversion's divisions were 1.6% of gsocd's CPU.
inline int64_t LocalYear(int64_t local_ns) {
  struct Span {
    int64_t begin_ns = 1, end_ns = 0, year = 0;  // [begin, end): empty at first
  };
  thread_local Span span;
  if (local_ns >= span.begin_ns && local_ns < span.end_ns) return span.year;
  const int64_t year = CivilFromNanos(local_ns).year;
  TimeParts start;
  start.year = year;
  start.month = start.day = 1;
  if (Representable(start) && year + 1 <= 2261) {
    const int64_t begin_ns = ToUnixNanos(start);
    start.year = year + 1;
    span = {begin_ns, ToUnixNanos(start), year};
  }
  return year;
}

// A candidate of the receive year from this many days before receive time
// to a day after it is the nearest allowed: the year before's is 365 days
// further away, and the year after's is more than a day ahead.
constexpr int64_t kSureYearDays = 363;

// The year that puts month/day/time nearest to receive time, never more than
// a day ahead of it. Returns false when no candidate is a valid date (Feb 29
// with no leap year within a year of receive time).
inline bool ResolveYear(TimeParts& t, int64_t receive_ns, int32_t offset_seconds) {
  const int64_t local_ns = receive_ns + static_cast<int64_t>(offset_seconds) * kNanosPerSecond;
  const int64_t receive_year = LocalYear(local_ns);
  if (t.day <= DaysInMonth(receive_year, t.month)) {
    t.year = receive_year;
    if (Representable(t)) {
      const int64_t candidate = ToUnixNanos(t);
      if (candidate <= SaturatingAdd(receive_ns, kSecondsPerDay * kNanosPerSecond) &&
          candidate >=
              SaturatingSub(receive_ns, kSureYearDays * kSecondsPerDay * kNanosPerSecond)) {
        return true;
      }
    }
  }
  bool found = false;
  int64_t best_year = 0, best_distance = 0;
  for (int64_t year = receive_year + 1; year >= receive_year - 1; --year) {
    if (t.day > DaysInMonth(year, t.month)) continue;
    t.year = year;
    if (!Representable(t)) continue;
    const int64_t candidate = ToUnixNanos(t);
    if (candidate > receive_ns + kSecondsPerDay * kNanosPerSecond) continue;
    const int64_t distance =
        candidate > receive_ns ? candidate - receive_ns : receive_ns - candidate;
    if (!found || distance < best_distance) {
      found = true;
      best_year = year;
      best_distance = distance;
    }
  }
  t.year = best_year;
  return found;
}

// Replay: the first year-less timestamp in rolling.year, each next one in
// the year that puts it nearest the previous one.
inline bool ResolveRollingYear(TimeParts& t, RollingYear& rolling) {
  int64_t first = rolling.year, last = rolling.year;
  if (rolling.previous_ns != INT64_MIN) {
    const int64_t year = CivilFromNanos(rolling.previous_ns).year;
    first = year - 1;
    last = year + 1;
  }
  bool found = false;
  int64_t best_year = 0, best_distance = 0;
  for (int64_t year = first; year <= last; ++year) {
    if (t.day > DaysInMonth(year, t.month)) continue;
    t.year = year;
    if (!Representable(t)) continue;
    const int64_t candidate = ToUnixNanos(t);
    const int64_t distance = rolling.previous_ns == INT64_MIN  ? 0
                             : candidate > rolling.previous_ns ? candidate - rolling.previous_ns
                                                               : rolling.previous_ns - candidate;
    if (!found || distance < best_distance) {
      found = true;
      best_year = year;
      best_distance = distance;
    }
  }
  t.year = best_year;
  if (found) rolling.previous_ns = ToUnixNanos(t);
  return found;
}

// Hostname as real senders write it: [A-Za-z0-9._:-] and UTF-8 bytes, ends
// with an alphanumeric (or non-ASCII) character. "app:", "app[1]:" and
// "%PIX-7-710005:" are tags, not hosts.
inline bool LooksLikeHost(const char* b, const char* e) {
  if (b == e || e - b > 255) return false;
  for (const char* q = b; q < e; ++q) {
    const char c = *q;
    const auto u = static_cast<unsigned char>(c);
    if (!(IsDigit(c) || IsAlpha(c) || c == '.' || c == '-' || c == '_' || c == ':' || u >= 0x80)) {
      return false;
    }
  }
  const char last = e[-1];
  return IsDigit(last) || IsAlpha(last) || static_cast<unsigned char>(last) >= 0x80;
}

// TAG: bytes up to SP or ':' (the ':' is consumed). program is the tag up to
// '[', pid what is between '[' and ']'.
inline void SplitTag(std::string_view tag, Event& event) {
  const size_t lb = tag.find('[');
  if (lb != std::string_view::npos) {
    const size_t rb = tag.find(']', lb + 1);
    if (rb != std::string_view::npos) {
      event.program = tag.substr(0, lb);
      event.pid = tag.substr(lb + 1, rb - lb - 1);
      return;
    }
  }
  event.program = tag;
}

inline const char* ScanTag(const char* p, const char* end) {
  while (p < end && *p != ' ' && *p != ':') ++p;
  return p;
}

inline const char* SkipSpaces(const char* p, const char* end) {
  while (p < end && *p == ' ') ++p;
  return p;
}

}  // namespace

bool ParseRfc3164(std::string_view message, const SyslogParseContext& context, Event& event,
                  EventBatch& batch, ParseError* error) {
  const char* const begin = message.data();
  const char* const end = begin + message.size();
  const char* p = begin;
  if (p == end) return Fail(error, "empty message", begin, p);

  int pri = kDefaultPri;
  if (*p == '<' && !ParsePri(p, end, begin, /*strict=*/false, pri, error)) return false;
  p = SkipSpaces(p, end);

  // TIMESTAMP: BSD style or RFC 3339 / ISO 8601.
  TimeParts t;
  bool has_timestamp = false, time_valid = false;
  if (end - p >= 14) {
    const char* q = p;
    bool has_year = false;
    if (IsAlpha(*q) && ParseBsdTimestamp(q, end, t, has_year)) {
      has_timestamp = true;
      t.offset_seconds = context.default_utc_offset_seconds;
      time_valid = has_year ? t.day <= DaysInMonth(t.year, t.month) && Representable(t)
                   : context.rolling_year
                       ? ResolveRollingYear(t, *context.rolling_year)
                       : ResolveYear(t, context.receive_time_ns, t.offset_seconds);
    } else if (IsDigit(*q) && ParseRfc3339(q, end, /*strict=*/false, t) &&
               (q == end || *q == ' ')) {
      has_timestamp = true;
      time_valid = Representable(t);
      if (!t.has_zone) t.offset_seconds = context.default_utc_offset_seconds;
    }
    if (has_timestamp) p = q < end ? q + 1 : q;
  }

  event.host = {};
  event.program = {};
  event.pid = {};
  if (has_timestamp) {
    // HOSTNAME, when the next word looks like one, then TAG (rsyslog style:
    // the next word up to SP or ':').
    const char* word_end = p;
    while (word_end < end && *word_end != ' ') ++word_end;
    if (LooksLikeHost(p, word_end)) {
      event.host = std::string_view(p, static_cast<size_t>(word_end - p));
      p = word_end < end ? word_end + 1 : word_end;
    }
    const char* tag_end = ScanTag(p, end);
    SplitTag(std::string_view(p, static_cast<size_t>(tag_end - p)), event);
    p = tag_end < end && *tag_end == ':' ? tag_end + 1 : tag_end;
  } else {
    // No timestamp: only an explicit "tag:" / "tag[pid]:" followed by SP or end.
    const char* tag_end = ScanTag(p, end);
    if (tag_end > p && tag_end < end && *tag_end == ':' &&
        (tag_end + 1 == end || tag_end[1] == ' ')) {
      SplitTag(std::string_view(p, static_cast<size_t>(tag_end - p)), event);
      p = tag_end + 1;
    }
  }
  p = SkipSpaces(p, end);

  // rsyslog writes "[origin software=... ]" style SD into 3164 messages: take
  // it as structured data when it is a valid SD section with at least one
  // parameter, followed by SP or end.
  std::string_view structured_data;
  if (p < end && *p == '[') {
    const char* q = p;
    int params = 0;
    if (ParseStructuredData(q, end, begin, /*add_fields=*/false, event, batch, nullptr, &params) &&
        params > 0 && (q == end || *q == ' ')) {
      const char* sd_begin = p;
      ParseStructuredData(p, end, begin, /*add_fields=*/true, event, batch, nullptr, nullptr);
      structured_data = std::string_view(sd_begin, static_cast<size_t>(p - sd_begin));
      p = SkipSpaces(p, end);
    }
  }

  event.format = EventFormat::kRfc3164;
  event.receive_time_ns = context.receive_time_ns;
  event.facility = static_cast<int8_t>(pri >> 3);
  event.severity = static_cast<int8_t>(pri & 7);
  event.version = 0;
  event.has_message_time = time_valid;
  event.event_time_ns = time_valid ? ToUnixNanos(t) : context.receive_time_ns;
  event.msgid = {};
  event.structured_data = structured_data;
  event.message = std::string_view(p, static_cast<size_t>(end - p));
  return true;
}

}  // namespace gsoc
