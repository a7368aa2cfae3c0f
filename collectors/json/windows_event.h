// Windows events in the JSON shapes shippers write, recognised without
// options and given one set of Sigma-visible field names whatever the shape.
//
//  - evtx_dump (`{"Event": {"System": {...}, "EventData": {...}}}`):
//    `Event.EventData.X` and `Event.UserData.<Element>.X` -> `X`;
//    `Event.System.{EventID,Channel,Computer,Level,Keywords,Task,Opcode,
//    EventRecordID}` -> the plain name; `Event.System.A.#attributes.B` ->
//    `A_B` (`Provider_Name`, `Security_UserID`, `TimeCreated_SystemTime`,
//    `EventID_Qualifiers`); `Event.System.EventID.#text` -> `EventID`.
//    Event data names lose their spaces, as Sigma rules write them
//    (Defender's "Threat Name" -> `ThreatName`), in every shape.
//  - Winlogbeat / Elastic Agent (`{"winlog": {...}}`): `winlog.event_data.X`
//    and `winlog.user_data.X` -> `X`; `winlog.event_id` -> `EventID`,
//    `winlog.channel` -> `Channel`, `winlog.provider_name` -> `Provider_Name`,
//    `winlog.computer_name` -> `Computer`, `winlog.record_id` ->
//    `EventRecordID`, `winlog.user.identifier` -> `Security_UserID`.
//  - NXLog im_msvistalog (flat, top-level `EventID` with `Channel` or
//    `SourceName`): fields keep their names; `Provider_Name` (from
//    `SourceName`), `Computer` (from `Hostname`) and `Security_UserID` (from
//    `UserID`) are added; when one of NXLog's own members (EventType: INFO,
//    AUDIT_SUCCESS..; SourceName; Category; ...) is followed by event data of
//    the same name (Sysmon's EventType, Defender's "Source Name"), NXLog's
//    becomes `nxlog_<name>` so that rules see the event data.
//
// Renaming happens while the JSON parser walks the object (names are views
// of the key, or one arena concatenation, as for any nested member): no
// allocation per field beyond the batch arena and field table.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/event/event_batch.h"

namespace gsoc::json_internal {

// Where the walker is inside the object; decides the names of members.
enum class Scope : uint8_t {
  kPlain,           // dotted names
  kEvtxEvent,       // Event
  kEvtxSystem,      // Event.System
  kEvtxSystemSub,   // Event.System.<A> (an object)
  kEvtxSystemAttr,  // Event.System.<A>.#attributes
  kData,            // EventData / event_data: members keep their plain names
  kDataSub,         // an object inside kData (`Data: {"#text": ...}`)
  kUserData,        // Event.UserData: one element wrapping the data
  kWinlog,          // winlog
  kWinlogUser,      // winlog.user
};

// How to name a member `key` met in `scope`: the renamed name, or empty for
// the usual dotted name; and the scope its children are walked in. The
// walker keeps `parent`: the System member being walked (`Provider`), or the
// plain name of an event data object.
struct MemberNaming {
  std::string_view name;      // static text or a view of `key`; empty = dotted
  bool join_parent = false;   // name = parent + "_" + key (Provider_Name)
  bool parent_name = false;   // name = parent (EventID.#text -> EventID)
  bool strip_spaces = false;  // event data: "Threat Name" -> ThreatName
  Scope child = Scope::kPlain;
};

// `depth`: 1 for members of the top-level object.
MemberNaming NameMember(Scope scope, std::string_view key, bool is_object, size_t depth);

// `name` without its spaces, in the arena.
std::string_view StripSpaces(ByteArena& arena, std::string_view name);

// The NXLog shape, after the walk: names lose their spaces, NXLog's own
// members shadowed by event data become nxlog_<name>, and Provider_Name,
// Computer and Security_UserID are added. Returns the values the header
// takes: the host (Hostname) and the time text (EventTime, else
// TimeCreated), empty when absent. `names_have_spaces`: false when the
// walker saw no member name with a space (names are then not searched).
struct NxlogHeader {
  std::string_view host;
  std::string_view time;
};
NxlogHeader NormalizeNxlog(EventBatch& batch, Event& event, bool names_have_spaces);

}  // namespace gsoc::json_internal
