#include "engine/triage/triage_types.h"

#include <algorithm>
#include <array>

namespace gsoc::triage {

namespace {

constexpr std::array<std::string_view, 4> kStatusNames = {"new", "acknowledged", "in_progress",
                                                          "closed"};
constexpr std::array<std::string_view, 5> kReasonNames = {"", "true_positive", "false_positive",
                                                          "benign", "duplicate"};
constexpr std::array<std::string_view, 7> kActionNames = {"ack",   "start",  "assign", "note",
                                                          "close", "reopen", "carried"};
constexpr std::array<std::string_view, 3> kCaseStatusNames = {"open", "in_progress", "closed"};

template <class Enum, size_t N>
std::optional<Enum> Find(const std::array<std::string_view, N>& names, std::string_view name,
                         size_t first = 0, size_t end = N) {
  for (size_t i = first; i < end; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view StatusName(Status status) { return kStatusNames[static_cast<size_t>(status)]; }
std::optional<Status> ParseStatus(std::string_view name) {
  return Find<Status>(kStatusNames, name);
}
std::string_view ReasonName(Reason reason) { return kReasonNames[static_cast<size_t>(reason)]; }
std::optional<Reason> ParseReason(std::string_view name) {
  return Find<Reason>(kReasonNames, name, 1);
}
std::string_view ActionName(Action action) { return kActionNames[static_cast<size_t>(action)]; }
std::optional<Action> ParseAction(std::string_view name) {
  return Find<Action>(kActionNames, name, 0, kActionNames.size() - 1);
}
std::string_view CaseStatusName(CaseStatus status) {
  return kCaseStatusNames[static_cast<size_t>(status)];
}
std::optional<CaseStatus> ParseCaseStatus(std::string_view name) {
  return Find<CaseStatus>(kCaseStatusNames, name);
}

std::string_view ChangeErrorName(ChangeError error) {
  switch (error) {
    case ChangeError::kNone:
      return "";
    case ChangeError::kConflict:
      return "conflict";
    case ChangeError::kInvalidTransition:
      return "invalid_transition";
    case ChangeError::kLimit:
      return "limit";
  }
  return "";
}

std::optional<std::string> ValidateChange(const Change& change, const TriageLimits& limits) {
  if (change.note.size() > limits.max_note_bytes) {
    return "note: at most " + std::to_string(limits.max_note_bytes) + " bytes";
  }
  if (change.assignee.size() > limits.max_assignee_bytes) {
    return "assignee: at most " + std::to_string(limits.max_assignee_bytes) + " bytes";
  }
  if (change.assignee.find('\0') != std::string::npos) return "assignee: no NUL byte";
  if (change.action == Action::kNote && change.note.empty()) return "note: required for note";
  if (change.action == Action::kClose && change.reason == Reason::kNone) {
    return "reason: required for close (true_positive, false_positive, benign or duplicate)";
  }
  if (change.action != Action::kClose && change.reason != Reason::kNone) {
    return "reason: only with close";
  }
  if (change.action != Action::kAssign && !change.assignee.empty()) {
    return "assignee: only with assign";
  }
  if (change.action == Action::kCarried) return "action: not one a client may ask for";
  return std::nullopt;
}

bool TriageFilter::Matches(const TriageState& state) const {
  if (assignee && state.assignee != *assignee) return false;
  return statuses.empty() ||
         std::find(statuses.begin(), statuses.end(), state.status) != statuses.end();
}

bool TriageFilter::UsesIndex() const {
  if (assignee) return !assignee->empty();
  return !statuses.empty() &&
         std::find(statuses.begin(), statuses.end(), Status::kNew) == statuses.end();
}

}  // namespace gsoc::triage
