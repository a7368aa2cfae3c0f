// The `json_tcp` listener kind, as the config loader knows it: no keys of its
// own beyond the common listener keys (engine/config/config.h).
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

// JSON lines over TCP (one event per line; Windows event shapes included).
const ConfigRegistration kKind{ListenerKind{"json_tcp", false, {}, nullptr}};

}  // namespace
}  // namespace gsoc
