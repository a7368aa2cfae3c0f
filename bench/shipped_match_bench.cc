// Logsource classification and matching with the shipped pack (rules/ as
// deploy/gsoc.yaml loads it: Sigma rules, decoders, pipelines, lists) on the
// loadgen's `mix` template (what bench/e2e_ingest.sh sends), one thread:
//  - BM_ShippedClassify: LogSourceMap::Classify per event (the events parsed
//    and decoded again before each pass, outside the timing);
//  - BM_ShippedMatch: Matcher::Match per event (parsed, decoded and
//    classified once); counter matches_per_event.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/rule_engine.h"
#include "tools/loadgen/templates.h"

namespace {

using gsoc::Event;
using gsoc::EventBatch;

const gsoc::RuleEngine& Shipped() {
  static const std::shared_ptr<const gsoc::RuleEngine> engine = [] {
    const std::filesystem::path rules = std::filesystem::path(GSOC_SOURCE_DIR) / "rules";
    gsoc::RuleSources sources;
    sources.rule_paths = {rules / "sigma"};
    sources.decoder_paths = {rules / "decoders"};
    sources.logsources = rules / "logsources.yaml";
    sources.lists = {{"bad_ips", rules / "lists" / "bad_ips.txt", ""},
                     {"bad_domains", rules / "lists" / "bad_domains.txt", ""}};
    return gsoc::BuildRuleEngine(sources).engine;
  }();
  return *engine;
}

const std::vector<std::string>& MixFrames() {
  static const std::vector<std::string> frames = [] {
    std::vector<std::string> out;
    const gsoc::loadgen::TimestampSet now(1'718'000'000, 0);
    for (auto& message : gsoc::loadgen::RenderTemplates(gsoc::loadgen::TemplateKind::kMix,
                                                        "bench-host", 1, 4096, now))
      out.push_back(std::move(message.text));
    return out;
  }();
  return frames;
}

// Parses and decodes the mix into `batch` (cleared first).
void Fill(EventBatch& batch, gsoc::decode::DecoderSet::Scratch& decode) {
  batch.Clear();
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1'718'000'000'000'000'000;
  for (const std::string& text : MixFrames()) {
    std::string_view frame = batch.arena().Copy(text);
    Event& event = batch.AddEvent();
    gsoc::EventFormat failed;
    gsoc::ParseSyslog(frame, context, event, batch, &failed);
    Shipped().decoders->Decode(batch, event, decode);
  }
}

void BM_ShippedClassify(benchmark::State& state) {
  const gsoc::RuleEngine& engine = Shipped();
  auto decode = engine.decoders->MakeScratch();
  EventBatch batch;
  for (auto _ : state) {
    state.PauseTiming();
    Fill(batch, *decode);
    state.ResumeTiming();
    for (Event& event : batch.events()) engine.logsources->Classify(batch, event);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}
BENCHMARK(BM_ShippedClassify);

void BM_ShippedMatch(benchmark::State& state) {
  const gsoc::RuleEngine& engine = Shipped();
  auto decode = engine.decoders->MakeScratch();
  EventBatch batch;
  Fill(batch, *decode);
  for (Event& event : batch.events()) engine.logsources->Classify(batch, event);
  auto scratch = engine.matcher->MakeScratch();
  size_t matches = 0;
  std::function<void(size_t)> on_match = [&](size_t) { ++matches; };
  for (auto _ : state) {
    for (const Event& event : batch.events())
      engine.matcher->Match(batch, event, *scratch, on_match);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.counters["matches_per_event"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations() * batch.size());
  state.counters["rules"] = static_cast<double>(engine.matcher->rules().size());
  const auto& counts = scratch->counts();
  const double events = static_cast<double>(counts.events);
  state.counters["scans_per_event"] = static_cast<double>(counts.scans) / events;
  state.counters["evaluated_per_event"] = static_cast<double>(counts.rules_evaluated) / events;
}
BENCHMARK(BM_ShippedMatch);

}  // namespace
