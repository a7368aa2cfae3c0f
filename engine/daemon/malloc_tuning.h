// glibc malloc settings for gsocd (engine/daemon/README.md "Memory"):
// few arenas, and free memory handed back to the kernel now and then.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/util/thread_annotations.h"

namespace gsoc {

inline constexpr int kMallocArenas = 2;

// Limits glibc to kMallocArenas malloc arenas, unless MALLOC_ARENA_MAX is
// set in the environment (glibc reads that itself). Call before any thread
// starts. Batches are filled by collector threads and freed by workers: with
// glibc's default of 8 arenas per core each arena keeps its own freed
// memory, and gsocd's RSS grew to ~15 x 64 MiB of mostly free heap.
void LimitMallocArenas();

// Calls malloc_trim(0) every `interval` on its own thread, so the pages of
// freed memory inside the heaps (after a burst of large messages, a big
// query, a reload) go back to the kernel instead of staying resident.
class MallocTrimmer {
 public:
  explicit MallocTrimmer(std::chrono::milliseconds interval);
  ~MallocTrimmer();  // stops the thread
  MallocTrimmer(const MallocTrimmer&) = delete;
  MallocTrimmer& operator=(const MallocTrimmer&) = delete;

 private:
  void Loop();

  std::chrono::milliseconds interval_;
  Mutex mutex_;
  std::condition_variable_any wake_;
  bool stopping_ GSOC_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace gsoc
