// Alert ids: increase monotonically and are never reused, across restarts
// too. Ids are reserved in blocks: the ceiling of the reserved block is
// written (write, fsync, rename) to `file` before any id below it is handed
// out, and a restart starts at the stored ceiling. A crash loses at most the
// unused rest of one block (a gap, never a reuse).
// Thread-safe (a mutex per Allocate call, i.e. per batch of alerts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>

namespace gsoc {

class AlertIdAllocator {
 public:
  static constexpr uint64_t kBlock = 4096;

  // Throws std::runtime_error if the file exists but is unreadable/corrupt
  // or cannot be written.
  explicit AlertIdAllocator(std::filesystem::path file);

  // Returns the first of `n` consecutive new ids (ids start at 1).
  uint64_t Allocate(uint64_t n);
  uint64_t next() const;

 private:
  void Reserve(uint64_t ceiling);

  std::filesystem::path file_;
  mutable std::mutex mutex_;
  uint64_t next_ = 1;
  uint64_t ceiling_ = 1;  // ids below this are reserved on disk
};

}  // namespace gsoc
