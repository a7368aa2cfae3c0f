// A nats-server JetStream cluster for tests: n servers on loopback ports
// chosen at run time, each with its own data directory under a TempDir,
// started and stopped by PID (tests/e2e/gsocd_harness.h Process).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {

class NatsCluster {
 public:
  // Starts `servers` servers (1: a single JetStream server, no routes) and
  // waits until each accepts clients; a gtest failure when one does not.
  explicit NatsCluster(size_t servers);
  ~NatsCluster();  // SIGTERM, then SIGKILL, each server still running

  // nats://127.0.0.1:<port> of every server.
  std::vector<std::string> Urls() const;
  // The index of the server whose URL is `url`, or -1.
  int IndexOf(const std::string& url) const;
  void Kill(size_t index);     // kill -9, reaped
  bool Restart(size_t index);  // same ports and data directory
  pid_t pid(size_t index) const { return servers_[index].process.pid(); }
  std::string Log(size_t index) const;

 private:
  struct Server {
    uint16_t client_port = 0;
    uint16_t route_port = 0;
    std::filesystem::path config;
    Process process;
  };
  bool Start(size_t index);
  // Every server on fresh ports; false (a test failure when `report`) if
  // one did not start.
  bool StartAll(bool report);
  void StopAll();
  std::string ConfigText(size_t index) const;

  TempDir dir_;
  std::vector<Server> servers_;
};

}  // namespace gsoc::e2e
