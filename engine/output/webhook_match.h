// WebhookMatch: which committed alerts one webhook output receives (its
// `match:`): every given condition must hold; an empty match takes all.
//   agencies   the alert's agency is one of these
//   min_level  the alert's level is at least this
//   tags       the alert's rule has at least one of these tags (exact)
// Matches runs on the store's writer thread: no allocation, no lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/store/alert_store.h"

namespace gsoc::output {

struct WebhookMatch {
  std::vector<std::string> agencies;
  std::optional<rules::Level> min_level;
  std::vector<std::string> tags;

  bool Matches(const store::StoredAlert& alert) const;
};

// The rule tags of an alert's JSON (AppendAlertJson output): whether one of
// `tags` is among them.
bool AlertHasAnyTag(std::string_view alert_json, const std::vector<std::string>& tags);

}  // namespace gsoc::output
