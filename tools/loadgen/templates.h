// Built-in message templates: catalog events rendered with an RFC 3164 or
// RFC 5424 header (kMix: 80% RFC 3164, 20% RFC 5424, as a fleet of mixed
// rsyslog/journald forwarders would send). Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/loadgen/message_writer.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/prng.h"
#include "tools/loadgen/timestamps.h"

namespace gsoc::loadgen {

class TemplateGenerator {
 public:
  TemplateGenerator(TemplateKind kind, std::string hostname, uint64_t seed)
      : kind_(kind), hostname_(std::move(hostname)), prng_(seed) {}

  RenderedMessage Next(const TimestampSet& now);

 private:
  HeaderStyle PickStyle();

  TemplateKind kind_;
  std::string hostname_;
  Prng prng_;
};

// `count` messages from a fresh generator.
std::vector<RenderedMessage> RenderTemplates(TemplateKind kind, const std::string& hostname,
                                             uint64_t seed, size_t count, const TimestampSet& now);

}  // namespace gsoc::loadgen
