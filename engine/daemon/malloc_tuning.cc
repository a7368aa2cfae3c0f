#include "engine/daemon/malloc_tuning.h"

#include <malloc.h>
#include <pthread.h>

#include <cstdlib>

namespace gsoc {

void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;  // the operator's choice
  ::mallopt(M_ARENA_MAX, kMallocArenas);
}

MallocTrimmer::MallocTrimmer(std::chrono::milliseconds interval)
    : interval_(interval), thread_([this] { Loop(); }) {}

MallocTrimmer::~MallocTrimmer() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void MallocTrimmer::Loop() {
  ::pthread_setname_np(::pthread_self(), "gsoc-trim");
  MutexLock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this]() GSOC_REQUIRES(mutex_) { return stopping_; })) {
    lock.unlock();
    ::malloc_trim(0);
    lock.lock();
  }
}

}  // namespace gsoc
