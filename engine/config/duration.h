// Parsing of human-written durations ("250ms", "30s", "5m", "2h", "90d", or
// plain seconds) and sizes ("65536", "64KiB", "1MiB", "2GiB", "10MB").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gsoc {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
std::optional<uint64_t> ParseSize(std::string_view text);
// "+07:00", "-0530", "UTC", "Z" -> seconds east of UTC.
std::optional<int32_t> ParseUtcOffset(std::string_view text);

}  // namespace gsoc
