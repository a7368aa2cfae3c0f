// gsoc-loadgen against sinks on 127.0.0.1: as a subprocess and via RunLoad.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "tests/tools/loadgen/loadgen_process.h"
#include "tests/tools/loadgen/test_sink.h"
#include "tools/loadgen/file_source.h"
#include "tools/loadgen/runner.h"

namespace gsoc::loadgen {
namespace {

using testing::TcpSink;
using testing::UdpSink;

const std::string kOpenSsh = std::string(GSOC_CORPUS_DIR) + "/loghub/OpenSSH/OpenSSH_2k.log";

using testing::CsvField;
using testing::ProcessResult;
using testing::RunLoadgen;

Options LocalOptions(uint16_t port) {
  Options options;
  options.port = port;
  options.hostname = "loadgen-test";
  return options;
}

TEST(EndToEnd, SubprocessTcpOctetCountArrivesExactly) {
  TcpSink sink(/*octet_framing=*/true);
  const auto run =
      RunLoadgen("--port " + std::to_string(sink.port()) + " --count 10000 --connections 2 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(10000, 10)) << sink.frames();
  EXPECT_EQ(sink.frames(), 10000u);
  EXPECT_EQ(sink.connections(), 2u);
  EXPECT_EQ(sink.framing_errors(), 0u);
  EXPECT_EQ(CsvField(run.out, "messages"), "10000") << run.out;
  EXPECT_EQ(CsvField(run.out, "bytes"), std::to_string(sink.bytes())) << run.out;
  EXPECT_EQ(CsvField(run.out, "connect_errors"), "0") << run.out;
  // What sending cost the loadgen itself (benches subtract it from the machine).
  EXPECT_GT(std::stod(CsvField(run.out, "send_cpu_s")), 0.0) << run.out;
}

TEST(EndToEnd, SubprocessTcpLfFraming) {
  TcpSink sink(/*octet_framing=*/false);
  const auto run = RunLoadgen("--port " + std::to_string(sink.port()) +
                              " --framing lf --template rfc5424 --count 5000 --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(5000, 10)) << sink.frames();
  EXPECT_EQ(sink.frames(), 5000u);
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST(EndToEnd, SubprocessRateLimitedDuration) {
  TcpSink sink(/*octet_framing=*/true);
  const auto run = RunLoadgen("--port " + std::to_string(sink.port()) +
                              " --rate 20000 --duration 1 --connections 2 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(18000, 10)) << sink.frames();
  EXPECT_NEAR(static_cast<double>(sink.frames()), 20000.0, 2000.0);
  const double elapsed = std::stod(CsvField(run.out, "elapsed_s"));
  EXPECT_NEAR(elapsed, 1.0, 0.1) << run.out;
}

TEST(EndToEnd, SubprocessFileReplaySendsEveryLineOnce) {
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/true);
  const auto run = RunLoadgen("--port " + std::to_string(sink.port()) + " --file " + kOpenSsh +
                              " --connections 2 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(2000, 10)) << sink.frames();
  sink.Stop();
  EXPECT_EQ(sink.frames(), 2000u);
  EXPECT_EQ(CsvField(run.out, "messages"), "2000") << run.out;
  std::vector<std::string> expected;
  std::string error;
  ASSERT_TRUE(ReadLines({kOpenSsh}, expected, error)) << error;
  std::vector<std::string> received = sink.kept_frames();
  std::sort(expected.begin(), expected.end());
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, expected);
}

TEST(EndToEnd, SubprocessConnectFailureExitsNonZero) {
  uint16_t port = 0;
  {
    TcpSink probe(true);  // find a free port, then close it
    port = probe.port();
  }
  const auto run = RunLoadgen("--port " + std::to_string(port) + " --count 10 --csv");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE(run.out.find("connect"), std::string::npos) << run.out;
  EXPECT_EQ(CsvField(run.out, "connect_errors"), "1") << run.out;
}

TEST(EndToEnd, SubprocessUsageErrorExitsNonZero) {
  EXPECT_EQ(RunLoadgen("--transport carrier-pigeon").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--rate 1 --connections 2").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--file /nonexistent.log").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--help").exit_code, 0);
}

TEST(EndToEnd, LibraryUdpDatagramsArrive) {
  UdpSink sink;
  Options options = LocalOptions(sink.port());
  options.transport = Transport::kUdp;
  options.connections = 2;
  options.count = 10000;
  options.rate = 100000;  // UDP has no flow control; don't outrun the sink
  const std::atomic<bool> stop{false};
  const RunResult result = RunLoad(options, stop);
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0]);
  EXPECT_EQ(result.messages, 10000u);
  ASSERT_TRUE(sink.WaitFor(10000, 10)) << sink.datagrams();
  EXPECT_EQ(sink.datagrams(), 10000u);
  EXPECT_EQ(sink.bytes(), result.bytes);
}

TEST(EndToEnd, LibraryUnlimitedRateForADuration) {
  TcpSink sink(/*octet_framing=*/true);
  Options options = LocalOptions(sink.port());
  options.duration_s = 0.3;
  const std::atomic<bool> stop{false};
  const RunResult result = RunLoad(options, stop);
  ASSERT_TRUE(result.ok());
  EXPECT_GT(result.messages, 1000u);
  EXPECT_NEAR(result.elapsed_s, 0.3, 0.1);
  ASSERT_TRUE(sink.WaitFor(result.messages, 10));
  EXPECT_EQ(sink.frames(), result.messages);
}

TEST(EndToEnd, LibraryWrappedFileReplayCycles) {
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/true);
  Options options = LocalOptions(sink.port());
  options.files = {kOpenSsh};
  options.wrap = true;
  options.count = 4500;
  options.connections = 3;
  const std::atomic<bool> stop{false};
  const RunResult result = RunLoad(options, stop);
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(sink.WaitFor(4500, 10));
  sink.Stop();
  for (const std::string& frame : sink.kept_frames()) {
    ASSERT_EQ(frame.substr(0, 4), "<13>") << frame;
    ASSERT_EQ(frame.substr(19, 14), " loadgen-test ") << frame;
  }
}

TEST(EndToEnd, StopFlagEndsAnUnlimitedRun) {
  TcpSink sink(/*octet_framing=*/true);
  Options options = LocalOptions(sink.port());
  options.duration_s = 60;
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  const RunResult result = RunLoad(options, stop);
  stopper.join();
  EXPECT_TRUE(result.ok());
  EXPECT_LT(result.elapsed_s, 5.0);
}

}  // namespace
}  // namespace gsoc::loadgen
