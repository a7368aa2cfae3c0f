// The Prometheus endpoint: prometheus-cpp's Exposer serving /metrics.
//
// IngestCollectable turns the per-thread IngestMetrics blocks (and a few
// gauges read through callbacks) into metric families at scrape time; the
// scrape runs on the exposer's own thread. Other stages register their own
// prometheus::Collectable with MetricsServer::Register.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/metrics/counters.h"

namespace gsoc {

// A value read at scrape time: a gauge, or a counter kept elsewhere.
struct GaugeSource {
  std::string name;
  std::string help;
  std::function<double()> read;  // called on the scrape thread
  prometheus::MetricType type = prometheus::MetricType::Gauge;
};

class IngestCollectable : public prometheus::Collectable {
 public:
  IngestCollectable(const IngestMetrics& metrics, std::vector<GaugeSource> gauges)
      : metrics_(metrics), gauges_(std::move(gauges)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const IngestMetrics& metrics_;
  std::vector<GaugeSource> gauges_;
};

// Building families by hand (collectables that keep their own counters).
prometheus::MetricFamily MakeFamily(const char* name, const char* help,
                                    prometheus::MetricType type);
// Adds one sample (a counter or gauge value, per the family's type).
void AddSample(prometheus::MetricFamily& family,
               std::vector<prometheus::ClientMetric::Label> labels, double value);
// A family with a single unlabelled sample.
prometheus::MetricFamily SingleSample(const char* name, const char* help,
                                      prometheus::MetricType type, double value);

// A Collectable whose families come from a callback run at scrape time (on
// the exposer's thread): for stages that keep their own counters.
class CallbackCollectable : public prometheus::Collectable {
 public:
  using Read = std::function<std::vector<prometheus::MetricFamily>()>;
  explicit CallbackCollectable(Read read) : read_(std::move(read)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return read_(); }

 private:
  Read read_;
};

class MetricsServer {
 public:
  // Binds address:port (port 0 = ephemeral). Throws std::runtime_error with
  // the reason when it cannot bind (at start only).
  MetricsServer(const std::string& address, uint16_t port);
  ~MetricsServer();

  void Register(std::shared_ptr<prometheus::Collectable> collectable);
  uint16_t port() const;

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<std::shared_ptr<prometheus::Collectable>> owned_;
};

}  // namespace gsoc
