// The `syslog_tcp` listener kind, as the config loader knows it: no keys of its
// own beyond the common listener keys (engine/config/config.h).
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

// RFC 6587 syslog over TCP: octet counting or LF framing.
const ConfigRegistration kKind{ListenerKind{"syslog_tcp", false, {}, nullptr}};

}  // namespace
}  // namespace gsoc
