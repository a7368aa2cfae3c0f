// Cases: created by hand (CreateCase) or by cases.auto rules (OnCommitted),
// changed by ChangeCase. Every case change holds cases_mutex_ (cases are
// few and their changes rare next to alerts); the record is one value.
#include <simdjson.h>

#include <algorithm>

#include "engine/triage/triage_store_impl.h"

namespace gsoc::triage {

namespace {

void PutEntries(codec::Writer& out, const std::vector<CaseEntry>& entries) {
  out.U64(entries.size());
  for (const CaseEntry& entry : entries) {
    out.I64(entry.time_ns);
    out.Str(entry.author);
    out.Str(entry.action);
    out.Str(entry.text);
  }
}

std::vector<CaseEntry> GetEntries(codec::Reader& in) {
  std::vector<CaseEntry> entries;
  const uint64_t count = in.U64();
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    CaseEntry entry;
    entry.time_ns = in.I64();
    entry.author = in.Str();
    entry.action = in.Str();
    entry.text = in.Str();
    entries.push_back(std::move(entry));
  }
  return entries;
}

rules::Level Severity(const Case& value) {
  rules::Level level = rules::Level::kInformational;
  for (const auto& [id, alert_level] : value.alerts) level = std::max(level, alert_level);
  return level;
}

// The alert's group ({"src_ip":"10.0.0.1",...}), parsed once per alert.
class AlertGroup {
 public:
  explicit AlertGroup(const std::string& json) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    ok_ = parser.parse(json).get(root) == simdjson::SUCCESS &&
          root["group"].get(group_) == simdjson::SUCCESS;
  }
  std::optional<std::string> Value(const std::string& field) const {
    std::string_view text;
    if (!ok_ || group_[field].get(text) != simdjson::SUCCESS || text.empty()) return std::nullopt;
    return std::string(text);
  }

 private:
  bool ok_ = false;
  simdjson::dom::object group_;
};

std::string IdList(std::span<const uint64_t> ids) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < 20; ++i) {
    if (i) text += ',';
    text += std::to_string(ids[i]);
  }
  if (ids.size() > 20) text += ",... (" + std::to_string(ids.size()) + " alerts)";
  return text;
}

}  // namespace

std::string EncodeCase(const Case& value) {
  codec::Writer out;
  out.Str(value.title);
  out.Str(value.agency);
  out.U8(static_cast<uint8_t>(value.status));
  out.Str(value.assignee);
  out.U64(value.alerts.size());
  for (const auto& [id, level] : value.alerts) {
    out.U64(id);
    out.U8(static_cast<uint8_t>(level));
  }
  PutEntries(out, value.notes);
  PutEntries(out, value.timeline);
  out.I64(value.created_ns);
  out.I64(value.updated_ns);
  out.U64(value.version);
  out.Str(value.auto_rule);
  return out.Take();
}

std::optional<Case> DecodeCase(uint64_t id, std::string_view bytes) {
  codec::Reader in(bytes);
  Case value;
  value.id = id;
  value.title = in.Str();
  value.agency = in.Str();
  value.status = static_cast<CaseStatus>(in.U8());
  value.assignee = in.Str();
  const uint64_t count = in.U64();
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    const uint64_t alert = in.U64();
    const auto level = static_cast<rules::Level>(std::min<uint8_t>(in.U8(), 4));
    value.alerts.emplace_back(alert, level);
  }
  value.notes = GetEntries(in);
  value.timeline = GetEntries(in);
  value.created_ns = in.I64();
  value.updated_ns = in.I64();
  value.version = in.U64();
  value.auto_rule = in.Str();
  if (!in.ok() || value.status > CaseStatus::kClosed) return std::nullopt;
  value.severity = Severity(value);
  return value;
}

void RocksTriageStore::LoadAutoOpen() {
  MutexLock lock(cases_mutex_);
  if (auto next = Read(std::string(codec::kNextCaseKey))) {
    codec::Reader in(*next);
    next_case_id_ = in.U64();
  }
  std::unordered_map<std::string, AutoOpen> loaded;
  Scan(std::string(1, codec::kAutoOpen),
       [&loaded](const rocksdb::Slice& key, const rocksdb::Slice& value) {
         codec::Reader in(value.ToStringView());
         AutoOpen open{in.U64(), in.I64()};
         if (in.ok()) loaded[key.ToString()] = open;
         return true;
       });
  auto_open_ = std::move(loaded);
}

uint64_t RocksTriageStore::NextCaseId() { return ++next_case_id_; }

void RocksTriageStore::PutCase(rocksdb::WriteBatch& batch, const Case& value) {
  batch.Put(codec::CaseKey(value.id), EncodeCase(value));
}

void RocksTriageStore::AppendTimeline(Case& value, int64_t now, const std::string& author,
                                      std::string action, std::string detail) {
  value.timeline.push_back({now, author, std::move(action), std::move(detail)});
  value.updated_ns = now;
}

std::optional<Case> RocksTriageStore::GetCase(uint64_t id) const {
  auto bytes = Read(codec::CaseKey(id));
  if (!bytes) return std::nullopt;
  auto value = DecodeCase(id, *bytes);
  if (!value) Fail("case " + std::to_string(id), rocksdb::Status::Corruption());
  return value;
}

std::vector<Case> RocksTriageStore::ListCases(const std::function<bool(const Case&)>& visible,
                                              uint64_t before_id, size_t limit) const {
  std::vector<Case> out;
  if (before_id == 0) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, codec::kCase);
  std::string start = prefix;
  wire::PutBigEndian64(start, before_id - 1);
  for (it->SeekForPrev(start); it->Valid() && out.size() < limit; it->Prev()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 9 || key[0] != codec::kCase) break;
    const uint64_t id = wire::GetBigEndian64({key.data() + 1, 8});
    auto value = DecodeCase(id, it->value().ToStringView());
    if (!value) Fail("case " + std::to_string(id), rocksdb::Status::Corruption());
    if (visible(*value)) out.push_back(std::move(*value));
  }
  if (!it->status().ok()) Fail("case scan", it->status());
  return out;
}

std::variant<Case, std::string> RocksTriageStore::CreateCase(const NewCase& request,
                                                             const std::string& author,
                                                             std::span<const CaseAlert> alerts) {
  const TriageLimits& limits = options_.limits;
  if (request.title.empty() || request.title.size() > limits.max_title_bytes) {
    return "title: required, at most " + std::to_string(limits.max_title_bytes) + " bytes";
  }
  if (request.agency.empty()) return std::string("agency: required");
  if (alerts.size() > limits.max_case_alerts) {
    return "alert_ids: at most " + std::to_string(limits.max_case_alerts) + " per case";
  }
  for (const CaseAlert& alert : alerts) {
    if (alert.agency != request.agency) {
      return "alert " + std::to_string(alert.id) + " is of agency '" + alert.agency +
             "', not the case's";
    }
  }
  MutexLock lock(cases_mutex_);
  Case value;
  value.id = NextCaseId();
  value.title = request.title;
  value.agency = request.agency;
  value.created_ns = value.updated_ns = Now();
  rocksdb::WriteBatch batch;
  std::vector<uint64_t> ids;
  for (const CaseAlert& alert : alerts) {
    if (std::any_of(value.alerts.begin(), value.alerts.end(),
                    [&](const auto& a) { return a.first == alert.id; })) {
      continue;
    }
    value.alerts.emplace_back(alert.id, alert.level);
    ids.push_back(alert.id);
    batch.Put(codec::AlertCaseKey(alert.id, value.id), "");
  }
  std::sort(value.alerts.begin(), value.alerts.end());
  value.severity = Severity(value);
  AppendTimeline(value, value.created_ns, author, "created", IdList(ids));
  PutCase(batch, value);
  codec::Writer next;
  next.U64(next_case_id_);
  batch.Put(std::string(codec::kNextCaseKey), next.Take());
  Write(batch);
  cases_created_.fetch_add(1);
  return value;
}

std::optional<std::string> RocksTriageStore::ApplyCaseChange(Case& value, const CaseChange& change,
                                                             std::span<const CaseAlert> alerts,
                                                             rocksdb::WriteBatch& batch) {
  const TriageLimits& limits = options_.limits;
  if (value.timeline.size() >= limits.max_case_timeline) {
    return "timeline full (max_case_timeline)";
  }
  if (change.action == "add_alerts") {
    for (const CaseAlert& alert : alerts) {
      if (alert.agency != value.agency) {
        return "alert " + std::to_string(alert.id) + " is of agency '" + alert.agency +
               "', not the case's";
      }
    }
    for (const CaseAlert& alert : alerts) {
      const auto at = std::lower_bound(value.alerts.begin(), value.alerts.end(),
                                       std::make_pair(alert.id, rules::Level::kInformational));
      if (at != value.alerts.end() && at->first == alert.id) continue;
      if (value.alerts.size() >= limits.max_case_alerts) return "case full (max_case_alerts)";
      value.alerts.insert(at, {alert.id, alert.level});
      batch.Put(codec::AlertCaseKey(alert.id, value.id), "");
    }
  } else if (change.action == "remove_alerts") {
    for (uint64_t id : change.alert_ids) {
      std::erase_if(value.alerts, [id](const auto& a) { return a.first == id; });
      batch.Delete(codec::AlertCaseKey(id, value.id));
    }
  } else if (change.action == "assign") {
    if (change.assignee.size() > limits.max_assignee_bytes) return "assignee: too long";
    value.assignee = change.assignee;
  } else if (change.action == "note") {
    if (change.note.empty() || change.note.size() > limits.max_note_bytes) {
      return "note: required, at most " + std::to_string(limits.max_note_bytes) + " bytes";
    }
    if (value.notes.size() >= limits.max_case_notes) return "notes full (max_case_notes)";
  } else if (change.action == "status") {
    if (!change.status) return std::string("status: open, in_progress or closed");
    value.status = *change.status;
  } else if (change.action == "close") {
    value.status = CaseStatus::kClosed;
  } else {
    return "action: add_alerts, remove_alerts, assign, note, status or close";
  }
  value.severity = Severity(value);
  return std::nullopt;
}

CaseChangeResult RocksTriageStore::ChangeCase(uint64_t id, const CaseChange& change,
                                              const std::string& author,
                                              std::span<const CaseAlert> alerts) {
  using Outcome = CaseChangeResult::Outcome;
  CaseChangeResult result;
  MutexLock lock(cases_mutex_);
  auto value = GetCase(id);
  if (!value) return {Outcome::kNotFound, "no case " + std::to_string(id), {}};
  if (change.expected_version && *change.expected_version != value->version) {
    return {Outcome::kConflict, "conflict", std::move(*value)};
  }
  rocksdb::WriteBatch batch;
  Case next = *value;
  if (auto error = ApplyCaseChange(next, change, alerts, batch)) {
    return {Outcome::kInvalid, std::move(*error), std::move(*value)};
  }
  const int64_t now = Now();
  std::string detail;
  if (change.action == "add_alerts") {
    std::vector<uint64_t> ids;
    for (const CaseAlert& alert : alerts) ids.push_back(alert.id);
    detail = IdList(ids);
  } else if (change.action == "remove_alerts") {
    detail = IdList(change.alert_ids);
  } else if (change.action == "assign") {
    detail = change.assignee;
  } else if (change.action == "note") {
    next.notes.push_back({now, author, "note", change.note});
    detail = change.note;
  } else {
    detail = std::string(CaseStatusName(next.status));
  }
  AppendTimeline(next, now, author, change.action, std::move(detail));
  ++next.version;
  PutCase(batch, next);
  Write(batch);
  return {Outcome::kOk, "", std::move(next)};
}

// ---- auto cases (OnCommitted, alert store writer thread) ----

Case* RocksTriageStore::PendingCase(uint64_t id) {
  auto found = pending_cases_.find(id);
  if (found != pending_cases_.end()) return &found->second;
  auto value = GetCase(id);
  if (!value) return nullptr;
  return &pending_cases_.emplace(id, std::move(*value)).first->second;
}

void RocksTriageStore::FlushPending(rocksdb::WriteBatch& batch) {
  for (auto& [id, value] : pending_cases_) {
    ++value.version;
    PutCase(batch, value);
  }
  if (!pending_cases_.empty()) {
    codec::Writer next;
    next.U64(next_case_id_);
    batch.Put(std::string(codec::kNextCaseKey), next.Take());
  }
  pending_cases_.clear();
  pending_members_.clear();
}

void RocksTriageStore::ReplaceCaseAlert(uint64_t from, uint64_t to, rocksdb::WriteBatch& batch) {
  std::vector<uint64_t> cases = pending_members_[from];
  Scan(codec::AlertCasePrefix(from), [&](const rocksdb::Slice& key, const rocksdb::Slice&) {
    cases.push_back(wire::GetBigEndian64({key.data() + 9, 8}));
    return true;
  });
  for (uint64_t case_id : cases) {
    Case* value = PendingCase(case_id);
    batch.Delete(codec::AlertCaseKey(from, case_id));
    if (!value) continue;
    rules::Level level = rules::Level::kInformational;
    std::erase_if(value->alerts, [&](const auto& a) {
      if (a.first == from) level = a.second;
      return a.first == from;
    });
    const auto at = std::lower_bound(value->alerts.begin(), value->alerts.end(),
                                     std::make_pair(to, rules::Level::kInformational));
    if (at == value->alerts.end() || at->first != to) value->alerts.insert(at, {to, level});
    batch.Put(codec::AlertCaseKey(to, case_id), "");
    pending_members_[to].push_back(case_id);
  }
}

void RocksTriageStore::FileAutoCases(const store::StoredAlert& alert, rocksdb::WriteBatch& batch) {
  if (options_.auto_cases.empty() || alert.agency.empty()) return;
  const AlertGroup group(alert.json);
  for (const AutoCaseRule& rule : options_.auto_cases) {
    if (alert.level < rule.min_level) continue;
    if (auto value = group.Value(rule.entity)) {
      FileAutoCase(rule, alert, *value, batch);
    }
  }
}

void RocksTriageStore::FileAutoCase(const AutoCaseRule& rule, const store::StoredAlert& alert,
                                    const std::string& value, rocksdb::WriteBatch& batch) {
  const std::string key = codec::AutoOpenKey(rule.name, alert.agency, value);
  auto open = auto_open_.find(key);
  Case* target = nullptr;
  if (open != auto_open_.end() && alert.time_ns - open->second.last_ns <= rule.window_ns) {
    target = PendingCase(open->second.case_id);
    if (target && target->status == CaseStatus::kClosed) target = nullptr;
  }
  const int64_t now = Now();
  if (target == nullptr) {
    if (auto_open_.size() >= options_.limits.max_open_auto_cases && open == auto_open_.end()) {
      auto oldest = std::min_element(auto_open_.begin(), auto_open_.end(), [](auto& a, auto& b) {
        return a.second.last_ns < b.second.last_ns;
      });
      batch.Delete(oldest->first);
      auto_open_.erase(oldest);
    }
    Case fresh;
    fresh.id = NextCaseId();
    fresh.title = rule.name + ": " + rule.entity + " " + value;
    fresh.agency = alert.agency;
    fresh.created_ns = fresh.updated_ns = now;
    fresh.version = 0;  // FlushPending counts this write as version 1
    fresh.auto_rule = rule.name;
    AppendTimeline(fresh, now, "auto:" + rule.name, "created", rule.entity + "=" + value);
    target = &pending_cases_.emplace(fresh.id, std::move(fresh)).first->second;
    cases_created_.fetch_add(1);
  }
  const auto at = std::lower_bound(target->alerts.begin(), target->alerts.end(),
                                   std::make_pair(alert.id, rules::Level::kInformational));
  if (at != target->alerts.end() && at->first == alert.id) return;
  if (target->alerts.size() >= options_.limits.max_case_alerts) return;
  target->alerts.insert(at, {alert.id, alert.level});
  target->severity = Severity(*target);
  if (target->timeline.size() < options_.limits.max_case_timeline) {
    AppendTimeline(*target, now, "auto:" + rule.name, "add_alerts", std::to_string(alert.id));
  }
  target->updated_ns = now;
  batch.Put(codec::AlertCaseKey(alert.id, target->id), "");
  pending_members_[alert.id].push_back(target->id);
  const AutoOpen updated{
      target->id,
      std::max(alert.time_ns, open == auto_open_.end() ? alert.time_ns : open->second.last_ns)};
  auto_open_[key] = updated;
  codec::Writer record;
  record.U64(updated.case_id);
  record.I64(updated.last_ns);
  batch.Put(key, record.Take());
  auto_case_alerts_.fetch_add(1);
}

}  // namespace gsoc::triage
