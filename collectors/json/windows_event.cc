// Member naming for the three Windows shapes (see windows_event.h).
#include "collectors/json/windows_event.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <span>

namespace gsoc::json_internal {
namespace {

// Event.System members that Sigma rules use under their own name. Others
// (Version, Correlation, ...) keep the dotted name so that they never shadow
// event data of the same name (Sysmon 4 has an EventData `Version`).
constexpr std::string_view kSystemNames[] = {"EventID",  "Channel", "Computer",      "Level",
                                             "Keywords", "Task",    "EventRecordID", "Opcode"};

struct Rename {
  std::string_view from;
  std::string_view to;
};
constexpr Rename kWinlogNames[] = {{"event_id", "EventID"},
                                   {"channel", "Channel"},
                                   {"provider_name", "Provider_Name"},
                                   {"computer_name", "Computer"},
                                   {"record_id", "EventRecordID"}};

bool IsSystemName(std::string_view key) {
  for (std::string_view name : kSystemNames) {
    if (name == key) return true;
  }
  return false;
}

MemberNaming Child(Scope child) {
  MemberNaming naming;
  naming.child = child;
  return naming;
}

MemberNaming Named(std::string_view name) {
  MemberNaming naming;
  naming.name = name;
  return naming;
}

// Event data keeps its member names, without spaces.
MemberNaming DataName(std::string_view key) {
  MemberNaming naming = Named(key);
  naming.strip_spaces = true;
  return naming;
}

MemberNaming NameInSystem(std::string_view key, bool is_object) {
  if (is_object) return Child(Scope::kEvtxSystemSub);
  return IsSystemName(key) ? Named(key) : MemberNaming{};
}

MemberNaming NameInSystemSub(std::string_view key, bool is_object) {
  if (is_object) return key == "#attributes" ? Child(Scope::kEvtxSystemAttr) : MemberNaming{};
  MemberNaming naming;
  naming.parent_name = key == "#text";
  return naming;
}

MemberNaming NameInWinlog(std::string_view key, bool is_object) {
  if (is_object) {
    if (key == "event_data" || key == "user_data") return Child(Scope::kData);
    if (key == "user") return Child(Scope::kWinlogUser);
    return {};
  }
  for (const Rename& rename : kWinlogNames) {
    if (rename.from == key) return Named(rename.to);
  }
  return {};
}

// NXLog's own members, and the names they take when event data repeats
// the name (Sysmon's EventType, Defender's "Source Name").
struct NxlogHeaderName {
  std::string_view name;
  std::string_view renamed;
};
constexpr NxlogHeaderName kNxlogHeader[] = {{"EventTime", "nxlog_EventTime"},
                                            {"Hostname", "nxlog_Hostname"},
                                            {"Keywords", "nxlog_Keywords"},
                                            {"EventType", "nxlog_EventType"},
                                            {"SeverityValue", "nxlog_SeverityValue"},
                                            {"Severity", "nxlog_Severity"},
                                            {"SourceName", "nxlog_SourceName"},
                                            {"ProviderGuid", "nxlog_ProviderGuid"},
                                            {"Version", "nxlog_Version"},
                                            {"Task", "nxlog_Task"},
                                            {"OpcodeValue", "nxlog_OpcodeValue"},
                                            {"RecordNumber", "nxlog_RecordNumber"},
                                            {"ActivityID", "nxlog_ActivityID"},
                                            {"ProcessID", "nxlog_ProcessID"},
                                            {"ThreadID", "nxlog_ThreadID"},
                                            {"Domain", "nxlog_Domain"},
                                            {"AccountName", "nxlog_AccountName"},
                                            {"UserID", "nxlog_UserID"},
                                            {"AccountType", "nxlog_AccountType"},
                                            {"Category", "nxlog_Category"},
                                            {"Opcode", "nxlog_Opcode"},
                                            {"Message", "nxlog_Message"}};

// kNxlogHeader's entries by the first byte of their name (at most 3 share
// one), so a field name is compared with those only.
constexpr size_t kNoHeader = std::size(kNxlogHeader);
constexpr auto kHeadersByFirstByte = [] {
  std::array<std::array<uint8_t, 3>, 256> table{};
  for (auto& slot : table) slot.fill(kNoHeader);
  for (size_t h = 0; h < std::size(kNxlogHeader); ++h) {
    auto& slot = table[static_cast<uint8_t>(kNxlogHeader[h].name[0])];
    size_t k = 0;
    while (slot[k] != kNoHeader) ++k;  // a fourth name with one first byte fails to compile
    slot[k] = static_cast<uint8_t>(h);
  }
  return table;
}();

// kNxlogHeader's index of `name`, or kNoHeader.
size_t HeaderIndex(std::string_view name) {
  if (name.empty()) return kNoHeader;
  for (const uint8_t h : kHeadersByFirstByte[static_cast<uint8_t>(name[0])]) {
    if (h == kNoHeader) break;
    if (kNxlogHeader[h].name == name) return h;
  }
  return kNoHeader;
}

// The NXLog members NormalizeNxlog copies to a canonical field, and the
// canonical fields it must not add twice.
enum class NxlogRole : uint8_t {
  kNone,
  kSourceName,  // SourceName or nxlog_SourceName -> Provider_Name
  kHostname,    // Hostname or nxlog_Hostname -> Computer
  kUserId,      // UserID or nxlog_UserID -> Security_UserID
  kProviderName,
  kComputer,
  kSecurityUserId,
  kEventTime,  // EventTime or nxlog_EventTime: the header's time
  kTimeCreated,
};

// One compare at most for most names: by length first.
NxlogRole RoleOf(std::string_view name) {
  switch (name.size()) {
    case 6:
      return name == "UserID" ? NxlogRole::kUserId : NxlogRole::kNone;
    case 8:
      return name == "Hostname"   ? NxlogRole::kHostname
             : name == "Computer" ? NxlogRole::kComputer
                                  : NxlogRole::kNone;
    case 9:
      return name == "EventTime" ? NxlogRole::kEventTime : NxlogRole::kNone;
    case 10:
      return name == "SourceName" ? NxlogRole::kSourceName : NxlogRole::kNone;
    case 11:
      return name == "TimeCreated" ? NxlogRole::kTimeCreated : NxlogRole::kNone;
    case 12:
      return name == "nxlog_UserID" ? NxlogRole::kUserId : NxlogRole::kNone;
    case 13:
      return name == "Provider_Name" ? NxlogRole::kProviderName : NxlogRole::kNone;
    case 14:
      return name == "nxlog_Hostname" ? NxlogRole::kHostname : NxlogRole::kNone;
    case 15:
      return name == "nxlog_EventTime"   ? NxlogRole::kEventTime
             : name == "Security_UserID" ? NxlogRole::kSecurityUserId
                                         : NxlogRole::kNone;
    case 16:
      return name == "nxlog_SourceName" ? NxlogRole::kSourceName : NxlogRole::kNone;
    default:
      return NxlogRole::kNone;
  }
}

}  // namespace

std::string_view StripSpaces(ByteArena& arena, std::string_view name) {
  char* out = arena.Allocate(name.size());
  size_t size = 0;
  for (char c : name) {
    if (c != ' ') out[size++] = c;
  }
  return {out, size};
}

MemberNaming NameMember(Scope scope, std::string_view key, bool is_object, size_t depth) {
  switch (scope) {
    case Scope::kPlain:
      if (depth == 1 && is_object && key == "Event") return Child(Scope::kEvtxEvent);
      if (depth == 1 && is_object && key == "winlog") return Child(Scope::kWinlog);
      return {};
    case Scope::kEvtxEvent:
      if (!is_object) return {};
      if (key == "System") return Child(Scope::kEvtxSystem);
      if (key == "EventData") return Child(Scope::kData);
      if (key == "UserData") return Child(Scope::kUserData);
      return {};
    case Scope::kEvtxSystem:
      return NameInSystem(key, is_object);
    case Scope::kEvtxSystemSub:
      return NameInSystemSub(key, is_object);
    case Scope::kEvtxSystemAttr: {
      if (is_object) return {};
      MemberNaming naming;
      naming.join_parent = true;
      return naming;
    }
    case Scope::kData: {
      if (key == "#attributes") return {};
      MemberNaming naming = DataName(key);
      if (is_object) naming.child = Scope::kDataSub;
      return naming;
    }
    case Scope::kDataSub: {
      if (is_object || key != "#text") return {};
      MemberNaming naming;
      naming.parent_name = true;
      return naming;
    }
    case Scope::kUserData:
      if (is_object) return Child(Scope::kData);
      return DataName(key);
    case Scope::kWinlog:
      return NameInWinlog(key, is_object);
    case Scope::kWinlogUser:
      if (!is_object && key == "identifier") return Named("Security_UserID");
      return {};
  }
  return {};
}

NxlogHeader NormalizeNxlog(EventBatch& batch, Event& event, bool names_have_spaces) {
  const std::span<Field> fields = batch.MutableFieldsOf(event);
  // One pass: names lose their spaces; where each header member occurs
  // last; the members copied to canonical fields. A header member whose
  // name comes again later (event data) is renamed nxlog_<name>, every
  // occurrence but the last (rules see the event data); the copies take
  // the first occurrence of either name, so renaming after them changes
  // nothing they found.
  std::array<size_t, kNoHeader> last;
  last.fill(SIZE_MAX);
  bool repeated = false;
  std::string_view copied[3];  // Provider_Name, Computer, Security_UserID
  bool present[3] = {};
  std::string_view event_time, time_created;
  for (size_t i = 0; i < fields.size(); ++i) {
    Field& field = fields[i];
    if (names_have_spaces && field.name.find(' ') != std::string_view::npos)
      field.name = StripSpaces(batch.arena(), field.name);
    if (const size_t h = HeaderIndex(field.name); h != kNoHeader) {
      repeated |= last[h] != SIZE_MAX;
      last[h] = i;
    }
    auto first = [&](std::string_view& slot) {
      if (slot.empty()) slot = field.value;
    };
    switch (RoleOf(field.name)) {
      case NxlogRole::kSourceName:
        first(copied[0]);
        break;
      case NxlogRole::kHostname:
        first(copied[1]);
        break;
      case NxlogRole::kUserId:
        first(copied[2]);
        break;
      case NxlogRole::kProviderName:
        present[0] = true;
        break;
      case NxlogRole::kComputer:
        present[1] = true;
        break;
      case NxlogRole::kSecurityUserId:
        present[2] = true;
        break;
      case NxlogRole::kEventTime:
        first(event_time);
        break;
      case NxlogRole::kTimeCreated:
        first(time_created);
        break;
      case NxlogRole::kNone:
        break;
    }
  }
  if (repeated) {
    for (size_t i = 0; i < fields.size(); ++i) {
      const size_t h = HeaderIndex(fields[i].name);
      if (h != kNoHeader && last[h] != i) fields[i].name = kNxlogHeader[h].renamed;
    }
  }
  constexpr std::string_view kCanonical[3] = {"Provider_Name", "Computer", "Security_UserID"};
  for (size_t c = 0; c < 3; ++c) {
    if (!copied[c].empty() && !present[c]) batch.AddField(event, kCanonical[c], copied[c]);
  }
  return {.host = copied[1], .time = event_time.empty() ? time_created : event_time};
}

}  // namespace gsoc::json_internal
