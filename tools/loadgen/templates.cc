#include "tools/loadgen/templates.h"

#include "tools/loadgen/catalog.h"

namespace gsoc::loadgen {

HeaderStyle TemplateGenerator::PickStyle() {
  switch (kind_) {
    case TemplateKind::kRfc3164:
      return HeaderStyle::kRfc3164;
    case TemplateKind::kRfc5424:
      return HeaderStyle::kRfc5424;
    case TemplateKind::kMix:
      break;
  }
  return prng_.Percent(80) ? HeaderStyle::kRfc3164 : HeaderStyle::kRfc5424;
}

RenderedMessage TemplateGenerator::Next(const TimestampSet& now) {
  MessageWriter writer(PickStyle(), hostname_, now);
  RenderCatalogEvent(prng_, writer);
  return writer.Take();
}

std::vector<RenderedMessage> RenderTemplates(TemplateKind kind, const std::string& hostname,
                                             uint64_t seed, size_t count, const TimestampSet& now) {
  TemplateGenerator generator(kind, hostname, seed);
  std::vector<RenderedMessage> messages;
  messages.reserve(count);
  for (size_t i = 0; i < count; ++i) messages.push_back(generator.Next(now));
  return messages;
}

}  // namespace gsoc::loadgen
