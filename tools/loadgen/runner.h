// Runs a load: builds the workload, connects, runs one sender thread per
// connection from a common start time, and sums up what was sent.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/loadgen/options.h"

namespace gsoc::loadgen {

struct RunResult {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t reconnects = 0;      // --reconnect-every / --handshakes: connections after the first
  double reconnect_s = 0;       // summed over the senders: time spent reconnecting
  double elapsed_s = 0;         // common start to the last sender's end
  double send_cpu_s = 0;        // the process's CPU (user + system) while sending
  uint32_t connections = 0;     // connected
  uint32_t connect_errors = 0;  // connections that failed
  uint32_t send_errors = 0;     // connections that failed while sending
  std::vector<std::string> errors;

  bool ok() const { return errors.empty() && connections > 0; }
};

// Never throws. `stop` ends the run early (e.g. on SIGINT).
RunResult RunLoad(const Options& options, const std::atomic<bool>& stop);

}  // namespace gsoc::loadgen
