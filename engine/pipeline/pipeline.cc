#include "engine/pipeline/pipeline.h"

#include <algorithm>
#include <chrono>

namespace gsoc {

namespace {
size_t WorkerCount(const PipelineConfig& config) {
  if (config.workers > 0) return config.workers;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}
}  // namespace

Pipeline::Pipeline(const PipelineConfig& config, IngestMetrics& metrics)
    : worker_count_(WorkerCount(config)),
      metrics_(metrics),
      // The pool keeps what the queue can hold: a full queue resumes its
      // senders at half (BatchQueue::WaitForSpace), so half of it comes
      // back to the pool, then is taken again. Kept to queue_bytes / 2,
      // ~6% of a listener's batches under load were freed, then made anew
      // (zeroed, faulted in). Batches move between the queue and the pool,
      // so their total stays ~queue_bytes either way; the pool only decides
      // what an idle gsocd keeps.
      pool_(
          std::max<size_t>(64, config.queue_events / std::max<size_t>(1, config.batch_events) + 64),
          std::max<size_t>(config.queue_bytes, 4 * ByteArena::kDefaultBlockSize)),
      queue_(config.queue_events, pool_,
             static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()),
             config.queue_bytes) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::AddStage(std::unique_ptr<Stage> stage) { stages_.push_back(std::move(stage)); }

void Pipeline::Start() {
  for (size_t i = 0; i < worker_count_; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void Pipeline::Stop() {
  if (stopped_) return;
  stopped_ = true;
  queue_.Close();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  for (auto& stage : stages_) stage->Flush();
}

std::vector<GaugeSource> Pipeline::Gauges() const {
  const BatchQueue& queue = queue_;
  const BatchPool& pool = pool_;
  return {{"gsoc_queue_events", "Events waiting between collectors and engine",
           [&queue] { return static_cast<double>(queue.events()); }},
          {"gsoc_queue_capacity_events", "Bound of the collector-to-engine queue",
           [&queue] { return static_cast<double>(queue.capacity()); }},
          {"gsoc_queue_bytes", "Message bytes waiting between collectors and engine",
           [&queue] { return static_cast<double>(queue.bytes()); }},
          {"gsoc_queue_capacity_bytes", "Bound of the collector-to-engine queue in bytes",
           [&queue] { return static_cast<double>(queue.capacity_bytes()); }},
          {"gsoc_queue_full_total",
           "Batches refused because the queue was full, in events or bytes (TCP then waits, UDP "
           "drops)",
           [&queue] { return static_cast<double>(queue.full_count()); },
           prometheus::MetricType::Counter},
          {"gsoc_batch_pool_bytes", "Bytes held by idle, reusable event batches",
           [&pool] { return static_cast<double>(pool.kept_bytes()); }},
          {"gsoc_pipeline_batches_prepared_ahead_total",
           "Batches a worker decoded and matched while its previous batch waited for the "
           "correlator's input order",
           [this] { return static_cast<double>(prepared_ahead_.load(std::memory_order_relaxed)); },
           prometheus::MetricType::Counter}};
}

void Pipeline::WorkerLoop() {
  ThreadCounters& counters = metrics_.Local();
  static_assert(kBatchesPerWorker == 2, "one batch in process, one prepared ahead");
  BatchPtr batch = queue_.Pop();
  while (batch) {
    for (auto& stage : stages_) stage->Prepare(*batch);
    // The batch after this one, prepared while a stage waits for batches
    // before this one: ids follow queue order, so the batch a worker waits
    // for is never one another worker holds back behind its own wait.
    BatchPtr ahead;
    for (auto& stage : stages_) {
      if (!ahead && stage->WouldWait(*batch) && (ahead = queue_.TryPop())) {
        for (auto& s : stages_) s->Prepare(*ahead);
        prepared_ahead_.fetch_add(1, std::memory_order_relaxed);
      }
      stage->Process(*batch);
    }
    counters.EventsProcessed(batch->size());
    pool_.Release(std::move(batch));
    batch = ahead ? std::move(ahead) : queue_.Pop();
  }
}

}  // namespace gsoc
