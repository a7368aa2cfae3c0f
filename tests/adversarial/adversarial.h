// The standing adversarial suite: each case is one attack on a running
// gsocd (or a tool) that asserts its bound as a number: peak memory (VmHWM),
// time to recover or to answer, alerts kept. The bound is printed
// ("[bound] name = value unit (limit ...)") and recorded as a test property,
// so a regression shows as a number in the log, not only as a failure.
//
// Adding a case: a TEST in a new or existing *_test.cc here, registered with
// gsoc_add_adversarial() in CMakeLists.txt. A new HTTP listener or route gets
// the generic attacks (slow and partial requests, unauthenticated holders)
// by adding one row to HttpEndpoints() in adversarial.cc.
//
// Built on tests/e2e/gsocd_harness.h (processes, sockets, HTTP, metrics).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::adversarial {

using namespace gsoc::e2e;
using namespace std::chrono_literals;

// ---- bounds --------------------------------------------------------------------

// Prints and records `value`, and fails unless value <= limit.
void ExpectAtMost(const std::string& name, double value, double limit, const std::string& unit);
// Prints and records `value`, and fails unless value >= floor.
void ExpectAtLeast(const std::string& name, double value, double floor, const std::string& unit);

double MillisSince(Clock::time_point start);

// ---- attackers -------------------------------------------------------------------

// `count` threads each running attack(index, stop) until stop is set; the
// destructor stops and joins them.
class Attackers {
 public:
  using Attack = std::function<void(int index, const std::atomic<bool>& stop)>;
  Attackers(int count, Attack attack);
  ~Attackers();
  Attackers(const Attackers&) = delete;
  Attackers& operator=(const Attackers&) = delete;
  void Stop();

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Sleeps up to `duration` in small steps; false as soon as stop is set.
bool SleepUnlessStopped(const std::atomic<bool>& stop, std::chrono::milliseconds duration);

// ---- gsocd -----------------------------------------------------------------------

// A gsocd config running the shipped rule pack (detection, store, API) with
// a Hyperscan cache shared by every case (compiled once per build), the
// `listeners` (YAML list items; default one TCP syslog listener "tcp") and
// `extra` appended.
std::string RulesConfig(const TempDir& dir, const std::string& extra = "",
                        const std::string& listeners = "");

std::vector<std::string> Bearer(const std::string& token);

// One timed request on a new connection: the status (0: no reply within
// `timeout`) and how long the whole reply took.
struct Timed {
  int status = 0;
  double ms = 0;
  std::string body;
};
Timed TimedRequest(uint16_t port, const std::string& target,
                   const std::vector<std::string>& headers = {},
                   std::chrono::milliseconds timeout = 5s);

// ---- HTTP endpoints under attack -----------------------------------------------------

// Every HTTP endpoint gsocd serves, with a request that must keep working
// while it is attacked. Add a row for a new listener or route.
struct HttpEndpoint {
  std::string name;      // test name suffix
  std::string listener;  // Gsocd::port() key: "metrics", "api"
  std::string target;    // path (and query)
  bool needs_token = false;
};
std::vector<HttpEndpoint> HttpEndpoints();

}  // namespace gsoc::adversarial
