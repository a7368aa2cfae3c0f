// gsoc_bench_stream_latency: latency from an event's arrival at gsocd to an
// SSE client of the alert stream, at a steady alert rate.
//
//   gsoc_bench_stream_latency --tcp PORT --api PORT --token TOKEN
//                             [--rate ALERTS_PER_S (10000)] [--seconds N (10)]
//                             [--first-source N (0)] [--spikes MS]
//
// A sender thread writes RFC 5424 sshd "Failed password for root" lines over
// one TCP connection (each line fires two shipped rules: two alerts), paced
// in 1 ms slices; line k carries "port k" and its send time is recorded. The
// main thread follows GET /api/v1/alerts/stream; for each alert it reads k
// back from the raw line of the contributing event and records now minus the
// send time of line k. Loopback, one machine: send time = arrival time.
// Prints p50, p90, p99 and max in milliseconds and the alerts received.
// Line k comes from source address number first-source + k: gsocd
// aggregates repeated hits of one rule and source into one alert, so each
// run against the same gsocd starts where the previous one ended.
// --spikes MS also prints, to stderr, each 100 ms slice of send time whose
// slowest alert took more than MS: when the stalls happen, to set beside
// gsocd's periodic work (aggregate ticks, memtable flushes, checkpoints).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int tcp_port = 0;
  int api_port = 0;
  std::string token;
  int rate = 10000;  // alerts per second
  int seconds = 10;
  size_t first_source = 0;  // source address number of line 0
  double spikes_ms = 0;     // > 0: print the slices slower than this
};

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("connect");
    std::exit(2);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string Rfc3339Now() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  const std::time_t seconds = us.count() / 1'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%06lldZ",
                static_cast<long long>(us.count() % 1'000'000));
  return text;
}

// Sends rate/2 lines a second (two alerts each) for `seconds`.
void Send(const Options& options, std::vector<Clock::time_point>& sent_at,
          std::atomic<size_t>& lines_sent) {
  const int fd = Connect(options.tcp_port);
  const double lines_per_ms = options.rate / 2.0 / 1000.0;
  const size_t total = static_cast<size_t>(options.rate / 2) * options.seconds;
  const auto start = Clock::now();
  size_t line = 0;
  while (line < total) {
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    const size_t due = std::min(total, static_cast<size_t>(elapsed_ms * lines_per_ms) + 1);
    std::string text;
    const std::string stamp = Rfc3339Now();
    for (; line < due; ++line) {
      // A different source per line: no correlation fires and adds alerts.
      const size_t source = options.first_source + line;
      text += "<38>1 " + stamp + " bastion sshd 812 - - Failed password for root from 10." +
              std::to_string(source / 65536 % 256) + "." + std::to_string(source / 256 % 256) +
              "." + std::to_string(source % 256) + " port " + std::to_string(line) + " ssh2\n";
      sent_at[line] = Clock::now();
    }
    if (!text.empty() && !SendAll(fd, text)) break;
    lines_sent.store(line);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::close(fd);
}

// Reads the SSE stream: once the response head has arrived (the client is
// subscribed) calls on_connected, then on_data for each event's data line,
// until on_data returns false or the deadline passes.
template <typename OnConnected, typename OnData>
void FollowStream(const Options& options, Clock::time_point deadline, OnConnected on_connected,
                  OnData on_data) {
  const int fd = Connect(options.api_port);
  const std::string request =
      "GET /api/v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      options.token + "\r\n\r\n";
  SendAll(fd, request);
  timeval tv{0, 100 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string pending;
  bool connected = false;
  char buffer[65536];
  while (Clock::now() < deadline) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) continue;
    pending.append(buffer, static_cast<size_t>(n));
    if (!connected) {
      const size_t head_end = pending.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      if (pending.compare(0, 12, "HTTP/1.1 200") != 0) {
        std::fprintf(stderr, "stream refused: %s\n", pending.substr(0, head_end).c_str());
        std::exit(1);
      }
      pending.erase(0, head_end + 4);
      connected = true;
      on_connected();
    }
    size_t start = 0, end;
    while ((end = pending.find('\n', start)) != std::string::npos) {
      const std::string_view line(pending.data() + start, end - start);
      start = end + 1;
      if (line.substr(0, 5) == "data:" && !on_data(line)) {
        ::close(fd);
        return;
      }
    }
    pending.erase(0, start);
  }
  ::close(fd);
}

bool ParseOptions(int argc, char** argv, Options* options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--tcp")
      options->tcp_port = std::atoi(value);
    else if (name == "--api")
      options->api_port = std::atoi(value);
    else if (name == "--token")
      options->token = value;
    else if (name == "--rate")
      options->rate = std::atoi(value);
    else if (name == "--seconds")
      options->seconds = std::atoi(value);
    else if (name == "--spikes")
      options->spikes_ms = std::atof(value);
    else if (name == "--first-source")
      options->first_source = std::strtoull(value, nullptr, 10);
    else
      return false;
  }
  return options->tcp_port > 0 && options->api_port > 0 && !options->token.empty() &&
         options->rate >= 2 && options->seconds > 0;
}

// Prints each 100 ms slice of send time whose slowest alert exceeded the
// threshold: its start, its slowest alert and how many alerts were late.
void PrintSpikes(const std::vector<Clock::time_point>& sent_at,
                 const std::vector<double>& slowest_by_line, double threshold_ms) {
  if (sent_at.empty()) return;
  const Clock::time_point start = sent_at.front();
  std::vector<std::pair<double, size_t>> slices;  // slowest, alerts over the threshold
  for (size_t line = 0; line < sent_at.size(); ++line) {
    const auto slice = static_cast<size_t>(
        std::chrono::duration<double, std::milli>(sent_at[line] - start).count() / 100);
    if (slice >= slices.size()) slices.resize(slice + 1);
    slices[slice].first = std::max(slices[slice].first, slowest_by_line[line]);
    if (slowest_by_line[line] > threshold_ms) ++slices[slice].second;
  }
  for (size_t slice = 0; slice < slices.size(); ++slice) {
    if (slices[slice].first <= threshold_ms) continue;
    std::fprintf(stderr, "spike at %.1f s: slowest %.2f ms, %zu lines over %.1f ms\n",
                 static_cast<double>(slice) / 10, slices[slice].first, slices[slice].second,
                 threshold_ms);
  }
}

double Percentile(std::vector<double>& values, double p) {
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: %s --tcp PORT --api PORT --token TOKEN [--rate N] [--seconds N] "
                 "[--first-source N] [--spikes MS]\n",
                 argv[0]);
    return 2;
  }
  const size_t total_lines = static_cast<size_t>(options.rate / 2) * options.seconds;
  std::vector<Clock::time_point> sent_at(total_lines);
  std::vector<double> latencies_ms;
  latencies_ms.reserve(total_lines * 2);
  std::vector<double> slowest_by_line(total_lines, 0.0);
  std::atomic<size_t> lines_sent{0};
  std::thread sender;
  const auto deadline = Clock::now() + std::chrono::seconds(options.seconds + 15);
  FollowStream(
      options, deadline, [&] { sender = std::thread([&] { Send(options, sent_at, lines_sent); }); },
      [&](std::string_view data) {
        const size_t at = data.find(" port ");
        if (at == std::string_view::npos) return true;
        const size_t line =
            std::strtoull(std::string(data.substr(at + 6, 20)).c_str(), nullptr, 10);
        if (line < total_lines) {
          const double ms =
              std::chrono::duration<double, std::milli>(Clock::now() - sent_at[line]).count();
          latencies_ms.push_back(ms);
          slowest_by_line[line] = std::max(slowest_by_line[line], ms);
        }
        return latencies_ms.size() < total_lines * 2;
      });
  if (sender.joinable()) sender.join();
  if (latencies_ms.empty()) {
    std::fprintf(stderr, "no alert arrived\n");
    return 1;
  }
  if (options.spikes_ms > 0) PrintSpikes(sent_at, slowest_by_line, options.spikes_ms);
  const double p50 = Percentile(latencies_ms, 0.50);
  const double p90 = Percentile(latencies_ms, 0.90);
  const double p99 = Percentile(latencies_ms, 0.99);
  const double max = *std::max_element(latencies_ms.begin(), latencies_ms.end());
  std::printf(
      "rate %d alerts/s for %d s: %zu of %zu alerts streamed; latency ms p50 %.2f "
      "p90 %.2f p99 %.2f max %.2f\n",
      options.rate, options.seconds, latencies_ms.size(), total_lines * 2, p50, p90, p99, max);
  return latencies_ms.size() == total_lines * 2 ? 0 : 1;
}
