// JSON lines parsing and stream framing benchmarks (gsoc_bench_parsers).
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include "collectors/framing/stream_framer.h"
#include "collectors/json/json_parser.h"
#include "engine/util/json_writer.h"

namespace gsoc {
namespace {

constexpr size_t kMaxLines = 20'000;
constexpr size_t kBatchSize = 512;

std::vector<std::string> ReadLines(const char* path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (out.size() < kMaxLines && std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

const std::vector<std::string>& ZeekLines() {
  static const std::vector<std::string> lines =
      ReadLines(GSOC_CORPUS_DIR "/otrf-security-datasets/apt29_zeek/day1_combined_zeek.jsonl");
  return lines;
}

// Windows events in NXLog shape (~1.5 KB, ~40 members, paths with escaped
// backslashes).
const std::vector<std::string>& WindowsLines() {
  static const std::vector<std::string> lines =
      ReadLines(GSOC_CORPUS_DIR
                "/otrf-security-datasets/windows_atomic_lsass_comsvcs/"
                "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json");
  return lines;
}

// Per line: CopyPadded into the batch arena + Parse; batches of 512, Clear().
void ParseLines(benchmark::State& state, const std::vector<std::string>& lines) {
  if (lines.empty()) {
    state.SkipWithError("corpus missing");
    return;
  }
  JsonLineParser parser;
  EventBatch batch;
  SyslogParseContext context;
  context.receive_time_ns = 1'700'000'000'000'000'000;
  size_t next = 0, items = 0, bytes = 0, failures = 0, fields = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatchSize; ++i) {
      const std::string& line = lines[next];
      next = next + 1 == lines.size() ? 0 : next + 1;
      const std::string_view copy = batch.arena().CopyPadded(line);
      Event& event = batch.AddEvent();
      ParseError error;
      failures += !parser.Parse(copy, context, event, batch, &error);
      fields += event.fields_count;
      bytes += line.size();
    }
    items += kBatchSize;
    benchmark::DoNotOptimize(batch.events().data());
    batch.Clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["fields/line"] = items ? static_cast<double>(fields) / items : 0;
  if (failures > 0) state.SkipWithError("parse failures");
}
void BM_JsonParseZeekLines(benchmark::State& state) { ParseLines(state, ZeekLines()); }
BENCHMARK(BM_JsonParseZeekLines);
void BM_JsonParseWindowsLines(benchmark::State& state) { ParseLines(state, WindowsLines()); }
BENCHMARK(BM_JsonParseWindowsLines);

// Escaping a JSON line as a JSON string, as alert JSON does with each
// alert's raw line (a Windows line has a quote or backslash every few
// bytes), by each of AppendJsonString's paths: Arg 0 byte by byte, 1 SSE2
// blocks, 2 AVX-512 VBMI2 blocks (what AppendJsonString takes where the
// CPU has it).
void BM_JsonEscapeWindowsLines(benchmark::State& state) {
  using json_writer_internal::EscapePath;
  const std::vector<std::string>& lines = WindowsLines();
  const auto path = static_cast<EscapePath>(state.range(0));
  if (lines.empty() || !json_writer_internal::HasEscapePath(path)) {
    state.SkipWithError(lines.empty() ? "corpus missing" : "path not on this CPU");
    return;
  }
  std::string out;
  size_t bytes = 0, items = 0;
  for (auto _ : state) {
    for (const std::string& line : lines) {
      out.clear();
      json_writer_internal::AppendJsonStringBy(path, out, line);
      benchmark::DoNotOptimize(out.data());
      bytes += line.size();
    }
    items += lines.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonEscapeWindowsLines)->Arg(0)->Arg(1)->Arg(2);

// 64 KiB of syslog frames, alternating octet-counted and LF-terminated.
std::string MixedSyslogBuffer() {
  std::string buffer;
  int i = 0;
  while (buffer.size() < 64 * 1024) {
    const std::string message = "<38>1 2024-01-05T10:00:00.123Z host-" + std::to_string(i % 97) +
                                " sshd 4242 - - Failed password for invalid user admin from "
                                "203.0.113." +
                                std::to_string(i % 250) + " port " + std::to_string(40000 + i) +
                                " ssh2";
    if (i % 2 == 0) {
      buffer += std::to_string(message.size()) + " " + message;
    } else {
      buffer += message + "\n";
    }
    ++i;
  }
  return buffer;
}

void BM_FramerMixed64KiB(benchmark::State& state) {
  const std::string buffer = MixedSyslogBuffer();
  size_t frames = 0, bytes = 0;
  for (auto _ : state) {
    StreamFramer framer(FramingMode::kSyslog, 64 * 1024);
    const FeedResult result = framer.Feed(
        buffer,
        [&](std::string_view frame) {
          benchmark::DoNotOptimize(frame.data());
          ++frames;
        },
        [] {});
    bytes += result.consumed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_FramerMixed64KiB);

void BM_FramerJsonLines64KiB(benchmark::State& state) {
  std::string buffer;
  for (const std::string& line : ZeekLines()) {
    if (buffer.size() + line.size() + 1 > 64 * 1024) break;
    buffer += line;
    buffer += '\n';
  }
  size_t frames = 0, bytes = 0;
  for (auto _ : state) {
    StreamFramer framer(FramingMode::kLinesOnly, 64 * 1024);
    const FeedResult result = framer.Feed(
        buffer,
        [&](std::string_view frame) {
          benchmark::DoNotOptimize(frame.data());
          ++frames;
        },
        [] {});
    bytes += result.consumed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_FramerJsonLines64KiB);

}  // namespace
}  // namespace gsoc
