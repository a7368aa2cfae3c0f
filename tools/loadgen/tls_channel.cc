// TLS: OpenSSL's client API over a blocking socket. Framed bytes go out with
// SSL_write_ex() calls of up to kMaxWriteBytes, which OpenSSL cuts into full
// 16 KiB records. Every connection makes a full handshake: the client keeps
// no sessions and asks for no tickets, so --reconnect-every and --handshakes
// measure what a new sender costs the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>

#include <cerrno>
#include <csignal>
#include <ctime>

#include "tools/loadgen/channel.h"
#include "tools/loadgen/socket_fd.h"

namespace gsoc::loadgen {

class TlsClientContext {
 public:
  TlsClientContext(SSL_CTX* ctx, const TlsClientOptions& options)
      : ctx_(ctx, SSL_CTX_free), server_name_(options.server_name), verify_(!options.insecure) {}

  SSL_CTX* get() const { return ctx_.get(); }
  const std::string& server_name() const { return server_name_; }
  bool verify() const { return verify_; }

 private:
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_;
  std::string server_name_;
  bool verify_;
};

namespace {

constexpr size_t kMaxWriteBytes = 256 * 1024;

// "what: OpenSSL's queued errors" (and empties the queue).
std::string OpenSslError(const std::string& what) {
  std::string text = what;
  const char* separator = ": ";
  while (const unsigned long code = ERR_get_error()) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    text += separator;
    text += reason;
    separator = "; ";
  }
  return text;
}

bool IsAddress(const std::string& name) {
  unsigned char bytes[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), bytes) == 1 ||
         inet_pton(AF_INET6, name.c_str(), bytes) == 1;
}

// OpenSSL's socket BIO writes with write(): a peer that has gone away would
// raise SIGPIPE. Blocks it on this thread for the scope and discards one
// raised meanwhile, so the write fails with EPIPE instead.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (sigismember(&old_, SIGPIPE)) return;  // blocked before: not ours to clear
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      const timespec zero{};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
};

bool ApplyVersionAndCiphers(SSL_CTX* ctx, const TlsClientOptions& options, std::string& error) {
  const int min = options.version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  const int max = options.version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, max) != 1) {
    error = OpenSslError("--tls-version");
    return false;
  }
  if (options.ciphers.empty()) return true;
  const bool tls13 = options.ciphers.rfind("TLS_", 0) == 0;
  const int ok = tls13 ? SSL_CTX_set_ciphersuites(ctx, options.ciphers.c_str())
                       : SSL_CTX_set_cipher_list(ctx, options.ciphers.c_str());
  if (ok != 1) {
    error = OpenSslError("--tls-ciphers " + options.ciphers);
    return false;
  }
  return true;
}

bool LoadCredentials(SSL_CTX* ctx, const TlsClientOptions& options, std::string& error) {
  if (!options.insecure) {
    const bool loaded = options.ca.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, options.ca.c_str(), nullptr) == 1;
    if (!loaded) {
      error = OpenSslError("--tls-ca " + (options.ca.empty() ? "(system)" : options.ca));
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (options.certificate.empty()) return true;
  if (SSL_CTX_use_certificate_chain_file(ctx, options.certificate.c_str()) != 1) {
    error = OpenSslError("--tls-cert " + options.certificate);
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    error = OpenSslError("--tls-key " + options.private_key);
    return false;
  }
  return true;
}

class TlsChannel final : public Channel {
 public:
  TlsChannel(const Endpoint& endpoint, std::shared_ptr<TlsClientContext> tls)
      : endpoint_(endpoint), tls_(std::move(tls)) {}
  ~TlsChannel() override { Close(); }
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // socket + connect + handshake (with the server verified).
  bool Connect() {
    fd_ = ConnectSocket(SOCK_STREAM, endpoint_, error_);
    if (fd_.get() < 0) return false;
    // The handshake's flights must not wait for delayed ACKs (Nagle).
    const int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl_ = SSL_new(tls_->get());
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_.get()) != 1 || !SetServerName()) {
      error_ = OpenSslError("TLS setup");
      return false;
    }
    SigpipeBlock no_sigpipe;
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      error_ = HandshakeError();
      return false;
    }
    return true;
  }

  size_t BatchSize(const MessageBuffer& buffer, size_t first, size_t available) const override {
    return buffer.MessagesWithin(first, available, kMaxWriteBytes);
  }

  bool Send(const MessageBuffer& buffer, size_t first, size_t last) override {
    SigpipeBlock no_sigpipe;
    std::string_view bytes = buffer.Frames(first, last);
    while (!bytes.empty()) {
      size_t n = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n) == 1) {
        bytes.remove_prefix(n);
        continue;
      }
      const int error = SSL_get_error(ssl_, 0);
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) continue;
      if (error == SSL_ERROR_SYSCALL && errno == EINTR) continue;
      error_ = error == SSL_ERROR_SYSCALL ? ErrnoText("SSL_write") : OpenSslError("SSL_write");
      return false;
    }
    return true;
  }

  bool Reconnect() override {
    Close();
    return Connect();
  }

 private:
  // SNI and the name the certificate must match (a DNS name or an address).
  bool SetServerName() {
    const std::string& name = tls_->server_name();
    if (name.empty()) return true;
    if (IsAddress(name)) {
      return !tls_->verify() || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    }
    if (SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1) return false;
    return !tls_->verify() || SSL_set1_host(ssl_, name.c_str()) == 1;
  }

  std::string HandshakeError() {
    const long verify = SSL_get_verify_result(ssl_);
    if (tls_->verify() && verify != X509_V_OK) {
      ERR_clear_error();
      return std::string("TLS handshake: server certificate: ") +
             X509_verify_cert_error_string(verify);
    }
    if (ERR_peek_error() == 0) return ErrnoText("TLS handshake");
    return OpenSslError("TLS handshake");
  }

  // close_notify (without waiting for the server's), then the socket.
  void Close() {
    if (ssl_ != nullptr) {
      SigpipeBlock no_sigpipe;
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
      ssl_ = nullptr;
      ERR_clear_error();
    }
    fd_.Reset(-1);
  }

  Endpoint endpoint_;
  std::shared_ptr<TlsClientContext> tls_;
  SocketFd fd_;
  SSL* ssl_ = nullptr;
};

}  // namespace

std::shared_ptr<TlsClientContext> MakeTlsClientContext(const TlsClientOptions& options,
                                                       std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = OpenSslError("SSL_CTX_new");
    return nullptr;
  }
  auto context = std::make_shared<TlsClientContext>(ctx, options);
  // Full handshakes only: no session reuse, no tickets.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (!ApplyVersionAndCiphers(ctx, options, error) || !LoadCredentials(ctx, options, error)) {
    return nullptr;
  }
  return context;
}

std::unique_ptr<Channel> OpenTlsChannel(const Endpoint& endpoint,
                                        std::shared_ptr<TlsClientContext> tls, std::string& error) {
  auto channel = std::make_unique<TlsChannel>(endpoint, std::move(tls));
  if (!channel->Connect()) {
    error = channel->error();
    return nullptr;
  }
  return channel;
}

}  // namespace gsoc::loadgen
