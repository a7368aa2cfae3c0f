// RFC 6587 conformance against go-syslog's octet-counting and non-transparent
// framing vectors: frame each input stream with StreamFramer, parse every
// frame with ParseRfc5424, and compare with upstream's strict-mode results.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <vector>

#include "collectors/framing/stream_framer.h"
#include "collectors/syslog/syslog_parser.h"
#include "engine/util/time_format.h"

namespace gsoc {
namespace {

// Vectors we deliberately treat differently, with the reason and the exact
// difference that is accepted (anything else still fails).
struct Deviation {
  std::string_view id;
  std::string_view reason;
  std::string_view accepted_difference;
};
constexpr Deviation kDeviations[] = {
    {"go-syslog/octetcounting/parser_test.go#0",
     "empty stream: no frames, nothing to report (go-syslog: 'expecting a MSGLEN')",
     " got 0 results, expected 1"},
    {"go-syslog/nontransparent/parser_test.go#1/LF",
     "a final frame without trailer is accepted by Finish() (real senders omit the last LF); "
     "go-syslog reports 'unexpected EOF'",
     " #0 parsed but expected error 'unexpected EOF'"},
    {"go-syslog/nontransparent/parser_test.go#1/NUL", "as #1/LF",
     " #0 parsed but expected error 'unexpected EOF'"},
    {"go-syslog/nontransparent/parser_test.go#3/LF", "as #1/LF (second frame)",
     " #1 parsed but expected error 'unexpected EOF'"},
    {"go-syslog/nontransparent/parser_test.go#3/NUL", "as #1/LF (second frame)",
     " #1 parsed but expected error 'unexpected EOF'"},
};

const Deviation* FindDeviation(std::string_view id) {
  for (const Deviation& d : kDeviations) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

std::string Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

// "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)" -> ns since the epoch.
bool ParseExpectedTime(std::string_view s, int64_t* nanos) {
  int year, month, day, hour, minute, second, consumed = 0;
  const std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return false;
  }
  size_t i = static_cast<size_t>(consumed);
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100'000'000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
      frac += (s[i] - '0') * scale;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  *nanos = (DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
            hour * 3600 + minute * 60 + second - offset) *
               kNanosPerSecond +
           frac;
  return true;
}

struct Outcome {
  bool ok = false;
  std::string what;  // error text or frame
  Event event;
};

// Frames the stream (fed in `chunk`-byte reads) and parses every frame.
// Stops at a framing error (the connection would be closed); parse errors of
// single frames do not stop it.
std::vector<Outcome> Run(const std::string& input, size_t max, size_t chunk, EventBatch& batch) {
  std::vector<Outcome> outcomes;
  StreamFramer framer(FramingMode::kSyslog, max);
  SyslogParseContext context;
  context.receive_time_ns = 1;
  bool failed = false;
  auto parse = [&](std::string_view frame) {
    Outcome outcome;
    const std::string_view copy = batch.arena().CopyPadded(frame);
    Event& event = batch.AddEvent();
    ParseError error;
    outcome.ok = ParseRfc5424(copy, context, event, batch, &error);
    outcome.what = outcome.ok ? std::string(frame) : std::string(error.reason);
    outcome.event = event;
    outcomes.push_back(std::move(outcome));
  };
  std::string buffer;
  size_t offset = 0;
  while (offset < input.size() && !failed) {
    const size_t n = std::min(chunk, input.size() - offset);
    buffer.append(input, offset, n);
    offset += n;
    const FeedResult r = framer.Feed(buffer, parse, [&] {
      if (!failed) outcomes.push_back({false, "oversize", {}});
      failed = true;
    });
    if (r.error != FrameError::kNone) {
      if (!failed) outcomes.push_back({false, std::string(FrameErrorName(r.error)), {}});
      return outcomes;
    }
    buffer.erase(0, r.consumed);
  }
  if (failed) return outcomes;
  bool truncated = false;
  const std::string_view last = framer.Finish(buffer, &truncated);
  if (truncated) {
    outcomes.push_back({false, "truncated octet-counted frame", {}});
  } else if (!last.empty()) {
    parse(last);
  }
  return outcomes;
}

// Small accessors (error-code API; missing or mistyped values read as empty).
bool Member(simdjson::dom::object object, std::string_view key, simdjson::dom::element* out) {
  return object.at_key(key).get(*out) == simdjson::SUCCESS;
}
std::string Str(simdjson::dom::element element) {
  std::string_view s;
  if (element.get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}
int64_t Int(simdjson::dom::element element) {
  int64_t v = -1;
  if (element.get(v) != simdjson::SUCCESS) return -1;
  return v;
}
simdjson::dom::object Obj(simdjson::dom::element element) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) ADD_FAILURE() << "not an object";
  return object;
}

// Compares one expected go-syslog message with the parsed event; returns "" on match.
std::string CompareMessage(simdjson::dom::object expected, const Event& event,
                           const EventBatch& batch) {
  std::string diff;
  for (auto [key, value] : expected) {
    const simdjson::dom::element element = value;  // lambdas cannot capture bindings (C++20)
    auto str = [&] { return Str(element); };
    auto num = [&] { return Int(element); };
    if (key == "facility") {
      if (num() != event.facility) diff += " facility";
    } else if (key == "severity") {
      if (num() != event.severity) diff += " severity";
    } else if (key == "priority") {
      if (num() != event.facility * 8 + event.severity) diff += " priority";
    } else if (key == "version") {
      if (num() != event.version) diff += " version";
    } else if (key == "hostname") {
      if (str() != event.host) diff += " hostname";
    } else if (key == "appname") {
      if (str() != event.program) diff += " appname";
    } else if (key == "procid") {
      if (str() != event.pid) diff += " procid";
    } else if (key == "msgid") {
      if (str() != event.msgid) diff += " msgid";
    } else if (key == "message") {
      if (str() != event.message) diff += " message";
    } else if (key == "timestamp") {
      int64_t nanos = 0;
      if (!ParseExpectedTime(str(), &nanos) || !event.has_message_time ||
          nanos != event.event_time_ns) {
        diff += " timestamp";
      }
    } else if (key == "structured_data") {
      for (auto [sd_id, params] : Obj(value)) {
        for (auto [param, v] : Obj(params)) {
          const std::string name = "sd." + std::string(sd_id) + "." + std::string(param);
          if (batch.FieldValue(event, name) != Str(v)) diff += " " + name;
        }
      }
    } else {
      diff += " unknown-key:" + std::string(key);
    }
  }
  // Header fields absent from the expectation must be empty (NILVALUE).
  simdjson::dom::element unused;
  if (!Member(expected, "hostname", &unused) && !event.host.empty()) diff += " hostname(extra)";
  if (!Member(expected, "appname", &unused) && !event.program.empty()) diff += " appname(extra)";
  if (!Member(expected, "timestamp", &unused) && event.has_message_time) {
    diff += " timestamp(extra)";
  }
  return diff;
}

struct Tally {
  int total = 0, passed = 0, deviations = 0, failed = 0;
};

// go-syslog's octet-counting parser stops at the first error (strict mode),
// its non-transparent parser goes on with the next frame.
Tally RunFile(const char* file, bool stops_at_first_error) {
  Tally tally;
  simdjson::dom::parser parser;
  simdjson::padded_string json;
  const std::string path = std::string(GSOC_CORPUS_DIR "/syslog-vectors/go-syslog/") + file;
  EXPECT_EQ(simdjson::padded_string::load(path).get(json), simdjson::SUCCESS) << path;
  simdjson::dom::document_stream stream;
  EXPECT_EQ(parser.parse_many(json).get(stream), simdjson::SUCCESS);
  for (auto doc_result : stream) {
    simdjson::dom::object vector;
    EXPECT_EQ(doc_result.get(vector), simdjson::SUCCESS);
    ++tally.total;
    simdjson::dom::element element;
    const std::string id = Member(vector, "id", &element) ? Str(element) : "";
    const std::string input =
        Base64Decode(Member(vector, "input_b64", &element) ? Str(element) : "");
    int64_t max = 8192;
    if (Member(vector, "max_message_length", &element)) max = Int(element);
    simdjson::dom::array expected;
    EXPECT_TRUE(Member(vector, "expected_results", &element) &&
                element.get(expected) == simdjson::SUCCESS)
        << id;

    std::string problem;
    EventBatch batch;
    std::vector<Outcome> whole = Run(input, static_cast<size_t>(max), SIZE_MAX, batch);
    // Framing must not depend on how the stream is split into reads.
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{4096}}) {
      EventBatch other_batch;
      const std::vector<Outcome> other = Run(input, static_cast<size_t>(max), chunk, other_batch);
      bool same = other.size() == whole.size();
      for (size_t i = 0; same && i < whole.size(); ++i) {
        same = other[i].ok == whole[i].ok && other[i].what == whole[i].what;
      }
      if (!same) problem += " differs-with-chunk-" + std::to_string(chunk);
    }
    if (stops_at_first_error) {
      for (size_t i = 0; i < whole.size(); ++i) {
        if (!whole[i].ok) {
          whole.resize(i + 1);
          break;
        }
      }
    }
    if (whole.size() != expected.size()) {
      problem += " got " + std::to_string(whole.size()) + " results, expected " +
                 std::to_string(expected.size());
    }
    size_t i = 0;
    for (auto result : expected) {
      if (i >= whole.size()) break;
      const Outcome& got = whole[i];
      simdjson::dom::object entry = Obj(result);
      simdjson::dom::element error_text, message;
      const bool want_error = Member(entry, "error", &error_text) && !error_text.is_null();
      if (want_error && got.ok) {
        problem +=
            " #" + std::to_string(i) + " parsed but expected error '" + Str(error_text) + "'";
      } else if (!want_error && !got.ok) {
        problem += " #" + std::to_string(i) + " failed: " + got.what;
      } else if (!want_error) {
        const std::string diff = Member(entry, "message", &message)
                                     ? CompareMessage(Obj(message), got.event, batch)
                                     : " no message";
        if (!diff.empty()) problem += " #" + std::to_string(i) + " differs:" + diff;
      }
      ++i;
    }
    const Deviation* deviation = FindDeviation(id);
    if (problem.empty()) {
      ++tally.passed;
      EXPECT_EQ(deviation, nullptr) << id << " is listed as a deviation but passes; unlist it";
    } else if (deviation != nullptr && deviation->accepted_difference == problem) {
      ++tally.deviations;
      std::printf("  listed %s: %s\n", id.c_str(), std::string(deviation->reason).c_str());
    } else {
      ++tally.failed;
      ADD_FAILURE() << id << ":" << problem;
    }
  }
  std::printf("%s: %d vectors, %d passed, %d listed deviations, %d failed\n", file, tally.total,
              tally.passed, tally.deviations, tally.failed);
  return tally;
}

TEST(Rfc6587Vectors, OctetCounting) {
  const Tally tally = RunFile("rfc6587_octet_counting_vectors.jsonl", true);
  EXPECT_EQ(tally.total, 17);
  EXPECT_EQ(tally.failed, 0);
}

TEST(Rfc6587Vectors, NonTransparent) {
  const Tally tally = RunFile("rfc6587_non_transparent_vectors.jsonl", false);
  EXPECT_EQ(tally.total, 10);
  EXPECT_EQ(tally.failed, 0);
}

}  // namespace
}  // namespace gsoc
