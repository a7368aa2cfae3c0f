// The Prometheus endpoint: GET /metrics in the text format, served by a small
// asynchronous HTTP/1.1 server (Boost.Beast) that no client can hold: each
// request head must arrive within request_timeout (a partial request is cut
// and counted), each reply must be taken within it, and at most
// max_connections are open; beyond that the oldest connection still waiting
// for its request is closed to make room (counted), so a fresh scrape always
// gets in. One thread serves every connection; the collection runs on it,
// once for every scrape that arrived while the last one ran (a flood of
// scrapes shares collections; each reply holds values read after its
// request arrived).
//
// IngestCollectable turns the per-thread IngestMetrics blocks (and a few
// gauges read through callbacks) into metric families at scrape time. Other
// stages register their own prometheus::Collectable with Register.
//
// Teardown: Stop() (or the destructor) closes every connection and joins the
// thread; after it returns no collectable is called again, so the daemon
// stops the server before it destroys anything a collectable reads.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
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
// The same for a counter or a gauge kept as an integer (a std::atomic
// converts: loaded once, at scrape time).
prometheus::MetricFamily CounterSample(const char* name, const char* help, uint64_t value);
prometheus::MetricFamily GaugeSample(const char* name, const char* help, uint64_t value);

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

struct MetricsServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 9102;  // 0 = ephemeral (tests)
  size_t max_connections = 64;
  std::chrono::milliseconds request_timeout{5000};  // head in, reply out
};

class MetricsServer {
 public:
  // Binds address:port and starts serving. Throws std::runtime_error with
  // the reason when it cannot bind (at start only).
  explicit MetricsServer(const MetricsServerOptions& options);
  MetricsServer(const std::string& address, uint16_t port);
  ~MetricsServer();  // Stop()

  // Any thread, any time: families of `collectable` appear in later scrapes.
  void Register(std::shared_ptr<prometheus::Collectable> collectable);
  uint16_t port() const;
  // Closes the listener and every connection, joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gsoc
