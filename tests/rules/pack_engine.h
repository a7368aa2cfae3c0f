// The shipped rule pack as the tests of tests/rules/ build it, and a small
// in-process stream runner: lines -> syslog parser -> DetectionStage with a
// Correlator -> captured alerts, ending the stream like `gsocctl replay`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/detect/detection_stage.h"

namespace gsoc::testing {

const std::filesystem::path& PackDir();
RuleSources PackSources();

struct TimedLine {
  int64_t time_ns = 0;  // receive time (RFC 3164 years are resolved against it)
  std::string line;
};

// Runs `lines` (in this order, in batches of `batch_events`) through `engine`
// and a fresh Correlator; returns every alert, detection and correlation.
std::vector<Alert> RunStream(std::shared_ptr<const RuleEngine> engine,
                             const std::vector<TimedLine>& lines, size_t batch_events = 64);

}  // namespace gsoc::testing
