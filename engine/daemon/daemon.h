// Daemon: wires config, agencies, listeners, pipeline and metrics together
// and runs them until asked to stop.
//
// Threading: Run() blocks the calling thread; it starts pipeline.io_threads
// collector threads and pipeline.workers engine threads. RequestStop() is
// async-signal-safe-free: call it from the signal handler thread (asio
// signal_set) or any other thread.
//
// Shutdown order (SIGTERM/SIGINT): listeners stop accepting and reading, every
// session hands on what it has framed (waiting for room if the queue is
// full), the collector threads finish, then the pipeline drains its queue and
// flushes its stages. Nothing accepted is lost.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/config/config.h"

namespace gsoc {

struct DaemonOptions {
  std::filesystem::path ports_file;  // written once listening: {"name": port, ...}
};

class Daemon {
 public:
  Daemon(Config config, DaemonOptions options);
  ~Daemon();
  // Returns the process exit code.
  int Run();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace gsoc
