// Components register their own config: top-level sections (store, api,
// alerts, correlation, rules, ...) and listener kinds (syslog_tcp,
// syslog_tls, ...), each by name, Envoy/Tenzir style. The loader
// (config.cc) reads the top-level keys, agencies and the common keys of
// each listener, hands every section and each listener's own keys to the
// component that registered it, and runs the cross-checks. A new section or
// listener kind is a file in its component that registers itself; no
// central list of types changes.
//
// Registration happens during static initialisation (ConfigRegistration
// objects at namespace scope); the files that register are linked whole
// (gsoc_config is a WHOLE_ARCHIVE library), so none is dropped. Reading
// the registry is safe from any thread once main() runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config_reader.h"

namespace gsoc {

struct Config;
struct ListenerConfig;

// A top-level section, e.g. `store:`. `read` is called with the section's
// node even when the section is absent (undefined node): it sets defaults
// that depend on the top level (paths under data_dir) and returns.
struct ConfigSection {
  std::string_view name;
  int order = 0;  // sections are read by ascending order (then name)
  void (*read)(ConfigReader& reader, const YAML::Node& node, Config& config) = nullptr;
};

// A listener kind. The loader reads name, type, address, port and the
// connection limits (ListenerConfig); `keys` are the kind's own keys, which
// `read` (may be null) puts into ListenerConfig::options.
struct ListenerKind {
  std::string_view type;
  bool udp = false;  // binds a UDP port (else TCP): for port collision checks
  std::vector<std::string_view> keys;
  void (*read)(ConfigReader& reader, const YAML::Node& listener, const std::string& path,
               ListenerConfig& out) = nullptr;
};

struct ConfigRegistration {
  explicit ConfigRegistration(const ConfigSection& section);
  explicit ConfigRegistration(const ListenerKind& kind);
};

// Registered sections, in reading order.
std::vector<const ConfigSection*> ConfigSections();
// The kind registered as `type`, or null.
const ListenerKind* FindListenerKind(std::string_view type);
// "syslog_tcp, syslog_tls, ..." (sorted), for error messages and docs.
std::string ListenerKindNames();

}  // namespace gsoc
