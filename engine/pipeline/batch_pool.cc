#include "engine/pipeline/pipeline.h"

namespace gsoc {

size_t BatchMemory(const EventBatch& batch) { return batch.memory(); }

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
  batch->Clear();
  const size_t bytes = BatchMemory(*batch);  // what it keeps: about what it last used
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
