#include "engine/detect/detection_stage.h"

namespace gsoc {

namespace {
std::atomic<uint64_t> next_stage_id{1};

struct ThreadScratch {
  uint64_t stage_id = 0;
  EngineScratch scratch;
};
thread_local ThreadScratch tls_scratch;

// Published alerts a thread keeps to refill (DetectionStage::Process): at
// most 256, and none holding more than 16 KiB of strings (a Windows event's
// alert holds ~4 KiB). A refilled alert keeps its strings' capacity, so
// without the byte bound alerts of hostile 64 KiB events stayed with each
// worker thread, ~32 MiB a thread, for as long as it ran.
constexpr size_t kMaxSpareAlerts = 256;
constexpr size_t kMaxSpareAlertBytes = size_t{16} << 10;
thread_local std::vector<Alert> tls_spare_alerts;

// The heap bytes an alert's strings and vectors hold (capacities).
size_t HeldBytes(const Alert& alert) {
  size_t bytes = alert.fields.capacity() * sizeof(alert.fields[0]) +
                 alert.events.capacity() * sizeof(AlertEvent) +
                 alert.rule.tags.capacity() * sizeof(std::string);
  for (const auto& [name, value] : alert.fields) bytes += name.capacity() + value.capacity();
  for (const AlertEvent& event : alert.events) bytes += event.raw.capacity();
  for (const std::string& tag : alert.rule.tags) bytes += tag.capacity();
  return bytes;
}

const std::string& AgencyName(const std::vector<std::string>& names, uint16_t index) {
  static const std::string kUnknown = "unknown";
  return index < names.size() ? names[index] : kUnknown;
}
}  // namespace

EngineScratch MakeEngineScratch(const RuleEngine& engine) {
  EngineScratch scratch;
  scratch.generation = engine.generation;
  if (engine.decoders) scratch.decode = engine.decoders->MakeScratch();
  if (engine.matcher) scratch.match = engine.matcher->MakeScratch();
  return scratch;
}

std::string_view DetectEvent(const RuleEngine& engine, EventBatch& batch, Event& event,
                             EngineScratch& scratch,
                             const std::function<void(const rules::Rule&)>& on_match) {
  std::string_view decoder;
  if (engine.decoders) decoder = engine.decoders->Decode(batch, event, *scratch.decode);
  if (engine.logsources) engine.logsources->Classify(batch, event);
  if (engine.matcher) {
    const auto& rules = engine.matcher->rules();
    engine.matcher->Match(batch, event, *scratch.match,
                          [&](size_t index) { on_match(rules[index]); });
  }
  return decoder;
}

namespace {
void Assign(std::pair<std::string, std::string>& field, std::string_view name,
            std::string_view value) {
  field.first.assign(name);
  field.second.assign(value);
}
}  // namespace

// Every member is set: a new member of Alert must be set here too.
static_assert(sizeof(Alert) == 408, "FillDetectionAlert sets every member of Alert");

void FillDetectionAlert(Alert& alert, const rules::Rule& rule, const EventBatch& batch,
                        const Event& event, const std::string& agency) {
  alert.id = 0;
  alert.time_ns = event.event_time_ns;
  alert.kind = AlertKind::kDetection;
  alert.rule.id.assign(rule.id);
  alert.rule.name.assign(rule.name);
  alert.rule.title.assign(rule.title);
  alert.rule.level = rule.level;
  alert.rule.tags.assign(rule.tags.begin(), rule.tags.end());
  alert.rule.revision = rule.revision;
  alert.agency.assign(agency);
  alert.group.clear();
  alert.window_start_ns = alert.window_end_ns = event.event_time_ns;
  alert.count = 1;
  alert.correlation_type.clear();
  alert.value = 0;
  alert.condition.clear();
  alert.suppressed = 0;
  // Header fields, then the event's, each into the slot of the same rank.
  std::vector<std::pair<std::string, std::string>>& fields = alert.fields;
  fields.reserve(event.fields_count + 2);  // one allocation, not a growth per doubling
  size_t count = 0;
  auto add = [&](std::string_view name, std::string_view value) {
    if (count < fields.size()) {
      Assign(fields[count], name, value);
    } else {
      fields.emplace_back(std::string(name), std::string(value));
    }
    ++count;
  };
  if (!event.host.empty()) add("host", event.host);
  if (!event.program.empty()) add("program", event.program);
  for (const Field& field : batch.FieldsOf(event)) add(field.name, field.value);
  fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(count), fields.end());
  alert.events.resize(1);
  AlertEvent& contributing = alert.events.front();
  contributing.id = event.id;
  contributing.time_ns = event.event_time_ns;
  contributing.raw.assign(event.raw);
  alert.aggregate_key = 0;
  alert.aggregate_version = 0;
  alert.aggregate_opened_ns = alert.aggregate_closes_ns = 0;
  alert.replaces = 0;
}

Alert MakeDetectionAlert(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                         const std::string& agency) {
  Alert alert;
  FillDetectionAlert(alert, rule, batch, event, agency);
  return alert;
}

void RecycleAlerts(std::vector<Alert>& published) {
  std::vector<Alert>& spare = tls_spare_alerts;
  for (Alert& alert : published) {
    if (spare.size() >= kMaxSpareAlerts) break;
    if (HeldBytes(alert) <= kMaxSpareAlertBytes) spare.push_back(std::move(alert));
  }
  published.clear();
}

DetectionStage::DetectionStage(std::shared_ptr<const RuleEngine> engine, AlertSink* sink,
                               std::vector<std::string> agency_names,
                               correlate::Correlator* correlator)
    : engine_(std::move(engine)),
      sink_(sink),
      agency_names_(std::move(agency_names)),
      correlator_(correlator),
      stage_id_(next_stage_id.fetch_add(1)) {}

void DetectionStage::CountAlerts(const std::vector<Alert>& alerts) {
  for (const Alert& alert : alerts) {
    alerts_[static_cast<size_t>(alert.kind)][static_cast<size_t>(alert.rule.level)].fetch_add(
        1, std::memory_order_relaxed);
  }
}

void DetectionStage::AddMatchWork(const match::Matcher::Scratch::Counts& before,
                                  const match::Matcher::Scratch::Counts& after) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  matched_events_.fetch_add(after.events - before.events, kRelaxed);
  rules_evaluated_.fetch_add(after.rules_evaluated - before.rules_evaluated, kRelaxed);
  scans_.fetch_add(after.scans - before.scans, kRelaxed);
  verifies_.fetch_add(after.verifies - before.verifies, kRelaxed);
  literal_checks_.fetch_add(after.literal_checks - before.literal_checks, kRelaxed);
}

match::Matcher::Scratch::Counts DetectionStage::match_work() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  match::Matcher::Scratch::Counts work;
  work.events = matched_events_.load(kRelaxed);
  work.rules_evaluated = rules_evaluated_.load(kRelaxed);
  work.scans = scans_.load(kRelaxed);
  work.verifies = verifies_.load(kRelaxed);
  work.literal_checks = literal_checks_.load(kRelaxed);
  return work;
}

void DetectionStage::SetAlertPolicy(rules::Level min_level, DetectionAggregator* aggregator) {
  min_level_ = min_level;
  aggregator_ = aggregator;
}

void DetectionStage::Swap(std::shared_ptr<const RuleEngine> engine) {
  std::atomic_store(&engine_, std::move(engine));
}

std::shared_ptr<const RuleEngine> DetectionStage::current() const {
  return std::atomic_load(&engine_);
}

EngineScratch& DetectionStage::ScratchFor(const RuleEngine& engine) {
  if (tls_scratch.stage_id != stage_id_ || tls_scratch.scratch.generation != engine.generation) {
    tls_scratch.stage_id = stage_id_;
    tls_scratch.scratch = MakeEngineScratch(engine);
  }
  return tls_scratch.scratch;
}

// A batch between Prepare and Process on one thread: its engine, its hits
// for correlation and its alerts. A worker holds at most two batches
// (Pipeline); replay's workers call Process alone.
struct DetectionStage::Prepared {
  uint64_t stage_id = 0;
  const EventBatch* batch = nullptr;  // null: free
  std::shared_ptr<const RuleEngine> engine;
  std::vector<Alert> alerts;  // published ones are refilled by the next use
  std::vector<correlate::RuleHit> hits;
  std::vector<DetectionHit> detections;
};

namespace {
thread_local DetectionStage::Prepared tls_prepared[Pipeline::kBatchesPerWorker];
}  // namespace

DetectionStage::Prepared* DetectionStage::SlotFor(const EventBatch& batch, bool take) {
  for (Prepared& slot : tls_prepared) {
    if (slot.batch == &batch && slot.stage_id == stage_id_) return &slot;
  }
  if (!take) return nullptr;
  for (Prepared& slot : tls_prepared) {
    if (slot.batch == nullptr) {
      slot.stage_id = stage_id_;
      slot.batch = &batch;
      return &slot;
    }
  }
  return nullptr;  // a third batch on one thread: the Pipeline never does that
}

void DetectionStage::Prepare(EventBatch& batch) {
  if (SlotFor(batch, /*take=*/false) != nullptr) return;  // prepared already
  Prepared* slot = SlotFor(batch, /*take=*/true);
  if (slot != nullptr) Detect(batch, *slot);
}

bool DetectionStage::WouldWait(const EventBatch& batch) const {
  return correlator_ != nullptr && correlator_->WouldWait(batch);
}

void DetectionStage::Detect(EventBatch& batch, Prepared& slot) {
  slot.engine = current();  // one load per batch
  // The slot's previous alerts, published, are refilled for this batch's
  // (FillDetectionAlert): a SigmaHQ replay alerts on 12% of its events, and
  // building each alert from new strings was ~7% of it (malloc and free).
  RecycleAlerts(slot.alerts);
  slot.hits.clear();
  slot.detections.clear();
  auto events = batch.events();
  if (!slot.engine) {
    if (deferred_parser_) {
      for (Event& event : events) deferred_parser_->ParseDeferred(batch, event);
    }
    return;
  }
  const RuleEngine& engine = *slot.engine;
  EngineScratch& scratch = ScratchFor(engine);
  std::vector<Alert>& alerts = slot.alerts;
  std::vector<correlate::RuleHit>& hits = slot.hits;
  std::vector<DetectionHit>& detections = slot.detections;
  std::vector<Alert>& spare = tls_spare_alerts;
  uint64_t below_min_level = 0;
  const correlate::CorrelationSet* correlations = engine.correlations.get();
  const bool correlating = (correlator_ || hit_sink_) && correlations && !correlations->empty();
  // One callback per batch, not per event (std::function may allocate once
  // here); it reads the event being matched from `current`.
  struct Current {
    const Event* event = nullptr;
    uint32_t index = 0;
  } current;
  const auto& rules = engine.matcher->rules();
  const std::function<void(size_t)> on_match = [&](size_t index) {
    if (correlating && !correlations->detection_routes[index].empty()) {
      hits.push_back({current.index, static_cast<uint32_t>(index)});
    }
    if (correlations && correlations->detection_silenced[index]) return;
    const rules::Rule& rule = rules[index];
    if (rule.level < min_level_) {
      ++below_min_level;
      return;
    }
    if (aggregator_) {
      detections.push_back({current.index, &rule});
      return;
    }
    const Event& event = *current.event;
    const std::string& agency = AgencyName(agency_names_, event.agency);
    if (spare.empty()) {
      alerts.push_back(MakeDetectionAlert(rule, batch, event, agency));
      return;
    }
    alerts.push_back(std::move(spare.back()));
    spare.pop_back();
    FillDetectionAlert(alerts.back(), rule, batch, event, agency);
  };
  const match::Matcher::Scratch::Counts before = scratch.match->counts();
  for (uint32_t i = 0; i < events.size(); ++i) {
    current = {&events[i], i};
    if (deferred_parser_ && events[i].parse_deferred)
      deferred_parser_->ParseDeferred(batch, events[i]);
    if (engine.decoders) engine.decoders->Decode(batch, events[i], *scratch.decode);
    if (engine.logsources) engine.logsources->Classify(batch, events[i]);
    engine.matcher->Match(batch, events[i], *scratch.match, on_match);
  }
  AddMatchWork(before, scratch.match->counts());
  if (below_min_level) below_min_level_.fetch_add(below_min_level, std::memory_order_relaxed);
  if (!detections.empty()) aggregator_->Add(batch, detections, agency_names_, alerts);
}

void DetectionStage::Process(EventBatch& batch) {
  Prepared* slot = SlotFor(batch, /*take=*/false);
  if (slot == nullptr) {
    slot = SlotFor(batch, /*take=*/true);
    if (slot == nullptr) {  // a caller holding more batches than the Pipeline
      Prepared local;
      Detect(batch, local);
      Correlate(batch, local);
      return;
    }
    Detect(batch, *slot);
  }
  Correlate(batch, *slot);
  slot->batch = nullptr;
  slot->engine.reset();
}

void DetectionStage::Correlate(const EventBatch& batch, Prepared& slot) {
  const std::vector<correlate::RuleHit>& hits = slot.hits;
  std::vector<Alert>& alerts = slot.alerts;
  const correlate::CorrelationSet* correlations =
      slot.engine ? slot.engine->correlations.get() : nullptr;
  if (!hits.empty() && correlator_) {
    correlator_->Process(*correlations, batch, hits, alerts);
  } else if (!hits.empty()) {
    hit_sink_->OnHits(*correlations, batch, hits);
  } else if (correlator_) {
    correlator_->Pass(batch);  // in gsocd the batches after this one may go ahead
  }
  if (alerts.empty()) return;
  CountAlerts(alerts);
  if (sink_) sink_->Publish(alerts);
}

void DetectionStage::Flush() {
  if (sink_) sink_->Flush();
}

}  // namespace gsoc
