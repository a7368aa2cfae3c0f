// The pipeline: collectors -> bounded queue -> worker threads -> stages.
//
// Ownership: a batch is owned by exactly one party at a time: the collector
// that fills it (from BatchPool::Acquire), the queue, then one worker, which
// runs every stage on it and returns it to the pool.
//
// Threading: BatchInput::TryPush / WaitForSpace may be called from any
// collector thread. Stages run on `workers` threads; Stage::Process is called
// concurrently for different batches, never twice at once for one batch.
//
// When the next stage is full: the queue is bounded in events. TryPush
// returns kFull instead of blocking; a TCP collector then stops reading and
// calls WaitForSpace (its sender's TCP window closes, nothing is lost), a UDP
// collector drops the batch and counts it. Shutdown: Stop() closes the queue,
// workers drain everything already accepted, then stages are flushed.
//
// A message bus source (NATS/Kafka) would be another BatchInput producer; a
// bus sink would be another Stage.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/config/config.h"
#include "engine/event/event_batch.h"
#include "engine/metrics/counters.h"

namespace gsoc {

using BatchPtr = std::unique_ptr<EventBatch>;

// Reuses batches so a warm pipeline allocates nothing per batch.
class BatchPool {
 public:
  explicit BatchPool(size_t max_free = 1024) : max_free_(max_free) {}
  BatchPtr Acquire();
  void Release(BatchPtr batch);

 private:
  std::mutex mutex_;
  std::vector<BatchPtr> free_;
  size_t max_free_;
};

enum class PushResult { kPushed, kFull, kClosed };

// What collectors hand batches to.
class BatchInput {
 public:
  virtual ~BatchInput() = default;
  // Takes the batch (batch becomes null) unless the result is kFull/kClosed.
  virtual PushResult TryPush(BatchPtr& batch) = 0;
  // After kFull for a batch of `events`: `resume` is called once, from some
  // other thread, when the queue is at most half full and has room for that
  // many events, or is empty, or closed. It must only post work, not run it.
  virtual void WaitForSpace(size_t events, std::function<void()> resume) = 0;
  virtual BatchPool& pool() = 0;
};

class BatchQueue : public BatchInput {
 public:
  // Event ids start at first_event_id (gsocd seeds it with the wall clock in
  // microseconds, so ids keep increasing across restarts at < 1M events/s).
  BatchQueue(size_t max_events, BatchPool& pool, uint64_t first_event_id = 1)
      : max_events_(max_events),
        pool_(pool),
        first_event_id_(first_event_id),
        next_event_id_(first_event_id) {}

  PushResult TryPush(BatchPtr& batch) override;
  void WaitForSpace(size_t events, std::function<void()> resume) override;
  BatchPool& pool() override { return pool_; }

  // Blocks until a batch is available; null once closed and drained.
  BatchPtr Pop();
  void Close();

  size_t events() const;
  size_t capacity() const { return max_events_; }
  // The id of the first event ever pushed (ids then follow in push order).
  uint64_t first_event_id() const { return first_event_id_; }
  // Pushes refused because the queue was full (the queue_events limit hit).
  uint64_t full_count() const;

 private:
  struct Waiter {
    size_t events;
    std::function<void()> resume;
  };
  bool HasRoomLocked(size_t events) const;
  void TakeWaitersLocked(bool all, std::vector<std::function<void()>>& out);

  const size_t max_events_;
  BatchPool& pool_;
  const uint64_t first_event_id_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<BatchPtr> batches_;
  size_t events_ = 0;
  uint64_t next_event_id_;
  uint64_t full_count_ = 0;
  bool closed_ = false;
  std::vector<Waiter> waiters_;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Worker threads; concurrently for different batches. Must not throw.
  virtual void Process(EventBatch& batch) = 0;
  // Once, after the last batch, on the thread calling Pipeline::Stop.
  virtual void Flush() {}
};

class Pipeline {
 public:
  Pipeline(const PipelineConfig& config, IngestMetrics& metrics);
  ~Pipeline();

  void AddStage(std::unique_ptr<Stage> stage);  // before Start
  void Start();
  // Closes the input, processes everything queued, joins workers, flushes.
  void Stop();

  BatchInput& input() { return queue_; }
  const BatchQueue& queue() const { return queue_; }
  size_t workers() const { return worker_count_; }

 private:
  void WorkerLoop();

  size_t worker_count_;
  IngestMetrics& metrics_;
  BatchPool pool_;
  BatchQueue queue_;
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace gsoc
