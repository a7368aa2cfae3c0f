// A RuleReloader metric's value as /metrics would show it (the reload tests).
#pragma once

#include <string>
#include <utility>

#include "engine/detect/rule_reloader.h"

namespace gsoc::testing {

// The sample of family `name` carrying `label` (any sample when the label
// is empty): a counter's or a gauge's value; -1 when there is none.
inline double ReloaderMetric(const RuleReloader& reloader, const std::string& name,
                             const std::pair<std::string, std::string>& label = {}) {
  for (const auto& family : reloader.MakeCollectable()->Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool match = label.first.empty();
      for (const auto& l : metric.label)
        match = match || (l.name == label.first && l.value == label.second);
      if (!match) continue;
      return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                            : metric.gauge.value;
    }
  }
  return -1;
}

}  // namespace gsoc::testing
