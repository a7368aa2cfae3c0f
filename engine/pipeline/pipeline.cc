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
      pool_(std::max<size_t>(64,
                             config.queue_events / std::max<size_t>(1, config.batch_events) + 64)),
      queue_(config.queue_events, pool_,
             static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())) {}

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

void Pipeline::WorkerLoop() {
  ThreadCounters& counters = metrics_.Local();
  while (BatchPtr batch = queue_.Pop()) {
    for (auto& stage : stages_) stage->Process(*batch);
    counters.EventsProcessed(batch->size());
    pool_.Release(std::move(batch));
  }
}

}  // namespace gsoc
