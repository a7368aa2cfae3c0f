// What each connection sends: its MessageBuffer and its SendPlan.
//
// Templates: every connection renders its own pool (seed + connection index)
// and patches its timestamps. Files: one shared read-only buffer of all
// lines, or one copy per connection with --wrap (timestamps to patch).
// The total count is split evenly; with files, connection k starts where
// connection k-1 stops, so "send the files once" sends every line once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/loadgen/message_buffer.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/send_loop.h"

namespace gsoc::loadgen {

constexpr uint64_t kDefaultTemplateCount = 100'000;
constexpr uint64_t kDefaultHandshakes = 1'000;  // --handshakes without --count/--duration

struct Workload {
  std::vector<std::shared_ptr<MessageBuffer>> buffers;  // one per connection
  bool owned_buffers = false;                           // each thread may patch its own
  uint64_t default_count = kDefaultTemplateCount;       // without --count/--duration
};

// Renders templates or loads files for `connections` connections.
bool BuildWorkload(const Options& options, uint32_t connections, Workload& workload,
                   std::string& error);

// Total messages (connections with --handshakes) to send: --count, else
// unlimited with --duration, else the default.
uint64_t TotalCount(const Options& options, const Workload& workload);

// Plans for `connections` connections sharing `total` messages and the rate.
std::vector<SendPlan> SplitPlans(const Options& options, uint64_t total, uint32_t connections,
                                 size_t buffer_size, Clock::time_point start);

}  // namespace gsoc::loadgen
