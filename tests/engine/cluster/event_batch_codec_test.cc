// The event batch codec: round trips of the realistic mix (with the bytes per
// event it costs), splitting by size, and refusal of every truncation and of
// hostile headers, lengths, offsets and values.
#include "engine/cluster/event_batch_codec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "collectors/json/json_parser.h"
#include "collectors/syslog/syslog_parser.h"
#include "tools/loadgen/templates.h"

namespace gsoc {
namespace {

constexpr int64_t kNow = 1'764'800'000'000'000'000;

// Appends `count` events of loadgen's realistic mix (80% RFC 3164, 20% RFC
// 5424) and a few JSON lines, parsed as the listeners parse them.
void AddRealisticEvents(EventBatch& batch, size_t count, uint64_t seed) {
  loadgen::TemplateGenerator generator(loadgen::TemplateKind::kMix, "web-01.mof.example", seed);
  const loadgen::TimestampSet now(kNow / 1'000'000'000, 123);
  JsonLineParser json;
  for (size_t i = 0; i < count; ++i) {
    SyslogParseContext context{kNow + static_cast<int64_t>(i) * 1000, 0, nullptr};
    Event& event = batch.AddEvent();
    event.id = 1000 + i;
    event.receive_time_ns = context.receive_time_ns;
    event.agency = static_cast<uint16_t>(i % 3);
    event.listener = static_cast<uint16_t>(i % 2);
    event.peer = PeerAddress::FromV4(0x0A000001 + static_cast<uint32_t>(i % 50), 51000);
    if (i % 10 == 9) {
      const std::string line =
          R"({"@timestamp":"2026-12-04T01:02:03Z","event":{"action":"logon-failed"},)"
          R"("user":{"name":"admin"},"source":{"ip":"203.0.113.)" +
          std::to_string(i % 250) + R"(","port":)" + std::to_string(40000 + i) + "}}";
      json.ParseOrKeepRaw(batch.arena().CopyPadded(line), context, event, batch);
      continue;
    }
    const std::string text = generator.Next(now).text;
    EventFormat failed;
    ParseSyslog(batch.arena().CopyPadded(text), context, event, batch, &failed);
  }
}

void ExpectSameEvent(const EventBatch& a, const Event& x, const EventBatch& b, const Event& y) {
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.receive_time_ns, y.receive_time_ns);
  EXPECT_EQ(x.event_time_ns, y.event_time_ns);
  EXPECT_EQ(x.agency, y.agency);
  EXPECT_EQ(x.listener, y.listener);
  EXPECT_EQ(x.format, y.format);
  EXPECT_EQ(x.parse_error, y.parse_error);
  EXPECT_EQ(x.has_message_time, y.has_message_time);
  EXPECT_EQ(x.facility, y.facility);
  EXPECT_EQ(x.severity, y.severity);
  EXPECT_EQ(x.version, y.version);
  EXPECT_EQ(x.peer.bytes, y.peer.bytes);
  EXPECT_EQ(x.peer.port, y.peer.port);
  EXPECT_EQ(x.host, y.host);
  EXPECT_EQ(x.program, y.program);
  EXPECT_EQ(x.pid, y.pid);
  EXPECT_EQ(x.msgid, y.msgid);
  EXPECT_EQ(x.structured_data, y.structured_data);
  EXPECT_EQ(x.message, y.message);
  EXPECT_EQ(x.raw, y.raw);
  ASSERT_EQ(x.fields_count, y.fields_count) << x.raw;
  for (size_t i = 0; i < x.fields_count; ++i) {
    EXPECT_EQ(a.FieldsOf(x)[i].name, b.FieldsOf(y)[i].name);
    EXPECT_EQ(a.FieldsOf(x)[i].value, b.FieldsOf(y)[i].value);
  }
}

// Encodes all of `batch` in messages of at most `max_bytes`.
std::vector<std::string> EncodeAll(const EventBatch& batch, size_t max_bytes) {
  EventBatchEncoder encoder;
  std::vector<std::string> messages;
  std::string out;
  for (size_t first = 0; first < batch.size();) {
    const size_t n = encoder.Encode(batch, first, max_bytes, out);
    if (n == 0) {
      ADD_FAILURE() << "event " << first << " does not fit in " << max_bytes;
      break;
    }
    EXPECT_LE(out.size(), max_bytes);
    messages.push_back(out);
    first += n;
  }
  return messages;
}

TEST(EventBatchCodecTest, RealisticMixRoundTripsAndReportsBytesPerEvent) {
  EventBatch batch;
  constexpr size_t kEvents = 20000;
  AddRealisticEvents(batch, kEvents, 42);
  size_t raw_bytes = 0;
  size_t fields = 0;
  for (const Event& event : batch.events()) {
    raw_bytes += event.raw.size();
    fields += event.fields_count;
  }
  ASSERT_GT(fields, kEvents / 20);  // the mix carries fields (SD params, JSON)
  const std::vector<std::string> messages = EncodeAll(batch, 512 * 1024);
  EventBatch decoded;
  EventBatchDecoder decoder;
  size_t encoded_bytes = 0;
  for (const std::string& message : messages) {
    CodecError error;
    ASSERT_TRUE(decoder.Decode(message, decoded, &error)) << error.reason << " @" << error.offset;
    encoded_bytes += message.size();
  }
  ASSERT_EQ(decoded.size(), kEvents);
  for (size_t i = 0; i < kEvents; ++i) {
    ExpectSameEvent(batch, batch.events()[i], decoded, decoded.events()[i]);
  }
  const double per_event = static_cast<double>(encoded_bytes) / kEvents;
  const double raw_per_event = static_cast<double>(raw_bytes) / kEvents;
  std::printf(
      "realistic mix: %zu events, %zu messages (%.0f events/message), raw %.1f B/event, "
      "encoded %.1f B/event (%.1f B overhead), %.2f fields/event\n",
      kEvents, messages.size(), static_cast<double>(kEvents) / messages.size(), raw_per_event,
      per_event, per_event - raw_per_event, static_cast<double>(fields) / kEvents);
  RecordProperty("encoded_bytes_per_event", std::to_string(per_event));
  // The point of the slices and the dictionary: the event costs its raw line
  // and little more (a copy of each parsed field would double it).
  EXPECT_LT(per_event, raw_per_event + 48);
}

TEST(EventBatchCodecTest, SplitsByMaxBytesAndRefusesAnEventThatCannotFit) {
  EventBatch batch;
  AddRealisticEvents(batch, 200, 7);
  const std::vector<std::string> messages = EncodeAll(batch, 4096);
  EXPECT_GT(messages.size(), 5u);
  EventBatch decoded;
  EventBatchDecoder decoder;
  for (const std::string& message : messages)
    ASSERT_TRUE(decoder.Decode(message, decoded, nullptr));
  ASSERT_EQ(decoded.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    ExpectSameEvent(batch, batch.events()[i], decoded, decoded.events()[i]);
  }
  EventBatchEncoder encoder;
  std::string out;
  EXPECT_EQ(encoder.Encode(batch, 0, batch.events()[0].raw.size(), out), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encoder.Encode(batch, batch.size(), 4096, out), 0u);
}

TEST(EventBatchCodecTest, NameDictionaryOverflowFallsBackToLiterals) {
  EventBatchLimits limits;
  limits.max_names = 3;
  EventBatch batch;
  for (int e = 0; e < 3; ++e) {
    Event& event = batch.AddEvent();
    event.raw = batch.arena().Copy("line " + std::to_string(e));
    for (int f = 0; f < 8; ++f) {
      batch.AddField(event, batch.arena().Copy("name" + std::to_string(f)),
                     batch.arena().Copy("value" + std::to_string(e * f)));
    }
  }
  EventBatchEncoder encoder(limits);
  std::string out;
  ASSERT_EQ(encoder.Encode(batch, 0, 1 << 20, out), 3u);
  EventBatch decoded;
  EventBatchDecoder decoder(limits);
  CodecError error;
  ASSERT_TRUE(decoder.Decode(out, decoded, &error)) << error.reason;
  for (size_t i = 0; i < 3; ++i) {
    ExpectSameEvent(batch, batch.events()[i], decoded, decoded.events()[i]);
  }
}

TEST(EventBatchCodecTest, AnEventWithTooManyFieldsIsNotEncoded) {
  EventBatchLimits limits;
  limits.max_fields_per_event = 2;
  EventBatch batch;
  Event& event = batch.AddEvent();
  for (int f = 0; f < 3; ++f) batch.AddField(event, "a", "b");
  std::string out;
  EXPECT_EQ(EventBatchEncoder(limits).Encode(batch, 0, 1 << 20, out), 0u);
  ASSERT_EQ(EventBatchEncoder().Encode(batch, 0, 1 << 20, out), 1u);
  EventBatch decoded;
  CodecError error;
  EXPECT_FALSE(EventBatchDecoder(limits).Decode(out, decoded, &error));
  EXPECT_EQ(error.reason, "too many fields in an event");
  EXPECT_TRUE(decoded.empty());
}

TEST(EventBatchCodecTest, EveryTruncationIsRejectedAndLeavesTheBatchAsItWas) {
  EventBatch batch;
  AddRealisticEvents(batch, 40, 3);
  std::string message;
  ASSERT_EQ(EventBatchEncoder().Encode(batch, 0, 1 << 20, message), 40u);
  EventBatchDecoder decoder;
  EventBatch decoded;
  decoded.AddEvent().id = 77;  // already there: must survive every failure
  for (size_t size = 0; size < message.size(); ++size) {
    CodecError error;
    ASSERT_FALSE(decoder.Decode(std::string_view(message).substr(0, size), decoded, &error))
        << "a prefix of " << size << " of " << message.size() << " bytes was accepted";
    EXPECT_FALSE(error.reason.empty());
    EXPECT_LE(error.offset, size);
    ASSERT_EQ(decoded.size(), 1u);
  }
  EXPECT_EQ(decoded.events()[0].id, 77u);
  ASSERT_TRUE(decoder.Decode(message, decoded, nullptr));
  EXPECT_EQ(decoded.size(), 41u);
}

TEST(EventBatchCodecTest, EveryCorruptedByteIsEitherRefusedOrDecodedWithinBounds) {
  EventBatch batch;
  AddRealisticEvents(batch, 10, 5);
  std::string message;
  ASSERT_EQ(EventBatchEncoder().Encode(batch, 0, 1 << 20, message), 10u);
  EventBatchDecoder decoder;
  size_t refused = 0;
  for (size_t i = 0; i < message.size(); ++i) {
    std::string corrupt = message;
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
    EventBatch decoded;
    if (!decoder.Decode(corrupt, decoded, nullptr)) {
      ++refused;
      EXPECT_TRUE(decoded.empty());
      continue;
    }
    for (const Event& event : decoded.events()) {
      EXPECT_LE(event.facility, 23);
      EXPECT_LE(event.severity, 7);
      EXPECT_LE(event.message.size(), corrupt.size());
    }
  }
  EXPECT_GT(refused, 0u);
}

// A hand-built message: the header, then bytes as given.
std::string Message(uint32_t count, std::string_view body, uint8_t version = kEventBatchVersion) {
  std::string out = {'G', 'S', 'E', 'B', static_cast<char>(version), 0};
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(count >> (8 * i)));
  out.append(body);
  return out;
}

// One v4 event: flags, id 1, times 0, agency, listener, facility, severity,
// version, address, port, raw "abc"; then `rest` (refs and fields).
std::string Event1(std::string_view rest, uint8_t agency = 0, uint8_t facility = 1) {
  std::string out = {0x10,
                     0x02,
                     0x00,
                     0x00,
                     static_cast<char>(agency),
                     0x00,
                     static_cast<char>(facility),
                     0x01,
                     0x00,
                     10,
                     0,
                     0,
                     1,
                     0x10,
                     0x27,
                     0x03,
                     'a',
                     'b',
                     'c'};
  out.append(rest);
  return out;
}

std::string Refused(const std::string& message, EventBatchLimits limits = {}) {
  EventBatch decoded;
  CodecError error;
  if (EventBatchDecoder(limits).Decode(message, decoded, &error)) return "accepted";
  EXPECT_TRUE(decoded.empty());
  return std::string(error.reason);
}

TEST(EventBatchCodecTest, HostileMessagesAreRefusedWithAReason) {
  using namespace std::string_literals;  // NOLINT: bodies hold NUL bytes
  const std::string no_refs(6, '\0');
  const std::string valid = Message(1, Event1(no_refs + '\0'));
  ASSERT_EQ(Refused(valid), "accepted");
  std::string bad_magic = valid;
  bad_magic[0] = 'X';
  EXPECT_EQ(Refused(bad_magic), "not an event batch (bad magic)");
  EXPECT_EQ(Refused(Message(1, Event1(no_refs + '\0'), 2)), "unsupported event batch version");
  std::string flags = valid;
  flags[5] = 1;
  EXPECT_EQ(Refused(flags), "unknown header flags");
  EXPECT_EQ(Refused(Message(0, "")), "event count out of range");
  EXPECT_EQ(Refused(Message(70000, Event1(no_refs + '\0'))), "event count out of range");
  EXPECT_EQ(Refused(Message(2, Event1(no_refs + '\0'))), "truncated");
  EXPECT_EQ(Refused(valid + "x"), "bytes after the last event");
  // host = raw[2, 2+5): beyond the 3 bytes of raw.
  EXPECT_EQ(Refused(Message(1, Event1(std::string("\x05\x05") + std::string(5, '\0') + '\0'))),
            "slice outside the raw frame");
  // A literal longer than the message.
  EXPECT_EQ(Refused(Message(1, Event1(std::string("\x7e") + std::string(5, '\0') + '\0'))),
            "length beyond the message");
  // A field named by a dictionary entry never defined.
  EXPECT_EQ(Refused(Message(1, Event1(no_refs + "\x01\x02\x00"s))), "unknown field name index");
  EventBatchLimits limits;
  limits.agency_count = 2;
  EXPECT_EQ(Refused(Message(1, Event1(no_refs + '\0', 2)), limits), "unknown agency");
  EXPECT_EQ(Refused(Message(1, Event1(no_refs + '\0', 0, 30))), "facility out of range");
  std::string reserved = Message(1, Event1(no_refs + '\0'));
  reserved[kEventBatchHeaderBytes] = static_cast<char>(0x80);
  EXPECT_EQ(Refused(reserved), "reserved flag bits set");
  // Eleven continuation bytes as the id delta.
  std::string long_varint = Message(1, std::string("\x10") + std::string(11, '\xff'));
  EXPECT_EQ(Refused(long_varint), "varint overflows 64 bits");
  // Three names defined with a dictionary of two.
  limits = {};
  limits.max_names = 2;
  EXPECT_EQ(Refused(Message(1, Event1(no_refs + "\x03\x01\x04n1\x00\x01\x04n2\x00\x01\x04n3\x00"s)),
                    limits),
            "too many field names");
}

}  // namespace
}  // namespace gsoc
