#include "engine/detect/correlation_service.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace gsoc {

namespace {

int64_t Nanos(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void EndCorrelationStream(correlate::Correlator& correlator, const correlate::CorrelationSet& set,
                          std::vector<Alert>& alerts) {
  // A wall clock a century past the last input: the idle advance carries the
  // stream time beyond every window.
  constexpr int64_t kCentury = 100LL * 365 * 24 * 3600 * 1'000'000'000;
  correlator.Tick(set, WallNowNs() + kCentury, alerts);
}

correlate::CorrelatorOptions CorrelatorOptionsFrom(const CorrelationConfig& config) {
  correlate::CorrelatorOptions options;
  options.lateness_ns = Nanos(config.lateness);
  options.idle_advance_ns = Nanos(config.idle_advance);
  options.max_keys_per_rule = config.max_keys_per_rule;
  options.shards = config.shards;
  options.max_alert_events = config.max_alert_events;
  options.window.max_entries = static_cast<uint32_t>(config.max_entries_per_key);
  options.raw_cache_bytes = config.raw_cache_bytes;
  options.max_sources = config.max_sources;
  options.max_value_bytes = config.max_value_bytes;
  options.max_bytes_per_rule = config.max_bytes_per_rule;
  options.max_raw_line_bytes = config.max_raw_line_bytes;
  return options;
}

CorrelationService::CorrelationService(const CorrelationConfig& config,
                                       std::vector<std::string> agency_names,
                                       std::unique_ptr<correlate::CheckpointStore> checkpoints)
    : config_(config),
      correlator_(std::make_unique<correlate::Correlator>(CorrelatorOptionsFrom(config),
                                                          std::move(agency_names))),
      store_(std::move(checkpoints)) {}

CorrelationService::~CorrelationService() { Stop(); }

void CorrelationService::Restore(const correlate::CorrelationSet& set) {
  std::string blob;
  try {
    if (!store_->Load(&blob)) {
      spdlog::info("correlation: no checkpoint in the alert store; starting empty");
      return;
    }
  } catch (const std::exception& e) {
    spdlog::error("correlation: cannot read checkpoint: {}; starting empty", e.what());
    return;
  }
  std::string error;
  if (!correlator_->Restore(set, blob, &error)) {
    spdlog::error("correlation: checkpoint in the alert store rejected: {}; starting empty", error);
    return;
  }
  restored_.store(1);
  spdlog::info("correlation: resumed {} key(s) from the alert store ({} bytes)",
               correlator_->stats().live_keys, blob.size());
}

bool CorrelationService::CheckpointNow() {
  using Clock = std::chrono::steady_clock;
  // The buffer is kept from one checkpoint to the next: a fresh one of tens
  // of MiB took a page fault per 4 KiB while the state was copied into it.
  std::string& blob = checkpoint_buffer_;
  const auto start = Clock::now();
  correlator_->Checkpoint(blob);
  const auto serialized = Clock::now();
  checkpoint_serialize_ns_.store(std::chrono::nanoseconds(serialized - start).count());
  try {
    store_->Save(blob);
    checkpoint_save_ns_.store(std::chrono::nanoseconds(Clock::now() - serialized).count());
  } catch (const std::exception& e) {
    checkpoint_failures_.fetch_add(1);
    spdlog::error("correlation: checkpoint failed: {}", e.what());
    return false;
  }
  checkpoints_.fetch_add(1);
  checkpoint_bytes_.store(blob.size());
  if (blob.capacity() > 4 * blob.size()) std::string().swap(blob);  // the state shrank a lot
  return true;
}

void CorrelationService::Start(DetectionStage& stage, AlertSink* sink) {
  stage_ = &stage;
  sink_ = sink;
  thread_ = std::thread([this] { Loop(); });
}

void CorrelationService::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  CheckpointNow();
}

void CorrelationService::Loop() {
  using Clock = std::chrono::steady_clock;
  auto next_checkpoint = Clock::now() + config_.checkpoint_interval;
  std::vector<Alert> alerts;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const auto engine = stage_->current();
    if (engine && engine->correlations) {
      alerts.clear();
      correlator_->Tick(*engine->correlations, WallNowNs(), alerts);
      if (!alerts.empty()) {
        stage_->CountAlerts(alerts);
        if (sink_) sink_->Publish(alerts);
      }
    }
    if (Clock::now() >= next_checkpoint) {
      CheckpointNow();
      next_checkpoint = Clock::now() + config_.checkpoint_interval;
    }
    lock.lock();
  }
}

std::vector<GaugeSource> CorrelationService::Metrics() const {
  using prometheus::MetricType;
  const correlate::Correlator* c = correlator_.get();
  auto stat = [c](uint64_t correlate::CorrelatorStats::*member) {
    return [c, member] { return static_cast<double>(c->stats().*member); };
  };
  using S = correlate::CorrelatorStats;
  return {
      {"gsoc_correlation_updates_total", "Inputs applied to correlation windows", stat(&S::updates),
       MetricType::Counter},
      {"gsoc_correlation_firings_total", "Correlation alerts emitted", stat(&S::firings),
       MetricType::Counter},
      {"gsoc_correlation_suppressed_total", "Correlation firings held back by suppression",
       stat(&S::suppressed), MetricType::Counter},
      {"gsoc_correlation_late_events_total",
       "Inputs left out of correlation: later than lateness for their source, and their key no "
       "longer keeps that time",
       stat(&S::late), MetricType::Counter},
      {"gsoc_correlation_late_placed_total",
       "Inputs later than lateness for their source, placed at their own time (their key still "
       "kept it)",
       stat(&S::late_placed), MetricType::Counter},
      {"gsoc_correlation_sources", "Sources (agency, host) whose event time is tracked",
       stat(&S::sources)},
      {"gsoc_correlation_source_evictions_total",
       "Sources evicted by max_sources (least recently active first)", stat(&S::source_evictions),
       MetricType::Counter},
      {"gsoc_correlation_sequence_gaps_total",
       "Batches applied without waiting for the batch before them (sequence_wait passed)",
       stat(&S::sequence_gaps), MetricType::Counter},
      {"gsoc_correlation_missing_group_total",
       "Inputs skipped because a group-by field was missing", stat(&S::missing_group),
       MetricType::Counter},
      {"gsoc_correlation_missing_value_total",
       "Inputs skipped because the value field was missing (or not a number for sums)",
       stat(&S::missing_value), MetricType::Counter},
      {"gsoc_correlation_evictions_total",
       "Keys evicted by max_keys_per_rule or because their rule changed", stat(&S::evicted),
       MetricType::Counter},
      {"gsoc_correlation_expired_total", "Keys dropped because their windows passed",
       stat(&S::expired), MetricType::Counter},
      {"gsoc_correlation_entries_dropped_total", "Window entries dropped by max_entries_per_key",
       stat(&S::entries_dropped), MetricType::Counter},
      {"gsoc_correlation_raw_missing_total",
       "Contributing events shown without their raw line (the raw_cache limit dropped it)",
       stat(&S::raw_missing), MetricType::Counter},
      {"gsoc_correlation_keys", "Live correlation keys", stat(&S::live_keys)},
      {"gsoc_correlation_state_bytes", "Estimated heap bytes of correlation state",
       stat(&S::state_bytes)},
      {"gsoc_correlation_stream_time_seconds", "Newest event time of any source",
       [c] {
         const int64_t ns = c->stream_time_ns();
         return ns == INT64_MIN ? 0.0 : static_cast<double>(ns) / 1e9;
       }},
      {"gsoc_correlation_checkpoints_total", "Correlation checkpoints written",
       [this] { return static_cast<double>(checkpoints_.load()); }, MetricType::Counter},
      {"gsoc_correlation_checkpoint_failures_total", "Correlation checkpoints that failed",
       [this] { return static_cast<double>(checkpoint_failures_.load()); }, MetricType::Counter},
      {"gsoc_correlation_checkpoint_bytes", "Size of the last correlation checkpoint",
       [this] { return static_cast<double>(checkpoint_bytes_.load()); }},
      {"gsoc_correlation_checkpoint_serialize_seconds",
       "Time the last checkpoint took to copy the correlation state (piece by piece; a batch "
       "waits for one piece at most)",
       [this] { return static_cast<double>(checkpoint_serialize_ns_.load()) / 1e9; }},
      {"gsoc_correlation_checkpoint_save_seconds",
       "Time the last checkpoint took to be written and synced",
       [this] { return static_cast<double>(checkpoint_save_ns_.load()) / 1e9; }},
  };
}

}  // namespace gsoc
