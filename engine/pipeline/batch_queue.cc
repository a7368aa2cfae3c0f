#include "engine/pipeline/pipeline.h"

namespace gsoc {

PushResult BatchQueue::TryPush(BatchPtr& batch) {
  const size_t n = batch->size();
  {
    std::lock_guard lock(mutex_);
    if (closed_) return PushResult::kClosed;
    // An empty queue takes any batch, so one larger than the bound still flows.
    if (!batches_.empty() && events_ + n > max_events_) return PushResult::kFull;
    events_ += n;
    batches_.push_back(std::move(batch));
  }
  not_empty_.notify_one();
  return PushResult::kPushed;
}

void BatchQueue::WaitForSpace(std::function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    // Room may have appeared between TryPush and now; then resume at once.
    if (!closed_ && events_ > max_events_ / 2 && !batches_.empty()) {
      waiters_.push_back(std::move(resume));
      return;
    }
  }
  resume();
}

void BatchQueue::WakeWaitersLocked(std::vector<std::function<void()>>& out) {
  out.swap(waiters_);
}

BatchPtr BatchQueue::Pop() {
  std::vector<std::function<void()>> wake;
  BatchPtr batch;
  {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (batches_.empty()) return nullptr;
    batch = std::move(batches_.front());
    batches_.pop_front();
    events_ -= batch->size();
    // Hysteresis: wake blocked collectors once half the room is back.
    if (!waiters_.empty() && (events_ <= max_events_ / 2 || batches_.empty())) {
      WakeWaitersLocked(wake);
    }
  }
  for (auto& resume : wake) resume();
  return batch;
}

void BatchQueue::Close() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    WakeWaitersLocked(wake);
  }
  not_empty_.notify_all();
  for (auto& resume : wake) resume();
}

size_t BatchQueue::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

}  // namespace gsoc
