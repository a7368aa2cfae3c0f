#include "tools/loadgen/file_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace gsoc::loadgen {

void SplitLines(std::string_view text, std::vector<std::string>& lines) {
  while (!text.empty()) {
    const size_t end = text.find_first_of("\r\n");
    const std::string_view line = text.substr(0, end);
    if (!line.empty()) lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

bool ReadLines(const std::vector<std::string>& paths, std::vector<std::string>& lines,
               std::string& error) {
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
    std::string content(size > 0 ? static_cast<size_t>(size) : 0, '\0');
    if (size < 0 || !in.seekg(0) || !in.read(content.data(), size)) {
      error = path + ": " + std::strerror(errno);
      return false;
    }
    SplitLines(content, lines);
  }
  return true;
}

RenderedMessage LineMessage(std::string_view line, bool wrap, std::string_view hostname,
                            const TimestampSet& now) {
  if (!wrap) return RenderedMessage{std::string(line), {}};
  MessageWriter writer(HeaderStyle::kRfc3164, hostname, now);
  writer.BeginUntagged(/*facility=*/1, /*severity=*/5);  // user.notice
  writer.Text(line);
  return writer.Take();
}

}  // namespace gsoc::loadgen
