#include "engine/metrics/metrics_server.h"

namespace gsoc {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// One family with a series per (listener, reason) for a per-listener enum counter.
template <typename Reason, typename SumFn>
MetricFamily ReasonFamily(const IngestMetrics& metrics, const char* name, const char* help,
                          const char* label, SumFn sum) {
  MetricFamily family = MakeFamily(name, help, MetricType::Counter);
  const auto& listeners = metrics.listeners();
  for (uint16_t l = 0; l < listeners.size(); ++l) {
    for (size_t r = 0; r < size_t(Reason::kCount); ++r) {
      const auto reason = static_cast<Reason>(r);
      AddSample(family, {{"listener", listeners[l]}, {label, ReasonName(reason)}},
                static_cast<double>(sum(l, reason)));
    }
  }
  return family;
}

}  // namespace

MetricFamily MakeFamily(const char* name, const char* help, MetricType type) {
  MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

void AddSample(MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
               double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

MetricFamily SingleSample(const char* name, const char* help, MetricType type, double value) {
  MetricFamily family = MakeFamily(name, help, type);
  AddSample(family, {}, value);
  return family;
}

MetricFamily CounterSample(const char* name, const char* help, uint64_t value) {
  return SingleSample(name, help, MetricType::Counter, static_cast<double>(value));
}

MetricFamily GaugeSample(const char* name, const char* help, uint64_t value) {
  return SingleSample(name, help, MetricType::Gauge, static_cast<double>(value));
}

std::vector<MetricFamily> IngestCollectable::Collect() const {
  std::vector<MetricFamily> out;
  const auto& listeners = metrics_.listeners();
  const auto& agencies = metrics_.agencies();

  MetricFamily received =
      MakeFamily("gsoc_events_received_total", "Messages accepted by a listener, by agency",
                 MetricType::Counter);
  MetricFamily bytes =
      MakeFamily("gsoc_bytes_received_total", "Bytes read by a listener", MetricType::Counter);
  MetricFamily connections =
      MakeFamily("gsoc_connections", "Open connections of a listener", MetricType::Gauge);
  MetricFamily ahead = MakeFamily(
      "gsoc_event_times_ahead_total",
      "Message times further ahead of receive time than max_clock_skew, replaced by receive time",
      MetricType::Counter);
  for (uint16_t l = 0; l < listeners.size(); ++l) {
    for (uint16_t a = 0; a < agencies.size(); ++a) {
      AddSample(received, {{"listener", listeners[l]}, {"agency", agencies[a]}},
                static_cast<double>(metrics_.SumEventsReceived(l, a)));
    }
    AddSample(bytes, {{"listener", listeners[l]}},
              static_cast<double>(metrics_.SumBytesReceived(l)));
    AddSample(connections, {{"listener", listeners[l]}},
              static_cast<double>(metrics_.Connections(l)));
    AddSample(ahead, {{"listener", listeners[l]}}, static_cast<double>(metrics_.SumTimesAhead(l)));
  }
  out.push_back(std::move(received));
  out.push_back(std::move(bytes));
  out.push_back(std::move(ahead));
  out.push_back(std::move(connections));
  out.push_back(ReasonFamily<DiscardReason>(
      metrics_, "gsoc_events_discarded_total", "Messages received but not handed on, by reason",
      "reason", [&](uint16_t l, DiscardReason r) { return metrics_.SumDiscarded(l, r); }));
  out.push_back(ReasonFamily<ParseFormat>(
      metrics_, "gsoc_parse_errors_total",
      "Messages kept unparsed because the parser of that format refused them", "format",
      [&](uint16_t l, ParseFormat f) { return metrics_.SumParseErrors(l, f); }));
  out.push_back(ReasonFamily<RejectReason>(
      metrics_, "gsoc_connections_rejected_total", "Connections refused at accept, by reason",
      "reason", [&](uint16_t l, RejectReason r) { return metrics_.SumRejected(l, r); }));
  out.push_back(ReasonFamily<CloseReason>(
      metrics_, "gsoc_connections_closed_total", "Connections ended, by reason", "reason",
      [&](uint16_t l, CloseReason r) { return metrics_.SumClosed(l, r); }));
  out.push_back(ReasonFamily<AuditEnd>(
      metrics_, "gsoc_auditd_events_total",
      "auditd events joined from their records (one per serial), by how they ended", "end",
      [&](uint16_t l, AuditEnd e) { return metrics_.SumAuditEvents(l, e); }));

  MetricFamily processed =
      MakeFamily("gsoc_events_processed_total", "Events that went through every engine stage",
                 MetricType::Counter);
  AddSample(processed, {}, static_cast<double>(metrics_.SumEventsProcessed()));
  out.push_back(std::move(processed));

  for (const GaugeSource& gauge : gauges_) {
    MetricFamily family;
    family.name = gauge.name;
    family.help = gauge.help;
    family.type = gauge.type;
    AddSample(family, {}, gauge.read());
    out.push_back(std::move(family));
  }
  MetricFamily build = MakeFamily("gsoc_build_info", "Version of gsocd", MetricType::Gauge);
  AddSample(build, {{"version", GSOC_VERSION}}, 1);
  out.push_back(std::move(build));
  return out;
}

}  // namespace gsoc
