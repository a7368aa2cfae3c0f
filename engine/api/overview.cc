#include "engine/api/overview.h"

#include <simdjson.h>

#include <algorithm>

#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"

namespace gsoc::api {

namespace {

constexpr int64_t kHourNs = 3'600'000'000'000LL;
constexpr int64_t kDayNs = 24 * kHourNs;
constexpr std::array<std::string_view, 8> kSourceFields = {
    "src_ip", "source_ip", "SourceIp", "IpAddress", "client_ip", "host", "hostname", "Computer"};

int64_t FloorDiv(int64_t value, int64_t unit) {
  return value >= 0 ? value / unit : -((-value + unit - 1) / unit);
}

size_t Slot(int64_t index, size_t size) {
  const int64_t n = static_cast<int64_t>(size);
  return static_cast<size_t>(((index % n) + n) % n);
}

std::string_view Cut(std::string_view text) {
  return text.substr(0, std::min(text.size(), OverviewRollup::kMaxKeyBytes));
}

int64_t ToNs(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// A bounded count map: when full, the less counted half is pruned.
class TopMap {
 public:
  void Add(std::string_view key, std::string_view title, uint64_t count, size_t limit) {
    auto it = entries_.find(std::string(key));
    if (it == entries_.end()) {
      if (entries_.size() >= std::max<size_t>(limit, 2)) Prune(std::max<size_t>(limit, 2) / 2);
      it = entries_.emplace(std::string(key), Entry{std::string(Cut(title)), 0}).first;
    }
    it->second.count += count;
  }
  void Clear() { entries_.clear(); }
  template <class Visit>
  void ForEach(const Visit& visit) const {
    for (const auto& [key, entry] : entries_) visit(key, entry.title, entry.count);
  }

 private:
  struct Entry {
    std::string title;
    uint64_t count = 0;
  };
  void Prune(size_t keep) {
    if (entries_.size() <= keep) return;
    std::vector<uint64_t> counts;
    counts.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) counts.push_back(entry.count);
    std::nth_element(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(keep),
                     counts.end(), std::greater<>());
    const uint64_t floor = counts[keep];  // entries at most this count go
    std::erase_if(entries_, [floor](const auto& entry) { return entry.second.count <= floor; });
  }
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace

// What OnCommitted needs from an alert's JSON.
struct OverviewRollup::Parsed {
  std::string_view title;
  std::string_view source;
};

struct OverviewRollup::WriterState {
  simdjson::ondemand::parser parser;
  std::string buffer;
};

struct OverviewRollup::Agency {
  struct Hour {
    int64_t hour = INT64_MIN;  // hours since the epoch; INT64_MIN: empty
    std::array<uint64_t, OverviewCounts::kLevels> levels{};
    uint64_t closed = 0;
  };
  struct Day {
    int64_t day = INT64_MIN;
    TopMap rules;
    TopMap sources;
  };
  std::array<Hour, kHours> hours;
  std::array<Day, kDays> days;
};

namespace {

// Parses the rule title and the source out of an alert's JSON (`buffer`
// holds the padded copy simdjson needs). Views point into `buffer`.
bool ParseAlert(simdjson::ondemand::parser& parser, std::string_view json, std::string& buffer,
                std::string_view& title, std::string_view& source) {
  buffer.assign(json);
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::padded_string_view view(buffer.data(), json.size(), buffer.size());
  simdjson::ondemand::document doc;
  if (parser.iterate(view).get(doc)) return false;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return false;
  size_t best = kSourceFields.size();
  for (auto member : root) {
    std::string_view key;
    if (member.unescaped_key().get(key)) return false;
    if (key == "rule") {
      simdjson::ondemand::object rule;
      if (member.value().get_object().get(rule)) return false;
      for (auto part : rule) {
        std::string_view name;
        if (part.unescaped_key().get(name)) return false;
        if (name == "title" && part.value().get_string().get(title)) return false;
      }
    } else if (key == "fields" || key == "group") {
      simdjson::ondemand::object pairs;
      if (member.value().get_object().get(pairs)) return false;
      for (auto pair : pairs) {
        std::string_view name;
        if (pair.unescaped_key().get(name)) return false;
        const auto it = std::find(kSourceFields.begin(), kSourceFields.end(), name);
        const size_t rank = static_cast<size_t>(it - kSourceFields.begin());
        std::string_view value;
        if (rank < best && !pair.value().get_string().get(value) && !value.empty()) {
          source = value;
          best = rank;
        }
      }
    }
  }
  return true;
}

}  // namespace

OverviewRollup::OverviewRollup(OverviewOptions options)
    : options_(options), writer_state_(std::make_unique<WriterState>()) {}
OverviewRollup::~OverviewRollup() = default;

OverviewRollup::Agency* OverviewRollup::FindOrAdd(std::string_view name) {
  auto it = agencies_.find(std::string(name));
  if (it != agencies_.end()) return it->second.get();
  if (agencies_.size() >= options_.max_agencies) return nullptr;
  return agencies_.emplace(std::string(name), std::make_unique<Agency>()).first->second.get();
}

void OverviewRollup::Add(const store::StoredAlert& alert, const Parsed& parsed, int64_t now_ns,
                         bool closed) {
  Agency* agency = FindOrAdd(Cut(alert.agency));
  if (!agency) {
    ++dropped_;
    return;
  }
  if (alert.time_ns > now_ns + kHourNs) {  // a clock far ahead must not take ring slots
    ++dropped_;
    return;
  }
  const int64_t hour = FloorDiv(alert.time_ns, kHourNs);
  Agency::Hour& slot = agency->hours[Slot(hour, kHours)];
  if (slot.hour != hour) {
    if (slot.hour > hour) return;  // the slot holds a newer hour: this one left the ring
    slot = Agency::Hour{hour, {}, 0};
  }
  ++slot.levels[std::min<size_t>(static_cast<size_t>(alert.level), OverviewCounts::kLevels - 1)];
  if (closed) ++slot.closed;
  const int64_t day = FloorDiv(alert.time_ns, kDayNs);
  Agency::Day& day_slot = agency->days[Slot(day, kDays)];
  if (day_slot.day != day) {
    if (day_slot.day > day) return;
    day_slot.day = day;
    day_slot.rules.Clear();
    day_slot.sources.Clear();
  }
  day_slot.rules.Add(Cut(alert.rule_id), parsed.title, 1, options_.top_entries);
  if (!parsed.source.empty()) {
    day_slot.sources.Add(Cut(parsed.source), {}, 1, options_.top_entries);
  }
}

void OverviewRollup::OnCommitted(std::span<const store::StoredAlert> alerts) {
  const int64_t wall_ns = ToNs(std::chrono::system_clock::now());
  MutexLock lock(mutex_);
  for (const store::StoredAlert& alert : alerts) {
    if (alert.id <= seeded_last_id_ || alert.replaces != 0) continue;
    Parsed parsed;
    ParseAlert(writer_state_->parser, alert.json, writer_state_->buffer, parsed.title,
               parsed.source);
    Add(alert, parsed, alert.commit_ns != 0 ? alert.commit_ns : wall_ns);
  }
}

size_t OverviewRollup::Seed(const store::AlertReader& reader,
                            std::chrono::system_clock::time_point now,
                            const triage::TriageStore* triage) {
  simdjson::ondemand::parser parser;
  std::string buffer;
  const uint64_t last = reader.last_id();
  store::QueryRequest request;
  request.filter.since_ns = FloorDiv(ToNs(now), kDayNs) * kDayNs - 6 * kDayNs;
  request.filter.before_id = last + 1;
  request.newest_first = true;
  request.limit = 1000;
  MutexLock lock(mutex_);
  seeded_last_id_ = last;
  size_t read = 0;
  while (last > 0) {
    const store::QueryResult page = reader.Query(request);
    std::vector<uint64_t> ids;
    ids.reserve(page.alerts.size());
    for (const store::StoredAlert& alert : page.alerts) ids.push_back(alert.id);
    std::vector<triage::TriageState> states;
    if (triage) states = triage->GetMany(ids);
    for (size_t i = 0; i < page.alerts.size(); ++i) {
      const store::StoredAlert& alert = page.alerts[i];
      Parsed parsed;
      ParseAlert(parser, alert.json, buffer, parsed.title, parsed.source);
      const bool closed = i < states.size() && states[i].status == triage::Status::kClosed;
      Add(alert, parsed, ToNs(now), closed);  // any order: a slot keeps the newest hour it saw
    }
    read += page.alerts.size();
    if (page.next_cursor == 0) break;
    if (read >= options_.seed_alerts) {
      seeded_complete_ = false;
      break;
    }
    request.filter.before_id = page.next_cursor;
  }
  return read;
}

void OverviewRollup::OnTriageChange(const triage::ChangeEvent& change) {
  const bool was = change.previous == triage::Status::kClosed;
  const bool is = change.state.status == triage::Status::kClosed;
  if (was != is) CountStatusChange(change.agency, change.alert_time_ns, is ? +1 : -1);
}

void OverviewRollup::CountStatusChange(std::string_view agency_name, int64_t time_ns,
                                       int closed_delta) {
  MutexLock lock(mutex_);
  auto it = agencies_.find(std::string(Cut(agency_name)));
  if (it == agencies_.end()) return;
  const int64_t hour = FloorDiv(time_ns, kHourNs);
  Agency::Hour& slot = it->second->hours[Slot(hour, kHours)];
  if (slot.hour != hour) return;  // no longer in the ring
  if (closed_delta > 0) {
    ++slot.closed;
  } else if (slot.closed > 0) {
    --slot.closed;
  }
}

void OverviewRollup::AddTo(const Agency& agency, int64_t now_hour, OverviewCounts& out,
                           std::map<std::string, OverviewCounts::Top>& rules,
                           std::map<std::string, OverviewCounts::Top>& sources) const {
  const int64_t first_day = FloorDiv(now_hour, 24) - 6;
  for (const Agency::Hour& slot : agency.hours) {
    if (slot.hour == INT64_MIN || slot.hour > now_hour || FloorDiv(slot.hour, 24) < first_day) {
      continue;
    }
    uint64_t total = 0;
    const size_t day = static_cast<size_t>(FloorDiv(slot.hour, 24) - first_day);
    const int64_t back = now_hour - slot.hour;
    for (size_t level = 0; level < OverviewCounts::kLevels; ++level) {
      total += slot.levels[level];
      out.days[day].counts[level] += slot.levels[level];
      if (back < 24) out.hours[static_cast<size_t>(23 - back)].counts[level] += slot.levels[level];
    }
    out.closed += std::min(slot.closed, total);
    out.open += total - std::min(slot.closed, total);
  }
  for (const Agency::Day& day : agency.days) {
    if (day.day < first_day || day.day > first_day + 6) continue;
    day.rules.ForEach([&rules](const std::string& key, const std::string& title, uint64_t count) {
      auto& top = rules[key];
      top.key = key;
      if (top.title.empty()) top.title = title;
      top.count += count;
    });
    day.sources.ForEach([&sources](const std::string& key, const std::string&, uint64_t count) {
      auto& top = sources[key];
      top.key = key;
      top.count += count;
    });
  }
}

namespace {

std::vector<OverviewCounts::Top> Highest(std::map<std::string, OverviewCounts::Top>& all) {
  std::vector<OverviewCounts::Top> tops;
  tops.reserve(all.size());
  for (auto& [key, top] : all) tops.push_back(std::move(top));
  const size_t shown = std::min(tops.size(), OverviewRollup::kTopShown);
  std::partial_sort(tops.begin(), tops.begin() + static_cast<std::ptrdiff_t>(shown), tops.end(),
                    [](const auto& a, const auto& b) {
                      return a.count != b.count ? a.count > b.count : a.key < b.key;
                    });
  tops.resize(shown);
  return tops;
}

}  // namespace

OverviewCounts OverviewRollup::Counts(const std::vector<std::string>& agencies,
                                      std::chrono::system_clock::time_point now) const {
  const int64_t now_hour = FloorDiv(ToNs(now), kHourNs);
  OverviewCounts out;
  out.hours.resize(24);
  out.days.resize(7);
  for (size_t i = 0; i < 24; ++i) out.hours[i].start_ns = (now_hour - 23 + int64_t(i)) * kHourNs;
  const int64_t first_day = FloorDiv(now_hour, 24) - 6;
  for (size_t i = 0; i < 7; ++i) out.days[i].start_ns = (first_day + int64_t(i)) * kDayNs;
  std::map<std::string, OverviewCounts::Top> rules;
  std::map<std::string, OverviewCounts::Top> sources;
  MutexLock lock(mutex_);
  if (agencies.empty()) {
    for (const auto& [name, agency] : agencies_) AddTo(*agency, now_hour, out, rules, sources);
  } else {
    for (const std::string& name : agencies) {
      const auto it = agencies_.find(name);
      if (it != agencies_.end()) AddTo(*it->second, now_hour, out, rules, sources);
    }
  }
  out.top_rules = Highest(rules);
  out.top_sources = Highest(sources);
  return out;
}

uint64_t OverviewRollup::dropped() const {
  MutexLock lock(mutex_);
  return dropped_;
}

bool OverviewRollup::seeded_complete() const {
  MutexLock lock(mutex_);
  return seeded_complete_;
}

namespace {

void AppendBuckets(std::string& out, const std::vector<OverviewCounts::Bucket>& buckets) {
  out += '[';
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i) out += ',';
    char text[32];
    out += "{\"start\":";
    AppendJsonString(out, FormatRfc3339Millis(buckets[i].start_ns, text));
    out += ",\"counts\":{";
    for (size_t level = 0; level < OverviewCounts::kLevels; ++level) {
      if (level) out += ',';
      out += '"';
      out += rules::LevelName(static_cast<rules::Level>(level));
      out += "\":" + std::to_string(buckets[i].counts[level]);
    }
    out += "}}";
  }
  out += ']';
}

void AppendTops(std::string& out, const std::vector<OverviewCounts::Top>& tops, bool rules) {
  out += '[';
  for (size_t i = 0; i < tops.size(); ++i) {
    if (i) out += ',';
    out += rules ? "{\"rule_id\":" : "{\"source\":";
    AppendJsonString(out, tops[i].key);
    if (rules) {
      out += ",\"title\":";
      AppendJsonString(out, tops[i].title);
    }
    out += ",\"count\":" + std::to_string(tops[i].count) + '}';
  }
  out += ']';
}

}  // namespace

std::string OverviewJson(const OverviewCounts& counts, const std::optional<std::string>& agency) {
  std::string out = "{\"agency\":";
  if (agency) {
    AppendJsonString(out, *agency);
  } else {
    out += "null";
  }
  out += ",\"levels_24h\":";
  AppendBuckets(out, counts.hours);
  out += ",\"levels_7d\":";
  AppendBuckets(out, counts.days);
  out += ",\"top_rules\":";
  AppendTops(out, counts.top_rules, true);
  out += ",\"top_sources\":";
  AppendTops(out, counts.top_sources, false);
  out += ",\"open\":" + std::to_string(counts.open) +
         ",\"closed\":" + std::to_string(counts.closed) + '}';
  return out;
}

}  // namespace gsoc::api
