// gsoc-loadgen-sink: a TCP discard sink for measuring gsoc-loadgen alone.
// Listens on --address:--port (0 = any free port; the port is printed on the
// first stdout line), reads and discards; after --connections connections
// have come and gone it prints bytes received and MB/s and exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<uint64_t> g_bytes{0};
std::atomic<int> g_open{0};

void Drain(int fd) {
  std::vector<char> buffer(4 << 20);
  ssize_t n;
  while ((n = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0) g_bytes += static_cast<uint64_t>(n);
  ::close(fd);
  --g_open;
}

int Listen(const std::string& address, uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  socklen_t length = sizeof sin;
  if (fd < 0 || ::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&sin), length) != 0 || ::listen(fd, 1024) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length) != 0) {
    std::perror("gsoc-loadgen-sink: listen");
    return -1;
  }
  port = ntohs(sin.sin_port);
  return fd;
}

int Serve(int listen_fd, unsigned connections) {
  Clock::time_point first{};
  for (unsigned accepted = 0; accepted < connections;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (accepted++ == 0) first = Clock::now();
    ++g_open;
    std::thread(Drain, fd).detach();
  }
  while (g_open > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double seconds = std::chrono::duration<double>(Clock::now() - first).count();
  std::printf("bytes %llu seconds %.3f MB/s %.1f\n",
              static_cast<unsigned long long>(g_bytes.load()), seconds,
              static_cast<double>(g_bytes.load()) / 1e6 / seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  unsigned connections = 1;
  CLI::App app{"gsoc-loadgen-sink: TCP discard sink", "gsoc-loadgen-sink"};
  app.add_option("--address", address, "IPv4 address to listen on")->capture_default_str();
  app.add_option("-p,--port", port, "Port (0 = any)")->capture_default_str();
  app.add_option("-c,--connections", connections, "Exit after this many connections closed")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const int listen_fd = Listen(address, port);
  if (listen_fd < 0) return 1;
  std::printf("port %u\n", port);
  std::fflush(stdout);
  return Serve(listen_fd, connections);
}
