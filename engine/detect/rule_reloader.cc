#include "engine/detect/rule_reloader.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "engine/metrics/metrics_server.h"

namespace gsoc {

void LogRuleEngineBuild(const RuleEngineBuild& build, const char* what) {
  for (const auto& error : build.refused) spdlog::warn("rule refused: {}", error.ToString());
  for (const auto& fatal : build.fatal) spdlog::error("{}: {}", what, fatal);
  if (!build.fatal.empty()) return;
  spdlog::info(
      "{}: {} rule(s) and {} correlation(s) loaded from {} file(s), {} refused, {} pattern(s){} "
      "in {:.3f}s",
      what, build.rules_loaded, build.correlations_loaded, build.rule_files, build.refused.size(),
      build.compile.patterns, build.compile.from_cache ? " (from cache)" : "", build.seconds);
}

RuleReloader::RuleReloader(RuleSources sources, bool strict, DetectionStage& stage)
    : sources_(std::move(sources)), strict_(strict), stage_(stage) {
  thread_ = std::thread([this] { Worker(); });
}

RuleReloader::~RuleReloader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool RuleReloader::BuildAndSwap(const char* what) {
  RuleEngineBuild build = BuildRuleEngine(sources_);
  LogRuleEngineBuild(build, what);
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
  last_success_unix_.store(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  stage_.Swap(std::move(build.engine));
  succeeded_.fetch_add(1);
  return true;
}

bool RuleReloader::LoadNow() { return BuildAndSwap("rules"); }

void RuleReloader::Reload() {
  {
    std::lock_guard lock(mutex_);
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

}  // namespace

std::shared_ptr<prometheus::Collectable> RuleReloader::MakeCollectable() const {
  return std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    prometheus::MetricFamily reloads{"gsoc_rule_reloads_total",
                                     "Rule set builds (start and reloads), by result",
                                     MetricType::Counter,
                                     {}};
    for (auto [result, value] :
         {std::pair{"success", succeeded_.load()}, std::pair{"failure", failed_.load()}}) {
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
    out.push_back(SingleSample("gsoc_rules_last_reload_success_timestamp_seconds",
                               "When the running rule set was built", MetricType::Gauge,
                               static_cast<double>(last_success_unix_.load())));
    out.push_back(AlertFamily(stage_));
    return out;
  });
}

}  // namespace gsoc
