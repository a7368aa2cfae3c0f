// The `syslog_udp` listener kind, as the config loader knows it: no keys of its
// own beyond the common listener keys (engine/config/config.h).
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

// RFC 5426 syslog over UDP: one message per datagram.
const ConfigRegistration kKind{ListenerKind{"syslog_udp", true, {}, nullptr}};

}  // namespace
}  // namespace gsoc
