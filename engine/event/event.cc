#include "engine/event/event.h"

namespace gsoc {

std::string_view FormatName(EventFormat format) {
  switch (format) {
    case EventFormat::kRfc5424:
      return "rfc5424";
    case EventFormat::kRfc3164:
      return "rfc3164";
    case EventFormat::kJson:
      return "json";
    case EventFormat::kUnparsed:
      return "unparsed";
  }
  return "unparsed";
}

bool PeerAddress::IsV4() const {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

PeerAddress PeerAddress::FromV4(uint32_t addr, uint16_t port) {
  PeerAddress peer;
  peer.bytes[10] = 0xff;
  peer.bytes[11] = 0xff;
  peer.bytes[12] = static_cast<uint8_t>(addr >> 24);
  peer.bytes[13] = static_cast<uint8_t>(addr >> 16);
  peer.bytes[14] = static_cast<uint8_t>(addr >> 8);
  peer.bytes[15] = static_cast<uint8_t>(addr);
  peer.port = port;
  return peer;
}

}  // namespace gsoc
