// gsoc-loadgen: syslog load generator (see README.md).
#include <csignal>
#include <cstdio>
#include <exception>

#include "tools/loadgen/options.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/runner.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true, std::memory_order_relaxed); }

void InstallSignalHandlers() {
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int Run(int argc, char** argv) {
  using namespace gsoc::loadgen;
  const ParseResult parsed = ParseOptions(argc, argv);
  if (!parsed.options) return parsed.exit_code;
  const Options& options = *parsed.options;
  InstallSignalHandlers();
  const RunResult result = RunLoad(options, g_stop);
  for (const std::string& error : result.errors)
    std::fprintf(stderr, "gsoc-loadgen: %s\n", error.c_str());
  if (options.csv) {
    std::fputs(CsvReport(options, result).c_str(), stdout);
  } else if (!options.quiet) {
    std::fputs(HumanSummary(options, result).c_str(), stdout);
  }
  return result.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gsoc-loadgen: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "gsoc-loadgen: unknown error\n");
  }
  return 1;
}
