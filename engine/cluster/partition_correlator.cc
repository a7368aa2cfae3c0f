#include "engine/cluster/partition_correlator.h"

#include <algorithm>

namespace gsoc {
namespace {

constexpr int kIndexBits = 16;  // events per GSOC_EVENTS message: at most 65536

// The name the Correlator reads group_by[g] under for inputs of refs[ref].
const std::string& GroupFieldName(const correlate::CorrelationRule& rule, size_t g, uint32_t ref) {
  if (g < rule.group_fields.size() && ref < rule.group_fields[g].size()) {
    return rule.group_fields[g][ref];
  }
  return rule.group_by[g];
}

}  // namespace

uint64_t PositionEventId(uint64_t stream_sequence, uint32_t event_index) {
  // The top bit stays clear (the Correlator's chained ids have it).
  return ((stream_sequence & ((uint64_t{1} << 47) - 1)) << kIndexBits) |
         (event_index & ((1u << kIndexBits) - 1));
}

InputPosition PositionOf(uint64_t event_id) {
  return {event_id >> kIndexBits, static_cast<uint32_t>(event_id & ((1u << kIndexBits) - 1))};
}

// ---------------------------------------------------------------------------

HitRouting::HitRouting(std::shared_ptr<const correlate::CorrelationSet> loaded)
    : loaded_(std::move(loaded)) {
  set_.rules = loaded_->rules;
  const size_t n = set_.rules.size();
  set_.correlation_routes.assign(n, {});
  set_.correlation_silenced.assign(n, false);
  route_base_.reserve(n);
  for (uint32_t c = 0; c < n; ++c) {
    route_base_.push_back(static_cast<uint32_t>(set_.detection_routes.size()));
    for (uint32_t ref = 0; ref < set_.rules[c].refs.size(); ++ref) {
      set_.detection_routes.push_back({correlate::Route{c, ref}});
    }
    by_id_.emplace(set_.rules[c].id, c);  // the first of duplicate ids
  }
  set_.detection_silenced.assign(set_.detection_routes.size(), false);
}

bool HitRouting::Find(std::string_view id, uint32_t* index) const {
  const auto found = by_id_.find(id);
  if (found == by_id_.end()) return false;
  *index = found->second;
  return true;
}

// ---------------------------------------------------------------------------

PartitionCorrelator::PartitionCorrelator(uint32_t partitions,
                                         const correlate::CorrelatorOptions& options,
                                         std::vector<std::string> agency_names)
    : partitions_(partitions),
      agency_names_([&] {
        agency_names.emplace_back("multiple");  // an alert's agency when several fed it
        agency_names.emplace_back();            // and when none did
        return std::move(agency_names);
      }()),
      correlator_(options, agency_names_) {
  for (size_t i = 0; i < agency_names_.size(); ++i) {
    agency_index_.emplace(agency_names_[i], static_cast<uint16_t>(i));
  }
}

uint16_t PartitionCorrelator::AgencyIndex(std::string_view name) const {
  const auto found = agency_index_.find(name);
  // An agency this node does not know (configs differ): shown as none.
  return found != agency_index_.end() ? found->second
                                      : static_cast<uint16_t>(agency_names_.size() - 1);
}

bool PartitionCorrelator::Restore(const HitRouting& routing, std::string_view blob,
                                  std::string* error) {
  return correlator_.Restore(routing.set(), blob, error);
}

void PartitionCorrelator::Feed(const HitRouting& routing, std::span<const ClusterHit> hits,
                               PartitionOutput& out) {
  const correlate::CorrelationSet& set = routing.set();
  for (const ClusterHit& hit : hits) {
    uint32_t c = 0;
    if (!routing.Find(hit.correlation, &c) || hit.ref >= set.rules[c].refs.size() ||
        hit.group.size() != set.rules[c].group_by.size()) {
      ++counters_.unknown;  // another rule set than the detect node's (a reload between)
      continue;
    }
    const correlate::CorrelationRule& rule = set.rules[c];
    batch_.Clear();
    Event& event = batch_.AddEvent();
    event.id = PositionEventId(hit.stream_sequence, hit.event_index);
    event.event_time_ns = hit.event_time_ns;
    event.receive_time_ns = hit.event_time_ns;
    event.agency = AgencyIndex(hit.agency);
    event.host = hit.host;
    event.raw = hit.raw;
    for (size_t g = 0; g < hit.group.size(); ++g) {
      batch_.AddField(event, GroupFieldName(rule, g, hit.ref), hit.group[g]);
    }
    if (hit.has_value && !rule.field.empty()) batch_.AddField(event, rule.field, hit.value);
    const correlate::RuleHit input{0, routing.Route(c, hit.ref)};
    fired_.clear();
    correlator_.Process(set, batch_, std::span<const correlate::RuleHit>(&input, 1), fired_);
    if (!fired_.empty()) Finish(routing, out);
  }
}

void PartitionCorrelator::Tick(const HitRouting& routing, int64_t wall_now_ns,
                               PartitionOutput& out) {
  fired_.clear();
  correlator_.Tick(routing.set(), wall_now_ns, fired_);
  if (!fired_.empty()) Finish(routing, out);
}

void PartitionCorrelator::Finish(const HitRouting& routing, PartitionOutput& out) {
  const correlate::CorrelationSet& loaded = routing.loaded();
  for (Alert& alert : fired_) {
    uint64_t newest = 0;
    for (const AlertEvent& event : alert.events) newest = std::max(newest, event.id);
    ClusterAlert fired{ComputeAlertIdentity(alert, PositionOf(newest)), std::move(alert)};
    uint32_t c = 0;
    if (!routing.Find(fired.alert.rule.id, &c)) continue;
    if (c < loaded.correlation_routes.size() && !loaded.correlation_routes[c].empty()) {
      Chain(routing, c, fired, out);
    }
    const bool silenced = c < loaded.correlation_silenced.size() && loaded.correlation_silenced[c];
    if (!silenced) out.alerts.push_back(std::move(fired));
  }
  fired_.clear();
}

// As the Correlator's own chains (GatherChained): the chained correlation's
// group fields from the firing's group (by name), its time the window end;
// the input is the newest contributing event of the firing.
void PartitionCorrelator::Chain(const HitRouting& routing, uint32_t source,
                                const ClusterAlert& fired, PartitionOutput& out) {
  const correlate::CorrelationSet& loaded = routing.loaded();
  const Alert& alert = fired.alert;
  const AlertEvent* newest = nullptr;
  for (const AlertEvent& event : alert.events) {
    if (newest == nullptr || event.id > newest->id) newest = &event;
  }
  const auto lookup = [&](std::string_view name, std::string_view* value) {
    for (const auto& [field, text] : alert.group) {
      if (field == name) {
        *value = text;
        return true;
      }
    }
    return false;
  };
  std::vector<std::string_view> group;
  size_t index = 0;
  for (const correlate::Route& route : loaded.correlation_routes[source]) {
    const size_t k = index++;
    if (route.rule >= loaded.rules.size()) continue;
    const correlate::CorrelationRule& target = loaded.rules[route.rule];
    group.clear();
    bool complete = true;
    for (size_t g = 0; g < target.group_by.size() && complete; ++g) {
      std::string_view value;
      complete = lookup(GroupFieldName(target, g, route.ref), &value);
      group.push_back(value);
    }
    if (!complete) {
      ++counters_.chain_missing;
      continue;
    }
    HitView view;
    view.correlation = target.id;
    view.ref = route.ref;
    view.rule = route.ref < target.refs.size() ? std::string_view(target.refs[route.ref].written)
                                               : std::string_view();
    view.group = group;
    if (!target.field.empty()) view.has_value = lookup(target.field, &view.value);
    view.agency = alert.agency;  // the source: (the firing's agency, no host)
    view.event_time_ns = alert.time_ns;
    if (newest != nullptr) {
      const InputPosition position = PositionOf(newest->id);
      view.event_id = newest->id;
      view.stream_sequence = position.stream_sequence;
      view.event_index = position.event_index;
      view.raw = newest->raw;
    }
    ChainedHit chained;
    chained.partition = HitPartition(target.id, group, partitions_);
    chained.msg_id = "c-" + fired.identity.Text() + "-" + std::to_string(k);
    HitBatchEncoder encoder;
    encoder.Begin(chained.bytes);
    // One hit: its size is bounded by the alert's, which fitted.
    if (!encoder.Add(view, SIZE_MAX, chained.bytes)) continue;
    encoder.Finish(chained.bytes);
    out.chained.push_back(std::move(chained));
  }
}

}  // namespace gsoc
