#include "collectors/syslog_tcp/tcp_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <stdexcept>

#include "collectors/syslog_tcp/tcp_session.h"
#include "engine/metrics/metrics_server.h"

namespace gsoc {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

PeerAddress ToPeer(const tcp::endpoint& endpoint) {
  PeerAddress peer;
  const asio::ip::address address = endpoint.address();
  if (address.is_v4()) {
    peer = PeerAddress::FromV4(address.to_v4().to_uint(), endpoint.port());
  } else {
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) {
      peer = PeerAddress::FromV4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint(),
                                 endpoint.port());
    } else {
      const auto bytes = v6.to_bytes();
      std::copy(bytes.begin(), bytes.end(), peer.bytes.begin());
      peer.port = endpoint.port();
    }
  }
  return peer;
}

}  // namespace

TcpListener::TcpListener(asio::io_context& io, ListenerContext context, FramingMode mode)
    : io_(io),
      context_(std::move(context)),
      mode_(mode),
      acceptor_(asio::make_strand(io)),
      retry_timer_(acceptor_.get_executor()),
      limits_(context_.config.max_connections, context_.config.max_connections_per_peer,
              context_.config.max_connections_per_agency) {
  if (const TlsListenerConfig* tls = TlsOptions(context_.config)) {
    tls_ = std::make_unique<TlsServerContext>(*tls);  // throws: cannot start
  }
}

TcpListener::~TcpListener() = default;

void TcpListener::Start() {
  const auto& config = context_.config;
  error_code error;
  const tcp::endpoint endpoint(asio::ip::make_address(config.address, error), config.port);
  if (!error) acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    throw std::runtime_error("listener " + config.name + ": cannot listen on " + config.address +
                             ":" + std::to_string(config.port) + "/tcp: " + error.message());
  }
  port_ = acceptor_.local_endpoint().port();
  spdlog::info("listener {} ({}) on {}:{}/tcp", config.name, config.type, config.address, port_);
  asio::post(acceptor_.get_executor(), [this] { Accept(); });
}

void TcpListener::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](const error_code& error, tcp::socket s) {
    OnAccept(error, std::move(s));
  });
}

void TcpListener::OnAccept(const error_code& error, tcp::socket socket) {
  if (stopping_ || error == asio::error::operation_aborted) return;
  if (error) {
    // Out of descriptors and the like: back off instead of spinning.
    spdlog::warn("listener {}: accept failed: {}", context_.config.name, error.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([this](const error_code& e) {
      if (!e && !stopping_) Accept();
    });
    return;
  }
  error_code endpoint_error;
  const tcp::endpoint remote = socket.remote_endpoint(endpoint_error);
  Accept();
  if (endpoint_error) return;
  const PeerAddress peer = ToPeer(remote);
  ThreadCounters& counters = context_.metrics->Local();
  const uint16_t agency = context_.agencies->Lookup(peer);
  // With client certificates, the certificate names the agency (at the
  // handshake); the address does not have to.
  const bool agency_from_certificate = tls_ && tls_->config().requires_client_certificate();
  if (agency == AgencyTable::kNone && !agency_from_certificate) {
    counters.Rejected(context_.index, RejectReason::kUnknownAgency);
    spdlog::debug("listener {}: refused {} (in no agency)", context_.config.name,
                  remote.address().to_string());
    return;  // the socket closes as it goes out of scope
  }
  if (auto reason = limits_.TryAcquire(peer.bytes, agency)) {
    counters.Rejected(context_.index, *reason);
    return;
  }
  auto session = std::make_shared<TcpSession>(*this, std::move(socket), peer, agency);
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.insert(session);
  }
  context_.metrics->ConnectionOpened(context_.index);
  asio::post(session->executor(), [session] { session->Start(); });
}

bool TcpListener::MoveAgencySlot(uint16_t from, uint16_t to) {
  if (auto reason = limits_.MoveAgency(from, to)) {
    context_.metrics->Local().Rejected(context_.index, *reason);
    return false;
  }
  return true;
}

void TcpListener::OnSessionClosed(const std::shared_ptr<TcpSession>& session,
                                  const PeerAddress& peer, uint16_t agency) {
  limits_.Release(peer.bytes, agency);
  context_.metrics->ConnectionClosed(context_.index);
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
}

void TcpListener::Stop() {
  // On the acceptor's strand, so no session is accepted after the snapshot.
  asio::post(acceptor_.get_executor(), [this] {
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    std::set<std::shared_ptr<TcpSession>> sessions;
    {
      std::lock_guard lock(sessions_mutex_);
      sessions = sessions_;
    }
    for (const auto& session : sessions) session->Stop();
  });
}

std::string TcpListener::Reload() {
  if (!tls_) return {};
  std::string error = tls_->Reload();
  if (error.empty()) {
    spdlog::info("listener {}: TLS certificate, client CA and CRL reloaded", context_.config.name);
  } else {
    spdlog::error("listener {}: TLS reload failed, keeping the running certificates: {}",
                  context_.config.name, error);
  }
  return error;
}

void TcpListener::CountHandshake(TlsHandshakeResult result, const PeerAddress& peer) {
  tls_stats_->handshakes[size_t(result)].fetch_add(1, std::memory_order_relaxed);
  if (result == TlsHandshakeResult::kOk) return;
  // Refusals are logged, at most one a second per listener: a hostile
  // sender must not be able to flood the log.
  const int64_t now = NowNanos();
  int64_t last = tls_stats_->last_refusal_log_ns.load(std::memory_order_relaxed);
  if (now - last < 1'000'000'000 || !tls_stats_->last_refusal_log_ns.compare_exchange_strong(
                                        last, now, std::memory_order_relaxed)) {
    return;
  }
  char address[64];
  if (peer.IsV4()) {
    std::snprintf(address, sizeof address, "%u.%u.%u.%u", peer.bytes[12], peer.bytes[13],
                  peer.bytes[14], peer.bytes[15]);
  } else {
    asio::ip::address_v6::bytes_type bytes;
    std::copy(peer.bytes.begin(), peer.bytes.end(), bytes.begin());
    std::snprintf(address, sizeof address, "%s", asio::ip::address_v6(bytes).to_string().c_str());
  }
  spdlog::warn("listener {}: TLS connection from {} refused: {} (gsoc_tls_handshakes_total)",
               context_.config.name, address, TlsHandshakeResultName(result));
}

void TcpListener::TlsSessionOpened(std::string_view version, std::string_view cipher) {
  std::lock_guard lock(tls_stats_->mutex);
  ++tls_stats_->sessions[{std::string(version), std::string(cipher)}];
}

void TcpListener::TlsSessionClosed(std::string_view version, std::string_view cipher) {
  std::lock_guard lock(tls_stats_->mutex);
  auto& sessions = tls_stats_->sessions;
  auto it = sessions.find({std::string(version), std::string(cipher)});
  if (it != sessions.end() && --it->second <= 0) sessions.erase(it);
}

std::shared_ptr<prometheus::Collectable> TcpListener::MakeCollectable() {
  if (!tls_) return nullptr;
  return std::make_shared<CallbackCollectable>([stats = tls_stats_, name = context_.config.name] {
    using prometheus::MetricType;
    auto handshakes =
        MakeFamily("gsoc_tls_handshakes_total", "TLS handshakes on syslog_tls listeners, by result",
                   MetricType::Counter);
    for (size_t r = 0; r < size_t(TlsHandshakeResult::kCount); ++r) {
      AddSample(handshakes,
                {{"listener", name},
                 {"result", TlsHandshakeResultName(static_cast<TlsHandshakeResult>(r))}},
                static_cast<double>(stats->handshakes[r].load(std::memory_order_relaxed)));
    }
    auto sessions =
        MakeFamily("gsoc_tls_connections", "Open TLS connections by protocol version and cipher",
                   MetricType::Gauge);
    {
      std::lock_guard lock(stats->mutex);
      for (const auto& [key, count] : stats->sessions) {
        AddSample(sessions, {{"listener", name}, {"version", key.first}, {"cipher", key.second}},
                  static_cast<double>(count));
      }
    }
    std::vector<prometheus::MetricFamily> families;
    families.push_back(std::move(handshakes));
    families.push_back(std::move(sessions));
    return families;
  });
}

namespace {

const ListenerRegistration kSyslogTcp{
    "syslog_tcp", [](asio::io_context& io, ListenerContext context) -> std::unique_ptr<Listener> {
      return std::make_unique<TcpListener>(io, std::move(context), FramingMode::kSyslog);
    }};

}  // namespace

}  // namespace gsoc
