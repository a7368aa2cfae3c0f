#include <algorithm>

#include "engine/pipeline/pipeline.h"

namespace gsoc {

size_t BatchMemory(const EventBatch& batch) {
  if (batch.empty() && batch.bytes() == 0) return 0;
  return std::max(batch.bytes(), ByteArena::kDefaultBlockSize) + batch.size() * sizeof(Event);
}

BatchPtr BatchPool::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      Kept kept = std::move(free_.back());
      free_.pop_back();
      kept_bytes_ -= kept.bytes;
      return std::move(kept.batch);
    }
  }
  return std::make_unique<EventBatch>();
}

void BatchPool::Release(BatchPtr batch) {
  if (!batch) return;
  // What the arena keeps after Clear: about what it last held (whole blocks).
  const size_t bytes = BatchMemory(*batch) + ByteArena::kDefaultBlockSize;
  batch->Clear();
  std::lock_guard lock(mutex_);
  if (free_.size() < max_free_ && kept_bytes_ + bytes <= max_bytes_) {
    free_.push_back({std::move(batch), bytes});
    kept_bytes_ += bytes;
  }  // else freed here, outside the budget
}

size_t BatchPool::kept_bytes() const {
  std::lock_guard lock(mutex_);
  return kept_bytes_;
}

}  // namespace gsoc
