#include "tools/loadgen/catalog_parts.h"

#include <array>
#include <span>

#include "tools/loadgen/catalog.h"

namespace gsoc::loadgen {
namespace {

constexpr std::array<std::string_view, 5> kAttackers{"203.0.113.7", "198.51.100.23", "192.0.2.45",
                                                     "45.155.205.233", "185.220.101.4"};
constexpr std::array<int, 12> kPublicFirstOctets{23,  51,  62,  77,  89,  103,
                                                 117, 141, 154, 178, 188, 212};
constexpr std::array<std::string_view, 6> kLegitUsers{"alice",  "bob",    "carol",
                                                      "deploy", "backup", "svc-ci"};
constexpr std::array<std::string_view, 10> kGuessedUsers{
    "root", "admin", "test", "oracle", "ubuntu", "user", "postgres", "git", "pi", "guest"};

std::string Dotted(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  return std::to_string(a) + '.' + std::to_string(b) + '.' + std::to_string(c) + '.' +
         std::to_string(d);
}

}  // namespace

std::span<const std::string_view> AttackerAddresses() { return kAttackers; }

namespace parts {

std::string SourceAddress(Prng& prng, unsigned attacker_percent) {
  if (prng.Percent(attacker_percent)) {
    return std::string(prng.Pick(std::span<const std::string_view>(kAttackers)));
  }
  return RandomPublicAddress(prng);
}

std::string RandomPublicAddress(Prng& prng) {
  const int first = prng.Pick(std::span<const int>(kPublicFirstOctets));
  return Dotted(static_cast<uint64_t>(first), prng.Range(0, 255), prng.Range(0, 255),
                prng.Range(1, 254));
}

std::string InternalAddress(Prng& prng) {
  return Dotted(10, 20, prng.Range(0, 15), prng.Range(1, 254));
}

std::string_view LegitUser(Prng& prng) {
  return prng.Pick(std::span<const std::string_view>(kLegitUsers));
}

std::string_view GuessedUser(Prng& prng) {
  return prng.Pick(std::span<const std::string_view>(kGuessedUsers));
}

uint32_t Pid(Prng& prng) { return static_cast<uint32_t>(prng.Range(300, 65000)); }

uint32_t EphemeralPort(Prng& prng) { return static_cast<uint32_t>(prng.Range(32768, 60999)); }

}  // namespace parts
}  // namespace gsoc::loadgen
