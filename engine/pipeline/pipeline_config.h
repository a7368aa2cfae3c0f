// The `pipeline:` section (queues and threads); read by pipeline_config.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace gsoc {

struct PipelineConfig {
  size_t queue_events = 256 * 1024;   // bound of the collector -> engine queue, in events
  size_t queue_bytes = 128ull << 20;  // the same queue's bound in message bytes
  size_t workers = 0;                 // engine threads; 0 = one per core
  size_t io_threads = 1;              // collector threads
  size_t batch_events = 1024;         // a collector hands on a batch at this size
};

}  // namespace gsoc
