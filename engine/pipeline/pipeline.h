// The pipeline: collectors -> bounded queue -> worker threads -> stages.
//
// Ownership: a batch is owned by exactly one party at a time: the collector
// that fills it (from BatchPool::Acquire), the queue, then one worker, which
// runs every stage on it and returns it to the pool. A worker holds at most
// two batches: the one it processes and, while a stage of that one waits for
// batches other workers hold (Stage::WouldWait: the correlator applies
// batches in input order), the next one from the queue, which it prepares
// meanwhile (Stage::Prepare) instead of sitting idle.
//
// Threading: BatchInput::TryPush / WaitForSpace may be called from any
// collector thread. Stages run on `workers` threads; Stage::Process is called
// concurrently for different batches, never twice at once for one batch.
//
// When the next stage is full: the queue is bounded in events and in bytes
// (the batches' message bytes, pipeline.queue_bytes). TryPush
// returns kFull instead of blocking; a TCP collector then stops reading and
// calls WaitForSpace (its sender's TCP window closes, nothing is lost), a UDP
// collector drops the batch and counts it. Shutdown: Stop() closes the queue,
// workers drain everything already accepted, then stages are flushed.
//
// A message bus source (NATS/Kafka) would be another BatchInput producer; a
// bus sink would be another Stage.
#pragma once

#include <atomic>
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
#include "engine/metrics/metrics_server.h"

namespace gsoc {

using BatchPtr = std::unique_ptr<EventBatch>;

// The memory a batch holds, as the queue and the pool count it: every arena
// block it holds, used or not, and its event and field tables
// (EventBatch::memory). A batch of a few small datagrams counts a few KiB
// (the arena starts with a 4 KiB block); a 64 KiB line counts its 64 KiB.
// Counting used bytes alone would let thousands of one-message batches hold
// big blocks unaccounted; counting a whole 256 KiB block for each (as
// before) filled the 128 MiB bound with ~10k small UDP events.
size_t BatchMemory(const EventBatch& batch);

// Reuses batches so a warm pipeline allocates nothing per batch. Bounded in
// count and in the bytes the kept batches hold (a batch that carried large
// messages keeps its arena blocks): a batch over the byte budget is freed
// instead of kept, so a burst of big messages does not pin memory forever.
class BatchPool {
 public:
  explicit BatchPool(size_t max_free = 1024, size_t max_bytes = 64ull << 20)
      : max_free_(max_free), max_bytes_(max_bytes) {}
  BatchPtr Acquire();
  void Release(BatchPtr batch);
  size_t kept_bytes() const;  // estimated bytes held by the free batches

 private:
  struct Kept {
    BatchPtr batch;
    size_t bytes;  // BatchMemory once cleared: the blocks and tables it keeps
  };
  mutable std::mutex mutex_;
  std::vector<Kept> free_;
  size_t kept_bytes_ = 0;
  size_t max_free_;
  size_t max_bytes_;
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
  // max_bytes bounds the sum of the queued batches' BatchMemory() as
  // max_events bounds their events (an empty queue takes any one batch).
  BatchQueue(size_t max_events, BatchPool& pool, uint64_t first_event_id = 1,
             size_t max_bytes = SIZE_MAX)
      : max_events_(max_events),
        max_bytes_(max_bytes),
        pool_(pool),
        first_event_id_(first_event_id),
        next_event_id_(first_event_id) {}

  PushResult TryPush(BatchPtr& batch) override;
  void WaitForSpace(size_t events, std::function<void()> resume) override;
  BatchPool& pool() override { return pool_; }

  // Blocks until a batch is available; null once closed and drained.
  BatchPtr Pop();
  // The next batch if one is queued, else null at once.
  BatchPtr TryPop();
  void Close();

  size_t events() const;
  size_t bytes() const;
  size_t capacity() const { return max_events_; }
  size_t capacity_bytes() const { return max_bytes_; }
  // The id of the first event ever pushed (ids then follow in push order).
  uint64_t first_event_id() const { return first_event_id_; }
  // Pushes refused because the queue was full (the queue_events limit hit).
  uint64_t full_count() const;

 private:
  struct Waiter {
    size_t events;
    std::function<void()> resume;
  };
  BatchPtr Take(bool wait);
  bool HasRoomLocked(size_t events) const;
  void TakeWaitersLocked(bool all, std::vector<std::function<void()>>& out);

  const size_t max_events_;
  const size_t max_bytes_;
  BatchPool& pool_;
  const uint64_t first_event_id_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::deque<BatchPtr> batches_;
  size_t events_ = 0;
  size_t bytes_ = 0;
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
  // Worker threads, before Process of this and every stage for `batch`,
  // once or more (a repeat must do nothing): the part of the stage's work
  // that may run ahead, while an earlier batch waits its turn on the same
  // thread. It may rely on earlier stages' Prepare, not on their Process.
  virtual void Prepare(EventBatch& /*batch*/) {}
  // Worker threads, between Prepare and Process: true when Process would now
  // wait for batches that other workers hold.
  virtual bool WouldWait(const EventBatch& /*batch*/) const { return false; }
  // Once, after the last batch, on the thread calling Pipeline::Stop.
  virtual void Flush() {}
};

class Pipeline {
 public:
  // The batches a worker holds at most: the one it processes and the one it
  // prepares while that one waits its turn (3 measured no faster: B/A 0.98
  // in bench/e2e_ingest.sh -R, 5 runs of 5 M messages). So besides what the
  // queue bounds, up to 2 x workers batches are in the workers' hands.
  static constexpr size_t kBatchesPerWorker = 2;

  Pipeline(const PipelineConfig& config, IngestMetrics& metrics);
  ~Pipeline();

  void AddStage(std::unique_ptr<Stage> stage);  // before Start
  void Start();
  // Closes the input, processes everything queued, joins workers, flushes.
  void Stop();

  BatchInput& input() { return queue_; }
  const BatchQueue& queue() const { return queue_; }
  // The queue's metrics (gsoc_queue_*), read at scrape time.
  std::vector<GaugeSource> Gauges() const;
  size_t workers() const { return worker_count_; }

 private:
  void WorkerLoop();

  size_t worker_count_;
  IngestMetrics& metrics_;
  BatchPool pool_;
  BatchQueue queue_;
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> prepared_ahead_{0};  // gsoc_pipeline_batches_prepared_ahead_total
  bool stopped_ = false;
};

}  // namespace gsoc
