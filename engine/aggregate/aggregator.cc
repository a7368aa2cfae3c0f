#include "engine/aggregate/aggregator.h"

#include <pthread.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <new>
#include <unordered_set>

#include "engine/aggregate/aggregate_key.h"
#include "engine/util/hash.h"
#include "engine/util/saturating.h"
#include "engine/util/time_format.h"

namespace gsoc::aggregate {

namespace {

constexpr size_t kResumePage = 1000;
// `a == b` with the first byte compared inline: string_view's == calls
// memcmp whenever the lengths match, and most field names a group-by name
// meets have its length but not its first byte (src_ip: dst_ip, method).
bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a[0] == b[0] && a == b));
}

std::string_view FieldValue(const EventBatch& batch, const Event& event, std::string_view name) {
  if (SameName(name, "host")) return event.host;
  if (SameName(name, "program")) return event.program;
  for (const Field& field : batch.FieldsOf(event)) {
    if (SameName(field.name, name)) return field.value;
  }
  return {};
}

const std::string& AgencyOf(const std::vector<std::string>& names, uint16_t index) {
  static const std::string kUnknown = "unknown";
  return index < names.size() ? names[index] : kUnknown;
}

char* Put(char* out, std::string_view bytes, char end) {
  std::memcpy(out, bytes.data(), bytes.size());
  out[bytes.size()] = end;
  return out + bytes.size() + 1;
}

// Appends AggregateKeyOf's bytes for the hit to `keys` (the values looked
// up once, the bytes written in one go: no append's capacity check per part).
void AppendKey(std::string& keys, const rules::Rule& rule, const std::string& agency,
               const std::vector<std::string>& group_by, const EventBatch& batch,
               const Event& event) {
  thread_local std::vector<std::string_view> values;
  values.clear();
  size_t size = rule.id.size() + agency.size() + 2;
  for (const std::string& name : group_by) {
    values.push_back(FieldValue(batch, event, name));
    if (!values.back().empty()) size += name.size() + values.back().size() + 2;
  }
  const size_t begin = keys.size();
  keys.resize(begin + size);
  char* out = Put(Put(keys.data() + begin, rule.id, '\0'), agency, '\0');
  for (size_t i = 0; i < group_by.size(); ++i) {
    if (!values[i].empty()) out = Put(Put(out, group_by[i], '='), values[i], '\0');
  }
}

// "2026-11-25T10:00:05.123Z" -> ns; false when it is not that shape.
bool ParseMillisTime(std::string_view text, int64_t* ns) {
  if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return false;
  }
  auto number = [&](size_t at, size_t digits, int64_t* out) {
    int64_t value = 0;
    for (size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
  };
  int64_t year, month, day, hour, minute, second, milli;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &day) ||
      !number(11, 2, &hour) || !number(14, 2, &minute) || !number(17, 2, &second) ||
      !number(20, 3, &milli) || month < 1 || month > 12 || day < 1 || day > 31) {
    return false;
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *ns = ((days * 86400 + hour * 3600 + minute * 60 + second) * 1000 + milli) * 1'000'000;
  return true;
}

using simdjson::dom::element;

bool ReadTime(element parent, const char* key, int64_t* ns) {
  std::string_view text;
  return parent[key].get(text) == simdjson::SUCCESS && ParseMillisTime(text, ns);
}

bool ReadPairs(element parent, const char* key,
               std::vector<std::pair<std::string, std::string>>* out) {
  simdjson::dom::object object;
  if (parent[key].get(object) != simdjson::SUCCESS) return false;
  for (auto [name, value] : object) {
    std::string_view text;
    if (value.get(text) != simdjson::SUCCESS) return false;
    out->emplace_back(std::string(name), std::string(text));
  }
  return true;
}

bool ReadRule(element root, AlertRule* rule) {
  element node;
  std::string_view id, name, title, level;
  if (root["rule"].get(node) != simdjson::SUCCESS || node["id"].get(id) != simdjson::SUCCESS ||
      node["name"].get(name) != simdjson::SUCCESS ||
      node["title"].get(title) != simdjson::SUCCESS ||
      node["level"].get(level) != simdjson::SUCCESS) {
    return false;
  }
  rule->id = id;
  rule->name = name;
  rule->title = title;
  for (int l = 0; l <= static_cast<int>(rules::Level::kCritical); ++l) {
    if (level == rules::LevelName(static_cast<rules::Level>(l))) {
      rule->level = static_cast<rules::Level>(l);
    }
  }
  simdjson::dom::array tags;
  if (node["tags"].get(tags) == simdjson::SUCCESS) {
    for (element tag : tags) {
      std::string_view text;
      if (tag.get(text) == simdjson::SUCCESS) rule->tags.emplace_back(text);
    }
  }
  return true;
}

bool ReadEvents(element root, std::vector<AlertEvent>* events) {
  simdjson::dom::array array;
  if (root["events"].get(array) != simdjson::SUCCESS) return false;
  for (element node : array) {
    AlertEvent event;
    std::string_view id, raw;
    if (node["id"].get(id) != simdjson::SUCCESS || node["raw"].get(raw) != simdjson::SUCCESS ||
        !ReadTime(node, "time", &event.time_ns)) {
      return false;
    }
    event.id = std::strtoull(std::string(id).c_str(), nullptr, 10);
    event.raw = raw;
    events->push_back(std::move(event));
  }
  return true;
}

}  // namespace

bool ParseAggregateAlert(std::string_view json, Alert* alert) {
  simdjson::dom::parser parser;
  element root, aggregate;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS ||
      root["aggregate"].get(aggregate) != simdjson::SUCCESS) {
    return false;
  }
  std::string_view key, agency, replaces;
  uint64_t version = 0, count = 0;
  element window;
  if (aggregate["key"].get(key) != simdjson::SUCCESS || key.size() != 16 ||
      aggregate["version"].get(version) != simdjson::SUCCESS ||
      aggregate["replaces"].get(replaces) != simdjson::SUCCESS ||
      !ReadTime(aggregate, "opened", &alert->aggregate_opened_ns) ||
      !ReadTime(aggregate, "closes", &alert->aggregate_closes_ns) ||
      !ReadTime(root, "time", &alert->time_ns) || root["agency"].get(agency) != simdjson::SUCCESS ||
      root["count"].get(count) != simdjson::SUCCESS ||
      root["window"].get(window) != simdjson::SUCCESS ||
      !ReadTime(window, "start", &alert->window_start_ns) ||
      !ReadTime(window, "end", &alert->window_end_ns) || !ReadRule(root, &alert->rule) ||
      !ReadPairs(root, "group", &alert->group) || !ReadPairs(root, "fields", &alert->fields) ||
      !ReadEvents(root, &alert->events)) {
    return false;
  }
  alert->aggregate_key = std::strtoull(std::string(key).c_str(), nullptr, 16);
  alert->aggregate_version = static_cast<uint32_t>(version);
  alert->replaces = std::strtoull(std::string(replaces).c_str(), nullptr, 10);
  alert->kind = AlertKind::kDetection;
  alert->agency = agency;
  alert->count = count;
  return alert->aggregate_key != 0;
}

Aggregator::Aggregator(AggregateOptions options, AlertSink* sink)
    : options_(std::move(options)), sink_(sink) {}

Aggregator::~Aggregator() {
  {
    MutexLock lock(tick_mutex_);
    stop_ = true;
  }
  tick_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Aggregator::FreeAggregate::operator()(Aggregate* aggregate) const {
  aggregate->~Aggregate();
  ::operator delete(aggregate);
}

Aggregator::Table::Ptr Aggregator::MakeAggregate(std::string_view key_bytes, Alert alert) {
  Table::Ptr aggregate(new (::operator new(sizeof(Aggregate) + key_bytes.size())) Aggregate());
  std::memcpy(reinterpret_cast<char*>(aggregate.get() + 1), key_bytes.data(), key_bytes.size());
  aggregate->key_size = static_cast<uint32_t>(key_bytes.size());
  aggregate->count = aggregate->published_count = alert.count;
  aggregate->window_start_ns = alert.window_start_ns;
  aggregate->window_end_ns = alert.window_end_ns;
  aggregate->closes_ns = alert.aggregate_closes_ns;
  aggregate->events = static_cast<uint32_t>(alert.events.size());
  aggregate->alert = std::make_unique<Alert>(std::move(alert));
  return aggregate;
}

// Inlined: GCC finds an out-of-line function that only prefetches pure and
// drops its calls.
[[gnu::always_inline]] inline void Aggregator::PrefetchAggregate(const Aggregate* aggregate) {
  if (!aggregate) return;
  // The fields a join reads and a key of up to ~100 bytes behind them.
  const char* bytes = reinterpret_cast<const char*>(aggregate);
  for (size_t at = 0; at < 192; at += 64) __builtin_prefetch(bytes + at);
  __builtin_prefetch(bytes + 191);
}

int64_t Aggregator::NowNs() const {
  const auto now =
      options_.clock_for_test ? options_.clock_for_test() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
}

Alert Aggregator::TrimmedAlert(const rules::Rule& rule, const EventBatch& batch, const Event& event,
                               const std::string& agency) const {
  Alert alert = MakeDetectionAlert(rule, batch, event, agency);
  for (AlertEvent& contributing : alert.events) {
    if (contributing.raw.size() > options_.max_event_bytes) {
      contributing.raw.resize(options_.max_event_bytes);
    }
  }
  return alert;
}

int64_t Aggregator::NextDue(const Aggregate& aggregate, int64_t now_ns) const {
  int64_t due = aggregate.closes_ns;
  if (aggregate.count > aggregate.published_count) {
    // Not committed yet: the next tick looks again (OnCommitted learns the id).
    const int64_t update =
        aggregate.last_id != 0
            ? SaturatingAdd(
                  aggregate.published_ns,
                  std::chrono::duration_cast<std::chrono::nanoseconds>(options_.update_interval)
                      .count())
            : now_ns + 1;
    due = std::min(due, update);
  }
  return due;
}

void Aggregator::Schedule(Shard& shard, uint64_t key, Aggregate& aggregate, int64_t at_ns) {
  aggregate.due_ns = at_ns;
  shard.due.push_back({at_ns, key});
  std::push_heap(shard.due.begin(), shard.due.end(), std::greater<>());
}

void Aggregator::Join(Shard& shard, uint64_t key, Aggregate& aggregate, const Event& event,
                      int64_t now_ns) {
  ++aggregate.count;
  if (const int64_t due = NextDue(aggregate, now_ns); due < aggregate.due_ns) {
    Schedule(shard, key, aggregate, due);
  }
  aggregate.window_start_ns = std::min(aggregate.window_start_ns, event.event_time_ns);
  aggregate.window_end_ns = std::max(aggregate.window_end_ns, event.event_time_ns);
  if (aggregate.events >= options_.max_events) return;
  const size_t raw = std::min(event.raw.size(), options_.max_event_bytes);
  if (open_bytes_.load(std::memory_order_relaxed) + raw > options_.max_bytes) return;
  aggregate.alert->events.push_back(
      {event.id, event.event_time_ns, std::string(event.raw.substr(0, raw))});
  ++aggregate.events;
  aggregate.bytes += sizeof(AlertEvent) + raw;
  open_bytes_.fetch_add(sizeof(AlertEvent) + raw, std::memory_order_relaxed);
}

Alert Aggregator::Open(Shard& shard, uint64_t key, std::string_view key_bytes, Alert alert,
                       int64_t now_ns) {
  const size_t bytes = AggregateAlertBytes(alert) + key_bytes.size();
  if (open_count_.load(std::memory_order_relaxed) >= options_.max_open ||
      open_bytes_.load(std::memory_order_relaxed) + bytes > options_.max_bytes) {
    overflow_.fetch_add(1, std::memory_order_relaxed);
    return alert;  // an alert of its own
  }
  alert.aggregate_key = key;
  alert.aggregate_version = 0;
  alert.aggregate_opened_ns = now_ns;
  alert.aggregate_closes_ns =
      now_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.period).count();
  Table::Ptr aggregate = MakeAggregate(key_bytes, alert);
  aggregate->published_ns = now_ns;
  aggregate->bytes = bytes;
  Schedule(shard, key, shard.open.Insert(key, std::move(aggregate)), alert.aggregate_closes_ns);
  open_count_.fetch_add(1, std::memory_order_relaxed);
  open_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  opened_.fetch_add(1, std::memory_order_relaxed);
  return alert;
}

// What Add's per-shard steps share.
struct Aggregator::AddContext {
  const EventBatch& batch;
  std::span<const DetectionHit> hits;
  const std::vector<std::string>& agency_names;
  std::string_view keys;  // PendingHit's key bytes
  int64_t now_ns;
  std::vector<Alert>& alerts;
  std::vector<std::pair<uint32_t, Alert>>& opened;  // by hit index
  uint64_t joined = 0;  // counted once per batch: the workers share the counters' cache line
};

void Aggregator::Add(const EventBatch& batch, std::span<const DetectionHit> hits,
                     const std::vector<std::string>& agency_names, std::vector<Alert>& alerts) {
  thread_local std::string keys;
  thread_local std::vector<PendingHit> pending, by_shard;
  thread_local std::vector<std::pair<uint32_t, Alert>> opened;
  keys.clear();
  opened.clear();
  hits_.fetch_add(hits.size(), std::memory_order_relaxed);
  Pend(batch, hits, agency_names, keys, pending, alerts);
  // One lock per shard touched; hits keep their order within a shard (a
  // counting sort: no comparison sort's temporary buffer per batch).
  std::array<uint32_t, kShards + 1> starts{};
  for (const PendingHit& p : pending) ++starts[p.shard + 1];
  for (size_t s = 1; s <= kShards; ++s) starts[s] += starts[s - 1];
  by_shard.resize(pending.size());
  for (const PendingHit& p : pending) by_shard[starts[p.shard]++] = p;
  AddContext context{batch, hits, agency_names, keys, NowNs(), alerts, opened};
  for (size_t s = 0, begin = 0; s < kShards; begin = starts[s++]) {
    if (starts[s] > begin) {
      AddToShard(shards_[s], std::span(by_shard).subspan(begin, starts[s] - begin), context);
    }
  }
  if (context.joined > 0) aggregated_.fetch_add(context.joined, std::memory_order_relaxed);
  // Published in the order of the hits (the events), whatever the shards.
  std::sort(opened.begin(), opened.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [hit, alert] : opened) alerts.push_back(std::move(alert));
}

void Aggregator::Pend(const EventBatch& batch, std::span<const DetectionHit> hits,
                      const std::vector<std::string>& agency_names, std::string& keys,
                      std::vector<PendingHit>& pending, std::vector<Alert>& alerts) const {
  pending.clear();
  const auto events = batch.events();
  for (uint32_t i = 0; i < hits.size(); ++i) {
    const rules::Rule& rule = *hits[i].rule;
    const Event& event = events[hits[i].event_index];
    const std::string& agency = AgencyOf(agency_names, event.agency);
    if (!options_.enabled || (rule.aggregate_by && rule.aggregate_by->empty())) {
      alerts.push_back(MakeDetectionAlert(rule, batch, event, agency));
      continue;
    }
    const size_t begin = keys.size();
    AppendKey(keys, rule, agency, rule.aggregate_by ? *rule.aggregate_by : options_.group_by, batch,
              event);
    pending.push_back(
        {0, i, 0, static_cast<uint32_t>(begin), static_cast<uint32_t>(keys.size() - begin)});
  }
  // Hashed once all are written: hashing each key right after storing its
  // bytes piece by piece stalled its 8-byte loads on store forwarding
  // (perf put most of the hash's time on its first load).
  for (PendingHit& p : pending) {
    const std::string_view key = std::string_view(keys).substr(p.key_begin, p.key_size);
    p.key = options_.key_hash_for_test ? options_.key_hash_for_test(key) : AggregateKeyHash(key);
    p.shard = static_cast<uint32_t>(p.key % kShards);
  }
}

void Aggregator::AddToShard(Shard& shard, std::span<const PendingHit> pending,
                            AddContext& context) {
  // The table's slot kAhead * 2 hits ahead and the aggregate it names kAhead
  // ahead start loading: a join's time was mostly those two cache misses.
  constexpr size_t kAhead = 4;
  MutexLock lock(shard.mutex);
  for (size_t i = 0; i < std::min(pending.size(), 2 * kAhead); ++i) {
    shard.open.Prefetch(pending[i].key);
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    if (i + 2 * kAhead < pending.size()) shard.open.Prefetch(pending[i + 2 * kAhead].key);
    if (i + kAhead < pending.size()) PrefetchAggregate(shard.open.Find(pending[i + kAhead].key));
    AddHit(shard, pending[i], context);
  }
}

void Aggregator::AddHit(Shard& shard, const PendingHit& p, AddContext& context) {
  const DetectionHit& hit = context.hits[p.hit];
  const Event& event = context.batch.events()[hit.event_index];
  const std::string_view key_bytes = context.keys.substr(p.key_begin, p.key_size);
  Aggregate* aggregate = shard.open.Find(p.key);
  if (aggregate && aggregate->key() != key_bytes) {
    // Another aggregate under the same hash: this hit is an alert of its own.
    collisions_.fetch_add(1, std::memory_order_relaxed);
    context.alerts.push_back(MakeDetectionAlert(*hit.rule, context.batch, event,
                                                AgencyOf(context.agency_names, event.agency)));
    return;
  }
  if (aggregate && context.now_ns >= aggregate->closes_ns &&
      aggregate->count == aggregate->published_count) {
    // Past its period and nothing unpublished: closes now, a new one opens.
    open_count_.fetch_sub(1, std::memory_order_relaxed);
    open_bytes_.fetch_sub(aggregate->bytes, std::memory_order_relaxed);
    closed_.fetch_add(1, std::memory_order_relaxed);
    shard.open.Erase(p.key);
    aggregate = nullptr;
  }
  if (aggregate) {
    // (Past its period with hits to publish: it takes this one too; the
    // tick publishes and closes it.)
    Join(shard, p.key, *aggregate, event, context.now_ns);
    ++context.joined;
    return;
  }
  Alert alert =
      TrimmedAlert(*hit.rule, context.batch, event, AgencyOf(context.agency_names, event.agency));
  const auto& group_by = hit.rule->aggregate_by ? *hit.rule->aggregate_by : options_.group_by;
  for (const std::string& name : group_by) {
    const std::string_view value = FieldValue(context.batch, event, name);
    if (!value.empty()) alert.group.emplace_back(name, std::string(value));
  }
  context.opened.emplace_back(p.hit,
                              Open(shard, p.key, key_bytes, std::move(alert), context.now_ns));
}

void Aggregator::OnCommitted(std::span<const store::StoredAlert> alerts) {
  for (const store::StoredAlert& stored : alerts) {
    if (stored.aggregate_key == 0) continue;
    Shard& shard = shards_[stored.aggregate_key % kShards];
    MutexLock lock(shard.mutex);
    Aggregate* aggregate = shard.open.Find(stored.aggregate_key);
    if (aggregate && aggregate->alert->aggregate_version == stored.aggregate_version) {
      aggregate->last_id = stored.id;
    }
  }
}

Alert Aggregator::NextVersion(Aggregate& aggregate, int64_t now_ns) {
  Alert& alert = *aggregate.alert;
  alert.count = aggregate.count;
  alert.window_start_ns = aggregate.window_start_ns;
  alert.window_end_ns = aggregate.window_end_ns;
  ++alert.aggregate_version;
  Alert version = alert;
  version.replaces = aggregate.last_id;
  aggregate.published_count = aggregate.count;
  aggregate.published_ns = now_ns;
  aggregate.last_id = 0;  // until this version is committed
  updated_.fetch_add(1, std::memory_order_relaxed);
  return version;
}

bool Aggregator::Visit(Aggregate& aggregate, int64_t now_ns, bool final, std::vector<Alert>& out) {
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.update_interval).count();
  const bool ending = final || now_ns >= aggregate.closes_ns;
  const bool grew = aggregate.count > aggregate.published_count;
  // A new version replaces the previous one once that one is committed.
  if (grew && aggregate.last_id != 0 && (ending || now_ns - aggregate.published_ns >= interval)) {
    out.push_back(NextVersion(aggregate, now_ns));
  }
  const bool published = aggregate.count == aggregate.published_count;
  if (!ending || !(published || final)) return true;
  open_count_.fetch_sub(1, std::memory_order_relaxed);
  open_bytes_.fetch_sub(aggregate.bytes, std::memory_order_relaxed);
  closed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Aggregator::TickShard(Shard& shard, int64_t now_ns, bool final, std::vector<Alert>& out) {
  MutexLock lock(shard.mutex);
  if (final) {
    std::vector<uint64_t> closed;
    for (const auto [key, aggregate] : shard.open) {
      if (!Visit(aggregate, now_ns, true, out)) closed.push_back(key);
    }
    for (const uint64_t key : closed) shard.open.Erase(key);
    shard.due.clear();
    return;
  }
  while (!shard.due.empty() && shard.due.front().at_ns <= now_ns) {
    std::pop_heap(shard.due.begin(), shard.due.end(), std::greater<>());
    const Due due = shard.due.back();
    shard.due.pop_back();
    Aggregate* aggregate = shard.open.Find(due.key);
    if (!aggregate || aggregate->due_ns != due.at_ns) continue;  // stale
    if (!Visit(*aggregate, now_ns, false, out)) {
      shard.open.Erase(due.key);
      continue;
    }
    // Never due again within this tick (that would loop): at the next one.
    Schedule(shard, due.key, *aggregate, std::max(NextDue(*aggregate, now_ns), now_ns + 1));
  }
  if (shard.due.size() > 2 * shard.open.size() + 64) {  // mostly stale: rebuild
    shard.due.clear();
    for (const auto [key, aggregate] : shard.open) shard.due.push_back({aggregate.due_ns, key});
    std::make_heap(shard.due.begin(), shard.due.end(), std::greater<>());
  }
}

void Aggregator::Tick(std::chrono::system_clock::time_point now) {
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::vector<Alert> out;
  for (Shard& shard : shards_) TickShard(shard, now_ns, false, out);
  if (!out.empty() && sink_) sink_->Publish(out);
}

void Aggregator::Start() {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "gsoc-aggregate");
    MutexLock lock(tick_mutex_);
    // (The analysis cannot see that wait_for holds the lock when it calls the predicate.)
    while (!tick_cv_.wait_for(lock, std::chrono::seconds(1),
                              [this]() GSOC_REQUIRES(tick_mutex_) { return stop_; })) {
      lock.unlock();
      Tick(options_.clock_for_test ? options_.clock_for_test() : std::chrono::system_clock::now());
      lock.lock();
    }
  });
}

void Aggregator::Stop() {
  {
    MutexLock lock(tick_mutex_);
    stop_ = true;
  }
  tick_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!sink_) return;
  sink_->Flush();  // every published version committed: its id known
  std::vector<Alert> out;
  const int64_t now_ns = NowNs();
  for (Shard& shard : shards_) TickShard(shard, now_ns, true, out);
  if (out.empty()) return;
  sink_->Publish(out);
  sink_->Flush();
}

size_t Aggregator::Resume(const store::AlertReader& reader) {
  const int64_t now_ns = NowNs();
  const int64_t oldest =
      now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(options_.period).count();
  std::unordered_set<uint64_t> seen;  // keys whose newest version was read
  store::QueryRequest request;
  request.limit = kResumePage;
  request.newest_first = true;
  size_t resumed = 0;
  for (;;) {
    const store::QueryResult page = reader.Query(request);
    bool older = false;
    for (const store::StoredAlert& stored : page.alerts) {
      if (stored.commit_ns < oldest) {
        older = true;  // versions are committed in id order: none newer below
        break;
      }
      Alert alert;
      if (stored.json.find("\"aggregate\":{") == std::string::npos ||
          !ParseAggregateAlert(stored.json, &alert) || !seen.insert(alert.aggregate_key).second ||
          alert.aggregate_closes_ns <= now_ns) {
        continue;
      }
      if (open_count_.load() >= options_.max_open) break;
      const std::string key_bytes = AggregateKeyOf(alert);
      const size_t bytes = AggregateAlertBytes(alert) + key_bytes.size();
      const uint64_t key = alert.aggregate_key;
      Table::Ptr aggregate = MakeAggregate(key_bytes, std::move(alert));
      aggregate->published_ns = stored.commit_ns;
      aggregate->last_id = stored.id;
      aggregate->bytes = bytes;
      open_bytes_.fetch_add(bytes);
      open_count_.fetch_add(1);
      Shard& shard = shards_[key % kShards];
      MutexLock lock(shard.mutex);
      const int64_t closes = aggregate->closes_ns;
      Schedule(shard, key, shard.open.Insert(key, std::move(aggregate)), closes);
      ++resumed;
    }
    if (older || page.next_cursor == 0) break;
    request.filter.before_id = page.next_cursor;
  }
  resumed_.fetch_add(resumed);
  if (resumed > 0) spdlog::info("alert aggregation: {} open aggregates continued", resumed);
  return resumed;
}

AggregatorStats Aggregator::stats() const {
  AggregatorStats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.aggregated = aggregated_.load(std::memory_order_relaxed);
  stats.opened = opened_.load(std::memory_order_relaxed);
  stats.updated = updated_.load(std::memory_order_relaxed);
  stats.closed = closed_.load(std::memory_order_relaxed);
  stats.overflow = overflow_.load(std::memory_order_relaxed);
  stats.collisions = collisions_.load(std::memory_order_relaxed);
  stats.resumed = resumed_.load(std::memory_order_relaxed);
  stats.open = open_count_.load(std::memory_order_relaxed);
  stats.bytes = open_bytes_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace gsoc::aggregate
