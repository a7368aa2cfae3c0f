#include "engine/pipeline/pipeline_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadPipeline(ConfigReader& reader, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, "pipeline",
                       {"queue_events", "workers", "io_threads", "batch_events", "queue_bytes"}))
    return;
  PipelineConfig& p = config.pipeline;
  reader.Size(node, "queue_events", "pipeline", p.queue_events, 1024, 1ull << 30);
  reader.Size(node, "workers", "pipeline", p.workers, 0, 256);
  reader.Size(node, "io_threads", "pipeline", p.io_threads, 1, 256);
  reader.Size(node, "batch_events", "pipeline", p.batch_events, 1, 65536);
  reader.Size(node, "queue_bytes", "pipeline", p.queue_bytes, 1ull << 20, 1ull << 40);
  if (p.batch_events > p.queue_events / 2) {
    reader.Error(node, "pipeline.batch_events",
                 "must be at most half of queue_events, so a full queue can take a batch "
                 "once it is half drained");
  }
}

const ConfigRegistration kSection{ConfigSection{"pipeline", 20, ReadPipeline}};

}  // namespace

}  // namespace gsoc
