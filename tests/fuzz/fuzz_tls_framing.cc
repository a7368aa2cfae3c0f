// Fuzzes the syslog_tls listener's path after decryption: a real TLS client
// (OpenSSL over memory BIOs) sends the input to TlsConnection, in records
// whose sizes come from the data, and the plaintext goes through the
// stream framer and the syslog parser as a session drives them. Checks: TLS
// hands on exactly the bytes sent, in any read size; frames fit the limit;
// a corrupted record (when the first byte asks for it) fails the connection
// cleanly instead of producing plaintext.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collectors/framing/stream_framer.h"
#include "collectors/syslog/syslog_parser.h"
#include "collectors/syslog_tls/tls_context.h"
#include "engine/event/event_batch.h"

namespace {

constexpr size_t kMaxMessage = 256;

void Check(bool ok) {
  if (!ok) std::abort();
}

// A server context with a fresh self-signed P-256 certificate.
gsoc::SslCtxPtr ServerContext() {
  static gsoc::SslCtxPtr ctx = [] {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    gsoc::SslCtxPtr server(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    SSL_CTX_set_min_proto_version(server.get(), TLS1_2_VERSION);
    SSL_CTX_use_certificate(server.get(), cert);
    SSL_CTX_use_PrivateKey(server.get(), key);
    X509_free(cert);
    EVP_PKEY_free(key);
    return server;
  }();
  return ctx;
}

SSL_CTX* ClientContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* client = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(client, SSL_VERIFY_NONE, nullptr);
    return client;
  }();
  return ctx;
}

// Moves what one side wrote to the other's input BIO.
std::string Drain(BIO* bio) {
  std::string bytes(BIO_ctrl_pending(bio), '\0');
  if (!bytes.empty()) BIO_read(bio, bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool corrupt = data[0] & 1;
  const size_t read_cap = 1 + data[1] % 64;  // the plaintext buffer a read may fill
  const std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);

  gsoc::TlsConnection server(ServerContext());
  SSL* client = SSL_new(ClientContext());
  BIO* client_in = BIO_new(BIO_s_mem());
  BIO* client_out = BIO_new(BIO_s_mem());
  SSL_set_bio(client, client_in, client_out);
  SSL_set_connect_state(client);

  char plain[64];
  size_t produced = 0;
  for (int round = 0; round < 10 && !server.handshake_done(); ++round) {
    SSL_do_handshake(client);
    server.Feed(Drain(client_out));
    Check(server.Read(plain, sizeof plain, &produced) != gsoc::TlsConnection::Status::kFailed);
    const std::string reply = server.TakeOutput();
    BIO_write(client_in, reply.data(), static_cast<int>(reply.size()));
  }
  SSL_do_handshake(client);
  Check(server.handshake_done());

  // The client sends the payload in records of sizes from the payload.
  std::string received;
  bool failed = false;
  size_t offset = 0;
  while (offset < payload.size() && !failed) {
    const size_t n =
        std::min<size_t>(payload.size() - offset, 1 + static_cast<uint8_t>(payload[offset]) % 200);
    size_t written = 0;
    Check(SSL_write_ex(client, payload.data() + offset, n, &written) == 1 && written == n);
    offset += n;
    std::string record = Drain(client_out);
    if (corrupt && !record.empty()) record[record.size() / 2] ^= 0x5a;
    server.Feed(record);
    for (;;) {
      const auto status = server.Read(plain, read_cap, &produced);
      if (status == gsoc::TlsConnection::Status::kFailed) {
        failed = true;
        break;
      }
      received.append(plain, produced);
      if (produced == 0) break;
    }
  }
  SSL_free(client);
  if (corrupt && !payload.empty()) {
    Check(failed);  // AEAD: a flipped byte never decrypts
    return 0;
  }
  Check(received == payload);

  // The plaintext is framed and parsed as the TCP session does it.
  gsoc::StreamFramer framer(gsoc::FramingMode::kSyslog, kMaxMessage);
  gsoc::EventBatch batch;
  gsoc::SyslogParseContext context;
  const gsoc::FeedResult result = framer.Feed(
      received,
      [&](std::string_view frame) {
        Check(!frame.empty() && frame.size() <= kMaxMessage);
        gsoc::Event& event = batch.AddEvent();
        gsoc::ParseSyslog(batch.arena().CopyPadded(frame), context, event, batch, nullptr);
      },
      [] {});
  Check(result.consumed <= received.size());
  return 0;
}
