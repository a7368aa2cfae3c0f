// The API server over TLS: serving, and load errors that name the file.
#include <gtest/gtest.h>

#include "tests/engine/api/api_server_fixture.h"

namespace gsoc::api {
namespace {

using namespace server_test;

// --- TLS ------------------------------------------------------------------------

// Closes a socket if a blocking client call takes too long.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::seconds limit)
      : thread_([this, fd, limit] {
          std::unique_lock lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) ::shutdown(fd, SHUT_RDWR);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

class TlsClient {
 public:
  explicit TlsClient(uint16_t port)
      : ssl_(boost::asio::ssl::context::tls_client), stream_(io_, ssl_) {
    ssl_.set_verify_mode(boost::asio::ssl::verify_none);
    stream_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    Watchdog watchdog(stream_.next_layer().native_handle(), std::chrono::seconds(10));
    stream_.handshake(boost::asio::ssl::stream_base::client);
  }
  void Send(const std::string& data) { boost::asio::write(stream_, boost::asio::buffer(data)); }
  // Reads until `text` has arrived (or the watchdog fires).
  std::string ReadUntil(const std::string& text) {
    Watchdog watchdog(stream_.next_layer().native_handle(), std::chrono::seconds(10));
    boost::system::error_code error;
    char chunk[4096];
    while (received_.find(text) == std::string::npos && !error) {
      const size_t n = stream_.read_some(boost::asio::buffer(chunk), error);
      received_.append(chunk, n);
    }
    return received_;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::string received_;
};

TEST_F(ApiServerTest, ServesOverTls) {
  TempDir dir;
  const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                              (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() +
                              " -days 1 -subj /CN=localhost >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  ApiOptions options = Options();
  options.tls_certificate = dir / "c.pem";
  options.tls_private_key = dir / "k.pem";
  Start(options);
  Seed();
  {
    TlsClient client(port_);
    client.Send(testing::BuildRequest("GET", "/api/v1/alerts/42", kAuth));
    const std::string reply = client.ReadUntil(Served(MakeVariedAlert(42)));
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_NE(reply.find(Served(MakeVariedAlert(42))), std::string::npos);
  }
  {
    TlsClient client(port_);
    client.Send(testing::BuildRequest("GET", "/api/v1/alerts/stream", kAuth));
    client.ReadUntil("\r\n\r\n");
    Commit(251, 252);
    const std::string events = client.ReadUntil("id: 252\n");
    EXPECT_NE(events.find("id: 251\ndata: " + Served(MakeVariedAlert(251)) + "\n\n"),
              std::string::npos);
  }
  // Plain HTTP to a TLS port gets nowhere, and the server carries on.
  {
    RawConnection plain(port_);
    plain.Send(testing::BuildRequest("GET", "/healthz", {}));
    EXPECT_TRUE(plain.WaitClosed(10s));
  }
  TlsClient client(port_);
  client.Send(testing::BuildRequest("GET", "/healthz", {}));
  EXPECT_NE(client.ReadUntil("ok\n").find("200 OK"), std::string::npos);
}

TEST_F(ApiServerTest, TlsLoadErrorsNameTheFile) {
  TempDir dir;
  LiveHub hub;
  ApiOptions options = Options();
  options.tls_certificate = dir / "missing-cert.pem";
  options.tls_private_key = dir / "missing-key.pem";
  try {
    ApiServer server(options, reader_, hub, {});
    FAIL() << "started without a certificate";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing-cert.pem"), std::string::npos)
        << error.what();
  }
  std::ofstream(dir / "c.pem") << "not a certificate\n";
  ASSERT_EQ(
      std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "k.pem").string() +
                   " -out " + (dir / "good.pem").string() + " -days 1 -subj /CN=x >/dev/null 2>&1")
                      .c_str()),
      0);
  options.tls_certificate = dir / "good.pem";
  try {
    ApiServer server(options, reader_, hub, {});
    FAIL() << "started without a key";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing-key.pem"), std::string::npos) << error.what();
  }
  options.tls_certificate = dir / "c.pem";
  options.tls_private_key = dir / "k.pem";
  EXPECT_THROW(ApiServer(options, reader_, hub, {}), std::runtime_error);
}

}  // namespace
}  // namespace gsoc::api
