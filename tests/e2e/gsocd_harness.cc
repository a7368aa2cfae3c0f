// The e2e harness: a gsocd under test (config, start, ports, metrics, stop),
// the shipped-pack config and test lines, JSON-lines events. Processes are in
// harness_process.cc, sockets and HTTP in harness_net.cc.
#include "tests/e2e/gsocd_harness.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

namespace gsoc::e2e {

namespace fs = std::filesystem;

std::string ShippedPackConfig(const TempDir& dir, const std::string& extra) {
  const fs::path pack = fs::path(GSOC_SOURCE_DIR) / "rules";
  return "data_dir: " + (dir / "var").string() +
         "\nlisteners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"
         "pipeline: {workers: 1}\n"
         "rules:\n  sigma: [" +
         (pack / "sigma").string() + "]\n  decoders: [" + (pack / "decoders").string() +
         "]\n  logsources: " + (pack / "logsources.yaml").string() + "\n  lists:\n" +
         "    - {name: bad_ips, file: " + (pack / "lists/bad_ips.txt").string() + "}\n" +
         "    - {name: bad_domains, file: " + (pack / "lists/bad_domains.txt").string() + "}\n" +
         "  cache_dir: " + (dir / "hs-cache").string() + "\n" + extra;
}

std::string Rfc3164Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%b %e %H:%M:%S", &tm);
  return text;
}

std::string FailedPasswordLine(int n, const std::string& user) {
  return "<38>" + Rfc3164Now() + " bastion sshd[" + std::to_string(1000 + n % 5000) +
         "]: Failed password for " + user + " from 198.18." + std::to_string(n % 200) + "." +
         std::to_string(n % 250) + " port " + std::to_string(40000 + n % 20000) + " ssh2\n";
}

std::vector<uint64_t> StoredAlertIds(uint16_t port, const std::string& token) {
  std::vector<uint64_t> ids;
  std::string cursor;
  simdjson::dom::parser parser;
  for (int page = 0; page < 100000; ++page) {
    const std::string target = "/api/v1/alerts?order=asc&limit=10000" +
                               (cursor.empty() ? std::string() : "&cursor=" + cursor);
    const HttpResult reply = HttpRequest(port, "GET", target, {"Authorization: Bearer " + token});
    if (reply.status != 200) {
      ADD_FAILURE() << target << ": " << reply.status << " " << reply.body.substr(0, 300);
      return ids;
    }
    simdjson::dom::element root;
    if (parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << reply.body.substr(0, 200);
      return ids;
    }
    for (auto alert : simdjson::dom::array(root["alerts"])) {
      ids.push_back(std::stoull(std::string(std::string_view(alert["id"]))));
    }
    std::string_view next;
    if (root["next_cursor"].get(next) != simdjson::SUCCESS) break;  // null: the end
    cursor = std::string(next);
  }
  return ids;
}

// ---- JSON ---------------------------------------------------------------------------

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

namespace {

std::string ScalarText(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(std::string_view(element.get_string().value()));
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(element.get_int64().value()));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(element.get_uint64().value()));
    case simdjson::dom::element_type::DOUBLE:
      return std::to_string(double(element.get_double().value()));
    case simdjson::dom::element_type::BOOL:
      return element.get_bool().value() ? "true" : "false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      return simdjson::to_string(element);
  }
}

}  // namespace

JsonEvent ParseEventLine(std::string_view line) {
  JsonEvent event;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(line)).get(root) != simdjson::SUCCESS) return event;
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return event;
  for (auto [key, value] : object) {
    simdjson::dom::object fields;
    if (key == "fields" && value.get(fields) == simdjson::SUCCESS) {
      for (auto [field, field_value] : fields) {
        event.values["fields." + std::string(field)] = ScalarText(field_value);
      }
      continue;
    }
    event.values[std::string(key)] = ScalarText(value);
  }
  event.parse_ok = true;
  return event;
}

// ---- gsocd ---------------------------------------------------------------------------

std::string GsocdPath() {
  const char* path = std::getenv("GSOC_E2E_GSOCD");
  return path && *path ? path : GSOCD_PATH;
}

Gsocd::~Gsocd() {
  if (!stopped_ && process_.pid() > 0) {
    EXPECT_EQ(Stop(), 0) << "gsocd stderr:\n" << Stderr();
  }
}

void Gsocd::Launch(const GsocdConfig& config) {
  std::string yaml;
  if (config.yaml.find("data_dir:") == std::string::npos) {
    yaml += "data_dir: " + (dir_ / "var").string() + "\n";
  }
  yaml += "log_level: info\n";
  if (config.events_file) yaml += "events_file: " + events_path().string() + "\n";
  if (config.yaml.find("metrics:") == std::string::npos) {
    yaml += "metrics: {enabled: true, address: 127.0.0.1, port: 0}\n";
  }
  if (config.yaml.find("api:") == std::string::npos) {
    yaml += "api: {port: 0}\n";  // never the default 8080: tests run side by side
  }
  if (config.yaml.find("agencies:") == std::string::npos) {
    yaml += "agencies:\n  - name: local\n    cidrs: [127.0.0.0/8]\n";
  }
  yaml += config.yaml;
  WriteFile(config_path(), yaml);
  yaml_ = yaml;
  std::error_code ignored;
  fs::remove(dir_ / "ports.json", ignored);
  ports_.clear();
  stopped_ = false;

  SpawnOptions options;
  options.cwd = dir_.path();
  options.stdout_file = dir_ / "gsocd.stdout";
  options.stderr_file = dir_ / "gsocd.stderr";
  process_ = Process(
      {GsocdPath(), "-c", config_path().string(), "--ports-file", (dir_ / "ports.json").string()},
      options);
}

bool Gsocd::WaitReady(std::chrono::milliseconds timeout) {
  const fs::path ports_file = dir_ / "ports.json";
  const auto deadline = Clock::now() + timeout;
  while (!fs::exists(ports_file)) {
    if (process_.Exited() || Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  JsonEvent ports = ParseEventLine(ReadFile(ports_file));
  if (!ports.parse_ok) {
    ADD_FAILURE() << "bad ports file: " << ReadFile(ports_file);
    return false;
  }
  for (const auto& [name, value] : ports.values) {
    ports_[name] = static_cast<uint16_t>(std::stoul(value));
  }
  return true;
}

bool Gsocd::Start(const GsocdConfig& config) {
  Launch(config);
  if (WaitReady(Scaled(15s))) return true;
  ADD_FAILURE() << "gsocd did not come up ("
                << (process_.Exited() ? DescribeStatus(*process_.status()) : "timeout")
                << "); config:\n"
                << yaml_ << "\nstderr:\n"
                << Stderr();
  return false;
}

std::optional<int> Gsocd::WaitExit(std::chrono::milliseconds timeout) {
  auto status = process_.Wait(timeout);
  if (status) stopped_ = true;
  return status;
}

uint64_t Gsocd::PeakRssKiB() const { return ProcStatusKiB(process_.pid(), "VmHWM"); }
uint64_t Gsocd::RssKiB() const { return ProcStatusKiB(process_.pid(), "VmRSS"); }

std::string Gsocd::ApiToken() const {
  std::string token = ReadFile(dir_ / "var/api-token");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

uint16_t Gsocd::port(const std::string& listener) const {
  auto it = ports_.find(listener);
  if (it == ports_.end()) {
    ADD_FAILURE() << "no port for " << listener;
    return 0;
  }
  return it->second;
}

std::string Gsocd::Scrape() { return HttpGet(metrics_port(), "/metrics"); }

double Gsocd::Metric(const std::string& name, const Labels& labels) {
  const std::string text = Scrape();
  const auto value = FindMetric(text, name, labels);
  if (!value) {
    std::string wanted;
    for (const auto& [k, v] : labels) wanted += k + "=" + v + " ";
    ADD_FAILURE() << "metric " << name << " {" << wanted << "} not found in:\n" << text;
    return -1;
  }
  return *value;
}

bool Gsocd::WaitMetric(const std::string& name, const Labels& labels, double expected,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const auto value = FindMetric(Scrape(), name, labels);
    if (value && *value == expected) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool Gsocd::WaitMetricAtLeast(const std::string& name, const Labels& labels, double minimum,
                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const auto value = FindMetric(Scrape(), name, labels);
    if (value && *value >= minimum) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

size_t Gsocd::WaitEventLines(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const size_t lines = CountLines(events_path());
    if (lines >= n || Clock::now() > deadline) return lines;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<JsonEvent> Gsocd::Events() {
  std::vector<JsonEvent> events;
  for (const std::string& line : SplitLines(ReadFile(events_path()))) {
    events.push_back(ParseEventLine(line));
    EXPECT_TRUE(events.back().parse_ok) << "events file line is not JSON: " << line;
  }
  return events;
}

int Gsocd::Stop(std::chrono::milliseconds timeout) {
  stopped_ = true;
  const int status = process_.Stop(Scaled(timeout));
  ExpectNoSanitizerReport(Stderr(), "gsocd");
  if (status < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

void Gsocd::Kill() {
  stopped_ = true;
  process_.Signal(SIGKILL);
  process_.Wait(10s);
}

std::string Gsocd::Stderr() const { return ReadFile(dir_ / "gsocd.stderr"); }

}  // namespace gsoc::e2e
