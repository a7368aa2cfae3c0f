// Private to engine/cluster's libnats users (jetstream.cc, jetstream_kv.cc):
// the text of a failed libnats call, with the library's last error detail.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

namespace gsoc::cluster_internal {

// "<what>: <status text> (<last error detail>)".
inline std::string NatsStatusText(natsStatus status, std::string_view what) {
  std::string text(what);
  text += ": ";
  text += natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0') text += std::string(" (") + detail + ")";
  return text;
}

}  // namespace gsoc::cluster_internal
