// RuleReloader: builds a new RuleEngine in the background and swaps it into
// the DetectionStage. A build that fails (fatal errors, refused rules with
// `strict`, or longer than limits.build_timeout) leaves the old set running
// and says why, in the log and in gsoc_rule_reloads_total{result="failure"};
// one that is swapped in with some rules refused counts as
// result="partial", a clean one as "success".
//
// Threading: Reload() may be called from any thread (the signal handler's io
// thread, the API); requests that arrive while a build runs are coalesced
// into one more build after it. Each build runs on a thread of its own so
// that a build past its deadline (a hung file system, a huge compile) can
// be abandoned: it finishes alone and its result is dropped; while it runs,
// further builds fail at once instead of piling up. Neither the destructor
// nor a deadline ever waits for a stuck build.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "engine/detect/detection_stage.h"

namespace gsoc {

// Logs a build: each refused rule, warning and fatal problem, then a summary line.
void LogRuleEngineBuild(const RuleEngineBuild& build, const char* what);

class RuleReloader {
 public:
  using BuildFunction = std::function<RuleEngineBuild(const RuleSources&)>;

  // `strict` also sets sources.strict (user regexes PCRE2 must run are
  // refused). `build` is BuildRuleEngine but in tests.
  RuleReloader(RuleSources sources, bool strict, DetectionStage& stage,
               BuildFunction build = BuildRuleEngine);
  ~RuleReloader();

  // Called once each new rule set runs, on the thread that built it (the
  // caller of LoadNow, or the reload worker); gsocd keeps the set's rule
  // revisions in the store. Set before LoadNow.
  using SwapListener = std::function<void(const RuleEngine&)>;
  void SetSwapListener(SwapListener listener) { swap_listener_ = std::move(listener); }

  // Builds synchronously (at start), within the deadline. False if it
  // failed; nothing is swapped.
  bool LoadNow();
  // Asks for a background reload.
  void Reload();
  // Blocks until no build is running or pending (tests). A running build
  // is waited for up to limits.build_timeout.
  void WaitIdle();
  // Shutdown: abandons a running build (it finishes alone, its result
  // dropped), refuses further ones, and returns at once. Call it, not
  // WaitIdle, when stopping: it never waits on a stuck build.
  void Stop();

  uint64_t reloads_succeeded() const { return succeeded_.load(); }  // clean and partial
  uint64_t reloads_partial() const { return partial_.load(); }
  uint64_t reloads_failed() const { return failed_.load(); }  // timeouts included
  uint64_t reloads_timed_out() const { return timed_out_.load(); }
  uint64_t rules_refused() const { return rules_refused_.load(); }
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  struct Job;
  bool BuildAndSwap(const char* what);
  // The build, or nullopt (logged) when it timed out, the reloader is
  // stopping, or an abandoned build still runs.
  std::optional<RuleEngineBuild> BuildWithDeadline(const char* what);
  void Worker();
  bool Stopping();

  RuleSources sources_;
  const bool strict_;
  SwapListener swap_listener_;
  DetectionStage& stage_;
  const BuildFunction build_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool pending_ = false;
  bool running_ = false;
  bool stopping_ = false;
  std::shared_ptr<Job> job_;  // the latest build thread's state (guarded by mutex_)
  std::thread thread_;
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> partial_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> timed_out_{0};
  std::atomic<uint64_t> rules_loaded_{0};
  std::atomic<uint64_t> rules_refused_{0};
  std::atomic<uint64_t> rules_pcre_fallback_{0};
  std::atomic<uint64_t> rules_metadata_truncated_{0};
  // 1: the running set was built without its caches (kCacheDirWarning).
  std::atomic<uint64_t> rules_cache_disabled_{0};
  std::atomic<uint64_t> last_build_refused_{0};
  std::atomic<int64_t> last_success_unix_{0};
};

}  // namespace gsoc
