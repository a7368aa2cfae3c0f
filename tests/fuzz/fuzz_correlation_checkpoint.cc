// Fuzzes restoring correlation state from a checkpoint blob (read back from
// disk after a crash, so possibly torn or corrupt): Restore accepts it or
// says why, never crashes, and a rejected blob leaves no state. Each input
// is restored as it is and once more with its checksum made valid: the
// checksum would otherwise stop nearly every mutation before the body's
// parser (the sources offset, key owners, windows, raw lines). Seeds: a
// version 3 and a version 2 checkpoint of a few keys and sources.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/correlate/correlator.h"
#include "engine/correlate/correlator_internal.h"

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

void RestoreOrExplain(std::string_view blob) {
  gsoc::correlate::CorrelatorOptions options;
  options.shards = 2;
  options.raw_cache_bytes = 1 << 16;
  gsoc::correlate::Correlator correlator(options, {"fuzz"});
  std::string error;
  if (!correlator.Restore(Set(), blob, &error)) {
    if (error.empty() || correlator.stats().live_keys != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view blob(reinterpret_cast<const char*>(data), size);
  RestoreOrExplain(blob);
  if (size < sizeof(uint64_t)) return 0;
  std::string sealed(blob);
  const size_t body = size - sizeof(uint64_t);
  const uint64_t checksum = gsoc::correlate::HashBytes(std::string_view(sealed).substr(0, body),
                                                       gsoc::correlate::kChecksumSeed);
  std::memcpy(sealed.data() + body, &checksum, sizeof(checksum));
  RestoreOrExplain(sealed);
  return 0;
}
