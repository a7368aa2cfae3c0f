#include "engine/store/store_config.h"

#include <yaml-cpp/yaml.h>

#include "engine/config/config.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

void ReadStore(ConfigReader& reader, const YAML::Node& node, Config& config) {
  StoreConfig& store = config.store;
  store.path = config.data_dir / "alerts.db";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(
          node, "store",
          {"path", "sync", "max_batch_alerts", "queue_alerts", "retention_age", "retention_size",
           "retention_interval", "block_cache_size", "memtable_size"})) {
    return;
  }
  std::string path;
  reader.Scalar(node, "path", "store", path);
  if (!path.empty()) store.path = reader.Resolve(path);
  reader.Scalar(node, "sync", "store", store.sync);
  if (store.sync != "always" && store.sync != "batch" && store.sync != "none") {
    reader.Error(node["sync"], "store.sync", "expected always, batch or none");
  }
  reader.Size(node, "max_batch_alerts", "store", store.max_batch_alerts, 1, 1 << 20);
  reader.Size(node, "queue_alerts", "store", store.queue_alerts, 1, 1ull << 30);
  std::chrono::milliseconds age = store.retention_age;
  reader.Millis(node, "retention_age", "store", age, 0);
  store.retention_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  size_t bytes = store.retention_bytes;
  reader.Size(node, "retention_size", "store", bytes, 0, 1ull << 50);
  store.retention_bytes = bytes;
  reader.Millis(node, "retention_interval", "store", store.retention_interval, 100);
  reader.Size(node, "block_cache_size", "store", store.block_cache_bytes, 1 << 20, 1ull << 40);
  reader.Size(node, "memtable_size", "store", store.memtable_bytes, 8 << 20, 1ull << 40);
}

const ConfigRegistration kSection{ConfigSection{"store", 60, ReadStore}};

}  // namespace

}  // namespace gsoc
