// RuleReloader: builds a new RuleEngine in the background and swaps it into
// the DetectionStage; a set that fails (fatal errors, or refused rules with
// `strict`) leaves the old one running and says why, in the log and in
// gsoc_rule_reloads_total{result="failure"}.
//
// Threading: Reload() may be called from any thread (the signal handler's io
// thread, the API); requests that arrive while a build runs are coalesced
// into one more build after it. The destructor waits for a running build.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/detect/detection_stage.h"

namespace gsoc {

// Logs a build: each refused rule and fatal problem, then a summary line.
void LogRuleEngineBuild(const RuleEngineBuild& build, const char* what);

class RuleReloader {
 public:
  RuleReloader(RuleSources sources, bool strict, DetectionStage& stage);
  ~RuleReloader();

  // Builds synchronously (at start). False if it failed; nothing is swapped.
  bool LoadNow();
  // Asks for a background reload.
  void Reload();
  // Blocks until no build is running or pending (tests, shutdown).
  void WaitIdle();

  uint64_t reloads_succeeded() const { return succeeded_.load(); }
  uint64_t reloads_failed() const { return failed_.load(); }
  uint64_t rules_refused() const { return rules_refused_.load(); }
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  bool BuildAndSwap(const char* what);
  void Worker();

  const RuleSources sources_;
  const bool strict_;
  DetectionStage& stage_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool pending_ = false;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> rules_loaded_{0};
  std::atomic<uint64_t> rules_refused_{0};
  std::atomic<int64_t> last_success_unix_{0};
};

}  // namespace gsoc
