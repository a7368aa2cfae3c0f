#include "engine/detect/rule_reloader.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "engine/metrics/metrics_server.h"

namespace gsoc {

void LogRuleEngineBuild(const RuleEngineBuild& build, const char* what) {
  for (const auto& error : build.refused) spdlog::warn("rule refused: {}", error.ToString());
  for (const auto& warning : build.warnings) spdlog::warn("{}", warning.ToString());
  for (const auto& fatal : build.fatal) spdlog::error("{}: {}", what, fatal.ToString());
  if (!build.fatal.empty()) return;
  spdlog::info(
      "{}: {} rule(s) and {} correlation(s) loaded from {} file(s) ({} read back from the parse "
      "cache), {} refused, {} warning(s), {} pattern(s){} in {:.3f}s",
      what, build.rules_loaded, build.correlations_loaded, build.rule_files,
      build.rule_files_cached, build.refused.size(), build.warnings.size(), build.compile.patterns,
      build.compile.from_cache ? " (from cache)" : "", build.seconds);
}

// One build thread's state, shared with the thread so that it can outlive
// the reloader (an abandoned build finishes alone and drops its result).
struct RuleReloader::Job {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;       // guarded by mutex
  bool abandoned = false;  // guarded by mutex: nobody waits for the result
  RuleEngineBuild build;   // guarded by mutex

  bool Running() {
    std::lock_guard lock(mutex);
    return !done;
  }
  void Abandon() {
    std::lock_guard lock(mutex);
    abandoned = true;
    build = {};
    finished.notify_all();
  }
};

RuleReloader::RuleReloader(RuleSources sources, bool strict, DetectionStage& stage,
                           BuildFunction build)
    : sources_(std::move(sources)), strict_(strict), stage_(stage), build_(std::move(build)) {
  sources_.strict = sources_.strict || strict;
  thread_ = std::thread([this] { Worker(); });
}

RuleReloader::~RuleReloader() {
  Stop();
  thread_.join();
}

void RuleReloader::Stop() {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    pending_ = false;
    job = job_;
  }
  if (job) job->Abandon();  // a worker waiting on it returns now
  changed_.notify_all();
}

std::optional<RuleEngineBuild> RuleReloader::BuildWithDeadline(const char* what) {
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return std::nullopt;
    if (job_ && job_->Running()) {
      spdlog::error(
          "{}: an earlier build, abandoned after its deadline, still runs; not starting "
          "another",
          what);
      return std::nullopt;
    }
    job_ = job;
  }
  try {
    std::thread([job, sources = sources_, build_function = build_] {
      RuleEngineBuild build = build_function(sources);
      std::lock_guard lock(job->mutex);
      job->done = true;
      if (!job->abandoned) job->build = std::move(build);
      job->finished.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    spdlog::error("{}: cannot start the build thread: {}", what, e.what());
    std::lock_guard lock(job->mutex);
    job->done = true;
    return std::nullopt;
  }
  const auto timeout = sources_.limits.build_timeout;
  std::unique_lock lock(job->mutex);
  job->finished.wait_for(lock, timeout, [&] { return job->done || job->abandoned; });
  if (job->done && !job->abandoned) return std::move(job->build);
  if (!job->abandoned) {
    job->abandoned = true;
    timed_out_.fetch_add(1);
    spdlog::error(
        "{}: the build did not finish within {} ms (rules.limits.reload_timeout); "
        "abandoned",
        what, timeout.count());
  }
  return std::nullopt;
}

bool RuleReloader::BuildAndSwap(const char* what) {
  std::optional<RuleEngineBuild> built = BuildWithDeadline(what);
  if (!built && Stopping()) return false;  // shutdown: not a failed build
  if (!built) {
    spdlog::error("{} failed: the previous rule set keeps running", what);
    failed_.fetch_add(1);
    return false;
  }
  RuleEngineBuild& build = *built;
  LogRuleEngineBuild(build, what);
  last_build_refused_.store(build.refused.size());
  const bool ok = build.engine && !(strict_ && !build.refused.empty());
  if (!ok) {
    if (strict_ && !build.refused.empty())
      spdlog::error("{}: refused rules with strict: true", what);
    spdlog::error("{} failed: the previous rule set keeps running", what);
    failed_.fetch_add(1);
    return false;
  }
  rules_loaded_.store(build.rules_loaded);
  rules_refused_.store(build.refused.size());
  rules_pcre_fallback_.store(std::count_if(
      build.warnings.begin(), build.warnings.end(),
      [](const Diagnostic& warning) { return warning.code == "sigma.pcre2_fallback"; }));
  rules_metadata_truncated_.store(build.metadata_truncated);
  rules_cache_disabled_.store(
      std::any_of(build.warnings.begin(), build.warnings.end(),
                  [](const Diagnostic& warning) { return warning.code == kCacheDirWarning; }));
  last_success_unix_.store(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  const std::shared_ptr<const RuleEngine> engine = build.engine;
  stage_.Swap(std::move(build.engine));
  if (swap_listener_) swap_listener_(*engine);
  if (!build.refused.empty()) partial_.fetch_add(1);
  succeeded_.fetch_add(1);
  return true;
}

bool RuleReloader::LoadNow() { return BuildAndSwap("rules"); }

bool RuleReloader::Stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void RuleReloader::Reload() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    pending_ = true;
  }
  changed_.notify_all();
}

void RuleReloader::WaitIdle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !pending_ && !running_; });
}

void RuleReloader::Worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || pending_; });
    if (stopping_) return;
    pending_ = false;
    running_ = true;
    lock.unlock();
    BuildAndSwap("reload");
    lock.lock();
    running_ = false;
    changed_.notify_all();
  }
}

namespace {

prometheus::MetricFamily AlertFamily(const DetectionStage& stage) {
  prometheus::MetricFamily family =
      MakeFamily("gsoc_alerts_total", "Alerts produced, by rule level and kind",
                 prometheus::MetricType::Counter);
  for (const AlertKind kind : {AlertKind::kDetection, AlertKind::kCorrelation}) {
    for (size_t level = 0; level < 5; ++level) {
      const auto typed = static_cast<rules::Level>(level);
      AddSample(family, {{"level", rules::LevelName(typed)}, {"kind", AlertKindName(kind)}},
                static_cast<double>(stage.alerts(typed, kind)));
    }
  }
  return family;
}

// What matching did (DetectionStage::match_work): rules evaluated over
// events matched is the rules an event is evaluated against after the
// Hyperscan prefilter.
std::vector<prometheus::MetricFamily> MatchWorkFamilies(const DetectionStage& stage) {
  const match::Matcher::Scratch::Counts work = stage.match_work();
  const auto counter = [](const char* name, const char* help, uint64_t value) {
    return SingleSample(name, help, prometheus::MetricType::Counter, static_cast<double>(value));
  };
  return {counter("gsoc_match_events_total", "Events matched against the running rule set",
                  work.events),
          counter("gsoc_match_rules_evaluated_total",
                  "Rules whose condition was evaluated for an event, after the Hyperscan "
                  "prefilter (over gsoc_match_events_total: rules an event is evaluated against)",
                  work.rules_evaluated),
          counter("gsoc_match_scans_total",
                  "Hyperscan scans of event fields (verify scans included)", work.scans),
          counter("gsoc_match_verify_scans_total",
                  "Verify scans: a candidate rule's filter patterns scanned for (engine/match)",
                  work.verifies),
          counter("gsoc_match_literal_checks_total",
                  "Verify literals a candidate rule checked on their own, without a scan",
                  work.literal_checks)};
}

// Series per name (rule id, decoder): the kMaxSeries with most hits, the
// rest summed under "_other", so a rule set of any size makes few series.
constexpr size_t kMaxSeries = 20;

prometheus::MetricFamily LimitHitsFamily(
    const char* name, const char* help, const char* label,
    const std::vector<std::pair<std::string_view, uint64_t>>& hits) {
  prometheus::MetricFamily family = MakeFamily(name, help, prometheus::MetricType::Counter);
  uint64_t other = 0;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (i < kMaxSeries) {
      AddSample(family, {{label, std::string(hits[i].first)}}, static_cast<double>(hits[i].second));
    } else {
      other += hits[i].second;
    }
  }
  AddSample(family, {{label, "_other"}}, static_cast<double>(other));
  return family;
}

std::vector<prometheus::MetricFamily> LimitHitFamilies(const RuleEngine* engine) {
  std::vector<std::pair<std::string_view, uint64_t>> rules;
  std::vector<std::pair<std::string_view, uint64_t>> decoders;
  if (engine != nullptr && engine->matcher) {
    for (const auto& hit : engine->matcher->regex_limit_hits()) {
      rules.emplace_back(engine->matcher->rules()[hit.rule].id, hit.hits);
    }
  }
  if (engine != nullptr && engine->decoders) {
    for (const auto& hit : engine->decoders->limit_hits()) {
      decoders.emplace_back(hit.decoder, hit.hits);
    }
    std::stable_sort(decoders.begin(), decoders.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  return {LimitHitsFamily("gsoc_rule_regex_limit_hits_total",
                          "Regex matches of a rule stopped by rules.limits (counted as no match), "
                          "in the running rule set",
                          "rule", rules),
          LimitHitsFamily("gsoc_decoder_regex_limit_hits_total",
                          "Decoder regex matches stopped by rules.limits (counted as no match), "
                          "in the running rule set",
                          "decoder", decoders)};
}

}  // namespace

std::shared_ptr<prometheus::Collectable> RuleReloader::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    prometheus::MetricFamily reloads{"gsoc_rule_reloads_total",
                                     "Rule set builds (start and reloads), by result",
                                     MetricType::Counter,
                                     {}};
    const uint64_t partial = partial_.load();
    for (auto [result, value] :
         {std::pair{"success", succeeded_.load() - partial}, std::pair{"partial", partial},
          std::pair{"failure", failed_.load()}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"result", result}};
      metric.counter.value = static_cast<double>(value);
      reloads.metric.push_back(metric);
    }
    out.push_back(std::move(reloads));
    out.push_back(SingleSample("gsoc_rules_loaded", "Detection rules in the running set",
                               MetricType::Gauge, static_cast<double>(rules_loaded_.load())));
    out.push_back(SingleSample("gsoc_rules_refused", "Rules refused when the running set was built",
                               MetricType::Gauge, static_cast<double>(rules_refused_.load())));
    out.push_back(SingleSample("gsoc_rule_reload_timeouts_total",
                               "Rule set builds abandoned at rules.limits.reload_timeout (also "
                               "counted as result=\"failure\")",
                               MetricType::Counter, static_cast<double>(timed_out_.load())));
    out.push_back(SingleSample("gsoc_rule_reload_last_refused",
                               "Rules refused by the last rule set build, swapped in or not",
                               MetricType::Gauge, static_cast<double>(last_build_refused_.load())));
    out.push_back(
        SingleSample("gsoc_rules_pcre_fallback",
                     "Regex values of the running set that PCRE2 must run (rule warnings)",
                     MetricType::Gauge, static_cast<double>(rules_pcre_fallback_.load())));
    out.push_back(
        SingleSample("gsoc_rules_metadata_truncated",
                     "Rules of the running set whose description, tags, references, author or "
                     "falsepositives were cut to the metadata limits (rule warnings)",
                     MetricType::Gauge, static_cast<double>(rules_metadata_truncated_.load())));
    out.push_back(SingleSample(
        "gsoc_rules_cache_disabled",
        "1 when the running set was built without the rule caches: rules.cache_dir is not this "
        "user's alone (a rules.cache_dir warning); every reload then parses and compiles",
        MetricType::Gauge, static_cast<double>(rules_cache_disabled_.load())));
    out.push_back(SingleSample("gsoc_rules_last_reload_success_timestamp_seconds",
                               "When the running rule set was built", MetricType::Gauge,
                               static_cast<double>(last_success_unix_.load())));
    out.push_back(AlertFamily(stage_));
    for (auto& family : MatchWorkFamilies(stage_)) out.push_back(std::move(family));
    const std::shared_ptr<const RuleEngine> engine = stage_.current();
    for (auto& family : LimitHitFamilies(engine.get())) out.push_back(std::move(family));
    return out;
  });
}

}  // namespace gsoc
