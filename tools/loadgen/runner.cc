#include "tools/loadgen/runner.h"

#include <sys/resource.h>

#include <memory>
#include <thread>

#include "tools/loadgen/channel.h"
#include "tools/loadgen/send_loop.h"
#include "tools/loadgen/workload.h"

namespace gsoc::loadgen {
namespace {

// Let every sender thread get going before the common start.
constexpr std::chrono::milliseconds kStartDelay{5};

// User + system CPU of the whole process so far.
double ProcessCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Connected {
  std::unique_ptr<Channel> channel;
  std::shared_ptr<MessageBuffer> buffer;
};

std::vector<Connected> ConnectAll(const Options& options, const Workload& workload,
                                  RunResult& result) {
  Connector connector;
  std::string error;
  if (!connector.Init(options, error)) {
    result.connect_errors = options.connections;
    result.errors.push_back(error);
    return {};
  }
  std::vector<Connected> connected;
  for (uint32_t i = 0; i < options.connections; ++i) {
    auto channel = connector.Open(error);
    if (!channel) {
      ++result.connect_errors;
      result.errors.push_back(options.host + ":" + std::to_string(options.port) + ": " + error);
      continue;
    }
    connected.push_back(Connected{std::move(channel), workload.buffers[i]});
  }
  return connected;
}

void SendAll(const Options& options, const Workload& workload, std::vector<Connected>& connected,
             const std::atomic<bool>& stop, RunResult& result) {
  const auto count = static_cast<uint32_t>(connected.size());
  const double cpu_before = ProcessCpuSeconds();  // the workload is built: sending starts
  const Clock::time_point start = Clock::now() + kStartDelay;
  std::vector<SendPlan> plans = SplitPlans(options, TotalCount(options, workload), count,
                                           connected.front().buffer->size(), start);
  std::vector<SendStats> stats(count);
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < count; ++i) {
    plans[i].patch_timestamps = workload.owned_buffers;
    plans[i].reconnect_every = options.reconnect_every;
    plans[i].handshakes = options.handshakes;
    threads.emplace_back([&, i] {
      stats[i] = RunSendLoop(*connected[i].channel, *connected[i].buffer, plans[i], stop);
    });
  }
  Clock::time_point last = start;
  for (uint32_t i = 0; i < count; ++i) {
    threads[i].join();
    result.messages += stats[i].messages;
    result.bytes += stats[i].bytes;
    result.reconnects += stats[i].reconnects;
    result.reconnect_s += std::chrono::duration<double>(stats[i].reconnect_time).count();
    last = std::max(last, stats[i].finished);
    if (stats[i].failed) {
      ++result.send_errors;
      result.errors.push_back(stats[i].error);
    }
  }
  result.elapsed_s = std::chrono::duration<double>(last - start).count();
  result.send_cpu_s = ProcessCpuSeconds() - cpu_before;
}

}  // namespace

RunResult RunLoad(const Options& options, const std::atomic<bool>& stop) {
  RunResult result;
  Workload workload;
  std::string error;
  if (!BuildWorkload(options, options.connections, workload, error)) {
    result.errors.push_back(error);
    return result;
  }
  std::vector<Connected> connected = ConnectAll(options, workload, result);
  result.connections = static_cast<uint32_t>(connected.size());
  if (connected.empty()) return result;
  SendAll(options, workload, connected, stop, result);
  return result;
}

}  // namespace gsoc::loadgen
