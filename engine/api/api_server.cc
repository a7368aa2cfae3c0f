#include "engine/api/api_server.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <map>
#include <stdexcept>
#include <thread>

#include "engine/api/api_context.h"
#include "engine/api/http_session.h"

namespace gsoc::api {

namespace {

using tcp = net::ip::tcp;

std::unique_ptr<net::ssl::context> MakeTlsContext(const ApiOptions& options) {
  if (options.tls_certificate.empty() && options.tls_private_key.empty()) return nullptr;
  if (options.tls_certificate.empty() || options.tls_private_key.empty()) {
    throw std::runtime_error("api: TLS needs both a certificate and a private key file");
  }
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  boost::system::error_code error;
  context->use_certificate_chain_file(options.tls_certificate, error);
  if (error) {
    throw std::runtime_error("api: cannot load TLS certificate " + options.tls_certificate + ": " +
                             error.message());
  }
  context->use_private_key_file(options.tls_private_key, net::ssl::context::pem, error);
  if (error) {
    throw std::runtime_error("api: cannot load TLS private key " + options.tls_private_key + ": " +
                             error.message());
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw std::runtime_error("api: TLS private key " + options.tls_private_key +
                             " does not match certificate " + options.tls_certificate);
  }
  return context;
}

}  // namespace

struct ApiServer::Impl final : SessionRegistry {
  Impl(ApiOptions options, const store::AlertReader& reader, LiveHub& hub, ApiHooks hooks)
      : context(std::move(options), reader, hub, std::move(hooks)),
        tls(MakeTlsContext(context.options)),
        acceptor(net::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        work(net::make_work_guard(io)) {}

  void Listen() {
    const ApiOptions& options = context.options;
    const std::string where = options.address + ":" + std::to_string(options.port);
    boost::system::error_code error;
    const auto address = net::ip::make_address(options.address, error);
    if (error) throw std::runtime_error("api: bad listen address " + options.address);
    const tcp::endpoint endpoint{address, options.port};
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
    if (error) throw std::runtime_error("api: cannot listen on " + where + ": " + error.message());
    port = acceptor.local_endpoint().port();
  }

  void StartThreads() {
    const size_t count = std::max<size_t>(context.options.threads, 1);
    for (size_t i = 0; i < count; ++i) threads.emplace_back([this] { RunLoop(); });
    net::post(acceptor.get_executor(), [this] { DoAccept(); });
  }

  void RunLoop() {
    while (true) {
      try {
        io.run();
        return;
      } catch (...) {  // a handler must not throw; keep serving if one does
      }
    }
  }

  void DoAccept() {
    if (stopping) return;
    acceptor.async_accept(net::make_strand(io),
                          [this](boost::system::error_code error, tcp::socket socket) {
                            OnAccept(error, std::move(socket));
                          });
  }

  void OnAccept(boost::system::error_code error, tcp::socket socket) {
    if (stopping || error == net::error::operation_aborted) return;
    if (error) {  // e.g. out of file descriptors: try again shortly
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([this](boost::system::error_code wait_error) {
        if (!wait_error) DoAccept();
      });
      return;
    }
    if (AddSession(std::move(socket))) DoAccept();
  }

  // Returns whether to accept more now (false: at max_connections or stopping).
  bool AddSession(tcp::socket socket) {
    const uint64_t id = next_session_id++;
    std::shared_ptr<SessionBase> session = MakeSession(std::move(socket), id);
    // Sessions looked at under the lock are released after it: the last
    // reference ending runs ~HttpSession, which calls Remove (takes the lock).
    std::vector<std::shared_ptr<SessionBase>> looked_at;
    std::shared_ptr<SessionBase> victim;
    std::unique_lock lock(mutex);
    if (stopping) return false;  // the session closes when dropped
    sessions.emplace(id, session);
    bool more = sessions.size() < context.options.max_connections;
    if (!more) victim = OldestEvictableLocked(id, looked_at);
    if (victim) {
      evicted.fetch_add(1, std::memory_order_relaxed);
      victim->Abort();  // only posts; its slot frees as it closes
      more = true;
    } else if (!more) {
      accept_paused = true;
      connection_limit_hits.fetch_add(1, std::memory_order_relaxed);
    }
    lock.unlock();
    session->Start();
    return more;
  }

  // The oldest connection (lowest id) that has not authenticated, other
  // than `except`: no unauthenticated client can keep a slot from others.
  // Every session locked on the way is kept in `looked_at`.
  std::shared_ptr<SessionBase> OldestEvictableLocked(
      uint64_t except, std::vector<std::shared_ptr<SessionBase>>& looked_at) {
    for (auto& [id, weak] : sessions) {
      if (id == except) continue;
      looked_at.push_back(weak.lock());
      if (looked_at.back() && looked_at.back()->Evictable()) return looked_at.back();
    }
    return nullptr;
  }

  std::shared_ptr<SessionBase> MakeSession(tcp::socket socket, uint64_t id) {
    if (tls) {
      return std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls), context,
                                                      *this, id);
    }
    return std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), context,
                                                      *this, id);
  }

  void Remove(uint64_t session_id) override {
    std::lock_guard lock(mutex);
    sessions.erase(session_id);
    if (accept_paused && !stopping && sessions.size() < context.options.max_connections) {
      accept_paused = false;
      net::post(acceptor.get_executor(), [this] { DoAccept(); });
    }
  }

  void Stop() {
    if (stopped.exchange(true)) return;
    std::vector<std::shared_ptr<SessionBase>> open;
    {
      std::lock_guard lock(mutex);
      stopping = true;
      for (auto& [id, weak] : sessions) {
        if (auto session = weak.lock()) open.push_back(std::move(session));
      }
    }
    net::post(acceptor.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      retry_timer.cancel();
    });
    for (auto& session : open) session->Abort();
    open.clear();
    work.reset();
    for (auto& thread : threads) thread.join();
    threads.clear();
  }

  net::io_context io;
  ApiContext context;
  std::unique_ptr<net::ssl::context> tls;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  net::executor_work_guard<net::io_context::executor_type> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> next_session_id{1};
  std::mutex mutex;                                         // sessions, accept_paused
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions;  // by id: oldest first
  bool accept_paused = false;
  std::atomic<uint64_t> connection_limit_hits{0};
  std::atomic<uint64_t> evicted{0};
};

ApiServer::ApiServer(ApiOptions options, const store::AlertReader& reader, LiveHub& hub,
                     ApiHooks hooks) {
  if (options.tokens.empty()) throw std::runtime_error("api: no bearer token configured");
  impl_ = std::make_unique<Impl>(std::move(options), reader, hub, std::move(hooks));
  impl_->Listen();
  impl_->StartThreads();
}

ApiServer::~ApiServer() { Stop(); }

uint16_t ApiServer::port() const { return impl_->port; }

void ApiServer::Stop() { impl_->Stop(); }

ApiStats ApiServer::stats() const {
  ApiStats stats;
  stats.requests = impl_->context.requests.Snapshot();
  stats.streams = impl_->context.streams.load();
  stats.connection_limit_hits = impl_->connection_limit_hits.load(std::memory_order_relaxed);
  stats.evicted = impl_->evicted.load(std::memory_order_relaxed);
  stats.request_timeouts = impl_->context.request_timeouts.load(std::memory_order_relaxed);
  stats.stream_write_timeouts =
      impl_->context.stream_write_timeouts.load(std::memory_order_relaxed);
  stats.response_bytes = impl_->context.response_bytes.load();
  {
    std::lock_guard lock(impl_->mutex);
    stats.connections = impl_->sessions.size();
  }
  return stats;
}

}  // namespace gsoc::api
