#include "tests/tools/loadgen/test_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace gsoc::loadgen::testing {
namespace {

int BoundSocket(int type, uint16_t& port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 20) > 0;
}

template <typename Predicate>
bool WaitUntil(Predicate done, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Per-connection frame parser (octet counting or LF), no copies unless kept.
struct FrameParser {
  bool octet = true;
  bool keep = false;
  bool in_length = true;
  uint64_t length = 0;
  int digits = 0;
  uint64_t remaining = 0;
  uint64_t frames = 0;
  uint64_t errors = 0;
  std::string current;
  std::vector<std::string> kept;

  void EndFrame() {
    ++frames;
    if (keep) kept.push_back(std::move(current));
    current.clear();
  }

  void FeedLf(const char* p, const char* end) {
    while (p < end) {
      const char* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (keep) current.append(p, lf ? lf : end);
      if (!lf) return;
      EndFrame();
      p = lf + 1;
    }
  }

  void FeedOctet(const char* p, const char* end) {
    while (p < end) {
      if (in_length) {
        const char c = *p++;
        if (c >= '0' && c <= '9' && digits < 10) {
          length = length * 10 + static_cast<uint64_t>(c - '0');
          ++digits;
        } else if (c == ' ' && digits > 0 && length > 0) {
          in_length = false;
          remaining = length;
        } else {
          ++errors;
          length = 0;
          digits = 0;
        }
        continue;
      }
      const size_t take = std::min<uint64_t>(remaining, static_cast<uint64_t>(end - p));
      if (keep) current.append(p, take);
      p += take;
      remaining -= take;
      if (remaining == 0) {
        EndFrame();
        in_length = true;
        length = 0;
        digits = 0;
      }
    }
  }
};

SSL_CTX* ServerContext(const TlsSinkConfig& config) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_num_tickets(ctx, 0);
  const bool ok =
      SSL_CTX_use_certificate_chain_file(ctx, config.certificate.c_str()) == 1 &&
      SSL_CTX_use_PrivateKey_file(ctx, config.private_key.c_str(), SSL_FILETYPE_PEM) == 1 &&
      (config.client_ca.empty() ||
       SSL_CTX_load_verify_locations(ctx, config.client_ca.c_str(), nullptr) == 1);
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  if (!config.client_ca.empty()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

std::string PeerCommonName(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return {};
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof name);
  return name;
}

}  // namespace

TcpSink::TcpSink(bool octet_framing, bool keep_frames, const TlsSinkConfig* tls)
    : octet_(octet_framing), keep_frames_(keep_frames) {
  if (tls != nullptr) {
    tls_ = ServerContext(*tls);
    if (tls_ == nullptr) return;  // no listener: the test's connect fails
  }
  listen_fd_ = BoundSocket(SOCK_STREAM, port_);
  if (listen_fd_ >= 0 && ::listen(listen_fd_, 128) == 0) {
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
}

TcpSink::~TcpSink() {
  Stop();
  SSL_CTX_free(tls_);
}

void TcpSink::Stop() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& reader : readers_) reader.join();
  readers_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void TcpSink::AcceptLoop() {
  while (!stopping_) {
    if (!Readable(listen_fd_)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    ++open_;
    readers_.emplace_back([this, fd] { ReadLoop(fd); });
  }
}

void* TcpSink::AcceptTls(int fd) {
  SSL* ssl = SSL_new(tls_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    ++tls_failures_;
    return nullptr;
  }
  std::lock_guard lock(mutex_);
  sessions_.push_back(
      TlsSession{SSL_get_version(ssl), SSL_get_cipher_name(ssl), PeerCommonName(ssl)});
  return ssl;
}

long TcpSink::Receive(int fd, void* ssl, std::vector<char>& buffer) {
  if (ssl == nullptr) return ::recv(fd, buffer.data(), buffer.size(), 0);
  const int n = SSL_read(static_cast<SSL*>(ssl), buffer.data(), static_cast<int>(buffer.size()));
  if (n <= 0) ERR_clear_error();
  return n;
}

void TcpSink::ReadLoop(int fd) {
  FrameParser parser;
  parser.octet = octet_;
  parser.keep = keep_frames_;
  std::vector<char> buffer(1 << 20);
  SSL* ssl = tls_ != nullptr ? static_cast<SSL*>(AcceptTls(fd)) : nullptr;
  while (!stopping_ && (tls_ == nullptr || ssl != nullptr)) {
    if ((ssl == nullptr || SSL_pending(ssl) == 0) && !Readable(fd)) continue;
    const long n = Receive(fd, ssl, buffer);
    if (n <= 0) break;
    const uint64_t before = parser.frames;
    if (octet_) {
      parser.FeedOctet(buffer.data(), buffer.data() + n);
    } else {
      parser.FeedLf(buffer.data(), buffer.data() + n);
    }
    bytes_ += static_cast<uint64_t>(n);
    frames_ += parser.frames - before;
  }
  framing_errors_ += parser.errors + (parser.in_length && parser.digits == 0 ? 0 : 1);
  if (keep_frames_) {
    std::lock_guard lock(mutex_);
    for (std::string& frame : parser.kept) kept_.push_back(std::move(frame));
  }
  SSL_free(ssl);
  ::close(fd);
  --open_;
}

bool TcpSink::WaitFor(uint64_t frames, double timeout_s) const {
  return WaitUntil([&] { return frames_ >= frames && connections_ > 0 && open_ == 0; }, timeout_s);
}

std::vector<TlsSession> TcpSink::tls_sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_;
}

std::vector<std::string> TcpSink::kept_frames() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

UdpSink::UdpSink() {
  fd_ = BoundSocket(SOCK_DGRAM, port_);
  const int size = 8 << 20;
  if (fd_ >= 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    reader_ = std::thread([this] { ReadLoop(); });
  }
}

UdpSink::~UdpSink() { Stop(); }

void UdpSink::Stop() {
  stopping_ = true;
  if (reader_.joinable()) reader_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UdpSink::ReadLoop() {
  constexpr size_t kBatch = 64;
  std::vector<char> storage(kBatch * 65536);
  std::vector<iovec> iovecs(kBatch);
  std::vector<mmsghdr> headers(kBatch);
  while (!stopping_) {
    if (!Readable(fd_)) continue;
    for (size_t i = 0; i < kBatch; ++i) {
      iovecs[i] = iovec{storage.data() + i * 65536, 65536};
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd_, headers.data(), kBatch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < n; ++i) bytes_ += headers[i].msg_len;
    if (n > 0) datagrams_ += static_cast<uint64_t>(n);
  }
}

bool UdpSink::WaitFor(uint64_t datagrams, double timeout_s) const {
  return WaitUntil([&] { return datagrams_ >= datagrams; }, timeout_s);
}

}  // namespace gsoc::loadgen::testing
