// Signals gsocd acts on (SIGHUP, SIGTERM, SIGINT), handled from the first
// line of main: BlockDaemonSignals() blocks them in the main thread before
// any other thread exists, so every thread inherits the mask and none of
// them can be killed by the default action. A SignalWatcher thread takes
// them with sigtimedwait; what arrives before the daemon is ready is
// remembered (a reload is done once the rules are loaded, a stop ends the
// start as soon as it can) and logged.
//
// Threading: the watcher calls its callbacks on its own thread; they must
// only post work or set flags.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace gsoc {

// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread (call first in main).
void BlockDaemonSignals();

class SignalWatcher {
 public:
  struct Actions {
    std::function<void()> reload;          // SIGHUP once ready
    std::function<void(int signal)> stop;  // SIGTERM/SIGINT once ready
  };

  SignalWatcher();
  ~SignalWatcher();  // joins the thread; signals stay blocked
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // From now on signals act; what was remembered runs now (a stop wins over
  // a reload).
  void Ready(Actions actions);
  // A stop signal has arrived (before or after Ready).
  bool stop_requested() const { return stop_signal_.load() != 0; }
  uint64_t reloads_before_ready() const { return early_reloads_.load(); }

 private:
  void Loop();
  void OnSignal(int signal);

  std::mutex mutex_;
  Actions actions_;              // guarded by mutex_
  bool ready_ = false;           // guarded by mutex_
  bool reload_pending_ = false;  // guarded by mutex_
  std::atomic<int> stop_signal_{0};
  std::atomic<uint64_t> early_reloads_{0};
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

}  // namespace gsoc
