#include "engine/alert/alert_codec.h"

#include <cstring>
#include <utility>
#include <vector>

namespace gsoc {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

void PutFixed64(std::string& out, uint64_t value) { wire::PutFixed(out, value, 8); }

void PutPairs(std::string& out, const Pairs& pairs) {
  wire::PutVarint(out, pairs.size());
  for (const auto& [name, value] : pairs) {
    wire::PutText(out, name);
    wire::PutText(out, value);
  }
}

void ReadPairs(wire::WireReader& in, Pairs& out, size_t limit) {
  out.resize(in.Count(limit, 2, "too many pairs"));
  for (auto& [name, value] : out) {
    in.Text(name);
    in.Text(value);
  }
}

}  // namespace

void AppendAlertDetail(std::string& out, const Alert& alert) {
  wire::PutText(out, alert.rule.title);
  wire::PutVarint(out, alert.rule.tags.size());
  for (const std::string& tag : alert.rule.tags) wire::PutText(out, tag);
  PutFixed64(out, alert.rule.revision);
  PutPairs(out, alert.group);
  wire::PutZigzag(out, alert.window_start_ns);
  wire::PutZigzag(out, alert.window_end_ns);
  wire::PutVarint(out, alert.count);
  wire::PutText(out, alert.correlation_type);
  uint64_t value_bits = 0;
  std::memcpy(&value_bits, &alert.value, sizeof value_bits);
  PutFixed64(out, value_bits);
  wire::PutText(out, alert.condition);
  wire::PutVarint(out, alert.suppressed);
  PutPairs(out, alert.fields);
  wire::PutVarint(out, alert.events.size());
  for (const AlertEvent& event : alert.events) {
    wire::PutVarint(out, event.id);
    wire::PutZigzag(out, event.time_ns);
    wire::PutText(out, event.raw);
  }
  PutFixed64(out, alert.aggregate_key);
  wire::PutVarint(out, alert.aggregate_version);
  wire::PutZigzag(out, alert.aggregate_opened_ns);
  wire::PutZigzag(out, alert.aggregate_closes_ns);
  wire::PutVarint(out, alert.replaces);
}

bool ReadAlertDetail(wire::WireReader& in, Alert& alert, const AlertDetailLimits& limits) {
  in.Text(alert.rule.title);
  alert.rule.tags.resize(in.Count(limits.max_tags, 1, "too many tags"));
  for (std::string& tag : alert.rule.tags) in.Text(tag);
  alert.rule.revision = in.Fixed(8);
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
  alert.aggregate_key = in.Fixed(8);
  const uint64_t version = in.Varint();
  if (in.ok() && version > UINT32_MAX) return in.Fail("aggregate version beyond 32 bits");
  alert.aggregate_version = static_cast<uint32_t>(version);
  alert.aggregate_opened_ns = in.Zigzag();
  alert.aggregate_closes_ns = in.Zigzag();
  alert.replaces = in.Varint();
  return in.ok();
}

}  // namespace gsoc
