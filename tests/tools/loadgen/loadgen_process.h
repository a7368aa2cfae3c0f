// Running gsoc-loadgen (GSOC_LOADGEN_BIN) or a shell command from a test,
// and reading its CSV report.
#pragma once

#include <string>

namespace gsoc::loadgen::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// Runs `command` with /bin/sh, capturing stdout and stderr.
ProcessResult RunCommand(const std::string& command);
// Runs gsoc-loadgen with `args`.
ProcessResult RunLoadgen(const std::string& args);
// The value of `column` in the CSV report in `out`, empty if absent.
std::string CsvField(const std::string& out, const std::string& column);

}  // namespace gsoc::loadgen::testing
