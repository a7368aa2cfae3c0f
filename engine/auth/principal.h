// Principal: who made an API request, and what that role may see and do.
//
// Every authenticated request carries one Principal (routes.cc builds it
// from the bearer token). Handlers never look at tokens: they ask the
// Principal. Roles:
//   admin           tokens, rule reload, audit log, everything
//   analyst         every agency's alerts and cases; triage
//   agency-analyst  only the alerts, cases and counts of `agencies`; triage
//   viewer          read only, every agency
//
// Value type, no threads, no allocation after construction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc::auth {

enum class Role : uint8_t { kAdmin, kAnalyst, kAgencyAnalyst, kViewer };

constexpr std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kAnalyst:
      return "analyst";
    case Role::kAgencyAnalyst:
      return "agency-analyst";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

constexpr std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kAdmin, Role::kAnalyst, Role::kAgencyAnalyst, Role::kViewer}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

struct Principal {
  std::string token_id;  // the token's public id (never the secret)
  std::string name;      // its label: the author recorded on changes and in the audit log
  Role role = Role::kViewer;
  std::vector<std::string> agencies;  // agency-analyst only: the agencies it may see

  bool SeesAllAgencies() const { return role != Role::kAgencyAnalyst; }
  // Whether an alert, case or count of `agency` may be shown to this principal.
  bool MaySee(std::string_view agency) const {
    return SeesAllAgencies() ||
           std::find(agencies.begin(), agencies.end(), agency) != agencies.end();
  }
  bool MayTriage() const { return role != Role::kViewer; }
  bool IsAdmin() const { return role == Role::kAdmin; }
};

}  // namespace gsoc::auth
