#include "tools/loadgen/workload.h"

#include <chrono>

#include "tools/loadgen/file_source.h"
#include "tools/loadgen/templates.h"

namespace gsoc::loadgen {
namespace {

std::shared_ptr<MessageBuffer> BufferOf(const std::vector<RenderedMessage>& messages,
                                        Framing framing) {
  auto buffer = std::make_shared<MessageBuffer>(framing);
  size_t bytes = 0;
  for (const RenderedMessage& message : messages) bytes += message.text.size() + 12;
  buffer->Reserve(messages.size(), bytes);
  for (const RenderedMessage& message : messages) buffer->Add(message);
  return buffer;
}

void BuildTemplates(const Options& options, uint32_t connections, Workload& workload) {
  const TimestampSet now = TimestampSet::Now();
  for (uint32_t i = 0; i < connections; ++i) {
    const auto messages = RenderTemplates(options.template_kind, options.hostname, options.seed + i,
                                          options.pool_size, now);
    workload.buffers.push_back(BufferOf(messages, EffectiveFraming(options)));
  }
  workload.owned_buffers = true;
}

bool BuildFiles(const Options& options, uint32_t connections, Workload& workload,
                std::string& error) {
  std::vector<std::string> lines;
  if (!ReadLines(options.files, lines, error)) return false;
  if (lines.empty()) {
    error = "no non-empty lines in the --file inputs";
    return false;
  }
  const TimestampSet now = TimestampSet::Now();
  std::vector<RenderedMessage> messages;
  messages.reserve(lines.size());
  for (const std::string& line : lines) {
    messages.push_back(LineMessage(line, options.wrap, options.hostname, now));
  }
  workload.owned_buffers = options.wrap;
  workload.default_count = messages.size();
  const auto shared = BufferOf(messages, EffectiveFraming(options));
  for (uint32_t i = 0; i < connections; ++i) {
    workload.buffers.push_back(i == 0 || !options.wrap ? shared
                                                       : std::make_shared<MessageBuffer>(*shared));
  }
  return true;
}

uint64_t ShareOf(uint64_t total, uint32_t parts, uint32_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

}  // namespace

bool BuildWorkload(const Options& options, uint32_t connections, Workload& workload,
                   std::string& error) {
  workload = Workload{};
  if (options.files.empty()) {
    BuildTemplates(options, connections, workload);
    return true;
  }
  return BuildFiles(options, connections, workload, error);
}

uint64_t TotalCount(const Options& options, const Workload& workload) {
  if (options.count) return *options.count;
  if (options.duration_s) return Pacer::kUnlimited;
  if (options.handshakes) return kDefaultHandshakes;
  return workload.default_count;
}

std::vector<SendPlan> SplitPlans(const Options& options, uint64_t total, uint32_t connections,
                                 size_t buffer_size, Clock::time_point start) {
  std::vector<SendPlan> plans(connections);
  uint64_t first = 0;
  for (uint32_t i = 0; i < connections; ++i) {
    SendPlan& plan = plans[i];
    const bool unlimited = total == Pacer::kUnlimited;
    plan.count = unlimited ? Pacer::kUnlimited : ShareOf(total, connections, i);
    plan.start_index = unlimited ? buffer_size * i / connections : first % buffer_size;
    first += unlimited ? 0 : plan.count;
    plan.rate = ShareOf(options.rate, connections, i);
    plan.start = start;
    if (options.duration_s) {
      plan.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(*options.duration_s));
    }
  }
  return plans;
}

}  // namespace gsoc::loadgen
