// Private to gsoc_api: what every connection of one ApiServer shares.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/api/api_server.h"

namespace gsoc::api {

// Requests per (route pattern, status code).
class RequestCounter {
 public:
  void Count(const std::string& route, int code) {
    std::lock_guard lock(mutex_);
    ++counts_[{route, code}];
  }
  std::vector<std::pair<std::pair<std::string, int>, uint64_t>> Snapshot() const {
    std::lock_guard lock(mutex_);
    return {counts_.begin(), counts_.end()};
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> counts_;
};

struct ApiContext {
  ApiContext(ApiOptions opts, const store::AlertReader& alert_reader, LiveHub& live_hub,
             ApiHooks api_hooks)
      : options(std::move(opts)),
        reader(alert_reader),
        hub(live_hub),
        hooks(std::move(api_hooks)) {}

  // A stream slot, or false when max_streams are open.
  bool AcquireStream() {
    size_t open = streams.load();
    do {
      if (open >= options.max_streams) return false;
    } while (!streams.compare_exchange_weak(open, open + 1));
    return true;
  }
  void ReleaseStream() { streams.fetch_sub(1); }

  // Whether a reply of up to max_response_bytes may be built now (the
  // replies being sent stay within response_budget_bytes).
  bool ResponseBudgetLeft() const {
    return response_bytes.load() + options.max_response_bytes <= options.response_budget_bytes;
  }

  const ApiOptions options;
  const store::AlertReader& reader;
  LiveHub& hub;
  const ApiHooks hooks;
  RequestCounter requests;
  std::atomic<size_t> streams{0};
  std::atomic<size_t> response_bytes{0};  // bodies built and not yet sent
  std::atomic<uint64_t> request_timeouts{0};
  std::atomic<uint64_t> stream_write_timeouts{0};
};

}  // namespace gsoc::api
