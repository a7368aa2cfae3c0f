#include "engine/cluster/event_batch_codec.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace gsoc {
namespace {

// Event flag bits (the first byte of an event).
constexpr uint8_t kFormatMask = 0x03;
constexpr uint8_t kParseError = 0x04;
constexpr uint8_t kHasMessageTime = 0x08;
constexpr uint8_t kPeerV4 = 0x10;
constexpr uint8_t kReservedBits = 0xE0;

constexpr int kMaxFacility = 23;
constexpr int kMaxSeverity = 7;
constexpr uint64_t kMaxVersion = 999;

// Field name codes: a literal not kept, a literal kept in the dictionary, or
// dictionary entry code - kNameFirstIndex.
constexpr uint64_t kNameLiteral = 0;
constexpr uint64_t kNameDefine = 1;
constexpr uint64_t kNameFirstIndex = 2;

void PutU32(std::string& out, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(value >> (8 * i));
}

// A view inside `raw` is sent as (offset, length) into it, else its bytes.
void PutRef(std::string& out, std::string_view view, std::string_view raw) {
  const auto begin = reinterpret_cast<uintptr_t>(view.data());
  const auto raw_begin = reinterpret_cast<uintptr_t>(raw.data());
  if (!view.empty() && !raw.empty() && begin >= raw_begin &&
      begin + view.size() <= raw_begin + raw.size()) {
    wire::PutVarint(out, (static_cast<uint64_t>(begin - raw_begin) << 1) | 1);
    wire::PutVarint(out, view.size());
    return;
  }
  wire::PutVarint(out, static_cast<uint64_t>(view.size()) << 1);
  out.append(view);
}

uint64_t HashName(std::string_view name) { return std::hash<std::string_view>{}(name); }

size_t SlotCount(size_t max_names) {
  size_t count = 16;
  while (count < 2 * max_names) count <<= 1;
  return count;
}

}  // namespace

EventBatchEncoder::EventBatchEncoder(EventBatchLimits limits)
    : limits_(limits), slots_(SlotCount(limits.max_names), 0) {
  names_.reserve(limits_.max_names);
}

void EventBatchEncoder::ResetNames() {
  names_.clear();
  if (++generation_ == 0) {  // wrapped: old slots could look current
    std::fill(slots_.begin(), slots_.end(), 0);
    generation_ = 1;
  }
}

void EventBatchEncoder::AppendName(std::string_view name, std::string_view raw, std::string& out) {
  const size_t mask = slots_.size() - 1;
  for (size_t slot = HashName(name) & mask;; slot = (slot + 1) & mask) {
    const uint64_t entry = slots_[slot];
    const size_t index = static_cast<uint32_t>(entry) - size_t{1};
    const bool live = (entry >> 32) == generation_ && index < names_.size();
    if (live && names_[index] == name) {
      wire::PutVarint(out, kNameFirstIndex + index);
      return;
    }
    if (live) continue;
    if (names_.size() >= limits_.max_names) break;  // full: send it literally
    slots_[slot] = (static_cast<uint64_t>(generation_) << 32) | (names_.size() + 1);
    names_.push_back(name);
    wire::PutVarint(out, kNameDefine);
    PutRef(out, name, raw);
    return;
  }
  wire::PutVarint(out, kNameLiteral);
  PutRef(out, name, raw);
}

namespace {
int64_t WrappingDifference(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
}  // namespace

void EventBatchEncoder::AppendEvent(const EventBatch& batch, const Event& event, std::string& out) {
  const bool v4 = event.peer.IsV4();
  uint8_t bits = static_cast<uint8_t>(event.format) & kFormatMask;
  bits |= event.parse_error ? kParseError : 0;
  bits |= event.has_message_time ? kHasMessageTime : 0;
  bits |= v4 ? kPeerV4 : 0;
  out.push_back(static_cast<char>(bits));
  wire::PutZigzag(out, static_cast<int64_t>(event.id - previous_id_));
  // Differences wrap (as the reader's sums do): a hostile or corrupt time
  // far from its neighbour is carried exactly, never overflows.
  wire::PutZigzag(out, WrappingDifference(event.receive_time_ns, previous_receive_ns_));
  wire::PutZigzag(out, WrappingDifference(event.event_time_ns, event.receive_time_ns));
  previous_id_ = event.id;
  previous_receive_ns_ = event.receive_time_ns;
  wire::PutVarint(out, event.agency);
  wire::PutVarint(out, event.listener);
  out.push_back(static_cast<char>(event.facility + 1));
  out.push_back(static_cast<char>(event.severity + 1));
  wire::PutVarint(out, event.version);
  out.append(reinterpret_cast<const char*>(event.peer.bytes.data()) + (v4 ? 12 : 0), v4 ? 4 : 16);
  out.push_back(static_cast<char>(event.peer.port & 0xFF));
  out.push_back(static_cast<char>(event.peer.port >> 8));
  wire::PutVarint(out, event.raw.size());
  out.append(event.raw);
  for (std::string_view view :
       {event.host, event.program, event.pid, event.msgid, event.structured_data, event.message}) {
    PutRef(out, view, event.raw);
  }
  wire::PutVarint(out, event.fields_count);
  for (const Field& field : batch.FieldsOf(event)) {
    AppendName(field.name, event.raw, out);
    PutRef(out, field.value, event.raw);
  }
}

size_t EventBatchEncoder::Encode(const EventBatch& batch, size_t first, size_t end,
                                 size_t max_bytes, std::string& out) {
  out.clear();
  ResetNames();
  previous_id_ = 0;
  previous_receive_ns_ = 0;
  const std::span<const Event> events = batch.events().first(std::min(end, batch.size()));
  if (max_bytes < kEventBatchHeaderBytes || first >= events.size()) return 0;
  out.append(kEventBatchHeaderBytes, '\0');
  PutU32(out, 0, kEventBatchMagic);
  out[4] = static_cast<char>(kEventBatchVersion);
  size_t count = 0;
  for (size_t i = first; i < events.size() && count < limits_.max_events; ++i) {
    const Event& event = events[i];
    if (event.fields_count > limits_.max_fields_per_event) break;
    const size_t mark = out.size();
    const size_t names_before = names_.size();
    const uint64_t id_before = previous_id_;
    const int64_t receive_before = previous_receive_ns_;
    AppendEvent(batch, event, out);
    if (out.size() > max_bytes) {
      out.resize(mark);
      names_.resize(names_before);
      previous_id_ = id_before;
      previous_receive_ns_ = receive_before;
      break;
    }
    ++count;
  }
  if (count == 0) {
    out.clear();
    return 0;
  }
  PutU32(out, 6, static_cast<uint32_t>(count));
  return count;
}

namespace {

// Decodes one event into the last event of `out`; false on error.
class EventReader {
 public:
  EventReader(wire::WireReader& in, const EventBatchLimits& limits,
              std::vector<std::string_view>& names, EventBatch& out)
      : in_(in), limits_(limits), names_(names), out_(out) {}

  bool Read(Event& event, uint64_t& previous_id, int64_t& previous_receive_ns);

 private:
  bool Header(Event& event, uint64_t& previous_id, int64_t& previous_receive_ns);
  bool Peer(Event& event, bool v4);
  std::string_view Ref(std::string_view raw);
  bool Name(std::string_view raw, std::string_view& name);

  wire::WireReader& in_;
  const EventBatchLimits& limits_;
  std::vector<std::string_view>& names_;
  EventBatch& out_;
};

bool EventReader::Header(Event& event, uint64_t& previous_id, int64_t& previous_receive_ns) {
  const uint8_t bits = in_.U8();
  if ((bits & kReservedBits) != 0) return in_.Fail("reserved flag bits set");
  event.format = static_cast<EventFormat>(bits & kFormatMask);
  event.parse_error = (bits & kParseError) != 0;
  event.has_message_time = (bits & kHasMessageTime) != 0;
  event.id = previous_id + static_cast<uint64_t>(in_.Zigzag());
  event.receive_time_ns = static_cast<int64_t>(static_cast<uint64_t>(previous_receive_ns) +
                                               static_cast<uint64_t>(in_.Zigzag()));
  event.event_time_ns = static_cast<int64_t>(static_cast<uint64_t>(event.receive_time_ns) +
                                             static_cast<uint64_t>(in_.Zigzag()));
  previous_id = event.id;
  previous_receive_ns = event.receive_time_ns;
  const uint64_t agency = in_.Varint();
  const uint64_t listener = in_.Varint();
  if (!in_.ok()) return false;
  if (agency >= limits_.agency_count || agency > UINT16_MAX) return in_.Fail("unknown agency");
  if (listener >= limits_.listener_count || listener > UINT16_MAX) {
    return in_.Fail("unknown listener");
  }
  event.agency = static_cast<uint16_t>(agency);
  event.listener = static_cast<uint16_t>(listener);
  const int facility = in_.U8() - 1;
  const int severity = in_.U8() - 1;
  if (facility > kMaxFacility) return in_.Fail("facility out of range");
  if (severity > kMaxSeverity) return in_.Fail("severity out of range");
  event.facility = static_cast<int8_t>(facility);
  event.severity = static_cast<int8_t>(severity);
  const uint64_t version = in_.Varint();
  if (version > kMaxVersion) return in_.Fail("version out of range");
  event.version = static_cast<uint16_t>(version);
  return Peer(event, (bits & kPeerV4) != 0);
}

bool EventReader::Peer(Event& event, bool v4) {
  const std::string_view address = in_.Bytes(v4 ? 4 : 16);
  const std::string_view port = in_.Bytes(2);
  if (!in_.ok()) return false;
  if (v4) {
    event.peer.bytes[10] = event.peer.bytes[11] = 0xFF;
    std::memcpy(event.peer.bytes.data() + 12, address.data(), 4);
  } else {
    std::memcpy(event.peer.bytes.data(), address.data(), 16);
  }
  event.peer.port =
      static_cast<uint16_t>(static_cast<uint8_t>(port[0]) | (static_cast<uint8_t>(port[1]) << 8));
  return true;
}

std::string_view EventReader::Ref(std::string_view raw) {
  const uint64_t code = in_.Varint();
  if (!in_.ok()) return {};
  if ((code & 1) == 0) {
    const std::string_view bytes = in_.Bytes(code >> 1);
    return bytes.empty() ? std::string_view() : out_.arena().Copy(bytes);
  }
  const uint64_t offset = code >> 1;
  const uint64_t length = in_.Varint();
  if (!in_.ok()) return {};
  if (offset > raw.size() || length > raw.size() - offset) {
    in_.Fail("slice outside the raw frame");
    return {};
  }
  return raw.substr(offset, length);
}

bool EventReader::Name(std::string_view raw, std::string_view& name) {
  const uint64_t code = in_.Varint();
  if (!in_.ok()) return false;
  if (code >= kNameFirstIndex) {
    if (code - kNameFirstIndex >= names_.size()) return in_.Fail("unknown field name index");
    name = names_[code - kNameFirstIndex];
    return true;
  }
  name = Ref(raw);
  if (!in_.ok()) return false;
  if (code == kNameDefine) {
    if (names_.size() >= limits_.max_names) return in_.Fail("too many field names");
    names_.push_back(name);
  }
  return true;
}

bool EventReader::Read(Event& event, uint64_t& previous_id, int64_t& previous_receive_ns) {
  if (!Header(event, previous_id, previous_receive_ns)) return false;
  const std::string_view raw_bytes = in_.Bytes(in_.Varint());
  if (!in_.ok()) return false;
  event.raw = raw_bytes.empty() ? std::string_view() : out_.arena().CopyPadded(raw_bytes);
  for (std::string_view* view : {&event.host, &event.program, &event.pid, &event.msgid,
                                 &event.structured_data, &event.message}) {
    *view = Ref(event.raw);
  }
  const uint64_t fields = in_.Varint();
  if (!in_.ok()) return false;
  if (fields > limits_.max_fields_per_event) return in_.Fail("too many fields in an event");
  for (uint64_t i = 0; i < fields; ++i) {
    std::string_view name;
    if (!Name(event.raw, name)) return false;
    const std::string_view value = Ref(event.raw);
    if (!in_.ok()) return false;
    out_.AddField(event, name, value);
  }
  return in_.ok();
}

}  // namespace

bool EventBatchDecoder::Decode(std::string_view message, EventBatch& out, CodecError* error) {
  wire::WireReader in(message);
  const size_t size_before = out.size();
  names_.clear();
  const std::string_view header = in.Bytes(kEventBatchHeaderBytes);
  uint32_t count = 0;
  if (in.ok()) {
    uint32_t magic = 0;
    for (int i = 0; i < 4; ++i)
      magic |= static_cast<uint32_t>(static_cast<uint8_t>(header[i])) << (8 * i);
    for (int i = 0; i < 4; ++i)
      count |= static_cast<uint32_t>(static_cast<uint8_t>(header[6 + i])) << (8 * i);
    if (magic != kEventBatchMagic) {
      in.Fail("not an event batch (bad magic)");
    } else if (static_cast<uint8_t>(header[4]) != kEventBatchVersion) {
      in.Fail("unsupported event batch version");
    } else if (header[5] != 0) {
      in.Fail("unknown header flags");
    } else if (count == 0 || count > limits_.max_events) {
      in.Fail("event count out of range");
    }
  }
  uint64_t previous_id = 0;
  int64_t previous_receive_ns = 0;
  EventReader reader(in, limits_, names_, out);
  for (uint32_t i = 0; in.ok() && i < count; ++i) {
    reader.Read(out.AddEvent(), previous_id, previous_receive_ns);
  }
  if (in.ok() && !in.at_end()) in.Fail("bytes after the last event");
  if (in.ok()) return true;
  while (out.size() > size_before) out.PopEvent();
  if (error != nullptr) *error = in.error();
  return false;
}

}  // namespace gsoc
