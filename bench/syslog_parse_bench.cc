// Syslog parser throughput, including the per-message copy into the batch
// arena that a collector does (CopyPadded), in batches of 512 messages with
// batch.Clear() between them. Reports items/s and bytes/s.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "collectors/syslog/syslog_parser.h"

namespace {

constexpr size_t kBatchSize = 512;
constexpr int64_t kReceiveNs = 1'718'000'000'000'000'000;  // 2024-06-10

std::vector<std::string> LoghubLines(const char* relative, const char* pri) {
  std::vector<std::string> out;
  std::ifstream in(std::string(GSOC_CORPUS_DIR) + "/loghub/" + relative);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (!line.empty()) out.push_back(pri + line);
  }
  return out;
}

std::vector<std::string> Rfc5424Messages(bool structured_data) {
  std::vector<std::string> out;
  for (int i = 0; i < 1024; ++i) {
    char buf[512];
    if (structured_data) {
      std::snprintf(buf, sizeof(buf),
                    "<165>1 2024-06-10T12:34:%02d.%06dZ host%03d.example.com evntslog %d ID%d "
                    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"%d\"]"
                    "[origin ip=\"192.0.2.%d\" software=\"app \\\"x\\\"\"] "
                    "An application event log entry number %d",
                    i % 60, i * 37 % 1000000, i % 100, 1000 + i, i % 50, 1011 + i, i % 250, i);
    } else {
      std::snprintf(buf, sizeof(buf),
                    "<34>1 2024-06-10T12:34:%02d.%03d+02:00 mymachine%03d.example.com su %d ID47 - "
                    "'su root' failed for lonvick on /dev/pts/%d",
                    i % 60, i % 1000, i % 100, 2000 + i, i % 16);
    }
    out.emplace_back(buf);
  }
  return out;
}

using ParseFn = bool (*)(std::string_view, const gsoc::SyslogParseContext&, gsoc::Event&,
                         gsoc::EventBatch&, gsoc::ParseError*);

void RunParser(benchmark::State& state, const std::vector<std::string>& messages, ParseFn parse) {
  if (messages.empty()) {
    state.SkipWithError("no input (corpus missing?)");
    return;
  }
  gsoc::EventBatch batch;
  gsoc::SyslogParseContext context;
  context.receive_time_ns = kReceiveNs;
  size_t next = 0, bytes = 0, failures = 0;
  int64_t items = 0;
  for (auto _ : state) {
    batch.Clear();
    for (size_t i = 0; i < kBatchSize; ++i) {
      const std::string& text = messages[next];
      next = next + 1 == messages.size() ? 0 : next + 1;
      const std::string_view copy = batch.arena().CopyPadded(text);
      gsoc::Event& event = batch.AddEvent();
      gsoc::ParseError error;
      failures += !parse(copy, context, event, batch, &error);
      bytes += text.size();
    }
    benchmark::DoNotOptimize(batch.events().data());
    items += kBatchSize;
  }
  if (failures != 0) state.SkipWithError("parse failures in benchmark input");
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Rfc5424_NoSd(benchmark::State& state) {
  static const auto messages = Rfc5424Messages(false);
  RunParser(state, messages, &gsoc::ParseRfc5424);
}
BENCHMARK(BM_Rfc5424_NoSd);

void BM_Rfc5424_Sd(benchmark::State& state) {
  static const auto messages = Rfc5424Messages(true);
  RunParser(state, messages, &gsoc::ParseRfc5424);
}
BENCHMARK(BM_Rfc5424_Sd);

void BM_Rfc3164_OpenSSH(benchmark::State& state) {
  static const auto messages = LoghubLines("OpenSSH/OpenSSH_2k.log", "<38>");
  RunParser(state, messages, &gsoc::ParseRfc3164);
}
BENCHMARK(BM_Rfc3164_OpenSSH);

void BM_Rfc3164_Linux(benchmark::State& state) {
  static const auto messages = LoghubLines("Linux/Linux_2k.log", "<13>");
  RunParser(state, messages, &gsoc::ParseRfc3164);
}
BENCHMARK(BM_Rfc3164_Linux);

// What a listener runs: detection + the right parser.
bool ParseSyslogAdapter(std::string_view message, const gsoc::SyslogParseContext& context,
                        gsoc::Event& event, gsoc::EventBatch& batch, gsoc::ParseError*) {
  gsoc::EventFormat failed;
  return gsoc::ParseSyslog(message, context, event, batch, &failed);
}

void BM_ParseSyslog_Mixed(benchmark::State& state) {
  static const auto messages = [] {
    auto a = LoghubLines("OpenSSH/OpenSSH_2k.log", "<38>");
    const auto b = Rfc5424Messages(true);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }();
  RunParser(state, messages, &ParseSyslogAdapter);
}
BENCHMARK(BM_ParseSyslog_Mixed);

}  // namespace
