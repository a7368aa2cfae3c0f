#include "collectors/syslog_tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace gsoc {
namespace {

// TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string OpenSslError() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

[[noreturn]] void Fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(file.string() + ": " + what + ": " + OpenSslError());
}

// Adds every CRL in a PEM file to the store; returns how many.
int LoadCrls(X509_STORE* store, const std::filesystem::path& file) {
  FILE* in = std::fopen(file.c_str(), "r");
  if (in == nullptr) Fail(file, "cannot open the CRL");
  int count = 0;
  while (X509_CRL* crl = PEM_read_X509_CRL(in, nullptr, nullptr, nullptr)) {
    const int added = X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);
    if (added != 1) {
      std::fclose(in);
      Fail(file, "cannot add the CRL");
    }
    ++count;
  }
  std::fclose(in);
  ERR_clear_error();  // the end of the file reads as a PEM error
  if (count == 0) throw std::runtime_error(file.string() + ": no PEM X509 CRL in the file");
  return count;
}

void AddName(std::vector<std::string>& names, const unsigned char* data, int length) {
  if (data == nullptr || length <= 0 || length > 1024) return;
  names.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
}

}  // namespace

const char* TlsHandshakeResultName(TlsHandshakeResult result) {
  switch (result) {
    case TlsHandshakeResult::kOk:
      return "ok";
    case TlsHandshakeResult::kNoCertificate:
      return "no_certificate";
    case TlsHandshakeResult::kExpired:
      return "expired";
    case TlsHandshakeResult::kRevoked:
      return "revoked";
    case TlsHandshakeResult::kUntrusted:
      return "untrusted";
    case TlsHandshakeResult::kUnknownIdentity:
      return "unknown_identity";
    case TlsHandshakeResult::kTimeout:
      return "timeout";
    case TlsHandshakeResult::kProtocolError:
    case TlsHandshakeResult::kCount:
      break;
  }
  return "protocol_error";
}

TlsServerContext::TlsServerContext(TlsListenerConfig config)
    : config_(std::move(config)), ctx_(Build(config_)) {}

std::string TlsServerContext::Reload() {
  try {
    SslCtxPtr fresh = Build(config_);
    std::lock_guard lock(mutex_);
    ctx_ = std::move(fresh);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

SslCtxPtr TlsServerContext::Build(const TlsListenerConfig& config) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + OpenSslError());
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) {
    throw std::runtime_error("cipher list: " + OpenSslError());
  }
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);  // idle connections hold no record buffers
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(c, config.certificate.c_str()) != 1) {
    Fail(config.certificate, "cannot load the certificate");
  }
  if (SSL_CTX_use_PrivateKey_file(c, config.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    Fail(config.private_key, "cannot load the private key");
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    Fail(config.private_key, "the private key does not match the certificate");
  }
  if (config.requires_client_certificate()) {
    if (SSL_CTX_load_verify_locations(c, config.client_ca.c_str(), nullptr) != 1) {
      Fail(config.client_ca, "cannot load the client CA");
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca.c_str());
    if (names == nullptr) Fail(config.client_ca, "no CA certificate in the file");
    SSL_CTX_set_client_CA_list(c, names);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(c, 8);
    if (!config.crl.empty()) {
      X509_STORE* store = SSL_CTX_get_cert_store(c);
      LoadCrls(store, config.crl);
      X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
  }
  return ctx;
}

TlsConnection::TlsConnection(SslCtxPtr ctx) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_.get());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in_, -1);  // empty means "want more", not EOF
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_accept_state(ssl_);
}

TlsConnection::~TlsConnection() { SSL_free(ssl_); }

void TlsConnection::Feed(std::string_view ciphertext) {
  if (!ciphertext.empty()) BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
}

TlsConnection::Status TlsConnection::Read(char* out, size_t capacity, size_t* produced) {
  *produced = 0;
  if (!handshake_done_) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      const int error = SSL_get_error(ssl_, rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Status::kNeedInput;
      failure_ = ClassifyFailure();
      ERR_clear_error();
      return Status::kFailed;
    }
    handshake_done_ = true;
  }
  while (*produced < capacity) {
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_, out + *produced, capacity - *produced, &n) == 1) {
      *produced += n;
      continue;
    }
    const int error = SSL_get_error(ssl_, 0);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) return *produced > 0 ? Status::kOk : Status::kClosed;
    ERR_clear_error();
    return *produced > 0 ? Status::kOk : Status::kFailed;
  }
  return Status::kOk;
}

std::string TlsConnection::TakeOutput() {
  std::string bytes;
  const size_t pending = BIO_ctrl_pending(out_);
  if (pending == 0) return bytes;
  bytes.resize(pending);
  const int n = BIO_read(out_, bytes.data(), static_cast<int>(pending));
  bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return bytes;
}

TlsHandshakeResult TlsConnection::ClassifyFailure() const {
  switch (SSL_get_verify_result(ssl_)) {
    case X509_V_OK:
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return TlsHandshakeResult::kExpired;
    case X509_V_ERR_CERT_REVOKED:
      return TlsHandshakeResult::kRevoked;
    default:
      return TlsHandshakeResult::kUntrusted;
  }
  const unsigned long code = ERR_peek_error();
  if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
      (ERR_GET_REASON(code) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
       ERR_GET_REASON(code) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)) {
    return TlsHandshakeResult::kNoCertificate;
  }
  return TlsHandshakeResult::kProtocolError;
}

std::vector<std::string> TlsConnection::PeerNames() const {
  std::vector<std::string> names;
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return names;
  const X509_NAME* subject = X509_get_subject_name(peer);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    AddName(names, ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
  }
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) {
      const ASN1_IA5STRING* text = name->d.ia5;
      AddName(names, ASN1_STRING_get0_data(text), ASN1_STRING_length(text));
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

std::string_view TlsConnection::version() const { return SSL_get_version(ssl_); }
std::string_view TlsConnection::cipher() const { return SSL_get_cipher_name(ssl_); }

}  // namespace gsoc
