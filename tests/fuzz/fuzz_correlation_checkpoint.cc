// Fuzzes restoring correlation state from a checkpoint blob (read back from
// disk after a crash, so possibly torn or corrupt): Restore accepts it or
// says why, never crashes, and a rejected blob leaves no state.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/correlate/correlator.h"

namespace {

// Built member by member in a function of its own: GCC 12 reports a false
// -Wmaybe-uninitialized when this is written inline in a lambda.
gsoc::correlate::CorrelationRule MakeRule() {
  gsoc::correlate::CorrelationRule rule;
  rule.id = rule.title = std::string("c1");
  rule.type = gsoc::correlate::CorrelationType::kEventCount;
  rule.refs.resize(1);
  rule.group_by.emplace_back("src_ip");
  rule.group_fields.push_back({"src_ip"});
  rule.timespan_ns = 300'000'000'000;
  rule.suppress_ns = rule.timespan_ns;
  rule.condition.gte = 5;
  rule.fingerprint = "event_count|src_ip|300|gte 5";
  return rule;
}

const gsoc::correlate::CorrelationSet& Set() {
  static const gsoc::correlate::CorrelationSet set = [] {
    gsoc::correlate::CorrelationSet s;
    s.rules.push_back(MakeRule());
    s.detection_routes = {{{0, 0}}};
    s.correlation_routes.resize(1);
    s.detection_silenced = {false};
    s.correlation_silenced = {false};
    return s;
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gsoc::correlate::CorrelatorOptions options;
  options.shards = 2;
  options.raw_cache_bytes = 1 << 16;
  gsoc::correlate::Correlator correlator(options, {"fuzz"});
  std::string error;
  const std::string_view blob(reinterpret_cast<const char*>(data), size);
  if (!correlator.Restore(Set(), blob, &error)) {
    if (error.empty() || correlator.stats().live_keys != 0) std::abort();
  }
  return 0;
}
