// TLS for the syslog_tls listener: the server context (certificate, client
// CA, CRL, protocol and cipher policy) and one connection's TLS state,
// driven through memory BIOs so the TCP session keeps its own non-blocking
// socket, framing and backpressure.
//
// Policy: TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE and AEAD ciphers only
// (AES-GCM, ChaCha20-Poly1305); no renegotiation, compression, session
// tickets or session cache. With client_ca set, a client certificate is
// required and verified (chain, dates, and the CRL when one is given).
//
// Threading: a TlsServerContext is built on the loading thread and then
// shared read-only; Reload swaps in a new SSL_CTX atomically (connections
// already open keep the one they started with). A TlsConnection belongs to
// its session's strand.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/syslog_tls/tls_config.h"

namespace gsoc {

// Why a handshake ended: gsoc_tls_handshakes_total{result}.
enum class TlsHandshakeResult : uint8_t {
  kOk,
  kNoCertificate,    // client sent none, but one is required
  kExpired,          // client certificate outside its validity period
  kRevoked,          // listed in the CRL
  kUntrusted,        // not signed by client_ca (or a broken chain/signature)
  kUnknownIdentity,  // verified, but its CN/SANs map to no agency
  kTimeout,          // not finished within handshake_timeout
  kProtocolError,    // not TLS, an old version, no shared cipher, ...
  kCount
};
const char* TlsHandshakeResultName(TlsHandshakeResult result);

using SslCtxPtr = std::shared_ptr<SSL_CTX>;

class TlsServerContext {
 public:
  // Throws std::runtime_error naming the file and OpenSSL's reason.
  explicit TlsServerContext(TlsListenerConfig config);

  // Reloads certificate, key, client CA and CRL from the same files. On
  // failure the running context stays and the reason is returned.
  std::string Reload();
  SslCtxPtr current() const {
    std::lock_guard lock(mutex_);
    return ctx_;
  }
  const TlsListenerConfig& config() const { return config_; }

 private:
  static SslCtxPtr Build(const TlsListenerConfig& config);  // throws

  TlsListenerConfig config_;
  mutable std::mutex mutex_;  // guards ctx_ (taken once per accept and per reload)
  SslCtxPtr ctx_;
};

// One server-side TLS connection over memory BIOs.
class TlsConnection {
 public:
  enum class Status : uint8_t {
    kOk,         // progress; `produced` plaintext bytes (may be 0)
    kNeedInput,  // nothing more until more ciphertext arrives
    kClosed,     // the peer sent close_notify
    kFailed,     // handshake or record error: close the connection
  };

  explicit TlsConnection(SslCtxPtr ctx);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Hands ciphertext read from the socket to TLS.
  void Feed(std::string_view ciphertext);
  // Runs the handshake, then decrypts up to `capacity` bytes into `out`.
  Status Read(char* out, size_t capacity, size_t* produced);
  // Bytes TLS wants sent to the peer (handshake, alerts); empties them.
  std::string TakeOutput();

  bool handshake_done() const { return handshake_done_; }
  // Why the handshake failed (valid after Read returned kFailed before the
  // handshake completed).
  TlsHandshakeResult failure() const { return failure_; }
  // The client certificate's subject CN and subjectAltNames (DNS, email,
  // URI, IP), empty when it sent none.
  std::vector<std::string> PeerNames() const;
  std::string_view version() const;
  std::string_view cipher() const;

 private:
  TlsHandshakeResult ClassifyFailure() const;

  SslCtxPtr ctx_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the peer (owned by ssl_)
  BIO* out_ = nullptr;  // ciphertext to the peer (owned by ssl_)
  bool handshake_done_ = false;
  TlsHandshakeResult failure_ = TlsHandshakeResult::kProtocolError;
};

}  // namespace gsoc
