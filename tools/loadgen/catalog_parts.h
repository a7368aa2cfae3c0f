// Random building blocks of catalog events (addresses, users, ports, pids).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/loadgen/message_writer.h"
#include "tools/loadgen/prng.h"

namespace gsoc::loadgen::parts {

// 80% one of the attacker addresses, else a random public address.
std::string SourceAddress(Prng& prng, unsigned attacker_percent);
std::string RandomPublicAddress(Prng& prng);
std::string InternalAddress(Prng& prng);  // 10.20.x.y
std::string_view LegitUser(Prng& prng);
std::string_view GuessedUser(Prng& prng);  // what brute-forcers try
uint32_t Pid(Prng& prng);
uint32_t EphemeralPort(Prng& prng);

}  // namespace gsoc::loadgen::parts
