// End-of-run output: a human summary or one CSV header + line.
#pragma once

#include <string>

#include "tools/loadgen/options.h"
#include "tools/loadgen/runner.h"

namespace gsoc::loadgen {

std::string HumanSummary(const Options& options, const RunResult& result);
std::string CsvReport(const Options& options, const RunResult& result);  // 2 lines

}  // namespace gsoc::loadgen
