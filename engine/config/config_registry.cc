#include "engine/config/config_registry.h"

#include <algorithm>
#include <map>

namespace gsoc {
namespace {

// Function-local statics: registrations run during static initialisation,
// in no particular order across files.
std::vector<ConfigSection>& Sections() {
  static std::vector<ConfigSection> sections;
  return sections;
}

std::map<std::string, ListenerKind, std::less<>>& Kinds() {
  static std::map<std::string, ListenerKind, std::less<>> kinds;
  return kinds;
}

}  // namespace

ConfigRegistration::ConfigRegistration(const ConfigSection& section) {
  Sections().push_back(section);
}

ConfigRegistration::ConfigRegistration(const ListenerKind& kind) {
  Kinds().emplace(std::string(kind.type), kind);
}

std::vector<const ConfigSection*> ConfigSections() {
  std::vector<const ConfigSection*> out;
  for (const ConfigSection& section : Sections()) out.push_back(&section);
  std::sort(out.begin(), out.end(), [](const ConfigSection* a, const ConfigSection* b) {
    return a->order != b->order ? a->order < b->order : a->name < b->name;
  });
  return out;
}

const ListenerKind* FindListenerKind(std::string_view type) {
  const auto it = Kinds().find(type);
  return it == Kinds().end() ? nullptr : &it->second;
}

std::string ListenerKindNames() {
  std::string names;
  for (const auto& [name, kind] : Kinds()) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

}  // namespace gsoc
