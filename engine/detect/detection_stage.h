// DetectionStage: decode -> match -> correlate for every event, producing
// detection and correlation alerts.
//
// Owns nothing but a pointer to the current RuleEngine (swapped atomically by
// Swap, e.g. on SIGHUP: batches already being processed finish on the old
// set, the next batch sees the new one; no event is dropped) and the sink.
//
// Threading: Prepare and Process run on every worker; each worker thread
// keeps its own decoder and matcher scratch for the engine generation it
// last saw, and the state of up to two batches between Prepare and Process
// (the one it processes and the one it prepares ahead). Alerts
// of a batch are handed to the AlertSink once per batch; when the sink is
// slow, the worker waits, the queue fills and collectors apply backpressure.
//
// Correlation: hits of rules that correlations refer to are collected per
// batch and handed to the Correlator (if one is given) once per batch; rules
// that only feed correlations (`generate` not set) do not alert on their own.
//
// Events left unparsed (Event::parse_deferred) are parsed by the
// DeferredParser given (SetDeferredParser), each just before it is decoded,
// classified and matched, while its fields are in the cache; every event of
// a batch is parsed when Prepare/Process returns, rules loaded or not.
//
// Alert policy (SetAlertPolicy): hits of rules below `min_level` only feed
// correlations; with a DetectionAggregator, the other hits go to it once per
// batch (it decides which alerts to publish) instead of one alert each.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/alert/alert.h"
#include "engine/correlate/correlator.h"
#include "engine/detect/rule_engine.h"
#include "engine/event/deferred_parser.h"
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
// The same alert written into `alert`, whatever it held before: a recycled
// alert keeps the capacity of its strings and vectors, so refilling it
// allocates only where a value is longer than the one it replaces.
void FillDetectionAlert(Alert& alert, const rules::Rule& rule, const EventBatch& batch,
                        const Event& event, const std::string& agency);
// Keeps published alerts (up to 256, and only those holding at most 16 KiB:
// a refilled alert keeps its strings' capacity) for this thread's next
// DetectionStage::Process to refill, and empties `published`. Process does
// it with its own previous alerts; a caller whose sink takes the alerts
// away (replay's workers) hands them back with it.
void RecycleAlerts(std::vector<Alert>& published);

// One detection hit: the event (index in its batch) and the rule.
struct DetectionHit {
  uint32_t event_index = 0;
  const rules::Rule* rule = nullptr;
};

// Collapses repeated detection hits into aggregate alerts (engine/aggregate).
class DetectionAggregator {
 public:
  virtual ~DetectionAggregator() = default;
  // Worker threads, once per batch with every hit of the batch; appends to
  // `alerts` what is to be published now (opened aggregates). Must not block.
  virtual void Add(const EventBatch& batch, std::span<const DetectionHit> hits,
                   const std::vector<std::string>& agency_names, std::vector<Alert>& alerts) = 0;
};

// Where the hits correlations need go when no local Correlator runs them:
// a cluster detect node publishes them to GSOC_HITS (engine/cluster).
class HitSink {
 public:
  virtual ~HitSink() = default;
  // The worker thread, once per batch with every hit of a rule that a
  // correlation refers to; `correlations` and `batch` live until it returns.
  virtual void OnHits(const correlate::CorrelationSet& correlations, const EventBatch& batch,
                      std::span<const correlate::RuleHit> hits) = 0;
};

class DetectionStage : public Stage {
 public:
  DetectionStage(std::shared_ptr<const RuleEngine> engine, AlertSink* sink,
                 std::vector<std::string> agency_names,
                 correlate::Correlator* correlator = nullptr);

  // Before the first batch. Hits of rules below min_level make no alert; an
  // aggregator (not owned; null: one alert per hit) takes the others.
  void SetAlertPolicy(rules::Level min_level, DetectionAggregator* aggregator);
  // Before the first batch, instead of a Correlator: hits go to `sink` (not owned).
  void SetHitSink(HitSink* sink) { hit_sink_ = sink; }
  // Before the first batch: parses the events left unparsed (not owned; it
  // outlives the stage's last batch). Without one they must come parsed.
  void SetDeferredParser(DeferredParser* parser) { deferred_parser_ = parser; }
  // Hits that made no alert because their rule is below min_level.
  uint64_t below_min_level() const { return below_min_level_.load(std::memory_order_relaxed); }

  void Swap(std::shared_ptr<const RuleEngine> engine);
  std::shared_ptr<const RuleEngine> current() const;

  // Prepare decodes, classifies and matches the batch (and hands its
  // detection hits to the aggregator); Process correlates and publishes it
  // (preparing it first when Prepare did not). The correlator applies
  // batches in input order: WouldWait says when Process would wait for it.
  void Prepare(EventBatch& batch) override;
  bool WouldWait(const EventBatch& batch) const override;
  void Process(EventBatch& batch) override;
  void Flush() override;

  struct Prepared;  // detection_stage.cc

  // Alerts produced, by level (rules::Level) and kind.
  uint64_t alerts(rules::Level level, AlertKind kind = AlertKind::kDetection) const {
    return alerts_[static_cast<size_t>(kind)][static_cast<size_t>(level)].load(
        std::memory_order_relaxed);
  }
  // What matching did, summed over every worker's batches (added once a
  // batch; `groups` not kept): events matched, rules whose condition was
  // evaluated after the Hyperscan prefilter, scans, verify scans, literal
  // checks (engine/match/README.md).
  match::Matcher::Scratch::Counts match_work() const;
  // Counts alerts produced outside Process (correlation Tick) by level and kind.
  void CountAlerts(const std::vector<Alert>& alerts);
  correlate::Correlator* correlator() const { return correlator_; }

 private:
  EngineScratch& ScratchFor(const RuleEngine& engine);
  // This thread's slot of `batch`; with `take`, a free one if it has none.
  Prepared* SlotFor(const EventBatch& batch, bool take);
  void Detect(EventBatch& batch, Prepared& slot);
  void Correlate(const EventBatch& batch, Prepared& slot);
  void AddMatchWork(const match::Matcher::Scratch::Counts& before,
                    const match::Matcher::Scratch::Counts& after);

  std::shared_ptr<const RuleEngine> engine_;  // accessed with std::atomic_load/store
  AlertSink* sink_;
  std::vector<std::string> agency_names_;
  correlate::Correlator* correlator_;
  const uint64_t stage_id_;
  rules::Level min_level_ = rules::Level::kInformational;
  DetectionAggregator* aggregator_ = nullptr;
  HitSink* hit_sink_ = nullptr;
  DeferredParser* deferred_parser_ = nullptr;
  std::atomic<uint64_t> alerts_[2][5] = {};
  std::atomic<uint64_t> below_min_level_{0};
  std::atomic<uint64_t> matched_events_{0}, rules_evaluated_{0}, scans_{0}, verifies_{0},
      literal_checks_{0};
};

}  // namespace gsoc
