// The correlate role's metrics (README "The correlate role"): its counters
// and gauges, with the lease manager's and the checkpoint store's families.
#include "engine/cluster/correlate_role.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {

std::vector<std::shared_ptr<prometheus::Collectable>> CorrelateRole::MakeCollectables() {
  auto counters = std::make_shared<CallbackCollectable>([this] {
    using prometheus::MetricType;
    constexpr auto counter = CounterSample;
    constexpr auto gauge = GaugeSample;
    return std::vector<prometheus::MetricFamily>{
        counter("gsoc_cluster_correlate_hits_total",
                "Hits fed to this node's partition correlators", hits_),
        counter("gsoc_cluster_correlate_hit_messages_total", "GSOC_HITS messages consumed",
                hit_messages_),
        counter("gsoc_cluster_correlate_hits_replayed_total",
                "Hits fed after gaining a partition that were published before (replayed after "
                "its checkpoint)",
                replayed_),
        counter("gsoc_cluster_correlate_refused_total",
                "GSOC_HITS messages refused as undecodable (skipped)", refused_),
        counter("gsoc_cluster_correlate_decode_buffer_releases_total",
                "Hit decode buffers freed for holding more than 16 MiB from earlier messages",
                decode_buffer_releases_),
        counter("gsoc_cluster_correlate_hits_unknown_total",
                "Hits of a correlation or ref this node's rule set does not have (skipped)",
                unknown_),
        counter("gsoc_cluster_correlate_chain_missing_group_total",
                "Chained inputs not sent: the firing's group lacks a group-by field of the "
                "chained correlation",
                chain_missing_),
        counter("gsoc_cluster_correlation_alerts_published_total",
                "Correlation alerts sent to GSOC_ALERTS (the next hits are read once they are "
                "acknowledged)",
                alerts_),
        counter("gsoc_cluster_correlation_alert_messages_published_total",
                "Correlation alerts messages sent to GSOC_ALERTS", alert_messages_),
        counter("gsoc_cluster_correlate_chained_hits_total",
                "Chained correlation inputs sent to GSOC_HITS", chained_),
        counter("gsoc_cluster_correlate_publish_retries_total",
                "Publishes or ack waits of the correlate role that failed and were retried",
                retries_),
        counter("gsoc_cluster_correlation_alert_messages_duplicate_total",
                "Messages of the correlate role JetStream acknowledged as duplicates (a replay)",
                duplicates_),
        counter("gsoc_cluster_correlate_checkpoint_saves_total",
                "Partition checkpoints saved by the correlate role", checkpoint_saves_),
        counter("gsoc_cluster_correlate_checkpoint_bytes_total", "Bytes of those checkpoints",
                checkpoint_bytes_),
        counter("gsoc_cluster_correlate_checkpoint_failures_total",
                "Partition checkpoint saves that failed (fenced, too large, no answer)",
                checkpoint_failures_),
        counter("gsoc_cluster_correlate_restores_total",
                "Partitions gained whose checkpoint was restored", restores_),
        counter("gsoc_cluster_correlate_restore_failures_total",
                "Checkpoint restores that failed (retried; or refused by the correlator: the "
                "partition then starts empty at its sequence)",
                restore_failures_),
        counter("gsoc_cluster_correlate_consumer_errors_total",
                "Hits consumers that could not be made or failed (made again)", consumer_errors_),
        gauge("gsoc_cluster_correlate_consumer_lag",
              "GSOC_HITS messages of the owned partitions not yet delivered to this node", lag_),
        gauge("gsoc_cluster_correlate_partitions_active",
              "Partitions this node's role thread feeds now", owned_),
        gauge("gsoc_cluster_correlate_live_keys", "Correlation keys held by the owned partitions",
              live_keys_),
        // Alert aggregation in the owned partitions: a single node's names
        // (its Aggregator does not run on a cluster node).
        counter("gsoc_aggregate_hits_total", "Detection hits handed to alert aggregation",
                aggregation_hits_),
        counter("gsoc_aggregate_opened_total", "Aggregates opened", aggregates_opened_),
        counter("gsoc_aggregate_updated_total", "Later versions of aggregates published",
                aggregates_updated_),
        counter("gsoc_aggregate_closed_total", "Aggregates closed", aggregates_closed_),
        counter("gsoc_aggregate_overflow_total",
                "Hits published alone because max_open or max_size was reached",
                aggregates_overflow_),
        gauge("gsoc_aggregate_open", "Open aggregates", aggregates_open_),
        gauge("gsoc_aggregate_bytes", "Memory of the open aggregates (estimate)",
              aggregates_bytes_),
        gauge("gsoc_cluster_aggregate_sources",
              "Sources (agency, host) whose event time closes aggregates in the owned partitions",
              aggregate_sources_),
        counter("gsoc_cluster_aggregate_flush_markers_total",
                "Flush markers this node published to GSOC_HITS (aggregates grew)", flush_markers_),
        counter("gsoc_cluster_aggregate_flushes_total",
                "Flush markers applied by the owned partitions (versions made there)", flushes_),
    };
  });
  std::vector<std::shared_ptr<prometheus::Collectable>> out{counters, registry_};
  if (leases_) out.push_back(leases_->MakeCollectable());
  if (checkpoints_) out.push_back(checkpoints_->MakeCollectable());
  return out;
}

}  // namespace gsoc
