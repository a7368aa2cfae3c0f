#include "engine/daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <thread>

#include "collectors/agency/agency_table.h"
#include "collectors/listener/listener.h"
#include "engine/daemon/alert_services.h"
#include "engine/detect/correlation_service.h"
#include "engine/detect/detection_stage.h"
#include "engine/detect/rule_reloader.h"
#include "engine/metrics/metrics_server.h"
#include "engine/pipeline/event_file_stage.h"
#include "engine/pipeline/pipeline.h"
#include "engine/util/json_writer.h"

namespace gsoc {

namespace asio = boost::asio;

struct Daemon::State {
  Config config;
  DaemonOptions options;
  AgencyTable agencies;
  IngestMetrics metrics;
  Pipeline pipeline;
  asio::io_context io;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unique_ptr<MetricsServer> metrics_server;
  std::unique_ptr<AlertServices> alerts;  // store, outputs, API
  std::unique_ptr<CorrelationService> correlation;
  DetectionStage* detection = nullptr;  // owned by the pipeline
  std::unique_ptr<RuleReloader> reloader;

  State(Config c, DaemonOptions o)
      : config(std::move(c)),
        options(std::move(o)),
        agencies(config.agencies, config.allow_unknown_agency),
        metrics(ListenerNames(config), agencies.names()),
        pipeline(config.pipeline, metrics) {}

  static std::vector<std::string> ListenerNames(const Config& config) {
    std::vector<std::string> names;
    for (const auto& listener : config.listeners) names.push_back(listener.name);
    return names;
  }
};

Daemon::Daemon(Config config, DaemonOptions options)
    : state_(std::make_unique<State>(std::move(config), std::move(options))) {}

Daemon::~Daemon() = default;

namespace {

void PrepareDataDir(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0750);
}

void WritePortsFile(const std::filesystem::path& path,
                    const std::vector<std::pair<std::string, uint16_t>>& ports) {
  std::string json = "{";
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i) json += ", ";
    AppendJsonString(json, ports[i].first);
    json += ": " + std::to_string(ports[i].second);
  }
  json += "}\n";
  const auto temporary = path.string() + ".tmp";
  std::ofstream(temporary) << json;
  std::filesystem::rename(temporary, path);  // readers never see half a file
}

RuleSources SourcesFrom(const Config& config, const std::vector<std::string>& agency_names) {
  RuleSources sources;
  sources.rule_paths = config.rules.sigma;
  sources.decoder_paths = config.rules.decoders;
  sources.logsources = config.rules.logsources;
  for (const auto& list : config.rules.lists) {
    sources.lists.push_back({list.name, list.file, list.column});
  }
  sources.cache_dir = config.rules.cache_dir;
  for (const auto& listener : config.listeners) sources.listener_names.push_back(listener.name);
  sources.agency_names = agency_names;
  return sources;
}

// Detection (decoders + Sigma rules) when the config has a rules section.
// False when the initial rule set cannot be built.
bool SetUpDetection(Daemon::State& s) {
  if (!s.config.rules.enabled) return true;
  try {
    s.alerts = std::make_unique<AlertServices>(s.config);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return false;
  }
  s.correlation = std::make_unique<CorrelationService>(s.config.correlation, s.agencies.names(),
                                                       s.alerts->store().MakeCheckpointStore());
  // Batches reach the correlator in input order, whichever worker matched them.
  s.correlation->correlator().ExpectSequence(s.pipeline.queue().first_event_id());
  auto stage = std::make_unique<DetectionStage>(nullptr, &s.alerts->store(), s.agencies.names(),
                                                &s.correlation->correlator());
  s.detection = stage.get();
  s.pipeline.AddStage(std::move(stage));
  s.reloader = std::make_unique<RuleReloader>(SourcesFrom(s.config, s.agencies.names()),
                                              s.config.rules.strict, *s.detection);
  if (!s.reloader->LoadNow()) return false;
  s.correlation->Restore(*s.detection->current()->correlations);
  return true;
}

// The API, once the rule set is loaded. False when it cannot start.
bool StartApi(Daemon::State& s, std::vector<std::pair<std::string, uint16_t>>& ports) {
  if (!s.alerts || !s.config.api.enabled) return true;
  AlertServicesHooks hooks;
  hooks.rules_json = [&s] {
    const auto engine = s.detection->current();
    return engine ? RuleSetJson(*engine, s.reloader->rules_refused()) : std::string("{}");
  };
  hooks.reload = [&s] { s.reloader->Reload(); };
  hooks.ready = [&s] { return s.detection->current() != nullptr; };
  try {
    ports.emplace_back("api", s.alerts->StartApi(std::move(hooks)));
  } catch (const std::exception& e) {
    spdlog::error("API: {}", e.what());
    return false;
  }
  return true;
}

}  // namespace

int Daemon::Run() {
  State& s = *state_;
  PrepareDataDir(s.config.data_dir);
  if (!SetUpDetection(s)) return 1;
  if (!s.config.events_file.empty()) {
    s.pipeline.AddStage(std::make_unique<EventFileStage>(
        s.config.events_file, State::ListenerNames(s.config), s.agencies.names()));
  }
  std::vector<std::pair<std::string, uint16_t>> ports;
  if (s.config.metrics.enabled) {
    s.metrics_server =
        std::make_unique<MetricsServer>(s.config.metrics.address, s.config.metrics.port);
    const BatchQueue& queue = s.pipeline.queue();
    std::vector<GaugeSource> gauges{
        {"gsoc_queue_events", "Events waiting between collectors and engine",
         [&queue] { return static_cast<double>(queue.events()); }},
        {"gsoc_queue_capacity_events", "Bound of the collector-to-engine queue",
         [&queue] { return static_cast<double>(queue.capacity()); }},
        {"gsoc_queue_full_total",
         "Batches refused because the queue was full (TCP then waits, UDP drops)",
         [&queue] { return static_cast<double>(queue.full_count()); },
         prometheus::MetricType::Counter}};
    if (s.correlation) {
      for (auto& gauge : s.correlation->Metrics()) gauges.push_back(std::move(gauge));
    }
    s.metrics_server->Register(std::make_shared<IngestCollectable>(s.metrics, std::move(gauges)));
    if (s.reloader) s.metrics_server->Register(s.reloader->MakeCollectable());
    if (s.alerts) s.metrics_server->Register(s.alerts->MakeCollectable());
    ports.emplace_back("metrics", s.metrics_server->port());
    spdlog::info("metrics on http://{}:{}/metrics", s.config.metrics.address,
                 s.metrics_server->port());
  }
  for (size_t i = 0; i < s.config.listeners.size(); ++i) {
    ListenerContext context;
    context.config = s.config.listeners[i];
    context.index = static_cast<uint16_t>(i);
    context.agencies = &s.agencies;
    context.metrics = &s.metrics;
    context.input = &s.pipeline.input();
    context.batch_events = s.config.pipeline.batch_events;
    context.utc_offset_seconds = s.config.utc_offset_seconds;
    context.max_clock_skew_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(s.config.max_clock_skew).count();
    s.listeners.push_back(MakeListener(s.io, std::move(context)));
    s.listeners.back()->Start();
    ports.emplace_back(s.config.listeners[i].name, s.listeners.back()->port());
  }
  s.pipeline.Start();
  if (s.correlation) s.correlation->Start(*s.detection, &s.alerts->store());
  if (!StartApi(s, ports)) {
    for (auto& listener : s.listeners) listener->Stop();
    s.pipeline.Stop();
    return 1;
  }

  auto work = asio::make_work_guard(s.io);
  asio::signal_set signals(s.io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& error, int signal) {
        if (error) return;
        if (signal == SIGHUP) {
          if (s.reloader) {
            spdlog::info("SIGHUP: reloading rules, decoders and lists");
            s.reloader->Reload();
          } else {
            spdlog::info("SIGHUP: no rules configured; listeners and agencies need a restart");
          }
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("signal {}: stopping; handing on everything accepted", signal);
        for (auto& listener : s.listeners) listener->Stop();
        signals.cancel();  // a second signal now takes the default action
        signals.clear();
        work.reset();
      };
  signals.async_wait(on_signal);
  if (!s.options.ports_file.empty()) WritePortsFile(s.options.ports_file, ports);
  spdlog::info("gsocd {} ready: {} listener(s), {} worker(s), data in {}", GSOC_VERSION,
               s.listeners.size(), s.pipeline.workers(), s.config.data_dir.string());

  std::vector<std::thread> io_threads;
  for (size_t i = 1; i < s.config.pipeline.io_threads; ++i) {
    io_threads.emplace_back([&] { s.io.run(); });
  }
  // When the work guard is gone, run() returns once every session has closed.
  s.io.run();
  for (auto& thread : io_threads) thread.join();
  if (s.reloader) s.reloader->WaitIdle();
  s.pipeline.Stop();
  if (s.correlation) {
    s.correlation->Stop();  // after the drain: the last checkpoint sees it all
    s.alerts->Stop();       // API closed, everything committed, outputs delivered
  }
  spdlog::info("stopped: {} events processed", s.metrics.SumEventsProcessed());
  return 0;
}

}  // namespace gsoc
