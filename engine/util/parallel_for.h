// Runs job(i) for every i in [0, count) on up to `threads` threads (the
// calling thread is one of them), each taking the next index as it finishes
// one. For load-time work (parsing rule files, compiling databases), never
// for the hot path: it starts and joins its threads on every call.
// `job` must be safe to run concurrently for different indexes; it must not
// throw (an exception would end the process).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace gsoc {

// One thread per core, at most `limit`; `requested` wins when it is set.
inline size_t ThreadsPerCore(size_t requested, size_t limit) {
  if (requested != 0) return requested;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, limit);
}

template <typename Job>
void ParallelFor(size_t count, size_t threads, const Job& job) {
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(count, 1));
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) job(i);
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(run);
  run();
  for (std::thread& helper : helpers) helper.join();
}

}  // namespace gsoc
