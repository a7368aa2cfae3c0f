#include "engine/decode/auditd_joiner.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <unordered_map>

namespace gsoc::decode {
namespace {

constexpr std::string_view kMsg = "msg=audit(";
constexpr size_t kMaxArgs = 4096;  // cmdline: a0..a4095 at most

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\x1d' || c == '\n'; }

bool ParseUint(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// "SEC[.FRAC]:SERIAL" -> time and serial.
bool ParseStamp(std::string_view stamp, AuditRecord* record) {
  const size_t colon = stamp.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view seconds = stamp.substr(0, colon), fraction;
  if (const size_t dot = seconds.find('.'); dot != std::string_view::npos) {
    fraction = seconds.substr(dot + 1);
    seconds = seconds.substr(0, dot);
  }
  uint64_t sec = 0, frac = 0;
  if (!ParseUint(seconds, &sec) || sec > 9'000'000'000ull) return false;
  if (!fraction.empty() && (fraction.size() > 9 || !ParseUint(fraction, &frac))) return false;
  for (size_t i = fraction.size(); i < 9; ++i) frac *= 10;
  if (!ParseUint(stamp.substr(colon + 1), &record->serial)) return false;
  record->time_ns = static_cast<int64_t>(sec) * 1'000'000'000 + static_cast<int64_t>(frac);
  return true;
}

// Fields auditd writes hex-encoded (unquoted) when they hold special bytes.
bool MayBeHex(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"proctitle", "name", "cwd",  "exe", "comm",
                                               "path",      "cmd",  "data", "key"};
  if (key.size() >= 2 && key[0] == 'a' && key[1] >= '0' && key[1] <= '9') return true;
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsHex(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return HexDigit(c) >= 0; });
}

// Appends the decoded bytes, NUL as a space (argument separators of proctitle).
void AppendHex(std::string_view hex, std::string& out) {
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const char c = static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
    out.push_back(c == '\0' ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
}

// SYSCALL's a0..a3 (syscall arguments, hex registers) are renamed
// syscall_a0..syscall_a3 so EXECVE's a0.. (the command's argv) own the names.
bool SyscallArg(std::string_view key, std::string_view* renamed) {
  static constexpr std::string_view kNames[] = {"syscall_a0", "syscall_a1", "syscall_a2",
                                                "syscall_a3"};
  if (key.size() != 2 || key[0] != 'a' || key[1] < '0' || key[1] > '3') return false;
  *renamed = kNames[key[1] - '0'];
  return true;
}

// "a3[0]" -> "a3" (a chunk of a long argument); empty otherwise.
std::string_view ChunkTarget(std::string_view key) {
  const size_t open = key.find('[');
  if (open == std::string_view::npos || key.back() != ']' || key[0] != 'a') return {};
  return key.substr(0, open);
}

// One key=value token from `rest`, advancing it; false at the end.
bool NextPair(std::string_view& rest, std::string_view* key, std::string_view* value,
              bool* quoted) {
  size_t i = 0;
  while (i < rest.size() && (IsSpace(rest[i]) || rest[i] == '\'')) ++i;
  rest.remove_prefix(i);
  if (rest.empty()) return false;
  const size_t eq = rest.find('=');
  size_t space = 0;
  while (space < rest.size() && !IsSpace(rest[space])) ++space;
  if (eq == std::string_view::npos || eq > space) {  // a bare word: skip it
    rest.remove_prefix(space);
    return NextPair(rest, key, value, quoted);
  }
  *key = rest.substr(0, eq);
  rest.remove_prefix(eq + 1);
  *quoted = !rest.empty() && rest.front() == '"';
  if (*quoted) {
    const size_t close = rest.find('"', 1);
    const size_t end = close == std::string_view::npos ? rest.size() : close;
    *value = rest.substr(1, end - 1);
    rest.remove_prefix(std::min(rest.size(), end + 1));
    return true;
  }
  if (!rest.empty() && rest.front() == '\'') {  // msg='op=... acct=...': its pairs follow
    *value = {};
    rest.remove_prefix(1);
    return true;
  }
  size_t end = 0;
  while (end < rest.size() && !IsSpace(rest[end])) ++end;
  *value = rest.substr(0, end);
  if (!value->empty() && value->back() == '\'') value->remove_suffix(1);
  rest.remove_prefix(end);
  return true;
}

// Builds AuditEvent::fields: values are views into the record text or
// ranges of `storage` (resolved once storage stops growing).
class FieldBuilder {
 public:
  explicit FieldBuilder(AuditEvent& event) : event_(event) {}

  void Record(std::string_view type, std::string_view fields) {
    std::string_view rest = fields, key, value;
    bool quoted = false;
    std::string_view chunk_of;
    while (NextPair(rest, &key, &value, &quoted)) {
      if (key.empty() || key == "msg") continue;
      if (type == "SYSCALL" && SyscallArg(key, &key)) {  // a0..a3: registers, not argv
        Add(key, value);
        continue;
      }
      if (const std::string_view target = ChunkTarget(key); !target.empty()) {
        AppendChunk(target, value, quoted, chunk_of);
        chunk_of = target;
        continue;
      }
      chunk_of = {};
      if (!quoted && MayBeHex(key) && IsHex(value)) {
        const size_t at = event_.storage.size();
        AppendHex(value, event_.storage);
        Add(key, Stored{at, event_.storage.size() - at});
      } else {
        Add(key, value);
      }
    }
  }

  void Finish(std::string_view type, std::string_view msg, std::string_view types,
              std::string_view node) {
    AddCmdline();
    AddStored("record_types", types);
    Add("msg", msg);
    if (!node.empty()) Add("node", node);
    // `type` goes first: it is what SigmaHQ's auditd rules select on.
    event_.fields.clear();
    event_.fields.emplace_back("type", type);
    for (const Entry& field : fields_) {
      if (field.name == "type") continue;
      event_.fields.emplace_back(field.name, Resolve(field));
    }
  }

 private:
  struct Stored {
    size_t at = 0;
    size_t size = 0;
  };
  struct Entry {
    std::string_view name;
    std::string_view view;
    bool stored = false;
    Stored range;
  };

  std::string_view Resolve(const Entry& field) const {
    if (!field.stored) return field.view;
    return std::string_view(event_.storage).substr(field.range.at, field.range.size);
  }

  void Add(std::string_view name, std::string_view value) {
    if (index_.contains(name)) return;
    index_.emplace(name, fields_.size());
    fields_.push_back({name, value, false, {}});
  }
  void Add(std::string_view name, Stored range) {
    if (index_.contains(name)) return;
    index_.emplace(name, fields_.size());
    fields_.push_back({name, {}, true, range});
  }
  void AddStored(std::string_view name, std::string_view text) {
    const size_t at = event_.storage.size();
    event_.storage.append(text);
    Add(name, Stored{at, text.size()});
  }

  // a3[0]=.. a3[1]=..: consecutive chunks, appended to one stored value.
  void AppendChunk(std::string_view target, std::string_view value, bool quoted,
                   std::string_view chunk_of) {
    const bool continuing =
        chunk_of == target && !fields_.empty() && fields_.back().name == target &&
        fields_.back().stored &&
        fields_.back().range.at + fields_.back().range.size == event_.storage.size();
    if (!continuing && index_.contains(target)) return;
    const size_t at = event_.storage.size();
    if (!quoted && IsHex(value)) {
      AppendHex(value, event_.storage);
    } else {
      event_.storage.append(value);
    }
    if (continuing) {
      fields_.back().range.size += event_.storage.size() - at;
    } else {
      Add(target, Stored{at, event_.storage.size() - at});
    }
  }

  // cmdline: a0..a(argc-1), space-separated.
  void AddCmdline() {
    const auto argc_it = index_.find("argc");
    uint64_t argc = 0;
    if (argc_it == index_.end() || !ParseUint(Resolve(fields_[argc_it->second]), &argc)) return;
    std::string line;
    for (uint64_t i = 0; i < std::min<uint64_t>(argc, kMaxArgs); ++i) {
      const auto it = index_.find("a" + std::to_string(i));
      if (it == index_.end()) break;
      if (i > 0) line.push_back(' ');
      line.append(Resolve(fields_[it->second]));
    }
    AddStored("cmdline", line);
  }

  AuditEvent& event_;
  std::vector<Entry> fields_;
  std::unordered_map<std::string_view, size_t> index_;
};

// The first "msg=audit(" in `message`, found from its '(' (memchr on a
// character rare in log text): string_view::find stops at every 'm', and
// glibc's memmem (two-way, set up per call) was 1.35% of gsocd on the
// syslog mix; the find was 2.7% of a replay of long Windows lines.
size_t FindAuditMsg(std::string_view message) {
  constexpr size_t kBefore = kMsg.size() - 1;  // "msg=audit"
  for (size_t open = message.find('(', kBefore); open != std::string_view::npos;
       open = message.find('(', open + 1)) {
    if (message.compare(open - kBefore, kBefore, kMsg.substr(0, kBefore)) == 0)
      return open - kBefore;
  }
  return std::string_view::npos;
}

}  // namespace

bool ParseAuditRecord(std::string_view message, AuditRecord* record) {
  // Runs on every line gsocd receives.
  const size_t msg = FindAuditMsg(message);
  if (msg == std::string_view::npos || msg < 7 || message[msg - 1] != ' ') return false;
  const size_t type = message.rfind("type=", msg - 1);
  if (type == std::string_view::npos || (type > 0 && !IsSpace(message[type - 1]))) return false;
  record->type = message.substr(type + 5, msg - 1 - (type + 5));
  if (record->type.empty() ||
      std::any_of(record->type.begin(), record->type.end(), [](char c) { return IsSpace(c); }))
    return false;
  size_t start = type;
  record->node = {};
  if (type >= 7) {  // "node=HOST type=..."
    const size_t node = message.rfind("node=", type - 1);
    if (node != std::string_view::npos && (node == 0 || IsSpace(message[node - 1]))) {
      const std::string_view host = message.substr(node + 5, type - 1 - (node + 5));
      if (!host.empty() && std::none_of(host.begin(), host.end(), IsSpace)) {
        record->node = host;
        start = node;
      }
    }
  }
  const size_t stamp = msg + kMsg.size();
  const size_t close = message.find(')', stamp);
  if (close == std::string_view::npos) return false;
  record->stamp = message.substr(stamp, close - stamp);
  if (!ParseStamp(record->stamp, record)) return false;
  std::string_view rest = message.substr(close + 1);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  record->fields = rest;
  record->line = message.substr(start);
  return true;
}

void BuildAuditFields(AuditEvent& event) {
  event.storage.clear();
  event.fields.clear();
  FieldBuilder builder(event);
  std::string types;
  std::string_view primary, msg, node;
  bool execve = false, syscall = false;
  std::string_view text = event.text;
  while (!text.empty()) {
    const size_t newline = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(std::min(text.size(), newline + 1));
    AuditRecord record;
    if (!ParseAuditRecord(line, &record)) continue;
    if (msg.empty()) {  // "audit(STAMP)", a view into the text
      msg = line.substr(line.find(kMsg) + 4, record.stamp.size() + 7);
      node = record.node;
      primary = record.type;
    }
    execve |= record.type == "EXECVE";
    syscall |= record.type == "SYSCALL";
    if (!types.empty()) types.push_back(' ');
    types.append(record.type);
    builder.Record(record.type, record.fields);
  }
  if (execve)
    primary = "EXECVE";
  else if (syscall)
    primary = "SYSCALL";
  builder.Finish(primary, msg, types, node);
}

AuditEvent& AuditEvent::operator=(const AuditEvent& other) {
  if (this == &other) return *this;
  agency = other.agency;
  listener = other.listener;
  host = other.host;
  time_ns = other.time_ns;
  serial = other.serial;
  text = other.text;
  fields = other.fields;
  storage = other.storage;
  complete = other.complete;
  RebaseFields(other.storage.data(), other.storage.size());
  return *this;
}

AuditEvent& AuditEvent::operator=(AuditEvent&& other) noexcept {
  if (this == &other) return *this;
  const char* old_storage = other.storage.data();
  const size_t old_size = other.storage.size();
  agency = other.agency;
  listener = other.listener;
  host = std::move(other.host);
  time_ns = other.time_ns;
  serial = other.serial;
  text = std::move(other.text);
  fields = std::move(other.fields);
  storage = std::move(other.storage);
  complete = other.complete;
  RebaseFields(old_storage, old_size);
  return *this;
}

// Views into the old storage's bytes are moved to the same offsets of ours
// (pointers are compared, never read).
void AuditEvent::RebaseFields(const char* old_storage, size_t old_size) {
  if (old_storage == storage.data()) return;
  const auto old_begin = reinterpret_cast<uintptr_t>(old_storage);
  const auto rebase = [&](std::string_view& view) {
    const auto at = reinterpret_cast<uintptr_t>(view.data());
    if (view.data() == nullptr || at < old_begin || at > old_begin + old_size) return;
    view = std::string_view(storage.data() + (at - old_begin), view.size());
  };
  for (auto& [name, value] : fields) {
    rebase(name);
    rebase(value);
  }
}

Event& AppendAuditEvent(const AuditEvent& joined, EventBatch& batch) {
  Event& event = batch.AddEvent();
  ByteArena& arena = batch.arena();
  event.raw = event.message = arena.CopyPadded(joined.text);
  event.host = arena.Copy(joined.host);
  event.program = "auditd";
  event.agency = joined.agency;
  event.listener = joined.listener;
  event.event_time_ns = event.receive_time_ns = joined.time_ns;
  event.has_message_time = true;
  for (const auto& [name, value] : joined.fields)
    batch.AddField(event, arena.Copy(name), arena.Copy(value));
  return event;
}

size_t JoinAuditRecord(AuditJoiner& joiner, EventBatch& batch, int64_t now_ns, uint64_t& last_id) {
  if (batch.empty()) return 0;
  const Event record = batch.events().back();
  thread_local std::vector<AuditEvent> joined;
  joined.clear();
  const AuditSource source{record.agency, record.listener, record.host};
  if (!joiner.Add(source, record.message, now_ns, joined)) return 0;
  batch.PopEvent();  // the record's bytes stay in the arena until Clear
  for (const AuditEvent& event : joined) {
    Event& added = AppendAuditEvent(event, batch);
    added.id = ++last_id;
    added.receive_time_ns = record.receive_time_ns;
    added.peer = record.peer;
  }
  return joined.size();
}

size_t AuditJoiner::KeyHash::operator()(const Key& key) const {
  size_t hash = std::hash<std::string>()(key.host);
  hash ^= std::hash<uint64_t>()(key.serial) + 0x9E3779B97F4A7C15ull + (hash << 6) + (hash >> 2);
  return hash ^ (size_t{key.agency} << 16 | key.listener);
}

AuditJoiner::AuditJoiner(AuditLimits limits) : limits_(limits) {
  limits_.max_open = std::max<size_t>(limits_.max_open, 1);
  limits_.max_records = std::max<size_t>(limits_.max_records, 1);
}

AuditJoiner::~AuditJoiner() = default;

void AuditJoiner::Emit(std::unordered_map<Key, Pending, KeyHash>::iterator it,
                       std::vector<AuditEvent>& out) {
  AuditEvent& event = out.emplace_back();
  event.agency = it->first.agency;
  event.listener = it->first.listener;
  event.host = it->first.host;
  event.serial = it->first.serial;
  event.time_ns = it->second.time_ns;
  event.text = std::move(it->second.text);
  bytes_ -= event.text.size();
  BuildAuditFields(event);
  order_.erase(it->second.position);
  open_.erase(it);
  ++stats_.events;
}

void AuditJoiner::Expire(int64_t now_ns, std::vector<AuditEvent>& out) {
  while (!order_.empty()) {
    const auto it = open_.find(order_.front());
    int64_t age = 0;
    if (!__builtin_sub_overflow(now_ns, it->second.first_ns, &age) && age < limits_.flush_after_ns)
      return;
    if (age < 0) return;  // the clock went back (overflow towards the past)
    ++stats_.timed_out;
    Emit(it, out);
  }
}

void AuditJoiner::FlushAll(std::vector<AuditEvent>& out) {
  while (!order_.empty()) {
    ++stats_.flushed;
    Emit(open_.find(order_.front()), out);
  }
}

int64_t AuditJoiner::oldest_open_ns() const {
  if (order_.empty()) return INT64_MAX;
  return open_.find(order_.front())->second.first_ns;
}

bool AuditJoiner::Add(const AuditSource& source, std::string_view message, int64_t now_ns,
                      std::vector<AuditEvent>& out) {
  AuditRecord record;
  if (!ParseAuditRecord(message, &record)) return false;
  ++stats_.records;
  const int64_t now = now_ns == kRecordTime ? record.time_ns : now_ns;
  Expire(now, out);
  Key key{source.agency, source.listener,
          std::string(record.node.empty() ? source.host : record.node), record.serial};
  auto it = open_.find(key);
  if (record.type == "EOE") {  // the end of the serial's records
    if (it != open_.end()) {
      Emit(it, out);
      out.back().complete = true;
    }
    return true;
  }
  if (it == open_.end()) {
    if (open_.size() >= limits_.max_open) {
      ++stats_.evicted;
      Emit(open_.find(order_.front()), out);
    }
    const Order::iterator position = order_.insert(order_.end(), key);
    it = open_.emplace(std::move(key), Pending{now, record.time_ns, 0, {}, position}).first;
    if (record.fields.find(" msg='") != std::string_view::npos) {
      // A user-space message: one record, no EOE follows.
      Append(it->second, record.line.substr(0, limits_.max_event_bytes));
      EvictForBytes(it, out);
      ++stats_.standalone;
      Emit(it, out);
      out.back().complete = true;
      return true;
    }
  }
  Pending& pending = it->second;
  std::string_view line = record.line;
  if (pending.records == 0) line = line.substr(0, limits_.max_event_bytes);  // never empty
  const size_t separator = pending.text.empty() ? 0 : 1;
  if (pending.records >= limits_.max_records ||
      pending.text.size() + separator + line.size() > limits_.max_event_bytes) {
    ++stats_.records_dropped;
    return true;
  }
  Append(pending, line);
  EvictForBytes(it, out);
  return true;
}

void AuditJoiner::Append(Pending& pending, std::string_view line) {
  if (!pending.text.empty()) {
    pending.text.push_back('\n');
    ++bytes_;
  }
  pending.text.append(line);
  bytes_ += line.size();
  ++pending.records;
}

// Past max_open_bytes: the oldest serials other than `keep` are emitted early.
void AuditJoiner::EvictForBytes(std::unordered_map<Key, Pending, KeyHash>::iterator keep,
                                std::vector<AuditEvent>& out) {
  while (bytes_ > limits_.max_open_bytes && order_.size() > 1) {
    auto oldest = open_.find(order_.front());
    if (oldest == keep) oldest = open_.find(*std::next(order_.begin()));
    ++stats_.evicted;
    Emit(oldest, out);
  }
}

}  // namespace gsoc::decode
