#include "engine/aggregate/aggregate_key.h"

#include "engine/util/hash.h"

namespace gsoc {
namespace {

constexpr uint64_t kKeySeed = 0x61676772656761ull;  // "aggrega"

}  // namespace

void AppendAggregateKey(std::string& out, std::string_view rule_id, std::string_view agency) {
  out.append(rule_id).push_back('\0');
  out.append(agency).push_back('\0');
}

void AppendAggregateKeyValue(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).push_back('=');
  out.append(value).push_back('\0');
}

std::string AggregateKeyOf(const Alert& alert) {
  std::string key;
  AppendAggregateKey(key, alert.rule.id, alert.agency);
  for (const auto& [name, value] : alert.group) AppendAggregateKeyValue(key, name, value);
  return key;
}

uint64_t AggregateKeyHash(std::string_view key_bytes) {
  const uint64_t hash = HashBytes(key_bytes, kKeySeed);
  return hash == 0 ? 1 : hash;
}

size_t AggregateAlertBytes(const Alert& alert) {
  size_t bytes = sizeof(Alert) + alert.rule.id.size() + alert.rule.name.size() +
                 alert.rule.title.size() + alert.agency.size();
  for (const auto& tag : alert.rule.tags) bytes += tag.size() + sizeof(std::string);
  for (const auto& [name, value] : alert.fields) bytes += name.size() + value.size() + 64;
  for (const auto& [name, value] : alert.group) bytes += name.size() + value.size() + 64;
  for (const AlertEvent& event : alert.events) bytes += sizeof(AlertEvent) + event.raw.size();
  return bytes;
}

}  // namespace gsoc
