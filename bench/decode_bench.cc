// Decoder throughput with the full shipped pack (rules/decoders): events/s
// per core on loghub OpenSSH_2k, Linux_2k and the Elastic auth.log. Each
// iteration decodes every event of the file once; parsing (syslog) is done
// with the timer paused, so the numbers are decode only (Hyperscan scan +
// PCRE2-JIT confirmation + field appends).
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include "collectors/syslog/syslog_parser.h"
#include "engine/decode/decoder.h"

namespace {

std::vector<std::string> Lines(const std::string& relative) {
  std::vector<std::string> out;
  std::ifstream in(std::string(GSOC_CORPUS_DIR) + "/" + relative);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

const gsoc::decode::DecoderSet& Pack() {
  static const auto set = [] {
    auto result =
        gsoc::decode::DecoderSet::Load({std::string(GSOC_SOURCE_DIR) + "/rules/decoders"}, {}, {});
    if (!result.errors.empty()) {
      std::fprintf(stderr, "decoder pack: %s\n", result.errors[0].message.c_str());
      std::abort();
    }
    return std::move(result.set);
  }();
  return *set;
}

void BM_Decode(benchmark::State& state, const std::string& file) {
  const std::vector<std::string> lines = Lines(file);
  if (lines.empty()) {
    state.SkipWithError("corpus file missing");
    return;
  }
  const gsoc::decode::DecoderSet& set = Pack();
  auto scratch = set.MakeScratch();
  gsoc::EventBatch batch;
  size_t matched = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    batch.Clear();
    bytes = 0;
    for (const std::string& line : lines) {
      gsoc::Event& event = batch.AddEvent();
      gsoc::ParseSyslog(batch.arena().Copy(line), gsoc::SyslogParseContext{}, event, batch,
                        nullptr);
      bytes += event.message.size();
    }
    state.ResumeTiming();
    matched = 0;
    for (gsoc::Event& event : batch.events()) {
      matched += !set.Decode(batch, event, *scratch).empty();
    }
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["decoded_pct"] = 100.0 * static_cast<double>(matched) / lines.size();
  state.counters["decoders"] = static_cast<double>(set.size());
}

BENCHMARK_CAPTURE(BM_Decode, OpenSSH_2k, std::string("loghub/OpenSSH/OpenSSH_2k.log"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decode, Linux_2k, std::string("loghub/Linux/Linux_2k.log"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Decode, ElasticAuth, std::string("elastic-examples-auth/auth.log"))
    ->Unit(benchmark::kMicrosecond);

}  // namespace
