#include "engine/pipeline/pipeline.h"

namespace gsoc {

PushResult BatchQueue::TryPush(BatchPtr& batch) {
  const size_t n = batch->size();
  const size_t bytes = BatchMemory(*batch);
  {
    std::lock_guard lock(mutex_);
    if (closed_) return PushResult::kClosed;
    // An empty queue takes any batch, so one larger than the bound still flows.
    if (!batches_.empty() && (events_ + n > max_events_ || bytes_ + bytes > max_bytes_)) {
      ++full_count_;
      return PushResult::kFull;
    }
    events_ += n;
    bytes_ += bytes;
    for (Event& event : batch->events()) event.id = next_event_id_++;
    batches_.push_back(std::move(batch));
  }
  not_empty_.notify_one();
  return PushResult::kPushed;
}

bool BatchQueue::HasRoomLocked(size_t events) const {
  // Hysteresis: resume blocked collectors once half the room is back, and
  // only when their batch fits, so a resumed push does not fail again.
  return closed_ || batches_.empty() ||
         (events_ <= max_events_ / 2 && events_ + events <= max_events_ &&
          bytes_ <= max_bytes_ / 2);
}

void BatchQueue::WaitForSpace(size_t events, std::function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    if (!HasRoomLocked(events)) {
      waiters_.push_back({events, std::move(resume)});
      return;
    }
  }
  resume();  // room appeared between TryPush and now
}

void BatchQueue::TakeWaitersLocked(bool all, std::vector<std::function<void()>>& out) {
  auto keep = waiters_.begin();
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (all || HasRoomLocked(it->events)) {
      out.push_back(std::move(it->resume));
    } else {
      *keep++ = std::move(*it);
    }
  }
  waiters_.erase(keep, waiters_.end());
}

BatchPtr BatchQueue::Pop() { return Take(/*wait=*/true); }

BatchPtr BatchQueue::TryPop() { return Take(/*wait=*/false); }

BatchPtr BatchQueue::Take(bool wait) {
  std::vector<std::function<void()>> wake;
  BatchPtr batch;
  {
    std::unique_lock lock(mutex_);
    if (wait) not_empty_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (batches_.empty()) return nullptr;
    batch = std::move(batches_.front());
    batches_.pop_front();
    events_ -= batch->size();
    bytes_ -= BatchMemory(*batch);
    if (!waiters_.empty()) TakeWaitersLocked(false, wake);
  }
  for (auto& resume : wake) resume();
  return batch;
}

void BatchQueue::Close() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    TakeWaitersLocked(true, wake);
  }
  not_empty_.notify_all();
  for (auto& resume : wake) resume();
}

uint64_t BatchQueue::full_count() const {
  std::lock_guard lock(mutex_);
  return full_count_;
}

size_t BatchQueue::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

size_t BatchQueue::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

}  // namespace gsoc
