#include "tests/tools/loadgen/loadgen_process.h"

#include <sys/wait.h>

#include <cstdio>

namespace gsoc::loadgen::testing {

ProcessResult RunCommand(const std::string& command) {
  ProcessResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.out.append(chunk, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ProcessResult RunLoadgen(const std::string& args) {
  return RunCommand(std::string(GSOC_LOADGEN_BIN) + " " + args);
}

std::string CsvField(const std::string& out, const std::string& column) {
  const size_t header = out.find("transport,");
  if (header == std::string::npos) return {};
  const size_t header_end = out.find('\n', header);
  const std::string names = out.substr(header, header_end - header) + ",";
  const size_t values_end = out.find('\n', header_end + 1);
  const std::string values = out.substr(header_end + 1, values_end - header_end - 1) + ",";
  size_t name_pos = 0, value_pos = 0;
  while (name_pos < names.size() && value_pos < values.size()) {
    const size_t name_end = names.find(',', name_pos);
    const size_t value_end = values.find(',', value_pos);
    if (names.substr(name_pos, name_end - name_pos) == column) {
      return values.substr(value_pos, value_end - value_pos);
    }
    name_pos = name_end + 1;
    value_pos = value_end + 1;
  }
  return {};
}

}  // namespace gsoc::loadgen::testing
