// A real Prometheus (Debian's prometheus) scrapes a gsocd fed by the test,
// with deploy/prometheus/gsoc-alerts.yml loaded; its query API then gives
// the ingest rate and the alert counts that gsocd itself reports.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

const std::filesystem::path kDeploy = std::filesystem::path(GSOC_SOURCE_DIR) / "deploy";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

// Percent-encodes a PromQL expression for a query string.
std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// The value of an instant query's first sample, or nullopt (no data yet).
std::optional<double> Query(uint16_t port, const std::string& expr) {
  const HttpResult reply = HttpRequest(port, "GET", "/api/v1/query?query=" + UrlEncode(expr));
  if (reply.status != 200) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(reply.body).get(doc)) return std::nullopt;
  simdjson::dom::array result;
  if (doc["data"]["result"].get_array().get(result) || result.size() == 0) return std::nullopt;
  std::string_view value;
  if (result.at(0)["value"].at(1).get_string().get(value)) return std::nullopt;
  return std::stod(std::string(value));
}

// Polls the query until `accept` holds for its value.
std::optional<double> WaitQuery(uint16_t port, const std::string& expr,
                                const std::function<bool(double)>& accept,
                                std::chrono::milliseconds timeout) {
  std::optional<double> last;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    last = Query(port, expr);
    if (last && accept(*last)) return last;
    std::this_thread::sleep_for(250ms);
  }
  return last;
}

TEST(DeployPrometheus, ScrapesGsocdAndAnswersWithItsValues) {
  ASSERT_TRUE(std::filesystem::exists(kPrometheus)) << "prometheus (Debian package) missing";
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({ShippedPackConfig(gsocd.dir())}));

  TempDir prom_dir;
  std::filesystem::copy_file(kDeploy / "prometheus" / "gsoc-alerts.yml",
                             prom_dir / "gsoc-alerts.yml");
  const uint16_t prom_port = FreePort();
  WriteFile(prom_dir / "prometheus.yml",
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [gsoc-alerts.yml]\n"
            "scrape_configs:\n"
            "  - job_name: gsoc\n"
            "    static_configs: [{targets: ['127.0.0.1:" +
                std::to_string(gsocd.metrics_port()) + "']}]\n");
  Process prometheus(
      {kPrometheus, "--config.file=" + (prom_dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (prom_dir / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      SpawnOptions{prom_dir.path(), {}, prom_dir / "prometheus.log", {}});
  ASSERT_TRUE(WaitTcpListening(prom_port, 30s)) << ReadFile(prom_dir / "prometheus.log");

  // The alerting rules loaded and evaluate without error.
  ASSERT_TRUE(WaitQuery(
      prom_port, "up{job=\"gsoc\"}", [](double v) { return v == 1; }, 30s));
  const HttpResult rules = HttpRequest(prom_port, "GET", "/api/v1/rules");
  EXPECT_EQ(rules.status, 200);
  EXPECT_NE(rules.body.find("GsocIngestStopped"), std::string::npos) << rules.body;
  EXPECT_EQ(rules.body.find("\"health\":\"err\""), std::string::npos) << rules.body;

  // A steady 400 lines/s for 8 s, one of every 4 a failed SSH login.
  constexpr int kRate = 400, kSeconds = 8;
  {
    Fd fd(ConnectTcp(gsocd.port("tcp")));
    for (int second = 0; second < kSeconds; ++second) {
      const auto start = Clock::now();
      std::string burst;
      for (int i = 0; i < kRate; ++i) {
        const int n = second * kRate + i;
        if (n % 4 == 0) {
          burst += "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for user" +
                   std::to_string(n % 50) + " from 198.51.100." + std::to_string(n % 200) +
                   " port 52144 ssh2\n";
        } else {
          burst += "<13>Nov 25 10:00:01 web app: request " + std::to_string(n) + " served\n";
        }
      }
      ASSERT_TRUE(SendAll(fd.get(), burst));
      std::this_thread::sleep_until(start + 1s);
    }
  }
  const double sent = kRate * kSeconds;
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, sent, 30s));

  // Prometheus's view equals gsocd's own once it scraped after the last event.
  const double received = gsocd.Metric("gsoc_events_received_total");
  const double alerts = gsocd.Metric("gsoc_alerts_total");
  EXPECT_EQ(received, sent);
  EXPECT_GT(alerts, 0);
  const auto prom_received = WaitQuery(
      prom_port, "sum(gsoc_events_received_total{job=\"gsoc\"})",
      [&](double v) { return v == received; }, 20s);
  const auto prom_alerts = WaitQuery(
      prom_port, "sum(gsoc_alerts_total{job=\"gsoc\"})", [&](double v) { return v == alerts; },
      20s);
  EXPECT_EQ(prom_received, received);
  EXPECT_EQ(prom_alerts, alerts);
  // The ingest rate over the sending period: 3,200 events in about 8 s.
  const auto rate = Query(prom_port, "sum(increase(gsoc_events_received_total{job=\"gsoc\"}[1m]))");
  ASSERT_TRUE(rate.has_value());
  EXPECT_GE(*rate, sent * 0.9) << "increase over the last minute";
  const auto per_second = Query(
      prom_port, "max_over_time(sum(rate(gsoc_events_received_total{job=\"gsoc\"}[3s]))[30s:1s])");
  ASSERT_TRUE(per_second.has_value());
  EXPECT_GT(*per_second, kRate * 0.5);
  EXPECT_LT(*per_second, kRate * 2.0);
  std::printf(
      "[deploy] prometheus: received %.0f (gsocd %.0f), alerts %.0f (gsocd %.0f), "
      "peak rate %.0f/s (sent %d/s)\n",
      prom_received.value_or(-1), received, prom_alerts.value_or(-1), alerts, *per_second, kRate);
  prometheus.Stop(10s);
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
