// The `alerts:` section (level, aggregation, the JSON-lines file, the webhook);
// read by alerts_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/aggregate/aggregate_config.h"
#include "engine/output/webhook_config.h"

namespace gsoc {

struct AlertsConfig {
  std::string min_level = "informational";  // hits of rules below only feed correlations
  AggregateConfig aggregate;
  bool file_enabled = true;
  std::filesystem::path file;  // JSON lines; default <data_dir>/alerts.jsonl
  uint64_t max_file_bytes = 100ull << 20;
  int keep_files = 5;
  WebhookConfig webhook;
  std::vector<WebhookConfig> webhooks;  // routed outputs (each with a match)
};

}  // namespace gsoc
