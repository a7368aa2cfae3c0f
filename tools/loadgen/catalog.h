// The realistic event catalog of the templates: sshd logins and failures,
// PAM, sudo, cron, kernel UFW blocks and nginx access lines. A few attacking
// addresses produce most failures, like a brute-force campaign would.
#pragma once

#include <span>
#include <string_view>

#include "tools/loadgen/message_writer.h"
#include "tools/loadgen/prng.h"

namespace gsoc::loadgen {

// The attacking addresses (exposed for tests and documentation).
std::span<const std::string_view> AttackerAddresses();

// Renders one random catalog event into `writer` (Begin() included).
void RenderCatalogEvent(Prng& prng, MessageWriter& writer);

}  // namespace gsoc::loadgen
