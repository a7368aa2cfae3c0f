#include "engine/daemon/signals.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <ctime>

namespace gsoc {

namespace {

sigset_t DaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockDaemonSignals() {
  const sigset_t set = DaemonSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher() {
  BlockDaemonSignals();  // in case main did not (tests): the thread inherits it
  thread_ = std::thread([this] { Loop(); });
}

SignalWatcher::~SignalWatcher() {
  quit_.store(true);
  thread_.join();
}

void SignalWatcher::Loop() {
  const sigset_t set = DaemonSignals();
  const timespec tick{0, 100'000'000};  // checks quit_ ten times a second
  while (!quit_.load()) {
    siginfo_t info{};
    const int signal = ::sigtimedwait(&set, &info, &tick);
    if (signal > 0) OnSignal(signal);
  }
}

void SignalWatcher::OnSignal(int signal) {
  std::function<void()> reload;
  std::function<void(int)> stop;
  {
    std::lock_guard lock(mutex_);
    if (signal == SIGHUP) {
      if (!ready_) {
        early_reloads_.fetch_add(1);
        reload_pending_ = true;
        spdlog::info("SIGHUP before gsocd is ready: the reload is done once the rules are loaded");
        return;
      }
      reload = actions_.reload;
    } else {
      const int previous = stop_signal_.exchange(signal);
      if (previous != 0) {
        spdlog::warn("signal {} again: already stopping, handing on everything accepted", signal);
        return;
      }
      if (!ready_) {
        spdlog::info("signal {} while starting: gsocd stops once started", signal);
        return;
      }
      stop = actions_.stop;
    }
  }
  if (reload) reload();
  if (stop) stop(signal);
}

void SignalWatcher::Ready(Actions actions) {
  std::function<void()> reload;
  std::function<void(int)> stop;
  int stop_signal = 0;
  {
    std::lock_guard lock(mutex_);
    actions_ = std::move(actions);
    ready_ = true;
    stop_signal = stop_signal_.load();
    if (stop_signal != 0) {
      stop = actions_.stop;
    } else if (reload_pending_) {
      reload = actions_.reload;
    }
    reload_pending_ = false;
  }
  if (stop) {
    stop(stop_signal);
  } else if (reload) {
    spdlog::info("SIGHUP received while starting: reloading now");
    reload();
  }
}

}  // namespace gsoc
