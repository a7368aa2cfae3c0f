// Test sinks on 127.0.0.1 port 0: a TCP sink that accepts any number of
// connections and counts bytes and frames (octet-counted or LF), optionally
// behind TLS (OpenSSL's server, blocking), and a UDP sink that counts
// datagrams. Both run on their own threads until Stop().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct ssl_ctx_st;

namespace gsoc::loadgen::testing {

// The sink's TLS server: certificate and key; client_ca requires and
// verifies client certificates.
struct TlsSinkConfig {
  std::string certificate;
  std::string private_key;
  std::string client_ca;
};

// What a TLS connection negotiated (handshakes that completed).
struct TlsSession {
  std::string version;
  std::string cipher;
  std::string peer_cn;  // client certificate subject CN, empty without one
};

class TcpSink {
 public:
  // keep_frames: store every frame for kept_frames() (small tests only).
  explicit TcpSink(bool octet_framing, bool keep_frames = false,
                   const TlsSinkConfig* tls = nullptr);
  ~TcpSink();

  uint16_t port() const { return port_; }
  uint64_t frames() const { return frames_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  uint64_t framing_errors() const { return framing_errors_.load(); }
  uint64_t connections() const { return connections_.load(); }
  uint64_t tls_failures() const { return tls_failures_.load(); }  // handshakes that failed
  std::vector<TlsSession> tls_sessions() const;
  // Waits until `frames` frames arrived and all connections closed, or timeout.
  bool WaitFor(uint64_t frames, double timeout_s) const;
  // Frames received, when keep_frames was set.
  std::vector<std::string> kept_frames() const;
  void Stop();

 private:
  void AcceptLoop();
  void ReadLoop(int fd);
  // Reads into `buffer` from the socket or TLS; <= 0 at the end.
  long Receive(int fd, void* ssl, std::vector<char>& buffer);
  void* AcceptTls(int fd);  // SSL*, null when the handshake failed
  void CountFrames(std::string& pending);

  bool octet_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> frames_{0}, bytes_{0}, framing_errors_{0}, connections_{0}, open_{0};
  std::atomic<uint64_t> tls_failures_{0};
  const bool keep_frames_;
  ssl_ctx_st* tls_ = nullptr;  // SSL_CTX when serving TLS
  mutable std::mutex mutex_;
  std::vector<std::string> kept_;
  std::vector<TlsSession> sessions_;
  std::thread acceptor_;
  std::vector<std::thread> readers_;
};

class UdpSink {
 public:
  UdpSink();
  ~UdpSink();

  uint16_t port() const { return port_; }
  uint64_t datagrams() const { return datagrams_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  bool WaitFor(uint64_t datagrams, double timeout_s) const;
  void Stop();

 private:
  void ReadLoop();

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> datagrams_{0}, bytes_{0};
  std::thread reader_;
};

}  // namespace gsoc::loadgen::testing
