// End-to-end test harness: runs real processes (gsocd, logger, rsyslogd,
// promtool) as children of the test, on loopback ports chosen at run time,
// each in a fresh temporary directory, and stops them whatever happens.
//
// Nothing here is shared between tests: every Gsocd owns its directory,
// config, ports file, events file and captured stderr. Destructors stop the
// child (SIGTERM, then SIGKILL after a timeout) so a failing assertion never
// leaves a process behind.
//
// Threading: a harness object belongs to the test thread that made it;
// the socket helpers are free functions and may be used from sender threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/util/temp_dir.h"

namespace gsoc::e2e {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// True when this test binary (and so, by the build, gsocd) runs under ASan.
bool UnderSanitizer();
// Multiplies a timeout when running under sanitizers.
std::chrono::milliseconds Scaled(std::chrono::milliseconds timeout);

// ---- files and directories -------------------------------------------------

// A fresh directory under $TMPDIR, removed at destruction unless the test
// failed or GSOC_E2E_KEEP is set (then its path is printed).
class TempDir : public test::TempDir {
 public:
  TempDir() : test::TempDir("e2e") {}
  ~TempDir();
};

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, std::string_view text);
// Number of '\n' in the file (0 when it does not exist).
size_t CountLines(const std::filesystem::path& path);

// ---- child processes ---------------------------------------------------------

struct SpawnOptions {
  std::filesystem::path cwd;          // empty: inherit
  std::filesystem::path stdin_file;   // empty: /dev/null
  std::filesystem::path stdout_file;  // empty: /dev/null
  std::filesystem::path stderr_file;  // empty: same as stdout_file (or /dev/null)
};

// One child process started with posix_spawn. The destructor kills it
// (SIGKILL) and reaps it if it is still running.
class Process {
 public:
  Process() = default;
  Process(const std::vector<std::string>& argv, const SpawnOptions& options);
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !status_; }
  void Signal(int signal);
  // Waits for exit; returns the raw wait status, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `timeout`, then SIGKILL. Returns the wait status.
  int Stop(std::chrono::milliseconds timeout);
  // Non-blocking check; true once the process has exited.
  bool Exited();
  std::optional<int> status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv to completion (killed after `timeout`), capturing its output.
RunResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s,
                     const std::filesystem::path& stdin_file = {});

// Text describing a wait status ("exit 0", "signal 9").
std::string DescribeStatus(int status);

// Fails the current test if the text holds a sanitizer report.
void ExpectNoSanitizerReport(const std::string& text, const std::string& what);

// ---- sockets ---------------------------------------------------------------

// Each returns a connected/bound fd or -1 with a gtest failure.
int ConnectTcp(uint16_t port, const char* bind_address = nullptr);
int UdpSocket(const char* bind_address = nullptr);
// Writes everything (blocking); false on error (EPIPE etc.).
bool SendAll(int fd, std::string_view data);
bool SendUdp(int fd, uint16_t port, std::string_view datagram);
// Waits until the peer closes (EOF or reset); false on timeout.
bool WaitPeerClosed(int fd, std::chrono::milliseconds timeout);
// /proc/<pid>/status field (e.g. "VmHWM") in KiB; 0 when unreadable.
uint64_t ProcStatusKiB(pid_t pid, const std::string& field);

// A port that was free a moment ago (bind port 0, read it, close).
uint16_t FreePort(bool udp = false);
// Blocks until something accepts TCP on the port, or timeout.
bool WaitTcpListening(uint16_t port, std::chrono::milliseconds timeout);
// Raises RLIMIT_NOFILE to at least n (up to the hard limit); returns the new soft limit.
size_t RaiseFileLimit(size_t n);

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept;
  int get() const { return fd_; }
  void Close();

 private:
  int fd_ = -1;
};

// ---- HTTP and Prometheus text --------------------------------------------------

// GET http://127.0.0.1:port/path; returns the body ("" with a gtest failure).
std::string HttpGet(uint16_t port, const std::string& path);

struct HttpResult {
  int status = 0;       // 0: no reply
  std::string headers;  // lower-cased header block
  std::string body;     // de-chunked
};
// One HTTP/1.1 request (Connection: close) to 127.0.0.1:port; `headers` are
// whole lines without CRLF ("Authorization: Bearer x").
HttpResult HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                       const std::vector<std::string>& headers = {}, const std::string& body = "");

// Server-Sent Events from GET target: calls on_event(id, data) per event
// until it returns false, the server closes, or `timeout` passes. Returns
// the HTTP status (0 when the connection failed).
int ReadSse(uint16_t port, const std::string& target, const std::vector<std::string>& headers,
            std::chrono::milliseconds timeout,
            const std::function<bool(uint64_t id, const std::string& data)>& on_event);

using Labels = std::map<std::string, std::string>;

// Sum of the samples named `name` whose labels include every given label;
// nullopt when no sample matches.
std::optional<double> FindMetric(const std::string& text, const std::string& name,
                                 const Labels& labels = {});

// The current time as an RFC 3164 timestamp ("Nov 25 10:00:05", UTC).
std::string Rfc3164Now();

// An RFC 3164 sshd "Failed password for <user> from 198.18.x.y" line stamped
// now (alerts via the shipped rules); n varies the address, port and pid.
std::string FailedPasswordLine(int n, const std::string& user = "root");

// Every stored alert id, oldest first, read from the API of the gsocd on
// `port` with `token`, following cursors (a gtest failure on a bad reply).
std::vector<uint64_t> StoredAlertIds(uint16_t port, const std::string& token);

// ---- JSON events --------------------------------------------------------------

// One line of the events file, flattened: strings, numbers and booleans as
// text; "fields" members as "fields.<name>". parse_ok false if not JSON.
struct JsonEvent {
  bool parse_ok = false;
  std::map<std::string, std::string> values;
  bool Has(const std::string& key) const { return values.count(key) != 0; }
  std::string Get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::string("<absent>") : it->second;
  }
};

JsonEvent ParseEventLine(std::string_view line);
std::vector<std::string> SplitLines(std::string_view text);

// ---- gsocd ----------------------------------------------------------------------

// The gsocd binary: $GSOC_E2E_GSOCD, else the one this test was built with.
std::string GsocdPath();

// A gsocd config body running the shipped rule pack (rules/ of the source
// tree) with data under dir/var and one TCP syslog listener named "tcp"
// (one worker, so tests see a deterministic order); `extra` is appended
// (other top-level sections).
std::string ShippedPackConfig(const TempDir& dir, const std::string& extra = "");

// ---- gsocd (process) ----------------------------------------------------------------------

struct GsocdConfig {
  // The config body: listeners (and anything else). The harness adds
  // data_dir (unless given), metrics and the API on port 0 (unless `metrics:`
  // / `api:` appear), default agencies (127.0.0.0/8 as "local", unless
  // `agencies:` appears) and events_file (unless events_file is false).
  std::string yaml;
  bool events_file = true;
};

class Gsocd {
 public:
  Gsocd() = default;
  ~Gsocd();
  Gsocd(const Gsocd&) = delete;
  Gsocd& operator=(const Gsocd&) = delete;

  // Writes the config, starts gsocd and waits for its ports file. Returns
  // false (with a gtest failure) when it does not come up.
  bool Start(const GsocdConfig& config);
  // Start in two steps: Launch writes the config and starts the process;
  // WaitReady waits for the ports file (false, without a gtest failure,
  // when gsocd exits first or the timeout passes).
  void Launch(const GsocdConfig& config);
  bool WaitReady(std::chrono::milliseconds timeout);
  // Waits for the process to exit; its wait status, or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  void Signal(int signal) { process_.Signal(signal); }
  // /proc/<pid>/status: VmHWM (peak resident set) and VmRSS, in KiB; 0 if gone.
  uint64_t PeakRssKiB() const;
  uint64_t RssKiB() const;
  // The API token gsocd generated in its data dir (var/api-token).
  std::string ApiToken() const;

  uint16_t port(const std::string& listener) const;
  uint16_t metrics_port() const { return port("metrics"); }
  const TempDir& dir() const { return dir_; }
  std::filesystem::path events_path() const { return dir_ / "events.jsonl"; }
  std::filesystem::path config_path() const { return dir_ / "gsoc.yaml"; }
  bool running() { return process_.running() && !process_.Exited(); }
  pid_t pid() const { return process_.pid(); }

  std::string Scrape();
  // The value of a metric (summed over matching series); fails and returns -1 if absent.
  double Metric(const std::string& name, const Labels& labels = {});
  // Polls until the metric equals `expected` (returns true) or timeout (returns false).
  bool WaitMetric(const std::string& name, const Labels& labels, double expected,
                  std::chrono::milliseconds timeout = 10s);
  // Polls until the metric is at least `minimum` (true) or timeout (false).
  bool WaitMetricAtLeast(const std::string& name, const Labels& labels, double minimum,
                         std::chrono::milliseconds timeout = 10s);
  // Polls until the events file has at least n lines; returns the line count.
  size_t WaitEventLines(size_t n, std::chrono::milliseconds timeout = 10s);
  std::vector<JsonEvent> Events();

  // SIGTERM and wait; returns the exit code (-1 if it had to be killed or
  // died of a signal). Checks the stderr for sanitizer reports.
  int Stop(std::chrono::milliseconds timeout = 30s);
  void Kill();
  std::string Stderr() const;

 private:
  TempDir dir_;
  Process process_;
  std::map<std::string, uint16_t> ports_;
  std::string yaml_;  // the config written by Launch
  bool stopped_ = false;
};

}  // namespace gsoc::e2e
