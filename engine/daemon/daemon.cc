#include "engine/daemon/daemon.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <fstream>
#include <thread>

#include "collectors/agency/agency_table.h"
#include "collectors/json/json_parse_stage.h"
#include "collectors/listener/listener.h"
#include "engine/cluster/cluster_publish_stage.h"
#include "engine/cluster/correlate_role.h"
#include "engine/cluster/detect_role.h"
#include "engine/cluster/jetstream.h"
#include "engine/cluster/node_registry.h"
#include "engine/cluster/store_role.h"
#include "engine/daemon/alert_services.h"
#include "engine/daemon/signals.h"
#include "engine/daemon/systemd.h"
#include "engine/detect/correlation_service.h"
#include "engine/detect/detection_stage.h"
#include "engine/detect/rule_reloader.h"
#include "engine/metrics/metrics_server.h"
#include "engine/pipeline/event_file_stage.h"
#include "engine/pipeline/pipeline.h"
#include "engine/util/json_writer.h"
#include "engine/util/saturating.h"

namespace gsoc {

namespace asio = boost::asio;

// Members are declared in dependency order: each one may use those above
// it, never those below. Destruction runs bottom-up, so a user is always gone
// before what it uses (the metrics server before everything it reads, the
// listeners before the pipeline they feed, the pipeline, whose detection
// stage flushes into the store, before the correlation service and the store).
// Shutdown() stops the threads in the same order before any of this runs.
struct Daemon::State {
  Config config;
  DaemonOptions options;
  AgencyTable agencies;
  IngestMetrics metrics;
  asio::io_context io;
  std::unique_ptr<JetStreamClient> cluster;  // with a cluster section (engine/cluster)
  std::unique_ptr<AlertServices> alerts;     // store, outputs, API
  std::unique_ptr<CorrelationService> correlation;
  // The local detection stage's DeferredParser (SetUpDetection), outliving
  // the pipeline's workers; null when it runs as the pipeline's first stage.
  std::unique_ptr<JsonParseStage> json_parse;
  Pipeline pipeline;
  DetectionStage* detection = nullptr;             // owned by the pipeline
  ClusterPublishStage* cluster_publish = nullptr;  // owned by the pipeline (ingest role)
  std::unique_ptr<DetectRole> detect_role;         // cluster detect role (owns its stage)
  // A correlate node without the detect role: the stage only holds its rule set.
  std::unique_ptr<DetectionStage> correlate_stage;
  std::unique_ptr<RuleReloader> reloader;
  std::unique_ptr<CorrelateRole> correlate_role;  // cluster correlate role (reads the rule set)
  std::unique_ptr<StoreRole> store_role;          // cluster store role (writes into alerts)
  std::unique_ptr<NodeRegistry> node_registry;    // cluster node: node.<name> in GSOC_NODES
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unique_ptr<MetricsServer> metrics_server;
  bool pipeline_started = false;
  bool correlation_started = false;

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

// Creates the data dir (0750) when missing. An existing directory keeps its
// owner and mode: data_dir may be shared (e.g. /var/log), never ours to chmod.
void PrepareDataDir(const std::filesystem::path& dir) {
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0750) == 0) {
    ::chmod(dir.c_str(), 0750);  // exactly 0750, whatever the umask
  } else if (errno != EEXIST) {
    throw std::filesystem::filesystem_error("cannot create the data dir", dir,
                                            std::error_code(errno, std::generic_category()));
  }
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
  sources.statuses = config.rules.status;
  sources.min_level = config.rules.min_level;
  for (const auto& list : config.rules.lists) {
    sources.lists.push_back({list.name, list.file, list.column});
  }
  sources.cache_dir = config.rules.cache_dir;
  sources.limits = RuleLimitsFrom(config.rules);
  for (const auto& listener : config.listeners) sources.listener_names.push_back(listener.name);
  sources.agency_names = agency_names;
  return sources;
}

// Every rule of the set with its revision and detail, for the store to keep
// (GET /api/v1/alerts/{id} shows an alert's rule as it was when it fired).
std::vector<store::RuleRevisionDetail> RuleRevisionDetails(const RuleEngine& engine) {
  std::vector<store::RuleRevisionDetail> details;
  for (const rules::Rule& rule : engine.matcher->rules())
    details.push_back({rule.revision, rule.id, RuleDetailJson(rule)});
  for (const correlate::CorrelationRule& rule : engine.correlations->rules)
    details.push_back({rule.revision, rule.id, RuleDetailJson(rule)});
  return details;
}

rules::Level MinLevel(const Config& config) {
  for (int level = 0; level <= static_cast<int>(rules::Level::kCritical); ++level) {
    if (config.alerts.min_level == rules::LevelName(static_cast<rules::Level>(level))) {
      return static_cast<rules::Level>(level);
    }
  }
  return rules::Level::kInformational;
}

// The listener names rules resolve decoder filters by: this node's, or on a
// cluster detect node without listeners, those the ingest nodes have.
std::vector<std::string> RuleListenerNames(const Config& config) {
  if (config.listeners.empty()) return config.cluster.listeners;
  return Daemon::State::ListenerNames(config);
}

// Loads the rule set into `stage` and keeps it reloadable (SIGHUP, API).
bool StartRules(Daemon::State& s, DetectionStage& stage) {
  RuleSources sources = SourcesFrom(s.config, s.agencies.names());
  sources.listener_names = RuleListenerNames(s.config);
  s.detection = &stage;
  s.reloader = std::make_unique<RuleReloader>(std::move(sources), s.config.rules.strict, stage);
  if (s.alerts) {
    s.reloader->SetSwapListener([&store = s.alerts->store()](const RuleEngine& engine) {
      store.ArchiveRuleRevisions(RuleRevisionDetails(engine));
    });
  }
  return s.reloader->LoadNow();
}

// Detection (decoders + Sigma rules) when the config has a rules section.
// False when the initial rule set cannot be built. A cluster node's rules
// run in its detect role instead (SetUpCluster).
// Takes `json_parse` for the stage to parse each JSON line just before it
// matches it (engine/event/deferred_parser.h); leaves it when no local
// detection stage runs.
bool SetUpDetection(Daemon::State& s, std::unique_ptr<JsonParseStage>& json_parse) {
  if (!s.config.rules.enabled || s.config.cluster.enabled) return true;
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
  stage->SetAlertPolicy(s.alerts->min_level(), s.alerts->aggregator());
  s.json_parse = std::move(json_parse);
  stage->SetDeferredParser(s.json_parse.get());
  DetectionStage& detection = *stage;
  s.pipeline.AddStage(std::move(stage));
  if (!StartRules(s, detection)) return false;
  s.correlation->Restore(*s.detection->current()->correlations);
  return true;
}

// The store and detect roles of a cluster node (engine/cluster/README.md).
bool SetUpClusterRoles(Daemon::State& s) {
  const ClusterConfig& config = s.config.cluster;
  if (config.HasRole(ClusterRole::kStore)) {
    try {
      s.alerts = std::make_unique<AlertServices>(s.config);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return false;
    }
    StoreRoleOptions options;
    options.node = config.node;
    s.store_role = StoreRole::Create(*s.cluster, s.alerts->store(), std::move(options));
  }
  if (config.HasRole(ClusterRole::kDetect)) {
    DetectRoleOptions options;
    options.consumers = DetectConsumerThreads(config);
    options.agency_names = s.agencies.names();
    options.listener_count = RuleListenerNames(s.config).size();
    options.aggregate = s.config.alerts.aggregate.enabled;
    options.aggregate_group_by = s.config.alerts.aggregate.group_by;
    options.aggregate_max_event_bytes = s.config.alerts.aggregate.max_event_bytes;
    s.detect_role = DetectRole::Create(*s.cluster, std::move(options), MinLevel(s.config));
    if (!StartRules(s, s.detect_role->stage())) return false;
  }
  if (config.HasRole(ClusterRole::kCorrelate)) {
    DetectionStage* stage = s.detect_role ? &s.detect_role->stage() : nullptr;
    if (stage == nullptr) {
      s.correlate_stage =
          std::make_unique<DetectionStage>(nullptr, nullptr, s.agencies.names(), nullptr);
      if (!StartRules(s, *s.correlate_stage)) return false;
      stage = s.correlate_stage.get();
    }
    CorrelateRoleOptions options;
    options.agency_names = s.agencies.names();
    options.correlator = CorrelatorOptionsFrom(s.config.correlation);
    options.checkpoint_interval = config.checkpoint_interval;
    const AggregateConfig& aggregate = s.config.alerts.aggregate;
    options.aggregator.period_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(aggregate.period).count();
    options.aggregator.max_open = aggregate.max_open;
    options.aggregator.max_bytes = aggregate.max_bytes;
    options.aggregator.max_events = aggregate.max_events;
    options.update_interval = aggregate.update_interval;
    // Hits waiting in this process, per partition: bounded in bytes (a few
    // messages' worth). The count bound stays out of the way: the server
    // pushes a partition's small messages up to its flow-control window,
    // and 64 made libnats drop them as a slow consumer and the role make the
    // consumer again, thousands of times a run (bench/cluster_e2e.sh).
    options.max_pending_messages = 8192;
    options.max_pending_bytes =
        static_cast<int>(std::max<size_t>(size_t{1} << 20, 4 * config.max_batch_bytes));
    s.correlate_role =
        CorrelateRole::Create(*s.cluster, std::move(options),
                              [stage]() -> std::shared_ptr<const correlate::CorrelationSet> {
                                const auto engine = stage->current();
                                return engine ? engine->correlations : nullptr;
                              });
  }
  return true;
}

// With a cluster section: the JetStream connection and streams, and the
// ingest role's publish stage. False (logged) when the cluster is unreachable.
bool SetUpCluster(Daemon::State& s) {
  const ClusterConfig& config = s.config.cluster;
  if (!config.enabled) return true;
  std::string error;
  s.cluster = JetStreamClient::Connect(config, std::chrono::seconds(30), &error);
  StreamLimits limits;
  limits.max_bytes = static_cast<int64_t>(config.stream_max_bytes);
  if (!s.cluster || !s.cluster->EnsureStreams(limits, std::chrono::seconds(60), &error)) {
    spdlog::error("cluster: {}", error);
    return false;
  }
  if (config.HasRole(ClusterRole::kIngest)) {
    auto stage =
        ClusterPublishStage::Create(*s.cluster, s.agencies.names(), s.pipeline.workers(), &error);
    if (!stage) {
      spdlog::error("cluster: {}", error);
      return false;
    }
    s.cluster_publish = stage.get();
    s.pipeline.AddStage(std::move(stage));
  }
  if (!SetUpClusterRoles(s)) return false;
  spdlog::info("cluster: node {} on {} (replicas {})", config.node, s.cluster->ConnectedUrl(),
               config.replicas);
  return true;
}

// The API, once the rule set is loaded. False when it cannot start.
bool StartApi(Daemon::State& s, std::vector<std::pair<std::string, uint16_t>>& ports) {
  if (!s.alerts || !s.config.api.enabled) return true;
  AlertServicesHooks hooks;
  hooks.rules_json = [&s] {
    const auto engine = s.detection ? s.detection->current() : nullptr;
    return engine ? RuleSetJson(*engine, s.reloader->rules_refused()) : std::string("{}");
  };
  hooks.rule_detail_json = [&s](std::string_view id,
                                uint64_t revision) -> std::optional<std::string> {
    if (revision != 0) {
      if (auto kept = s.alerts->store().RuleRevision(id, revision)) return kept;
    }
    const auto engine = s.detection ? s.detection->current() : nullptr;
    return engine ? RuleDetailJson(*engine, id) : std::nullopt;
  };
  hooks.reload = [&s] {
    if (s.reloader) s.reloader->Reload();
  };
  // A cluster store node without the detect role runs no rules: ready with
  // its store, while its role consumes.
  hooks.ready = [&s] {
    return (!s.detection || s.detection->current() != nullptr) &&
           (!s.store_role || s.store_role->healthy());
  };
  try {
    ports.emplace_back("api", s.alerts->StartApi(std::move(hooks)));
  } catch (const std::exception& e) {
    spdlog::error("API: {}", e.what());
    return false;
  }
  return true;
}

// "http://address:port" (IPv6 in brackets) for the node registry.
std::string HttpUrl(bool tls, const std::string& address, uint16_t port, std::string_view path) {
  const bool v6 = address.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + address + "]" : address) + ":" +
         std::to_string(port) + std::string(path);
}

// A cluster node says it is alive, with its roles and the addresses it
// serves (the ports bound), in GSOC_NODES (engine/cluster/README.md). Last,
// so a node is listed once it serves. False (logged) when it cannot.
bool StartNodeRegistry(Daemon::State& s,
                       const std::vector<std::pair<std::string, uint16_t>>& ports) {
  if (!s.cluster) return true;
  NodeRegistryOptions options = NodeRegistryOptions::FromConfig(s.config.cluster);
  // StartApi added the API's port last (a listener may be named "api" too).
  if (s.alerts && s.config.api.enabled && !ports.empty() && ports.back().first == "api") {
    options.record.api = HttpUrl(!s.config.api.tls_certificate.empty(), s.config.api.address,
                                 ports.back().second, "");
  }
  if (s.metrics_server) {
    options.record.metrics =
        HttpUrl(false, s.config.metrics.address, s.metrics_server->port(), "/metrics");
  }
  std::string error;
  s.node_registry = NodeRegistry::Start(*s.cluster, std::move(options), &error);
  if (!s.node_registry) {
    spdlog::error("cluster: node registry: {}", error);
    return false;
  }
  if (s.metrics_server) s.metrics_server->Register(s.node_registry->MakeCollectable());
  return true;
}

void StartMetrics(Daemon::State& s, std::vector<std::pair<std::string, uint16_t>>& ports) {
  if (!s.config.metrics.enabled) return;
  MetricsServerOptions options;
  options.address = s.config.metrics.address;
  options.port = s.config.metrics.port;
  options.max_connections = s.config.metrics.max_connections;
  options.request_timeout = s.config.metrics.request_timeout;
  s.metrics_server = std::make_unique<MetricsServer>(options);
  std::vector<GaugeSource> gauges = s.pipeline.Gauges();
  if (s.correlation) {
    for (auto& gauge : s.correlation->Metrics()) gauges.push_back(std::move(gauge));
  }
  s.metrics_server->Register(std::make_shared<IngestCollectable>(s.metrics, std::move(gauges)));
  if (s.reloader) s.metrics_server->Register(s.reloader->MakeCollectable());
  if (s.alerts) s.metrics_server->Register(s.alerts->MakeCollectable());
  if (s.cluster_publish) s.metrics_server->Register(s.cluster_publish->MakeCollectable());
  if (s.detect_role) {
    for (auto& collectable : s.detect_role->MakeCollectables())
      s.metrics_server->Register(std::move(collectable));
  }
  if (s.store_role) {
    for (auto& collectable : s.store_role->MakeCollectables())
      s.metrics_server->Register(std::move(collectable));
  }
  ports.emplace_back("metrics", s.metrics_server->port());
  spdlog::info("metrics on http://{}:{}/metrics", s.config.metrics.address,
               s.metrics_server->port());
}

void StartListeners(Daemon::State& s, std::vector<std::pair<std::string, uint16_t>>& ports) {
  for (size_t i = 0; i < s.config.listeners.size(); ++i) {
    ListenerContext context;
    context.config = s.config.listeners[i];
    context.index = static_cast<uint16_t>(i);
    context.agencies = &s.agencies;
    context.metrics = &s.metrics;
    context.input = &s.pipeline.input();
    context.batch_events = s.config.pipeline.batch_events;
    context.utc_offset_seconds = s.config.utc_offset_seconds;
    context.max_clock_skew_ns = SaturatingNanos(s.config.max_clock_skew);
    context.defer_json_parse = true;  // JsonParseStage parses them (StartAll)
    s.listeners.push_back(MakeListener(s.io, std::move(context)));
    s.listeners.back()->Start();
    if (auto collectable = s.listeners.back()->MakeCollectable(); collectable && s.metrics_server) {
      s.metrics_server->Register(std::move(collectable));
    }
    ports.emplace_back(s.config.listeners[i].name, s.listeners.back()->port());
  }
}

// Everything up to "ready". False (logged) when something cannot start;
// throws what a component throws.
bool StartAll(Daemon::State& s, std::vector<std::pair<std::string, uint16_t>>& ports) {
  PrepareDataDir(s.config.data_dir);
  // StartListeners defers the JSON lines' parse. The local detection stage
  // parses them, one event just before it matches it; without one, the
  // parse runs first, so that every later stage (a cluster node's
  // publishing, the events file) sees them parsed.
  auto json_parse =
      std::make_unique<JsonParseStage>(s.metrics, SaturatingNanos(s.config.max_clock_skew));
  if (!SetUpDetection(s, json_parse)) return false;
  if (json_parse) s.pipeline.AddStage(std::move(json_parse));
  if (!SetUpCluster(s)) return false;
  if (!s.config.events_file.empty()) {
    s.pipeline.AddStage(std::make_unique<EventFileStage>(
        s.config.events_file, Daemon::State::ListenerNames(s.config), s.agencies.names()));
  }
  StartMetrics(s, ports);
  StartListeners(s, ports);
  s.pipeline.Start();
  s.pipeline_started = true;
  if (s.correlation) {
    s.correlation->Start(*s.detection, &s.alerts->store());
    s.correlation_started = true;
  }
  if (s.store_role) s.store_role->Start();
  if (s.detect_role) s.detect_role->Start();
  if (s.correlate_role) {
    std::string error;
    if (!s.correlate_role->Start(&error)) {
      spdlog::error("cluster correlate: {}", error);
      return false;
    }
    // Its lease and checkpoint families exist once it started.
    if (s.metrics_server) {
      for (auto& collectable : s.correlate_role->MakeCollectables())
        s.metrics_server->Register(std::move(collectable));
    }
  }
  return StartApi(s, ports) && StartNodeRegistry(s, ports);
}

// Stops every thread in reverse dependency order (users before what they
// use); safe after a start that failed anywhere. Nothing accepted is lost:
// listeners hand on what they framed, the pipeline drains into detection,
// detection into the store, the store into its outputs.
void Shutdown(Daemon::State& s) {
  // Leaves the cluster's status first: what follows only winds down.
  if (s.node_registry) s.node_registry->Stop();
  for (auto& listener : s.listeners) listener->Stop();
  s.io.restart();
  s.io.run();                          // the listeners' last handlers (a no-op after a normal run)
  if (s.reloader) s.reloader->Stop();  // abandons a stuck reload instead of waiting on it
  s.pipeline.Stop();
  // The message each role is on is finished (or left to be delivered again).
  if (s.detect_role) s.detect_role->Stop();
  // Checkpoints its partitions and hands them over (after detect: its hits).
  if (s.correlate_role) s.correlate_role->Stop();
  if (s.store_role) s.store_role->Stop();
  if (s.correlation_started) {
    s.correlation->Stop();  // after the drain: the last checkpoint sees it all
    s.correlation_started = false;
  }
  if (s.alerts) s.alerts->Stop();  // API closed, everything committed, outputs delivered
  if (s.metrics_server) s.metrics_server->Stop();  // nothing reads what goes next
}

using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

// The watchdog's health check: the engine is healthy while it drains its
// queue, i.e. it processed something since the last check or has nothing
// waiting. A stuck worker (queue full, nothing processed) stops the pings.
std::function<bool()> PipelineHealth(Daemon::State& s) {
  auto last_processed = std::make_shared<uint64_t>(s.metrics.SumEventsProcessed());
  return [&s, last_processed] {
    const uint64_t processed = s.metrics.SumEventsProcessed();
    const bool progressed = processed != *last_processed;
    *last_processed = processed;
    return progressed || s.pipeline.queue().events() == 0;
  };
}

SignalWatcher::Actions SignalActions(Daemon::State& s, WorkGuard& work) {
  SignalWatcher::Actions actions;
  actions.reload = [&s] {
    for (auto& listener : s.listeners) listener->Reload();  // TLS certificates and CRL
    if (s.reloader) {
      spdlog::info("SIGHUP: reloading rules, decoders and lists");
      s.reloader->Reload();
    } else {
      spdlog::info("SIGHUP: no rules configured; listeners and agencies need a restart");
    }
  };
  actions.stop = [&s, &work](int signal) {
    asio::post(s.io, [&s, &work, signal] {
      spdlog::info("signal {}: stopping; handing on everything accepted", signal);
      for (auto& listener : s.listeners) listener->Stop();
      if (s.alerts) s.alerts->store().BeginShutdown();  // a failed store: workers can drain
      work.reset();
    });
  };
  return actions;
}

}  // namespace

int Daemon::Run() {
  State& s = *state_;
  auto signals = std::make_unique<SignalWatcher>();
  std::vector<std::pair<std::string, uint16_t>> ports;
  bool started = false;
  try {
    started = StartAll(s, ports);
    if (!started) spdlog::critical("cannot start (see the errors above)");
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
  }
  if (!started) {
    signals.reset();
    Shutdown(s);
    return 1;
  }

  WorkGuard work = asio::make_work_guard(s.io);
  if (!s.options.ports_file.empty()) WritePortsFile(s.options.ports_file, ports);
  spdlog::info("gsocd {} ready: {} listener(s), {} worker(s), data in {}", GSOC_VERSION,
               s.listeners.size(), s.pipeline.workers(), s.config.data_dir.string());
  signals->Ready(SignalActions(s, work));
  SdNotify("READY=1");
  std::unique_ptr<Watchdog> watchdog;
  if (const auto interval = WatchdogInterval()) {
    watchdog = std::make_unique<Watchdog>(*interval, PipelineHealth(s));
  }

  std::vector<std::thread> io_threads;
  for (size_t i = 1; i < s.config.pipeline.io_threads; ++i) {
    io_threads.emplace_back([&] { s.io.run(); });
  }
  // When the work guard is gone, run() returns once every session has closed.
  s.io.run();
  SdNotify("STOPPING=1");
  watchdog.reset();
  for (auto& thread : io_threads) thread.join();
  signals.reset();  // no reload or stop can arrive during the teardown
  Shutdown(s);
  spdlog::info("stopped: {} events processed", s.metrics.SumEventsProcessed());
  return 0;
}

}  // namespace gsoc
