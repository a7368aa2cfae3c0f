#include "tests/engine/cluster/nats_cluster.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace gsoc::e2e {
namespace {

std::string NatsServerPath() {
  for (const char* path : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "nats-server";  // reported by posix_spawn when missing (deploy/setup.sh test)
}

}  // namespace

// Ports are chosen free, then bound by nats-server: another test's process
// may take one in between (seen under the sanitizer build: "bind: address
// already in use" on a route port). The whole cluster then starts again
// on fresh ports and empty store folders, up to kAttempts times.
NatsCluster::NatsCluster(size_t servers) : servers_(servers) {
  constexpr int kAttempts = 3;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (StartAll(/*report=*/attempt == kAttempts)) return;
    StopAll();
  }
}

bool NatsCluster::StartAll(bool report) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    servers_[i].client_port = FreePort();
    servers_[i].route_port = FreePort();
    std::error_code ignored;
    std::filesystem::remove_all(dir_ / ("n" + std::to_string(i)), ignored);
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    servers_[i].config = dir_ / ("n" + std::to_string(i) + ".conf");
    WriteFile(servers_[i].config, ConfigText(i));
    if (Start(i)) continue;
    if (report) ADD_FAILURE() << "nats-server " << i << " did not start:\n" << Log(i);
    return false;
  }
  return true;
}

void NatsCluster::StopAll() {
  for (Server& server : servers_) {
    if (server.process.running()) server.process.Stop(std::chrono::seconds(10));
  }
}

NatsCluster::~NatsCluster() { StopAll(); }

std::string NatsCluster::ConfigText(size_t index) const {
  const Server& server = servers_[index];
  std::string text = "server_name: n" + std::to_string(index) + "\n" +
                     "listen: 127.0.0.1:" + std::to_string(server.client_port) + "\n" +
                     "jetstream {\n  store_dir: \"" +
                     (dir_ / ("n" + std::to_string(index))).string() +
                     "\"\n  max_memory_store: 64MB\n  max_file_store: 4GB\n}\n";
  if (servers_.size() == 1) return text;
  text += "cluster {\n  name: gsoc_test\n  listen: 127.0.0.1:" + std::to_string(server.route_port) +
          "\n  routes: [";
  const char* separator = " ";
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (i == index) continue;
    text +=
        separator + std::string("nats-route://127.0.0.1:") + std::to_string(servers_[i].route_port);
    separator = ", ";
  }
  return text + " ]\n}\n";
}

// A server listens for clients before it binds its route port, and exits
// (FTL) when that bind fails: a listening client port alone let a server
// that was about to exit pass, and its cluster then had no peers for
// placement for the whole test (seen under the sanitizer build). So a
// cluster's server counts as started once its log says its route port is
// listening, while it still runs.
bool NatsCluster::Start(size_t index) {
  Server& server = servers_[index];
  SpawnOptions options;
  options.stdout_file = dir_ / ("n" + std::to_string(index) + ".log");
  server.process = Process({NatsServerPath(), "-c", server.config.string()}, options);
  if (server.process.pid() <= 0 ||
      !WaitTcpListening(server.client_port, std::chrono::seconds(15))) {
    return false;
  }
  if (servers_.size() == 1) return true;
  const std::string routes_ready =
      "Listening for route connections on 127.0.0.1:" + std::to_string(server.route_port);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!server.process.Exited()) {
    if (Log(index).find(routes_ready) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::vector<std::string> NatsCluster::Urls() const {
  std::vector<std::string> urls;
  for (const Server& server : servers_) {
    urls.push_back("nats://127.0.0.1:" + std::to_string(server.client_port));
  }
  return urls;
}

int NatsCluster::IndexOf(const std::string& url) const {
  const std::vector<std::string> urls = Urls();
  for (size_t i = 0; i < urls.size(); ++i) {
    if (urls[i] == url) return static_cast<int>(i);
  }
  return -1;
}

void NatsCluster::Kill(size_t index) {
  servers_[index].process.Signal(SIGKILL);
  servers_[index].process.Wait(std::chrono::seconds(10));
}

bool NatsCluster::Restart(size_t index) { return Start(index); }

std::string NatsCluster::Log(size_t index) const {
  return ReadFile(dir_ / ("n" + std::to_string(index) + ".log"));
}

}  // namespace gsoc::e2e
