#include "engine/daemon/alert_services.h"

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "engine/aggregate/aggregator.h"
#include "engine/alert/jsonl_output.h"
#include "engine/api/api_server.h"
#include "engine/api/live_hub.h"
#include "engine/api/overview.h"
#include "engine/auth/auth_store.h"
#include "engine/metrics/metrics_server.h"
#include "engine/output/webhook_output.h"
#include "engine/triage/triage_store.h"

namespace gsoc {

namespace {

// Before the store, gsocd numbered alerts from `<data_dir>/alert-id` (the
// ceiling of the ids it had reserved). Ids continue above it, never again.
uint64_t LegacyAlertIdCeiling(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / "alert-id");
  uint64_t ceiling = 0;
  if (!(in >> ceiling)) return 1;
  spdlog::info("alert ids continue above {} (from the previous {})", ceiling,
               (data_dir / "alert-id").string());
  return ceiling;
}

store::StoreOptions StoreOptionsFrom(const StoreConfig& config) {
  store::StoreOptions options;
  options.path = config.path;
  options.sync = store::ParseSyncPolicy(config.sync).value_or(store::SyncPolicy::kBatch);
  options.max_batch_alerts = config.max_batch_alerts;
  options.queue_alerts = config.queue_alerts;
  options.retention_age = config.retention_age;
  options.retention_bytes = config.retention_bytes;
  options.retention_interval = config.retention_interval;
  options.block_cache_bytes = config.block_cache_bytes;
  options.memtable_bytes = config.memtable_bytes;
  return options;
}

aggregate::AggregateOptions AggregateOptionsFrom(const AggregateConfig& config) {
  aggregate::AggregateOptions options;
  options.enabled = config.enabled;
  options.period = config.period;
  options.update_interval = config.update_interval;
  options.group_by = config.group_by;
  options.max_open = config.max_open;
  options.max_bytes = config.max_bytes;
  options.max_events = config.max_events;
  options.max_event_bytes = config.max_event_bytes;
  return options;
}

output::WebhookOptions WebhookOptionsFrom(const WebhookConfig& config) {
  output::WebhookOptions options;
  options.match.agencies = config.match.agencies;
  options.match.tags = config.match.tags;
  for (int level = 0; level <= static_cast<int>(rules::Level::kCritical); ++level) {
    if (config.match.min_level == rules::LevelName(static_cast<rules::Level>(level))) {
      options.match.min_level = static_cast<rules::Level>(level);
    }
  }
  options.url = config.url;
  options.headers = config.headers;
  options.max_batch = config.max_batch;
  options.max_queue = config.max_queue;
  options.timeout = config.timeout;
  options.retry_initial = config.retry_initial;
  options.retry_max = config.retry_max;
  options.tls_verify = config.tls_verify;
  options.max_queue_bytes = config.max_queue_bytes;
  options.allow_insecure_headers = config.allow_insecure_headers;
  return options;
}

api::ApiOptions ApiOptionsFrom(const ApiConfig& config, std::vector<std::string> tokens) {
  api::ApiOptions options;
  options.address = config.address;
  options.port = config.port;
  options.tokens = std::move(tokens);
  options.tls_certificate = config.tls_certificate.string();
  options.tls_private_key = config.tls_private_key.string();
  options.threads = config.threads;
  options.max_streams = config.max_streams;
  options.max_connections = config.max_connections;
  options.max_request_bytes = config.max_request_bytes;
  options.idle_timeout = config.idle_timeout;
  options.request_timeout = config.request_timeout;
  options.max_response_bytes = config.max_response_bytes;
  options.response_budget_bytes = std::max<size_t>(16 * config.max_response_bytes, 64 << 20);
  options.stream_write_timeout = config.stream_write_timeout;
  return options;
}

// The configured tokens, else the token file (created on first start).
std::vector<std::string> ApiTokens(const ApiConfig& config) {
  if (!config.tokens.empty()) return config.tokens;
  bool created = false;
  std::string token = api::LoadOrCreateToken("", config.token_file.string(), &created);
  if (created) {
    spdlog::info("API token generated in {} (mode 0600); gsocctl reads it from there",
                 config.token_file.string());
  } else {
    spdlog::info("API token from {}", config.token_file.string());
  }
  return {std::move(token)};
}

// <data_dir>/triage.db, written with the alert store's sync policy.
std::unique_ptr<triage::TriageStore> OpenTriage(const Config& config, store::SyncPolicy sync,
                                                store::RocksMemory memory) {
  triage::TriageOptions options;
  options.path = config.data_dir / "triage.db";
  options.sync = sync != store::SyncPolicy::kNone;
  options.memory = std::move(memory);
  for (const AutoCaseConfig& rule : config.cases.auto_rules) {
    triage::AutoCaseRule out;
    out.name = rule.name;
    out.entity = rule.entity;
    out.window_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rule.window).count();
    for (int level = 0; level <= static_cast<int>(rules::Level::kCritical); ++level) {
      if (rule.min_level == rules::LevelName(static_cast<rules::Level>(level))) {
        out.min_level = static_cast<rules::Level>(level);
      }
    }
    options.auto_cases.push_back(std::move(out));
  }
  auto store = triage::TriageStore::Open(options);
  spdlog::info("triage store at {} ({} auto case rules)", options.path.string(),
               options.auto_cases.size());
  return store;
}

// gsoc_webhook_* with a `webhook` label (its name) per output.
void AddWebhookMetrics(
    const std::vector<std::pair<std::string, std::unique_ptr<output::WebhookOutput>>>& webhooks,
    std::vector<prometheus::MetricFamily>& out) {
  using prometheus::MetricType;
  struct Def {
    const char* name;
    const char* help;
    MetricType type;
    uint64_t output::WebhookStats::*field;
  };
  static const Def kDefs[] = {
      {"gsoc_webhook_delivered_total", "Alerts the webhook acknowledged", MetricType::Counter,
       &output::WebhookStats::delivered},
      {"gsoc_webhook_retries_total", "Webhook requests to be retried", MetricType::Counter,
       &output::WebhookStats::retries},
      {"gsoc_webhook_rejected_total", "Alerts in batches the webhook refused (4xx)",
       MetricType::Counter, &output::WebhookStats::rejected},
      {"gsoc_webhook_dropped_total", "Alerts dropped because the webhook queue was full",
       MetricType::Counter, &output::WebhookStats::dropped},
      {"gsoc_webhook_unmatched_total", "Alerts not for this webhook (its match)",
       MetricType::Counter, &output::WebhookStats::unmatched},
      {"gsoc_webhook_queued_alerts", "Alerts waiting for the webhook", MetricType::Gauge,
       &output::WebhookStats::queued},
      {"gsoc_webhook_queued_bytes", "Bytes of alert JSON waiting for the webhook",
       MetricType::Gauge, &output::WebhookStats::queued_bytes},
  };
  std::vector<output::WebhookStats> stats;
  for (const auto& [name, webhook] : webhooks) stats.push_back(webhook->stats());
  for (const Def& def : kDefs) {
    auto family = MakeFamily(def.name, def.help, def.type);
    for (size_t i = 0; i < webhooks.size(); ++i) {
      AddSample(family, {{"webhook", webhooks[i].first}}, double(stats[i].*def.field));
    }
    out.push_back(std::move(family));
  }
}

}  // namespace

struct AlertServices::Parts {
  explicit Parts(const Config& config) : hub(65536, config.api.live_ring_bytes) {}

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Histogram* write_seconds = nullptr;
  prometheus::Histogram* batch_alerts = nullptr;
  api::LiveHub hub;
  std::unique_ptr<JsonlAlertOutput> jsonl;
  // alerts.webhook (named "webhook") and alerts.webhooks, each with its match.
  std::vector<std::pair<std::string, std::unique_ptr<output::WebhookOutput>>> webhooks;
  std::unique_ptr<auth::AuthStore> auth;  // outlives api (its handlers use it)
  std::unique_ptr<api::ApiServer> api;
  std::unique_ptr<aggregate::Aggregator> aggregator;
  std::unique_ptr<triage::TriageStore> triage;
  api::OverviewRollup overview;  // GET /api/v1/overview
};

AlertServices::AlertServices(const Config& config)
    : config_(config), parts_(std::make_unique<Parts>(config)) {
  store::StoreOptions store_options = StoreOptionsFrom(config.store);
  store_options.min_first_id = LegacyAlertIdCeiling(config.data_dir);
  // A cluster store node's ids come from GSOC_ALERTS (engine/cluster/store_role.h).
  store_options.ids_given = config.cluster.enabled && config.cluster.HasRole(ClusterRole::kStore);
  store_ = store::AlertStore::Open(store_options);
  Parts& p = *parts_;
  p.write_seconds = &prometheus::BuildHistogram()
                         .Name("gsoc_store_write_seconds")
                         .Help("Time to write (and sync) one WriteBatch of alerts")
                         .Register(*p.registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05, 0.1, 0.25, 0.5, 1});
  p.batch_alerts = &prometheus::BuildHistogram()
                        .Name("gsoc_store_batch_alerts")
                        .Help("Alerts per committed WriteBatch (group commit)")
                        .Register(*p.registry)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
  store_->SetCommitObserver([&p](double seconds, size_t alerts) {
    p.write_seconds->Observe(seconds);
    p.batch_alerts->Observe(static_cast<double>(alerts));
  });
  p.triage = OpenTriage(config, store_options.sync, store_->shared_memory());
  p.triage->SetChangeListener([&p](const triage::ChangeEvent& change) {
    p.hub.PublishTriage(change.agency, change.state);
    p.overview.OnTriageChange(change);  // open versus closed
  });
  store_->AddListener(p.triage.get());  // before the hub: carried states are served with the alert
  store_->AddListener(&p.hub);
  p.triage->NoteAlertPosition(store_->last_id());  // its change log's resume positions
  const size_t seeded = p.overview.Seed(*store_, std::chrono::system_clock::now(), p.triage.get());
  store_->AddListener(&p.overview);  // after Seed: nothing is committed before the pipeline runs
  spdlog::info("overview: {} stored alerts of the last 7 days counted{}", seeded,
               p.overview.seeded_complete() ? "" : " (the newest only: seed limit)");
  // In a cluster the correlate partitions aggregate (engine/cluster/README.md
  // "Aggregation"); a store node stores their versions.
  if (config.alerts.aggregate.enabled && !config.cluster.enabled) {
    p.aggregator = std::make_unique<aggregate::Aggregator>(
        AggregateOptionsFrom(config.alerts.aggregate), store_.get());
    store_->AddListener(p.aggregator.get());  // learns each version's id
    p.aggregator->Resume(*store_);
    p.aggregator->Start();
  }
  if (config.alerts.file_enabled) {
    JsonlOutputOptions options;
    options.max_file_bytes = config.alerts.max_file_bytes;
    options.keep_files = config.alerts.keep_files;
    p.jsonl = std::make_unique<JsonlAlertOutput>(config.alerts.file, options);
    p.jsonl->RecoverFrom(*store_);  // what a crash kept from the file, before anything new
    store_->AddListener(p.jsonl.get());
    spdlog::info("alerts also to {}", config.alerts.file.string());
  }
  std::vector<WebhookConfig> webhooks = config.alerts.webhooks;
  if (!config.alerts.webhook.url.empty()) {
    webhooks.insert(webhooks.begin(), config.alerts.webhook);
    if (webhooks.front().name.empty()) webhooks.front().name = "webhook";
  }
  for (const WebhookConfig& webhook : webhooks) {
    p.webhooks.emplace_back(webhook.name,
                            std::make_unique<output::WebhookOutput>(WebhookOptionsFrom(webhook)));
    store_->AddListener(p.webhooks.back().second.get());
    spdlog::info("alerts also to the webhook {} ({}{})", webhook.name, webhook.url,
                 webhook.match.agencies.empty() && webhook.match.tags.empty() &&
                         webhook.match.min_level.empty()
                     ? ""
                     : ", with a match");
  }
  spdlog::info("alert store at {} (sync: {})", config.store.path.string(), config.store.sync);
}

AlertServices::~AlertServices() { Stop(); }

rules::Level AlertServices::min_level() const {
  for (int level = 0; level <= static_cast<int>(rules::Level::kCritical); ++level) {
    if (config_.alerts.min_level == rules::LevelName(static_cast<rules::Level>(level))) {
      return static_cast<rules::Level>(level);
    }
  }
  return rules::Level::kInformational;
}

DetectionAggregator* AlertServices::aggregator() { return parts_->aggregator.get(); }

uint16_t AlertServices::StartApi(AlertServicesHooks hooks) {
  if (!config_.api.enabled) return 0;
  // Not ready once the store has failed (it commits nothing until a restart).
  auto ready = [rules_ready = std::move(hooks.ready), store = store_.get()] {
    return (!rules_ready || rules_ready()) && store->health().ok;
  };
  auth::AuthStoreOptions auth_options;
  auth_options.path = config_.api.auth_db;
  auth_options.audit_max_entries = config_.api.audit_max_entries;
  auth_options.audit_max_bytes = config_.api.audit_max_bytes;
  auth_options.memory = store_->shared_memory();
  parts_->auth = auth::AuthStore::Open(auth_options);
  api::ApiHooks api_hooks;
  api_hooks.rules_json = std::move(hooks.rules_json);
  api_hooks.reload = std::move(hooks.reload);
  api_hooks.ready = std::move(ready);
  api_hooks.triage = parts_->triage.get();
  api_hooks.auth = parts_->auth.get();
  api_hooks.rule_detail_json = std::move(hooks.rule_detail_json);
  api_hooks.overview = &parts_->overview;
  parts_->api =
      std::make_unique<api::ApiServer>(ApiOptionsFrom(config_.api, ApiTokens(config_.api)), *store_,
                                       parts_->hub, std::move(api_hooks));
  const bool tls = !config_.api.tls_certificate.empty();
  spdlog::info("API on {}://{}:{}/api/v1/", tls ? "https" : "http", config_.api.address,
               parts_->api->port());
  return parts_->api->port();
}

void AlertServices::Stop() {
  if (!parts_) return;
  if (parts_->api) parts_->api->Stop();
  if (parts_->aggregator) parts_->aggregator->Stop();  // publishes what grew since its last version
  if (store_) store_->Flush();
  parts_->webhooks.clear();  // each delivers what it holds, within its grace period
  if (parts_->jsonl) parts_->jsonl->Flush();
}

std::shared_ptr<prometheus::Collectable> AlertServices::MakeCollectable() const {
  const Parts* p = parts_.get();
  const store::AlertStore* s = store_.get();
  auto collect = [p, s] {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out = p->registry->Collect();
    const store::StoreStats stats = s->stats();
    auto single = [&out](const char* name, const char* help, MetricType type, double value) {
      out.push_back(SingleSample(name, help, type, value));
    };
    single("gsoc_store_bytes", "Estimated live bytes of stored alerts", MetricType::Gauge,
           static_cast<double>(stats.live_bytes));
    single("gsoc_store_alerts_committed_total", "Alerts committed to the store",
           MetricType::Counter, static_cast<double>(stats.alerts_committed));
    single("gsoc_store_write_errors_total",
           "Store writes or WAL syncs that failed (never retried: the store stops)",
           MetricType::Counter, static_cast<double>(stats.write_errors));
    single("gsoc_store_failed", "1 when a write or WAL sync failed: no commit until a restart",
           MetricType::Gauge, stats.failed ? 1.0 : 0.0);
    single("gsoc_store_alerts_not_stored_total",
           "Alerts published but not stored because the store had failed", MetricType::Counter,
           static_cast<double>(stats.not_stored));
    single("gsoc_store_retention_deleted_total", "Alerts deleted by retention", MetricType::Counter,
           static_cast<double>(stats.retention_deleted));
    single("gsoc_store_rule_revisions", "Rule revisions the store keeps for alerts' rule_detail",
           MetricType::Gauge, static_cast<double>(stats.rule_revisions));
    single("gsoc_store_rule_revisions_dropped_total",
           "Rule revisions not kept: the store's archive was at its byte bound",
           MetricType::Counter, static_cast<double>(stats.rule_revisions_dropped));
    single("gsoc_store_pending_alerts", "Alerts published, not yet committed", MetricType::Gauge,
           static_cast<double>(stats.pending));
    single("gsoc_store_publish_waits_total",
           "Publish calls that waited because the store queue was full (queue_alerts)",
           MetricType::Counter, static_cast<double>(stats.publish_waits));
    if (p->aggregator) {
      const aggregate::AggregatorStats a = p->aggregator->stats();
      single("gsoc_aggregate_hits_total", "Detection hits handed to alert aggregation",
             MetricType::Counter, double(a.hits));
      single("gsoc_aggregate_hits_aggregated_total",
             "Detection hits that joined an open aggregate (no alert of their own)",
             MetricType::Counter, double(a.aggregated));
      single("gsoc_aggregate_opened_total", "Aggregates opened", MetricType::Counter,
             double(a.opened));
      single("gsoc_aggregate_updated_total", "Later versions of aggregates published",
             MetricType::Counter, double(a.updated));
      single("gsoc_aggregate_closed_total", "Aggregates closed", MetricType::Counter,
             double(a.closed));
      single("gsoc_aggregate_overflow_total",
             "Hits published alone because max_open or max_size was reached", MetricType::Counter,
             double(a.overflow));
      single("gsoc_aggregate_key_collisions_total",
             "Hits published alone because another open aggregate had their key's hash",
             MetricType::Counter, double(a.collisions));
      single("gsoc_aggregate_open", "Open aggregates", MetricType::Gauge, double(a.open));
      single("gsoc_aggregate_bytes", "Memory of the open aggregates (estimate)", MetricType::Gauge,
             double(a.bytes));
    }
    single("gsoc_store_alerts_replaced_total",
           "Stored aggregate versions deleted by their newer version", MetricType::Counter,
           static_cast<double>(stats.replaced));
    single("gsoc_store_posting_purges_dropped_total",
           "Replaced aggregate versions whose ids were not queued for removal from the index "
           "postings (the queue's bound); retention removes them later",
           MetricType::Counter, static_cast<double>(stats.purges_dropped));
    auto tickers = MakeFamily("gsoc_store_rocksdb_ticker_total", "RocksDB statistics tickers",
                              MetricType::Counter);
    for (const auto& [name, value] : s->RocksDbTickers()) {
      AddSample(tickers, {{"ticker", name}}, double(value));
    }
    out.push_back(std::move(tickers));
    if (p->api) {
      const api::ApiStats api = p->api->stats();
      auto requests = MakeFamily("gsoc_api_requests_total", "API requests by route and status code",
                                 MetricType::Counter);
      for (const auto& [key, count] : api.requests) {
        AddSample(requests, {{"route", key.first}, {"code", std::to_string(key.second)}},
                  double(count));
      }
      out.push_back(std::move(requests));
      single("gsoc_api_streams", "Open live alert streams", MetricType::Gauge,
             static_cast<double>(api.streams));
      single("gsoc_api_connections", "Open API connections", MetricType::Gauge,
             static_cast<double>(api.connections));
      single("gsoc_api_connection_limit_total",
             "Times max_connections was reached (further connections waited)", MetricType::Counter,
             static_cast<double>(api.connection_limit_hits));
      single("gsoc_api_connections_evicted_total",
             "Unauthenticated connections closed at max_connections to make room",
             MetricType::Counter, static_cast<double>(api.evicted));
      single("gsoc_api_request_timeouts_total",
             "Requests not whole within api.request_timeout (connection closed)",
             MetricType::Counter, static_cast<double>(api.request_timeouts));
      single("gsoc_api_stream_write_timeouts_total",
             "Live streams closed because the client took no data within "
             "api.stream_write_timeout",
             MetricType::Counter, static_cast<double>(api.stream_write_timeouts));
      single("gsoc_api_response_bytes", "Bytes of API replies built and not yet sent",
             MetricType::Gauge, static_cast<double>(api.response_bytes));
      single("gsoc_api_audit_entries", "Entries the audit log holds (api.audit_max_entries)",
             MetricType::Gauge, static_cast<double>(p->auth->audit_entries()));
      single("gsoc_api_audit_bytes", "Bytes the audit log holds (api.audit_max_size)",
             MetricType::Gauge, static_cast<double>(p->auth->audit_bytes()));
    }
    if (p->triage) {
      const triage::TriageStats t = p->triage->stats();
      single("gsoc_triage_changes_total", "Alert triage changes committed", MetricType::Counter,
             double(t.changes));
      single("gsoc_triage_conflicts_total",
             "Triage changes refused: the expected version was not current", MetricType::Counter,
             double(t.conflicts));
      single("gsoc_triage_refused_total",
             "Triage changes refused: invalid transition or a per-alert limit", MetricType::Counter,
             double(t.refused));
      single("gsoc_triage_carried_total", "Triage states moved to a replacing aggregate alert",
             MetricType::Counter, double(t.carried));
      single("gsoc_cases_created_total", "Cases created (by hand and by cases.auto rules)",
             MetricType::Counter, double(t.cases_created));
      single("gsoc_cases_auto_alerts_total", "Alerts filed into cases by cases.auto rules",
             MetricType::Counter, double(t.auto_case_alerts));
      single("gsoc_triage_write_errors_total", "Failed writes to triage.db", MetricType::Counter,
             double(t.write_errors));
      single("gsoc_triage_log_dropped_total",
             "Triage change log entries dropped by its bounds (stream resume gap)",
             MetricType::Counter, double(t.log_dropped));
    }
    single("gsoc_api_overview_dropped_total",
           "Alerts the overview did not count (agency limit, time ahead of the clock)",
           MetricType::Counter, static_cast<double>(p->overview.dropped()));
    single("gsoc_api_live_ring_bytes", "Bytes of recent alerts the live stream ring holds",
           MetricType::Gauge, static_cast<double>(p->hub.ring_bytes()));
    if (!p->webhooks.empty()) AddWebhookMetrics(p->webhooks, out);
    return out;
  };
  return std::make_shared<CallbackCollectable>(std::move(collect));
}

}  // namespace gsoc
