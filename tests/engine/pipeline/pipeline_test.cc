#include "engine/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace gsoc {
namespace {

struct StageLog {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<int> flushes{0};
  std::atomic<uint64_t> events_at_flush{0};
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent{0};
  std::mutex mutex;
  // seen[producer][sequence] counts deliveries of each event.
  std::vector<std::vector<uint8_t>> seen;
};

// Counts events and checks each one by its (producer, sequence) identity.
class CountingStage : public Stage {
 public:
  explicit CountingStage(StageLog& log, std::chrono::microseconds delay = {})
      : log_(log), delay_(delay) {}

  void Process(EventBatch& batch) override {
    const int now = ++log_.concurrent;
    int max = log_.max_concurrent.load();
    while (now > max && !log_.max_concurrent.compare_exchange_weak(max, now)) {
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    {
      std::lock_guard lock(log_.mutex);
      for (const Event& event : batch.events()) {
        if (log_.seen.empty()) continue;
        const auto producer = event.listener;
        const auto sequence = static_cast<size_t>(event.receive_time_ns);
        ++log_.seen.at(producer).at(sequence);
      }
    }
    log_.events += batch.size();
    ++log_.batches;
    --log_.concurrent;
  }

  void Flush() override {
    log_.events_at_flush = log_.events.load();
    ++log_.flushes;
  }

 private:
  StageLog& log_;
  std::chrono::microseconds delay_;
};

// Pushes `batch`, retrying on kFull with WaitForSpace as a TCP collector does.
// Returns the number of times the queue was full.
int PushWithRetry(BatchInput& input, BatchPtr batch) {
  int fulls = 0;
  for (;;) {
    const PushResult result = input.TryPush(batch);
    if (result == PushResult::kPushed) return fulls;
    if (result == PushResult::kClosed) {
      ADD_FAILURE() << "input closed while producing";
      return fulls;
    }
    ++fulls;
    // The callback only posts: it sets a flag the producer waits on.
    auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
    auto ready = std::make_shared<bool>(false);
    input.WaitForSpace(batch->size(), [state, ready] {
      std::lock_guard lock(state->first);
      *ready = true;
      state->second.notify_one();
    });
    std::unique_lock lock(state->first);
    if (!state->second.wait_for(lock, std::chrono::seconds(20), [&] { return *ready; })) {
      ADD_FAILURE() << "WaitForSpace never resumed";
      return fulls;
    }
  }
}

PipelineConfig SmallConfig(size_t workers, size_t queue_events) {
  PipelineConfig config;
  config.workers = workers;
  config.queue_events = queue_events;
  config.batch_events = 64;
  return config;
}

TEST(PipelineTest, WorkerCount) {
  IngestMetrics metrics({"l"}, {"unknown"});
  Pipeline two(SmallConfig(2, 1024), metrics);
  EXPECT_EQ(two.workers(), 2u);
  Pipeline automatic(SmallConfig(0, 1024), metrics);
  EXPECT_EQ(automatic.workers(), std::max<size_t>(1, std::thread::hardware_concurrency()));
}

TEST(PipelineTest, ThreeProducersTwoWorkersNoLossExactTotals) {
  constexpr int kProducers = 3;
  constexpr int kBatchesPerProducer = 1000;
  IngestMetrics metrics({"p0", "p1", "p2"}, {"unknown"});
  StageLog log;
  // Expected identities: sizes are deterministic per producer.
  auto batch_size = [](int producer, int i) { return size_t(1 + (i * 7 + producer * 13) % 60); };
  std::vector<size_t> per_producer(kProducers, 0);
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < kBatchesPerProducer; ++i) per_producer[p] += batch_size(p, i);
  }
  log.seen.resize(kProducers);
  for (int p = 0; p < kProducers; ++p) log.seen[p].assign(per_producer[p], 0);

  Pipeline pipeline(SmallConfig(2, 256), metrics);
  auto stage = std::make_unique<CountingStage>(log, std::chrono::microseconds(20));
  pipeline.AddStage(std::move(stage));
  pipeline.Start();

  std::atomic<int> total_fulls{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      size_t sequence = 0;
      for (int i = 0; i < kBatchesPerProducer; ++i) {
        BatchPtr batch = pipeline.input().pool().Acquire();
        EXPECT_TRUE(batch->empty());
        for (size_t k = 0; k < batch_size(p, i); ++k) {
          Event& event = batch->AddEvent();
          event.listener = static_cast<uint16_t>(p);
          event.receive_time_ns = static_cast<int64_t>(sequence++);
        }
        total_fulls += PushWithRetry(pipeline.input(), std::move(batch));
      }
    });
  }
  for (auto& producer : producers) producer.join();
  pipeline.Stop();

  const uint64_t total = per_producer[0] + per_producer[1] + per_producer[2];
  EXPECT_EQ(log.events.load(), total);
  EXPECT_EQ(log.batches.load(), uint64_t(kProducers) * kBatchesPerProducer);
  EXPECT_EQ(log.flushes.load(), 1);
  EXPECT_EQ(log.events_at_flush.load(), total);  // Flush after the last batch
  EXPECT_EQ(metrics.SumEventsProcessed(), total);
  for (int p = 0; p < kProducers; ++p) {
    for (size_t s = 0; s < log.seen[p].size(); ++s) {
      ASSERT_EQ(log.seen[p][s], 1) << "producer " << p << " event " << s;
    }
  }
  EXPECT_GT(total_fulls.load(), 0) << "the queue never filled: the retry path was not tested";
  EXPECT_LE(log.max_concurrent.load(), 2);
  EXPECT_EQ(pipeline.queue().events(), 0u);
}

TEST(PipelineTest, StopDrainsEverythingQueuedBeforeReturning) {
  IngestMetrics metrics({"l"}, {"unknown"});
  StageLog log;
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool open = false;

  class GatedStage : public CountingStage {
   public:
    GatedStage(StageLog& log, std::mutex& m, std::condition_variable& cv, bool& open)
        : CountingStage(log), m_(m), cv_(cv), open_(open) {}
    void Process(EventBatch& batch) override {
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return open_; });
      }
      CountingStage::Process(batch);
    }

   private:
    std::mutex& m_;
    std::condition_variable& cv_;
    bool& open_;
  };

  Pipeline pipeline(SmallConfig(2, 100000), metrics);
  pipeline.AddStage(std::make_unique<GatedStage>(log, gate_mutex, gate_cv, open));
  pipeline.Start();
  constexpr int kBatches = 200;
  for (int i = 0; i < kBatches; ++i) {
    BatchPtr batch = pipeline.input().pool().Acquire();
    for (int k = 0; k < 10; ++k) batch->AddEvent();
    ASSERT_EQ(pipeline.input().TryPush(batch), PushResult::kPushed);
  }
  // Open the gate only once Stop is under way.
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::lock_guard lock(gate_mutex);
    open = true;
    gate_cv.notify_all();
  });
  pipeline.Stop();
  EXPECT_EQ(log.events.load(), uint64_t(kBatches) * 10);
  EXPECT_EQ(log.batches.load(), uint64_t(kBatches));
  EXPECT_EQ(log.flushes.load(), 1);
  EXPECT_EQ(log.events_at_flush.load(), uint64_t(kBatches) * 10);
  opener.join();

  BatchPtr late = pipeline.input().pool().Acquire();
  late->AddEvent();
  EXPECT_EQ(pipeline.input().TryPush(late), PushResult::kClosed);
}

TEST(PipelineTest, StopIsIdempotentAndFlushesOnce) {
  IngestMetrics metrics({"l"}, {"unknown"});
  StageLog log;
  StageLog second_log;
  {
    Pipeline pipeline(SmallConfig(1, 1024), metrics);
    pipeline.AddStage(std::make_unique<CountingStage>(log));
    pipeline.AddStage(std::make_unique<CountingStage>(second_log));
    pipeline.Start();
    BatchPtr batch = pipeline.input().pool().Acquire();
    batch->AddEvent();
    ASSERT_EQ(pipeline.input().TryPush(batch), PushResult::kPushed);
    pipeline.Stop();
    pipeline.Stop();
  }  // the destructor stops again
  EXPECT_EQ(log.flushes.load(), 1);
  EXPECT_EQ(second_log.flushes.load(), 1);
  EXPECT_EQ(log.events.load(), 1u);
  EXPECT_EQ(second_log.events.load(), 1u);  // every stage sees every batch
}

TEST(PipelineTest, DestructorStopsARunningPipeline) {
  IngestMetrics metrics({"l"}, {"unknown"});
  StageLog log;
  {
    Pipeline pipeline(SmallConfig(2, 1024), metrics);
    pipeline.AddStage(std::make_unique<CountingStage>(log));
    pipeline.Start();
    for (int i = 0; i < 20; ++i) {
      BatchPtr batch = pipeline.input().pool().Acquire();
      batch->AddEvent();
      batch->AddEvent();
      ASSERT_EQ(pipeline.input().TryPush(batch), PushResult::kPushed);
    }
  }
  EXPECT_EQ(log.events.load(), 40u);
  EXPECT_EQ(log.flushes.load(), 1);
}

TEST(PipelineTest, ProcessedBatchesReturnToThePoolCleared) {
  IngestMetrics metrics({"l"}, {"unknown"});
  StageLog log;
  Pipeline pipeline(SmallConfig(1, 1024), metrics);
  pipeline.AddStage(std::make_unique<CountingStage>(log));
  pipeline.Start();
  BatchPtr batch = pipeline.input().pool().Acquire();
  EventBatch* raw = batch.get();
  Event& e = batch->AddEvent();
  e.message = batch->arena().Copy("payload");
  ASSERT_EQ(pipeline.input().TryPush(batch), PushResult::kPushed);
  for (int i = 0; i < 2000 && log.batches.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pipeline.Stop();  // the worker has released the batch once Stop returns
  BatchPtr again = pipeline.input().pool().Acquire();
  EXPECT_EQ(again.get(), raw);
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(again->bytes(), 0u);
}

// A stage that applies batches in the order of their event ids, as the
// correlator does in gsocd, and whose Prepare is slow for some batches: a
// worker whose batch waits for another worker's prepares the next batch
// meanwhile, and nothing is applied out of order, twice, or never.
class OrderedStage : public Stage {
 public:
  explicit OrderedStage(uint64_t first_id) : next_(first_id) {}

  void Prepare(EventBatch& batch) override {
    const uint64_t first = batch.events().front().id;
    {
      std::lock_guard lock(mutex_);
      auto& mine = in_hand_[std::this_thread::get_id()];
      if (!prepared_.insert(first).second) return;  // a repeat does nothing
      if (!mine.empty()) ++ahead_;                  // this thread holds an earlier batch
      mine.push_back(first);
      max_in_hand_ = std::max(max_in_hand_, mine.size());
    }
    if ((first / batch.size()) % 3 == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(300));
  }

  bool WouldWait(const EventBatch& batch) const override {
    std::lock_guard lock(mutex_);
    return next_ < batch.events().front().id;
  }

  void Process(EventBatch& batch) override {
    const uint64_t first = batch.events().front().id;
    std::unique_lock lock(mutex_);
    if (prepared_.count(first) == 0) ADD_FAILURE() << "batch " << first << " not prepared";
    if (!turn_.wait_for(lock, std::chrono::seconds(20), [&] { return next_ == first; })) {
      ADD_FAILURE() << "batch " << first << " waited 20 s for its turn (next " << next_ << ")";
    }
    applied_.push_back(first);
    next_ = first + batch.size();
    auto& mine = in_hand_[std::this_thread::get_id()];
    mine.erase(std::find(mine.begin(), mine.end(), first));
    turn_.notify_all();
  }

  std::vector<uint64_t> applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
  }
  uint64_t ahead() const {
    std::lock_guard lock(mutex_);
    return ahead_;
  }
  size_t max_in_hand() const {
    std::lock_guard lock(mutex_);
    return max_in_hand_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  uint64_t next_;
  std::set<uint64_t> prepared_;
  std::vector<uint64_t> applied_;
  std::map<std::thread::id, std::vector<uint64_t>> in_hand_;
  uint64_t ahead_ = 0;
  size_t max_in_hand_ = 0;
};

TEST(PipelineTest, AWorkerPreparesTheNextBatchWhileItsBatchWaitsItsTurn) {
  constexpr int kBatches = 3000;
  constexpr size_t kEvents = 8;
  IngestMetrics metrics({"l"}, {"unknown"});
  Pipeline pipeline(SmallConfig(2, 64 * kEvents), metrics);
  auto owned = std::make_unique<OrderedStage>(pipeline.queue().first_event_id());
  OrderedStage& stage = *owned;
  pipeline.AddStage(std::move(owned));
  pipeline.Start();
  for (int i = 0; i < kBatches; ++i) {
    BatchPtr batch = pipeline.input().pool().Acquire();
    for (size_t k = 0; k < kEvents; ++k) batch->AddEvent();
    PushWithRetry(pipeline.input(), std::move(batch));
  }
  pipeline.Stop();
  const std::vector<uint64_t> applied = stage.applied();
  ASSERT_EQ(applied.size(), static_cast<size_t>(kBatches));
  for (size_t i = 0; i < applied.size(); ++i) {
    ASSERT_EQ(applied[i], pipeline.queue().first_event_id() + i * kEvents) << i;
  }
  EXPECT_EQ(metrics.SumEventsProcessed(), kBatches * kEvents);
  // Every third batch is slow to prepare: the other worker's next batch
  // waits for it, and that worker prepares one more meanwhile, never two.
  std::printf("%llu of %d batches prepared ahead\n", static_cast<unsigned long long>(stage.ahead()),
              kBatches);
  EXPECT_GT(stage.ahead(), static_cast<uint64_t>(kBatches / 20));
  EXPECT_EQ(stage.max_in_hand(), 2u);
  double counted = -1;
  for (const GaugeSource& gauge : pipeline.Gauges()) {
    if (gauge.name == "gsoc_pipeline_batches_prepared_ahead_total") counted = gauge.read();
  }
  EXPECT_EQ(counted, static_cast<double>(stage.ahead()));
}

}  // namespace
}  // namespace gsoc
