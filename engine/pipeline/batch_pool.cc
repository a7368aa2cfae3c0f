#include "engine/pipeline/pipeline.h"

namespace gsoc {

BatchPtr BatchPool::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      BatchPtr batch = std::move(free_.back());
      free_.pop_back();
      return batch;
    }
  }
  return std::make_unique<EventBatch>();
}

void BatchPool::Release(BatchPtr batch) {
  if (!batch) return;
  batch->Clear();
  std::lock_guard lock(mutex_);
  if (free_.size() < max_free_) free_.push_back(std::move(batch));
}

}  // namespace gsoc
