// gsocd: the gsoc daemon. See README.md and deploy/gsoc.yaml.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "engine/config/config.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/malloc_tuning.h"
#include "engine/daemon/signals.h"
#include "engine/daemon/systemd.h"

namespace {

// Loads the config; prints every error and returns false if any.
bool Load(const std::string& path, gsoc::Config* out) {
  gsoc::ConfigResult result = gsoc::LoadConfig(path);
  if (auto* errors = std::get_if<std::vector<gsoc::ConfigError>>(&result)) {
    for (const auto& error : *errors) std::fprintf(stderr, "%s\n", error.ToString().c_str());
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), errors->size());
    return false;
  }
  *out = std::get<gsoc::Config>(std::move(result));
  return true;
}

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("gsocd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  // Under systemd, stderr is the journal: priorities instead of timestamps.
  spdlog::set_formatter(gsoc::MakeLogFormatter(gsoc::StderrIsJournal()));
}

// Earlier still: before the static initializers of this program run.
__attribute__((constructor(101))) void BlockSignalsBeforeStaticInit() {
  gsoc::BlockDaemonSignals();
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else (and before any thread exists): SIGHUP, SIGTERM and
  // SIGINT must never take their default action (a logrotate HUP during the
  // start would kill gsocd). The daemon's SignalWatcher takes them.
  gsoc::BlockDaemonSignals();
  gsoc::LimitMallocArenas();  // before any thread exists
  CLI::App app{"gsocd: streaming security-event correlation engine"};
  std::string config_path = "/etc/gsoc/gsoc.yaml";
  std::string check_path;
  std::string log_level;
  std::string ports_file;
  bool version = false;
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  app.add_option("--check-config", check_path, "validate a configuration file and exit");
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error, critical or off (overrides the config)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--ports-file", ports_file,
                 "write the bound ports as JSON to this file once listening");
  app.add_flag("-V,--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("gsocd %s\n", GSOC_VERSION);
    return 0;
  }
  gsoc::Config config;
  if (!check_path.empty()) {
    if (!Load(check_path, &config)) return 2;
    std::printf("%s: OK (%zu listener(s), %zu agency(ies))\n", check_path.c_str(),
                config.listeners.size(), config.agencies.size());
    return 0;
  }
  if (!Load(config_path, &config)) return 2;
  SetUpLogging(log_level.empty() ? config.log_level : log_level);
  try {
    const gsoc::MallocTrimmer trimmer(std::chrono::seconds(30));
    gsoc::Daemon daemon(std::move(config), gsoc::DaemonOptions{ports_file});
    return daemon.Run();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
