#include "engine/cluster/alert_batch_codec.h"

#include <cstring>

namespace gsoc {
namespace {

constexpr size_t kHeaderBytes = 10;  // magic, version, flags, u32 count
// The smallest alert: identity 16, revision 8, value 8, a one-byte rule id
// (2) and one byte for each of the other 16 members.
constexpr size_t kMinAlertBytes = 50;
constexpr uint8_t kMaxKind = static_cast<uint8_t>(AlertKind::kCorrelation);
constexpr uint8_t kMaxLevel = static_cast<uint8_t>(rules::Level::kCritical);

using wire::PutText;
using wire::PutVarint;
using wire::PutZigzag;
void PutFixed64(std::string& out, uint64_t value) { wire::PutFixed(out, value, 8); }
void PutPairs(std::string& out, const std::vector<std::pair<std::string, std::string>>& pairs) {
  PutVarint(out, pairs.size());
  for (const auto& [name, value] : pairs) {
    PutText(out, name);
    PutText(out, value);
  }
}

void AppendAlert(std::string& out, const ClusterAlert& item) {
  const Alert& alert = item.alert;
  PutFixed64(out, item.identity.high);
  PutFixed64(out, item.identity.low);
  PutZigzag(out, alert.time_ns);
  out += static_cast<char>(alert.kind);
  out += static_cast<char>(alert.rule.level);
  PutText(out, alert.rule.id);
  PutText(out, alert.rule.name);
  PutText(out, alert.rule.title);
  PutVarint(out, alert.rule.tags.size());
  for (const std::string& tag : alert.rule.tags) PutText(out, tag);
  PutFixed64(out, alert.rule.revision);
  PutText(out, alert.agency);
  PutPairs(out, alert.group);
  PutZigzag(out, alert.window_start_ns);
  PutZigzag(out, alert.window_end_ns);
  PutVarint(out, alert.count);
  PutText(out, alert.correlation_type);
  uint64_t value_bits = 0;
  std::memcpy(&value_bits, &alert.value, sizeof value_bits);
  PutFixed64(out, value_bits);
  PutText(out, alert.condition);
  PutVarint(out, alert.suppressed);
  PutPairs(out, alert.fields);
  PutVarint(out, alert.events.size());
  for (const AlertEvent& event : alert.events) {
    PutVarint(out, event.id);
    PutZigzag(out, event.time_ns);
    PutText(out, event.raw);
  }
}

void ReadPairs(wire::WireReader& in, std::vector<std::pair<std::string, std::string>>& out,
               size_t limit) {
  out.resize(in.Count(limit, 2, "too many pairs"));
  for (auto& [name, value] : out) {
    in.Text(name);
    in.Text(value);
  }
}

bool ReadAlert(wire::WireReader& in, ClusterAlert& item, const AlertBatchLimits& limits) {
  Alert& alert = item.alert;
  item.identity.high = in.Fixed(8);
  item.identity.low = in.Fixed(8);
  alert.time_ns = in.Zigzag();
  const uint8_t kind = in.U8();
  if (in.ok() && kind > kMaxKind) return in.Fail("unknown alert kind");
  alert.kind = static_cast<AlertKind>(kind);
  const uint8_t level = in.U8();
  if (in.ok() && level > kMaxLevel) return in.Fail("unknown level");
  alert.rule.level = static_cast<rules::Level>(level);
  in.Text(alert.rule.id);
  in.Text(alert.rule.name);
  in.Text(alert.rule.title);
  alert.rule.tags.resize(in.Count(limits.max_tags, 1, "too many tags"));
  for (std::string& tag : alert.rule.tags) in.Text(tag);
  alert.rule.revision = in.Fixed(8);
  in.Text(alert.agency);
  ReadPairs(in, alert.group, limits.max_pairs);
  alert.window_start_ns = in.Zigzag();
  alert.window_end_ns = in.Zigzag();
  alert.count = in.Varint();
  in.Text(alert.correlation_type);
  const uint64_t value_bits = in.Fixed(8);
  std::memcpy(&alert.value, &value_bits, sizeof value_bits);
  in.Text(alert.condition);
  alert.suppressed = in.Varint();
  ReadPairs(in, alert.fields, limits.max_pairs);
  alert.events.resize(in.Count(limits.max_events, 3, "too many events"));
  for (AlertEvent& event : alert.events) {
    event.id = in.Varint();
    event.time_ns = in.Zigzag();
    in.Text(event.raw);
  }
  if (in.ok() && alert.rule.id.empty()) return in.Fail("alert without a rule id");
  return in.ok();
}

}  // namespace

size_t EncodeAlertBatch(std::span<const ClusterAlert> alerts, size_t first, size_t max_bytes,
                        std::string& out) {
  out.clear();
  out.append(kHeaderBytes, '\0');
  size_t n = 0;
  for (size_t i = first; i < alerts.size() && n < kMaxAlertsPerMessage; ++i) {
    const size_t before = out.size();
    AppendAlert(out, alerts[i]);
    if (out.size() > max_bytes) {
      out.resize(before);
      break;
    }
    ++n;
  }
  if (n == 0) {
    out.clear();
    return 0;
  }
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((kAlertBatchMagic >> (8 * i)) & 0xff);
  out[4] = static_cast<char>(kAlertBatchVersion);
  out[5] = 0;
  for (int i = 0; i < 4; ++i) out[6 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return n;
}

bool DecodeAlertBatch(std::string_view message, std::vector<ClusterAlert>& out, CodecError* error,
                      const AlertBatchLimits& limits) {
  const wire::BatchFormat format{kAlertBatchMagic,
                                 kAlertBatchVersion,
                                 kMaxAlertsPerMessage,
                                 kMinAlertBytes,
                                 "not an alert batch (magic)",
                                 "unknown alert batch version",
                                 "empty alert batch",
                                 "too many alerts in one message"};
  return wire::DecodeBatch(
      message, format, out, error,
      [&](wire::WireReader& in, ClusterAlert& item) { return ReadAlert(in, item, limits); });
}

}  // namespace gsoc
