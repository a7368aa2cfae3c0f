// AlertServices: what gsocd does with alerts once detection and correlation
// produce them: the RocksDB store (the AlertSink the detection stage
// publishes to), the live hub, the JSON-lines file and the webhook (fed
// after each commit), the HTTP API, and their metrics.
//
// Ownership: owns all of them. Order of shutdown (Stop): the API first (no
// new readers), then the store commits what is queued, then the outputs
// deliver what they hold (the webhook within its grace period).
// Threading: Open/Start/Stop on the daemon's main thread.
#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/config/config.h"
#include "engine/detect/detection_stage.h"
#include "engine/store/alert_store.h"

namespace gsoc {

struct AlertServicesHooks {
  std::function<std::string()> rules_json;
  std::function<void()> reload;
  std::function<bool()> ready;
  std::function<std::optional<std::string>(std::string_view id, uint64_t revision)>
      rule_detail_json;
};

class AlertServices {
 public:
  // Opens the store and the outputs; throws std::runtime_error with the
  // reason (store locked or corrupt, output file unwritable, bad URL).
  explicit AlertServices(const Config& config);
  ~AlertServices();

  store::AlertStore& store() { return *store_; }
  // Detection alert policy (alerts.min_level, alerts.aggregate): the level
  // below which hits make no alert, and the aggregator (null when off).
  rules::Level min_level() const;
  DetectionAggregator* aggregator();

  // Starts the API (when enabled); throws std::runtime_error when it cannot
  // bind or load its certificate. Returns the API port (0 when disabled).
  uint16_t StartApi(AlertServicesHooks hooks);
  void Stop();

  // Metric families: store, API and webhook.
  std::shared_ptr<prometheus::Collectable> MakeCollectable() const;

 private:
  struct Parts;
  const Config& config_;
  std::unique_ptr<store::AlertStore> store_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace gsoc
