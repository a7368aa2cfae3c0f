// DetectionStage: decode -> match -> correlate for every event, producing
// detection and correlation alerts.
//
// Owns nothing but a pointer to the current RuleEngine (swapped atomically by
// Swap, e.g. on SIGHUP: batches already being processed finish on the old
// set, the next batch sees the new one; no event is dropped) and the sink.
//
// Threading: Process runs on every worker; each worker thread keeps its own
// decoder and matcher scratch for the engine generation it last saw. Alerts
// of a batch are handed to the AlertSink once per batch; when the sink is
// slow, the worker waits, the queue fills and collectors apply backpressure.
//
// Correlation: hits of rules that correlations refer to are collected per
// batch and handed to the Correlator (if one is given) once per batch; rules
// that only feed correlations (`generate` not set) do not alert on their own.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/correlate/correlator.h"
#include "engine/detect/rule_engine.h"
#include "engine/pipeline/pipeline.h"

namespace gsoc {

// Per-thread scratch for one RuleEngine generation.
struct EngineScratch {
  uint64_t generation = 0;
  std::unique_ptr<decode::DecoderSet::Scratch> decode;
  std::unique_ptr<match::Matcher::Scratch> match;
};
EngineScratch MakeEngineScratch(const RuleEngine& engine);

// Decodes `event` (adding its fields) and calls on_match for every matching
// rule; returns the decoder name or empty. Used by the stage and by gsocctl.
std::string_view DetectEvent(const RuleEngine& engine, EventBatch& batch, Event& event,
                             EngineScratch& scratch,
                             const std::function<void(const rules::Rule&)>& on_match);

Alert MakeDetectionAlert(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                         const std::string& agency);

class DetectionStage : public Stage {
 public:
  DetectionStage(std::shared_ptr<const RuleEngine> engine, AlertSink* sink,
                 std::vector<std::string> agency_names,
                 correlate::Correlator* correlator = nullptr);

  void Swap(std::shared_ptr<const RuleEngine> engine);
  std::shared_ptr<const RuleEngine> current() const;

  void Process(EventBatch& batch) override;
  void Flush() override;

  // Alerts produced, by level (rules::Level) and kind.
  uint64_t alerts(rules::Level level, AlertKind kind = AlertKind::kDetection) const {
    return alerts_[static_cast<size_t>(kind)][static_cast<size_t>(level)].load(
        std::memory_order_relaxed);
  }
  // Counts alerts produced outside Process (correlation Tick) by level and kind.
  void CountAlerts(const std::vector<Alert>& alerts);
  correlate::Correlator* correlator() const { return correlator_; }

 private:
  EngineScratch& ScratchFor(const RuleEngine& engine);

  std::shared_ptr<const RuleEngine> engine_;  // accessed with std::atomic_load/store
  AlertSink* sink_;
  std::vector<std::string> agency_names_;
  correlate::Correlator* correlator_;
  const uint64_t stage_id_;
  std::atomic<uint64_t> alerts_[2][5] = {};
};

}  // namespace gsoc
