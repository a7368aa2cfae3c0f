#include "engine/triage/triage_store.h"

#include <rocksdb/options.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "engine/triage/triage_store_impl.h"

namespace gsoc::triage {

namespace {

RocksTriageStore& Self(TriageStore* store) { return static_cast<RocksTriageStore&>(*store); }
const RocksTriageStore& Self(const TriageStore* store) {
  return static_cast<const RocksTriageStore&>(*store);
}

bool StartsWith(const rocksdb::Slice& key, const std::string& prefix) {
  return key.size() >= prefix.size() && std::memcmp(key.data(), prefix.data(), prefix.size()) == 0;
}

std::string EncodeHistory(const HistoryEntry& entry) {
  codec::Writer out;
  out.I64(entry.time_ns);
  out.Str(entry.author);
  out.U8(static_cast<uint8_t>(entry.action));
  out.U8(static_cast<uint8_t>(entry.status));
  out.U8(static_cast<uint8_t>(entry.reason));
  out.Str(entry.assignee);
  out.Str(entry.note);
  return out.Take();
}

std::optional<HistoryEntry> DecodeHistory(uint64_t version, std::string_view bytes) {
  codec::Reader in(bytes);
  HistoryEntry entry;
  entry.version = version;
  entry.time_ns = in.I64();
  entry.author = in.Str();
  entry.action = static_cast<Action>(in.U8());
  entry.status = static_cast<Status>(in.U8());
  entry.reason = static_cast<Reason>(in.U8());
  entry.assignee = in.Str();
  entry.note = in.Str();
  if (!in.ok() || entry.action > Action::kCarried || entry.status > Status::kClosed ||
      entry.reason > Reason::kDuplicate) {
    return std::nullopt;
  }
  return entry;
}

// The new state after `change`, or why it may not apply.
std::optional<std::pair<ChangeError, std::string>> Transition(const Change& change,
                                                              const TriageLimits& limits,
                                                              TriageState& state) {
  using Refusal = std::pair<ChangeError, std::string>;
  if (state.history >= limits.max_history_per_alert) {
    return Refusal{ChangeError::kLimit, "history full (max_history_per_alert)"};
  }
  if (!change.note.empty() && state.notes >= limits.max_notes_per_alert) {
    return Refusal{ChangeError::kLimit, "notes full (max_notes_per_alert)"};
  }
  const Status from = state.status;
  auto invalid = [&] {
    return Refusal{ChangeError::kInvalidTransition, std::string(ActionName(change.action)) +
                                                        " is not possible from " +
                                                        std::string(StatusName(from))};
  };
  switch (change.action) {
    case Action::kAck:
      if (from != Status::kNew) return invalid();
      state.status = Status::kAcknowledged;
      break;
    case Action::kStart:
      if (from != Status::kNew && from != Status::kAcknowledged) return invalid();
      state.status = Status::kInProgress;
      break;
    case Action::kAssign:
      if (from == Status::kClosed) return invalid();
      state.assignee = change.assignee;
      break;
    case Action::kNote:
      break;
    case Action::kClose:
      if (from == Status::kClosed) return invalid();
      state.status = Status::kClosed;
      state.reason = change.reason;
      break;
    case Action::kReopen:
      if (from != Status::kClosed) return invalid();
      state.status = Status::kAcknowledged;
      state.reason = Reason::kNone;
      break;
    case Action::kCarried:
      return invalid();
  }
  return std::nullopt;
}

}  // namespace

std::string EncodeState(const TriageState& state) {
  codec::Writer out;
  out.U8(static_cast<uint8_t>(state.status));
  out.U8(static_cast<uint8_t>(state.reason));
  out.Str(state.assignee);
  out.U64(state.version);
  out.I64(state.updated_ns);
  out.Str(state.updated_by);
  out.U64(state.notes);
  out.U64(state.history);
  return out.Take();
}

std::optional<TriageState> DecodeState(uint64_t id, std::string_view bytes) {
  codec::Reader in(bytes);
  TriageState state;
  state.id = id;
  state.status = static_cast<Status>(in.U8());
  state.reason = static_cast<Reason>(in.U8());
  state.assignee = in.Str();
  state.version = in.U64();
  state.updated_ns = in.I64();
  state.updated_by = in.Str();
  state.notes = static_cast<uint32_t>(in.U64());
  state.history = static_cast<uint32_t>(in.U64());
  if (!in.ok() || state.status > Status::kClosed || state.reason > Reason::kDuplicate) {
    return std::nullopt;
  }
  return state;
}

// ---- TriageStore: forwards to the implementation ----

std::unique_ptr<TriageStore> TriageStore::Open(const TriageOptions& options) {
  return std::make_unique<RocksTriageStore>(options);
}
TriageStore::~TriageStore() = default;
const TriageLimits& TriageStore::limits() const { return Self(this).limits(); }
std::vector<ChangeResult> TriageStore::Apply(const Change& change,
                                             std::span<const ChangeTarget> targets) {
  return Self(this).Apply(change, targets);
}
TriageState TriageStore::Get(uint64_t id) const { return Self(this).Get(id); }
std::vector<TriageState> TriageStore::GetMany(std::span<const uint64_t> ids) const {
  return Self(this).GetMany(ids);
}
std::vector<HistoryEntry> TriageStore::History(uint64_t id) const { return Self(this).History(id); }
std::vector<uint64_t> TriageStore::FindIds(const TriageFilter& filter, uint64_t after_id,
                                           uint64_t before_id, bool newest_first,
                                           size_t limit) const {
  return Self(this).FindIds(filter, after_id, before_id, newest_first, limit);
}
void TriageStore::SetChangeListener(std::function<void(const ChangeEvent&)> listener) {
  Self(this).SetChangeListener(std::move(listener));
}
std::variant<Case, std::string> TriageStore::CreateCase(const NewCase& request,
                                                        const std::string& author,
                                                        std::span<const CaseAlert> alerts) {
  return Self(this).CreateCase(request, author, alerts);
}
std::optional<Case> TriageStore::GetCase(uint64_t id) const { return Self(this).GetCase(id); }
std::vector<Case> TriageStore::ListCases(const std::function<bool(const Case&)>& visible,
                                         uint64_t before_id, size_t limit) const {
  return Self(this).ListCases(visible, before_id, limit);
}
CaseChangeResult TriageStore::ChangeCase(uint64_t id, const CaseChange& change,
                                         const std::string& author,
                                         std::span<const CaseAlert> alerts) {
  return Self(this).ChangeCase(id, change, author, alerts);
}
TriageStats TriageStore::stats() const { return Self(this).stats(); }
ChangeLogPage TriageStore::ReadChangeLog(uint64_t after_position, uint64_t after_seq,
                                         size_t max) const {
  return Self(this).ReadChangeLog(after_position, after_seq, max);
}
void TriageStore::NoteAlertPosition(uint64_t last_alert_id) {
  Self(this).NoteAlertPosition(last_alert_id);
}

// ---- RocksTriageStore: opening, reading, writing ----

RocksTriageStore::RocksTriageStore(const TriageOptions& options) : options_(options) {
  write_options_.sync = options_.sync;
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.max_open_files = 256;
  db_options.keep_log_file_num = 4;
  db_options.compression = rocksdb::kLZ4Compression;
  options_.memory.ApplyTo(db_options);
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(db_options, options_.path.string(), &db);
  if (!status.ok()) Fail("open", status);
  db_.reset(db);
  LoadAutoOpen();
  LoadLog();
}

RocksTriageStore::~RocksTriageStore() {
  if (db_) db_->Close().PermitUncheckedError();
}

void RocksTriageStore::Fail(const std::string& what, const rocksdb::Status& status) const {
  throw std::runtime_error("triage store " + options_.path.string() + ": " + what + ": " +
                           status.ToString());
}

int64_t RocksTriageStore::Now() const {
  if (options_.clock_ns_for_test) return options_.clock_ns_for_test();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void RocksTriageStore::Write(rocksdb::WriteBatch& batch) {
  if (batch.Count() == 0) return;
  const rocksdb::Status status = db_->Write(write_options_, &batch);
  if (!status.ok()) {
    write_errors_.fetch_add(1);
    Fail("write", status);
  }
}

std::optional<std::string> RocksTriageStore::Read(const std::string& key) const {
  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) Fail("read", status);
  return value;
}

void RocksTriageStore::Scan(const std::string& prefix, const Visit& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (!visit(it->key(), it->value())) break;
  }
  if (!it->status().ok()) Fail("scan", it->status());
}

std::optional<TriageState> RocksTriageStore::ReadState(uint64_t id) const {
  auto bytes = Read(codec::StateKey(id));
  if (!bytes) return std::nullopt;
  auto state = DecodeState(id, *bytes);
  if (!state) Fail("state of alert " + std::to_string(id), rocksdb::Status::Corruption());
  return state;
}

TriageState RocksTriageStore::Get(uint64_t id) const {
  TriageState state = ReadState(id).value_or(TriageState{});
  state.id = id;
  return state;
}

std::vector<TriageState> RocksTriageStore::GetMany(std::span<const uint64_t> ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back(codec::StateKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
  std::vector<TriageState> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    out[i].id = ids[i];
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) Fail("read", statuses[i]);
    auto state = DecodeState(ids[i], values[i]);
    if (!state) Fail("state of alert " + std::to_string(ids[i]), rocksdb::Status::Corruption());
    out[i] = std::move(*state);
  }
  return out;
}

std::vector<HistoryEntry> RocksTriageStore::History(uint64_t id) const {
  std::vector<HistoryEntry> out;
  Scan(codec::HistoryPrefix(id), [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    auto entry = DecodeHistory(wire::GetBigEndian64({key.data() + 9, 8}), value.ToStringView());
    if (!entry) Fail("history of alert " + std::to_string(id), rocksdb::Status::Corruption());
    out.push_back(std::move(*entry));
    return true;
  });
  return out;
}

void RocksTriageStore::PutState(rocksdb::WriteBatch& batch, const TriageState& before,
                                const TriageState& after, std::string_view agency) {
  const uint64_t id = after.id;
  const rocksdb::Slice index_value(agency.data(), agency.size());
  if (before.status != after.status || before.id != after.id) {
    if (before.status != Status::kNew && before.version > 0) {
      batch.Delete(codec::StatusKey(static_cast<uint8_t>(before.status), before.id));
    }
    if (after.status != Status::kNew) {
      batch.Put(codec::StatusKey(static_cast<uint8_t>(after.status), id), index_value);
    }
  }
  if (before.assignee != after.assignee || before.id != after.id) {
    if (!before.assignee.empty()) batch.Delete(codec::AssigneeKey(before.assignee, before.id));
    if (!after.assignee.empty()) batch.Put(codec::AssigneeKey(after.assignee, id), index_value);
  }
  batch.Put(codec::StateKey(id), EncodeState(after));
}

// ---- changes ----

void RocksTriageStore::LockStripes(const std::vector<size_t>& stripes)
    GSOC_THREAD_ANNOTATION(no_thread_safety_analysis) {
  for (size_t stripe : stripes) stripes_[stripe].lock();  // ascending: no deadlock
}

void RocksTriageStore::UnlockStripes(const std::vector<size_t>& stripes)
    GSOC_THREAD_ANNOTATION(no_thread_safety_analysis) {
  for (size_t stripe : stripes) stripes_[stripe].unlock();
}

ChangeResult RocksTriageStore::ApplyOne(const Change& change, const ChangeTarget& target,
                                        TriageState& state, int64_t now,
                                        rocksdb::WriteBatch& batch) {
  const uint64_t id = target.id;
  ChangeResult result;
  result.id = id;
  const auto expected = change.expected_versions.find(id);
  if (expected != change.expected_versions.end() && expected->second != state.version) {
    result.error = ChangeError::kConflict;
    result.detail = "version " + std::to_string(expected->second) + " expected, current is " +
                    std::to_string(state.version);
    result.state = state;
    conflicts_.fetch_add(1);
    return result;
  }
  TriageState next = state;
  if (auto refusal = Transition(change, options_.limits, next)) {
    result.error = refusal->first;
    result.detail = std::move(refusal->second);
    result.state = state;
    refused_.fetch_add(1);
    return result;
  }
  next.id = id;
  next.version = state.version + 1;
  next.updated_ns = now;
  next.updated_by = change.author;
  next.history = state.history + 1;
  if (!change.note.empty()) ++next.notes;
  HistoryEntry entry{next.version, now,         change.author, change.action,
                     next.status,  next.reason, next.assignee, change.note};
  batch.Put(codec::HistoryKey(id, next.version), EncodeHistory(entry));
  PutState(batch, state, next, target.agency);
  state = next;
  result.state = std::move(next);
  return result;
}

std::vector<ChangeResult> RocksTriageStore::Apply(const Change& change,
                                                  std::span<const ChangeTarget> targets) {
  std::vector<size_t> stripes;
  stripes.reserve(targets.size());
  for (const ChangeTarget& target : targets) stripes.push_back(target.id % kStripes);
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<ChangeResult> results;
  results.reserve(targets.size());
  std::vector<Status> previous;  // per target, before its change
  std::vector<uint64_t> seqs;    // per target, its change log seq (0: refused)
  previous.reserve(targets.size());
  seqs.reserve(targets.size());
  LockStripes(stripes);
  try {
    std::vector<uint64_t> ids;
    for (const ChangeTarget& target : targets) ids.push_back(target.id);
    const std::vector<TriageState> read = GetMany(ids);
    std::unordered_map<uint64_t, TriageState> working;  // an id given twice sees its own change
    for (const TriageState& state : read) working.emplace(state.id, state);
    rocksdb::WriteBatch batch;
    const int64_t now = Now();
    for (const ChangeTarget& target : targets) {
      TriageState& state = working[target.id];
      previous.push_back(state.status);
      results.push_back(ApplyOne(change, target, state, now, batch));
      seqs.push_back(0);
      if (results.back().error == ChangeError::kNone) {
        LogChange(target.agency, results.back().state, batch, seqs.back());
      }
    }
    Write(batch);
  } catch (...) {
    UnlockStripes(stripes);
    throw;
  }
  UnlockStripes(stripes);
  TrimLog();
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].error != ChangeError::kNone) continue;
    changes_.fetch_add(1);
    if (listener_) {
      listener_(ChangeEvent{results[i].id, targets[i].agency, results[i].state, previous[i],
                            targets[i].time_ns, seqs[i]});
    }
  }
  return results;
}

// ---- indexes ----

void RocksTriageStore::ScanIds(const std::string& prefix, uint64_t after_id, uint64_t before_id,
                               bool newest_first, size_t limit,
                               const std::function<bool(uint64_t, std::string_view)>& take,
                               std::vector<uint64_t>& out) const {
  if (before_id <= after_id + 1) return;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string start = prefix;
  wire::PutBigEndian64(start, newest_first ? before_id - 1 : after_id + 1);
  size_t taken = 0;
  if (newest_first) {
    it->SeekForPrev(start);
  } else {
    it->Seek(start);
  }
  for (; it->Valid() && taken < limit; newest_first ? it->Prev() : it->Next()) {
    const rocksdb::Slice key = it->key();
    if (!StartsWith(key, prefix) || key.size() != prefix.size() + 8) break;
    const uint64_t id = wire::GetBigEndian64({key.data() + prefix.size(), 8});
    if (id <= after_id || id >= before_id) break;
    if (take(id, std::string_view(it->value().data(), it->value().size()))) {
      out.push_back(id);
      ++taken;
    }
  }
  if (!it->status().ok()) Fail("index scan", it->status());
}

std::vector<uint64_t> RocksTriageStore::FindIds(const TriageFilter& filter, uint64_t after_id,
                                                uint64_t before_id, bool newest_first,
                                                size_t limit) const {
  std::vector<uint64_t> out;
  auto agency_allowed = [&](std::string_view agency) {
    return !filter.agencies || agency.empty() ||
           std::find(filter.agencies->begin(), filter.agencies->end(), agency) !=
               filter.agencies->end();
  };
  if (filter.assignee && !filter.assignee->empty()) {
    auto take = [&](uint64_t id, std::string_view agency) {
      return agency_allowed(agency) && (filter.statuses.empty() || filter.Matches(Get(id)));
    };
    ScanIds(codec::AssigneePrefix(*filter.assignee), after_id, before_id, newest_first, limit, take,
            out);
    return out;
  }
  auto take = [&](uint64_t id, std::string_view agency) {
    return agency_allowed(agency) && (!filter.assignee || filter.Matches(Get(id)));
  };
  for (Status status : filter.statuses) {
    if (status == Status::kNew) continue;  // not indexed: untouched alerts are new
    ScanIds(codec::StatusPrefix(static_cast<uint8_t>(status)), after_id, before_id, newest_first,
            limit, take, out);
  }
  if (newest_first) {
    std::sort(out.rbegin(), out.rend());
  } else {
    std::sort(out.begin(), out.end());
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

// ---- aggregate replacement ----

void RocksTriageStore::CarryOver(uint64_t from, uint64_t to, std::string_view agency,
                                 rocksdb::WriteBatch& batch) {
  const auto state = ReadState(from);
  if (!state) return;
  TriageState moved = *state;
  moved.id = to;
  PutState(batch, *state, moved, agency);
  batch.Delete(codec::StateKey(from));
  Scan(codec::HistoryPrefix(from), [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    batch.Put(codec::HistoryKey(to, wire::GetBigEndian64({key.data() + 9, 8})), value);
    batch.Delete(key);
    return true;
  });
  carried_.fetch_add(1);
}

void RocksTriageStore::OnCommitted(std::span<const store::StoredAlert> alerts) {
  if (!alerts.empty()) NoteAlertPosition(alerts.back().id);  // before the hub sees them
  MutexLock lock(cases_mutex_);
  try {
    rocksdb::WriteBatch batch;
    for (const store::StoredAlert& alert : alerts) {
      if (alert.replaces != 0) {
        CarryOverLocked(alert.replaces, alert.id, alert.agency);
        ReplaceCaseAlert(alert.replaces, alert.id, batch);
      }
      FileAutoCases(alert, batch);
    }
    FlushPending(batch);
    Write(batch);
  } catch (const std::exception& error) {
    // The alert store's writer thread must go on: the alerts are stored;
    // what is lost is their carried state or auto case (counted, logged).
    pending_cases_.clear();
    pending_members_.clear();
    spdlog::error("triage store: after commit of alerts {}..{}: {}", alerts.front().id,
                  alerts.back().id, error.what());
  }
}

void RocksTriageStore::CarryOverLocked(uint64_t from, uint64_t to, std::string_view agency) {
  std::vector<size_t> stripes{from % kStripes, to % kStripes};
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  LockStripes(stripes);
  try {
    rocksdb::WriteBatch carry;
    CarryOver(from, to, agency, carry);
    Write(carry);
  } catch (...) {
    UnlockStripes(stripes);
    throw;
  }
  UnlockStripes(stripes);
}

// ---- change log (stream resume) ----

namespace {

std::string EncodeLogged(const std::string& agency, const TriageState& state) {
  codec::Writer out;
  out.U64(state.id);
  out.Str(agency);
  out.Str(EncodeState(state));
  return out.Take();
}

std::optional<LoggedChange> DecodeLogged(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  if (key.size() != 17) return std::nullopt;
  LoggedChange out;
  out.position = wire::GetBigEndian64({key.data() + 1, 8});
  out.seq = wire::GetBigEndian64({key.data() + 9, 8});
  codec::Reader in({value.data(), value.size()});
  const uint64_t id = in.U64();
  out.agency = in.Str();
  const std::string state = in.Str();
  if (!in.ok()) return std::nullopt;
  auto decoded = DecodeState(id, state);
  if (!decoded) return std::nullopt;
  out.state = std::move(*decoded);
  return out;
}

}  // namespace

void RocksTriageStore::LoadLog() {
  uint64_t count = 0, bytes = 0, last_position = 0, last_seq = 0;
  Scan(std::string(1, codec::kLog), [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    if (key.size() != 17) return true;
    ++count;
    bytes += key.size() + value.size();
    last_position = wire::GetBigEndian64({key.data() + 1, 8});
    last_seq = wire::GetBigEndian64({key.data() + 9, 8});
    return true;
  });
  MutexLock lock(log_mutex_);
  if (auto dropped = Read(std::string(codec::kLogDroppedKey)); dropped && dropped->size() == 16) {
    log_dropped_position_ = wire::GetBigEndian64({dropped->data(), 8});
    log_dropped_seq_ = wire::GetBigEndian64({dropped->data() + 8, 8});
  }
  log_count_ = count;
  log_bytes_ = bytes;
  log_next_seq_ = std::max(last_seq, log_dropped_seq_) + 1;
  NoteAlertPosition(std::max(last_position, log_dropped_position_));
}

void RocksTriageStore::NoteAlertPosition(uint64_t last_alert_id) {
  uint64_t known = alert_position_.load();
  while (known < last_alert_id && !alert_position_.compare_exchange_weak(known, last_alert_id)) {
  }
}

void RocksTriageStore::LogChange(const std::string& agency, const TriageState& state,
                                 rocksdb::WriteBatch& batch, uint64_t& seq) {
  const std::string value = EncodeLogged(agency, state);
  MutexLock lock(log_mutex_);  // seq and position in the same order: the key order is seq order
  seq = log_next_seq_++;
  const std::string key = codec::LogKey(alert_position_.load(), seq);
  batch.Put(key, value);
  ++log_count_;
  log_bytes_ += key.size() + value.size();
}

// When over a bound, drops the oldest sixteenth (at least) at once, so the
// scan from the oldest entry runs once per many changes.
void RocksTriageStore::TrimLog() {
  MutexLock lock(log_mutex_);
  const TriageLimits& limits = options_.limits;
  if (log_count_ <= limits.max_log_changes && log_bytes_ <= limits.max_log_bytes) return;
  const uint64_t keep_count = limits.max_log_changes - limits.max_log_changes / 16;
  const uint64_t keep_bytes = limits.max_log_bytes - limits.max_log_bytes / 16;
  rocksdb::WriteBatch batch;
  uint64_t count = log_count_, bytes = log_bytes_, dropped = 0;
  uint64_t last_position = log_dropped_position_, last_seq = log_dropped_seq_;
  Scan(std::string(1, codec::kLog), [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
    if (count <= keep_count && bytes <= keep_bytes) return false;
    batch.Delete(key);
    --count;
    bytes -= std::min<uint64_t>(bytes, key.size() + value.size());
    if (key.size() == 17) {
      last_position = wire::GetBigEndian64({key.data() + 1, 8});
      last_seq = wire::GetBigEndian64({key.data() + 9, 8});
    }
    ++dropped;
    return true;
  });
  std::string mark;
  wire::PutBigEndian64(mark, last_position);
  wire::PutBigEndian64(mark, last_seq);
  batch.Put(std::string(codec::kLogDroppedKey), mark);
  Write(batch);
  log_count_ = count;
  log_bytes_ = bytes;
  log_dropped_position_ = last_position;
  log_dropped_seq_ = last_seq;
  log_dropped_.fetch_add(dropped);
}

ChangeLogPage RocksTriageStore::ReadChangeLog(uint64_t after_position, uint64_t after_seq,
                                              size_t max) const {
  ChangeLogPage page;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, codec::kLog);
  for (it->Seek(codec::LogKey(after_position, after_seq + 1));
       it->Valid() && page.changes.size() < max && StartsWith(it->key(), prefix); it->Next()) {
    auto entry = DecodeLogged(it->key(), it->value());
    if (!entry) Fail("change log entry", rocksdb::Status::Corruption());
    page.changes.push_back(std::move(*entry));
  }
  if (!it->status().ok()) Fail("change log scan", it->status());
  // After the read: a trim during it is seen (a gap said twice rather than missed).
  MutexLock lock(log_mutex_);
  page.gap = log_dropped_seq_ > after_seq && log_dropped_position_ >= after_position;
  return page;
}

TriageStats RocksTriageStore::stats() const {
  TriageStats out;
  out.changes = changes_.load();
  out.conflicts = conflicts_.load();
  out.refused = refused_.load();
  out.carried = carried_.load();
  out.cases_created = cases_created_.load();
  out.auto_case_alerts = auto_case_alerts_.load();
  out.write_errors = write_errors_.load();
  out.log_dropped = log_dropped_.load();
  return out;
}

}  // namespace gsoc::triage
