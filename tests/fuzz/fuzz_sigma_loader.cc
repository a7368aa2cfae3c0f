// Fuzzes the Sigma loader, and the correlation loader on what it sets aside,
// with arbitrary YAML text: neither may throw or crash, and every refusal
// must carry a reason and the file name.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/rules/correlation_rule.h"
#include "engine/rules/sigma_loader.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const gsoc::rules::LogSourceMap& Map() {
  static const gsoc::rules::LogSourceMap map = gsoc::rules::LogSourceMap::Parse(
      "logsources:\n  - logsource: {product: linux}\n  - logsource: {product: linux, service: "
      "'*'}\n",
      "fuzz_logsources.yaml");
  return map;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gsoc::rules::LoadOptions options;
  options.indicator_lists = {"bad_ips"};
  if (size % 2 == 0) options.logsources = &Map();
  const gsoc::rules::LoadResult result = gsoc::rules::LoadSigmaText(text, "fuzz.yml", options);
  Check(result.files == 1);
  for (const gsoc::rules::RuleError& error : result.refused) {
    Check(!error.message.empty());
    Check(error.location.file == "fuzz.yml");
    Check(error.location.line >= 0);
  }
  for (const gsoc::rules::Rule& rule : result.rules) {
    Check(!rule.id.empty() && !rule.title.empty() && !rule.selections.empty());
    Check(rule.location.line >= 1);
  }
  for (const gsoc::rules::CorrelationDocument& correlation : result.correlations)
    Check(correlation.node != nullptr);  // the parsed document: lines of the file
  const gsoc::correlate::CorrelationLoadResult correlations =
      gsoc::correlate::LoadCorrelations(result.correlations, result.rules);
  Check(correlations.set != nullptr);
  const gsoc::correlate::CorrelationSet& set = *correlations.set;
  Check(set.rules.size() + correlations.refused.size() == result.correlations.size());
  Check(set.detection_routes.size() == result.rules.size());
  Check(set.detection_silenced.size() == result.rules.size());
  Check(set.correlation_routes.size() == set.rules.size());
  for (const gsoc::rules::RuleError& error : correlations.refused) {
    Check(!error.message.empty());
    Check(error.location.line >= 0 && error.location.column >= 0);
  }
  for (const gsoc::correlate::CorrelationRule& rule : set.rules) {
    Check(rule.timespan_ns > 0 && !rule.refs.empty() && !rule.fingerprint.empty());
  }
  return 0;
}
