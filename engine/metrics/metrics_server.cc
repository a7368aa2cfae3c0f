#include "engine/metrics/metrics_server.h"

#include <prometheus/text_serializer.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace gsoc {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint32_t kHeadLimit = 8 * 1024;  // a scrape's request head is a few hundred bytes
constexpr int kAcceptBurst = 256;          // connections accepted per turn beyond the first
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

struct MetricsServer::Impl {
  class Session;

  explicit Impl(const MetricsServerOptions& opts) : options(opts), acceptor(io), retry_timer(io) {}

  void Listen();
  void DoAccept();
  void OnAccept(beast::error_code error, tcp::socket socket);
  // Serves `socket`, or closes it when every connection is mid-reply.
  void Admit(tcp::socket socket);
  // Closes the oldest connection still waiting for its request, among those
  // accepted before this turn of the acceptor (a connection accepted in the
  // same burst has had no chance to be read yet); false if none.
  bool EvictOldestWaiting();
  bool CanAdmit() const;
  void Remove(Session* session);
  // Answers `session`'s scrape with the next render: scrapes that arrive
  // while one is queued share it (each still sees values collected after
  // its request arrived), so a flood of scrapes costs one collection per
  // turn of the io loop, not one per request.
  void QueueScrape(std::shared_ptr<Session> session);
  void RenderQueued();
  std::string Render();
  std::vector<prometheus::MetricFamily> OwnFamilies() const;
  void Stop();

  const MetricsServerOptions options;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::thread thread;
  std::atomic<bool> stopped{false};
  uint64_t accept_turn = 0;                              // io thread only: completed async accepts
  uint16_t port = 0;                                     // bound port, set before the thread starts
  std::list<std::shared_ptr<Session>> sessions;          // io thread only; oldest first
  std::vector<std::shared_ptr<Session>> scrapes_queued;  // io thread only

  std::mutex collectables_mutex;  // guards collectables
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;

  std::atomic<uint64_t> scrapes{0};
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> evicted{0};
};

// One connection: read a request head (within request_timeout), answer,
// keep alive or close. Runs on the server's single io thread.
class MetricsServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), accept_turn_(server.accept_turn) {}

  void Start() { DoRead(); }
  bool waiting_for_request() const { return waiting_ && !closed_; }
  // Waiting since an earlier accept turn, with no request about to be
  // answered: not one whose bytes are in the kernel's buffer, not yet read
  // by this busy loop, nor one whose head is parsed while the read's last
  // completion is still queued behind the accept.
  bool evictable() const {
    if (!waiting_for_request() || accept_turn_ == server_.accept_turn) return false;
    if (parser_ && parser_->is_header_done()) return false;
    beast::error_code error;
    return stream_.socket().available(error) == 0 && !error;
  }
  bool closed() const { return closed_; }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    server_.Remove(this);
  }

 private:
  void DoRead() {
    if (closed_) return;
    waiting_ = true;
    parser_.emplace();
    parser_->header_limit(kHeadLimit);
    parser_->body_limit(kHeadLimit);
    stream_.expires_after(server_.options.request_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code error, size_t) { self->OnRead(error); });
  }

  void OnRead(beast::error_code error) {
    waiting_ = false;
    if (closed_) return;
    if (error == beast::error::timeout) server_.timeouts.fetch_add(1);
    if (error) {
      if (error != http::error::end_of_stream && error != beast::error::timeout &&
          error.category() == http::make_error_code(http::error::bad_target).category()) {
        server_.bad_requests.fetch_add(1);
      }
      return Close();
    }
    Answer(parser_->get());
  }

  void Answer(const http::request<http::string_body>& request) {
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    response_.emplace(http::status::ok, request.version());
    response_->set(http::field::server, "gsoc");
    response_->keep_alive(request.keep_alive());
    if (path == "/metrics" && request.method() == http::verb::get) {
      server_.scrapes.fetch_add(1);
      response_->set(http::field::content_type, kContentType);
      return server_.QueueScrape(shared_from_this());  // Reply comes with the next render
    }
    server_.not_found.fetch_add(1);
    response_->set(http::field::content_type, "text/plain");
    Reply(http::status::not_found, "only GET /metrics here\n");
  }

 public:
  void Reply(http::status status, std::string body) {
    if (closed_ || !response_) return;
    response_->result(status);
    response_->body() = std::move(body);
    response_->prepare_payload();
    stream_.expires_after(server_.options.request_timeout);
    http::async_write(
        stream_, *response_,
        [self = shared_from_this()](beast::error_code error, size_t) { self->OnWrite(error); });
  }

 private:
  void OnWrite(beast::error_code error) {
    const bool keep_alive = response_ && response_->keep_alive();
    response_.reset();
    if (error || !keep_alive) return Close();
    DoRead();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{2 * kHeadLimit};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  bool waiting_ = false;
  bool closed_ = false;
  const uint64_t accept_turn_;
};

void MetricsServer::Impl::Listen() {
  const std::string where =
      (options.address.find(':') != std::string::npos ? "[" + options.address + "]"
                                                      : options.address) +
      ":" + std::to_string(options.port);
  beast::error_code error;
  const auto address = asio::ip::make_address(options.address, error);
  if (error) throw std::runtime_error("metrics: bad listen address " + options.address);
  const tcp::endpoint endpoint{address, options.port};
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (!error) acceptor.non_blocking(true, error);
  if (error)
    throw std::runtime_error("metrics: cannot listen on " + where + ": " + error.message());
  port = acceptor.local_endpoint().port();
}

void MetricsServer::Impl::DoAccept() {
  acceptor.async_accept(
      [this](beast::error_code error, tcp::socket socket) { OnAccept(error, std::move(socket)); });
}

void MetricsServer::Impl::OnAccept(beast::error_code error, tcp::socket socket) {
  if (stopped.load() || error == asio::error::operation_aborted) return;
  if (error) {  // e.g. out of file descriptors: try again shortly
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([this](beast::error_code wait_error) {
      if (!wait_error) DoAccept();
    });
    return;
  }
  ++accept_turn;
  Admit(std::move(socket));
  // Take more of the accept queue now, as long as there is room (free or a
  // connection from an earlier turn to evict), not one connection per turn
  // of the loop: a flood of reconnecting clients would otherwise queue a
  // scrape's connection behind hundreds of theirs (the acceptor is
  // non-blocking; what is left waits in the kernel's queue, in order).
  for (int i = 0; i < kAcceptBurst && CanAdmit(); ++i) {
    tcp::socket next(io);
    acceptor.accept(next, error);
    if (error) break;
    Admit(std::move(next));
  }
  DoAccept();
}

void MetricsServer::Impl::Admit(tcp::socket socket) {
  if (sessions.size() >= options.max_connections && !EvictOldestWaiting()) {
    evicted.fetch_add(1);  // every connection is mid-reply: the newcomer retries
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  sessions.push_back(std::make_shared<Session>(*this, std::move(socket)));
  sessions.back()->Start();
}

bool MetricsServer::Impl::CanAdmit() const {
  if (sessions.size() < options.max_connections) return true;
  for (const auto& session : sessions) {
    if (session->evictable()) return true;
  }
  return false;
}

bool MetricsServer::Impl::EvictOldestWaiting() {
  for (const auto& session : sessions) {
    if (!session->evictable()) continue;
    evicted.fetch_add(1);
    const std::shared_ptr<Session> victim = session;  // Close removes it from `sessions`
    victim->Close();
    return true;
  }
  return false;
}

void MetricsServer::Impl::Remove(Session* session) {
  sessions.remove_if([session](const auto& held) { return held.get() == session; });
}

std::vector<prometheus::MetricFamily> MetricsServer::Impl::OwnFamilies() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto requests =
      MakeFamily("gsoc_metrics_requests_total", "Requests to the metrics endpoint by status code",
                 MetricType::Counter);
  AddSample(requests, {{"code", "200"}}, static_cast<double>(scrapes.load()));
  AddSample(requests, {{"code", "404"}}, static_cast<double>(not_found.load()));
  AddSample(requests, {{"code", "400"}}, static_cast<double>(bad_requests.load()));
  out.push_back(std::move(requests));
  out.push_back(SingleSample("gsoc_metrics_request_timeouts_total",
                             "Metrics connections cut because a request head or a reply took "
                             "longer than request_timeout",
                             MetricType::Counter, static_cast<double>(timeouts.load())));
  out.push_back(SingleSample("gsoc_metrics_connections_evicted_total",
                             "Metrics connections closed at max_connections to make room",
                             MetricType::Counter, static_cast<double>(evicted.load())));
  out.push_back(SingleSample("gsoc_metrics_connections", "Open metrics connections",
                             MetricType::Gauge, static_cast<double>(sessions.size())));
  return out;
}

void MetricsServer::Impl::QueueScrape(std::shared_ptr<Session> session) {
  scrapes_queued.push_back(std::move(session));
  if (scrapes_queued.size() == 1) asio::post(io, [this] { RenderQueued(); });
}

void MetricsServer::Impl::RenderQueued() {
  std::vector<std::shared_ptr<Session>> answering;
  answering.swap(scrapes_queued);
  http::status status = http::status::ok;
  std::string body;
  try {
    body = Render();
  } catch (const std::exception& e) {
    status = http::status::internal_server_error;
    body = std::string("collecting metrics failed: ") + e.what() + "\n";
  }
  for (const std::shared_ptr<Session>& session : answering) session->Reply(status, body);
}

std::string MetricsServer::Impl::Render() {
  std::vector<std::shared_ptr<prometheus::Collectable>> sources;
  {
    std::lock_guard lock(collectables_mutex);
    sources = collectables;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& source : sources) {
    for (auto& family : source->Collect()) families.push_back(std::move(family));
  }
  for (auto& family : OwnFamilies()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

void MetricsServer::Impl::Stop() {
  if (stopped.exchange(true)) return;
  asio::post(io, [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    while (!sessions.empty()) {
      const std::shared_ptr<Session> session = sessions.front();
      session->Close();
    }
    io.stop();  // abandon what is left; nothing waits on a client any more
  });
  if (thread.joinable()) thread.join();
}

MetricsServer::MetricsServer(const MetricsServerOptions& options)
    : impl_(std::make_unique<Impl>(options)) {
  impl_->Listen();
  impl_->DoAccept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

MetricsServer::MetricsServer(const std::string& address, uint16_t port)
    : MetricsServer(MetricsServerOptions{address, port}) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() { impl_->Stop(); }

void MetricsServer::Register(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(impl_->collectables_mutex);
  impl_->collectables.push_back(std::move(collectable));
}

uint16_t MetricsServer::port() const { return impl_->port; }

}  // namespace gsoc
