// gsoc-loadgen --transport tls against an in-process OpenSSL server sink:
// framing and byte counts through TLS, server verification (CA, name,
// --tls-insecure), mutual TLS, versions and ciphers, and the connection-
// rate modes (--reconnect-every, --handshakes) over TLS and plain TCP.
// Certificates are made with the openssl command in a temporary folder.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/tools/loadgen/loadgen_process.h"
#include "tests/tools/loadgen/test_sink.h"
#include "tools/loadgen/runner.h"

namespace gsoc::loadgen {
namespace {

using testing::TcpSink;
using testing::TlsSinkConfig;

using testing::CsvField;
using testing::ProcessResult;
using testing::RunLoadgen;

// A CA that signed a server certificate (localhost, 127.0.0.1) and a client
// certificate (CN loadgen.test), and a second CA that signed nothing here.
class Pki {
 public:
  Pki() {
    char pattern[] = "/tmp/gsoc-loadgen-tls.XXXXXX";
    dir_ = ::mkdtemp(pattern);
    Openssl(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
        "-out ca.crt -days 2 -subj '/CN=loadgen test CA'");
    Openssl(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key "
        "-out other.crt -days 2 -subj '/CN=another CA'");
    Issue("server", "/CN=server.test", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    Issue("client", "/CN=loadgen.test", "extendedKeyUsage=clientAuth");
  }
  ~Pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string operator/(const std::string& name) const { return (dir_ / name).string(); }
  bool ok() const { return ok_; }

 private:
  void Openssl(const std::string& args) {
    const ProcessResult run = testing::RunCommand("cd '" + dir_.string() + "' && openssl " + args);
    if (run.exit_code != 0) {
      ok_ = false;
      ADD_FAILURE() << "openssl " << args << "\n" << run.out;
    }
  }
  void Issue(const std::string& name, const std::string& subject, const std::string& extension) {
    Openssl("req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
            ".key -out " + name + ".csr -subj '" + subject + "'");
    std::ofstream(dir_ / (name + ".ext")) << extension << "\n";
    Openssl("x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 " +
            "-extfile " + name + ".ext -out " + name + ".crt");
  }

  std::filesystem::path dir_;
  bool ok_ = true;
};

class LoadgenTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki; }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(pki_->ok()); }

  static TlsSinkConfig ServerOnly() { return {P("server.crt"), P("server.key"), ""}; }
  static TlsSinkConfig Mutual() { return {P("server.crt"), P("server.key"), P("ca.crt")}; }
  static std::string P(const std::string& name) { return (*pki_) / name; }
  // gsoc-loadgen arguments for `sink`, verifying it against the test CA.
  static std::string Target(const TcpSink& sink) {
    return "--port " + std::to_string(sink.port()) + " --transport tls --tls-ca " + P("ca.crt");
  }
  static std::string ClientCertificate() {
    return " --tls-cert " + P("client.crt") + " --tls-key " + P("client.key");
  }

  static Pki* pki_;
};

Pki* LoadgenTls::pki_ = nullptr;

TEST_F(LoadgenTls, OctetFramedMessagesArriveExactlyThroughTls) {
  const TlsSinkConfig tls = ServerOnly();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const auto run = RunLoadgen(Target(sink) + " --count 20000 --connections 2 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(20000, 20)) << sink.frames();
  EXPECT_EQ(sink.frames(), 20000u);
  EXPECT_EQ(sink.connections(), 2u);
  EXPECT_EQ(sink.framing_errors(), 0u);
  EXPECT_EQ(CsvField(run.out, "transport"), "tls") << run.out;
  EXPECT_EQ(CsvField(run.out, "messages"), "20000") << run.out;
  // Plaintext bytes: what the sink decrypted is what the loadgen framed.
  EXPECT_EQ(CsvField(run.out, "bytes"), std::to_string(sink.bytes())) << run.out;
  EXPECT_EQ(CsvField(run.out, "handshakes"), "0") << run.out;
}

TEST_F(LoadgenTls, LfFramingThroughTls) {
  const TlsSinkConfig tls = ServerOnly();
  TcpSink sink(/*octet_framing=*/false, /*keep_frames=*/false, &tls);
  const auto run = RunLoadgen(Target(sink) + " --framing lf --count 3000 --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(3000, 20)) << sink.frames();
  EXPECT_EQ(sink.frames(), 3000u);
}

TEST_F(LoadgenTls, MutualTlsPresentsTheClientCertificate) {
  const TlsSinkConfig tls = Mutual();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const auto run = RunLoadgen(Target(sink) + ClientCertificate() + " --count 1000 --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(1000, 20)) << sink.frames();
  const auto sessions = sink.tls_sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].peer_cn, "loadgen.test");
}

TEST_F(LoadgenTls, MutualTlsWithoutAClientCertificateFails) {
  const TlsSinkConfig tls = Mutual();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  // TLS 1.2: the server refuses before its Finished, so the handshake fails.
  const auto run = RunLoadgen(Target(sink) + " --tls-version 1.2 --count 10 --csv");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE(run.out.find("TLS handshake"), std::string::npos) << run.out;
  EXPECT_EQ(CsvField(run.out, "connect_errors"), "1") << run.out;
  EXPECT_EQ(sink.frames(), 0u);
}

TEST_F(LoadgenTls, RefusesAServerItCannotVerify) {
  const TlsSinkConfig tls = ServerOnly();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const std::string port = "--port " + std::to_string(sink.port()) + " --transport tls";
  const auto wrong_ca = RunLoadgen(port + " --tls-ca " + P("other.crt") + " --count 10");
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca.out;
  EXPECT_NE(wrong_ca.out.find("server certificate"), std::string::npos) << wrong_ca.out;
  const auto wrong_name = RunLoadgen(Target(sink) + " --tls-server-name other.test --count 10");
  EXPECT_EQ(wrong_name.exit_code, 1) << wrong_name.out;
  EXPECT_NE(wrong_name.out.find("hostname mismatch"), std::string::npos) << wrong_name.out;
  const auto by_name = RunLoadgen(Target(sink) + " --tls-server-name localhost --count 10 -q");
  EXPECT_EQ(by_name.exit_code, 0) << by_name.out;
  const auto insecure = RunLoadgen(port + " --tls-insecure --count 10 --quiet");
  EXPECT_EQ(insecure.exit_code, 0) << insecure.out;
  ASSERT_TRUE(sink.WaitFor(20, 20)) << sink.frames();
  EXPECT_EQ(sink.frames(), 20u);
}

TEST_F(LoadgenTls, VersionAndCipherAreWhatWasAskedFor) {
  const TlsSinkConfig tls = ServerOnly();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const auto tls12 = RunLoadgen(Target(sink) +
                                " --tls-version 1.2 --tls-ciphers ECDHE-ECDSA-AES128-GCM-SHA256"
                                " --count 10 --quiet");
  ASSERT_EQ(tls12.exit_code, 0) << tls12.out;
  ASSERT_TRUE(sink.WaitFor(10, 20));
  const auto tls13 = RunLoadgen(Target(sink) +
                                " --tls-version 1.3 --tls-ciphers TLS_AES_128_GCM_SHA256"
                                " --count 10 --quiet");
  ASSERT_EQ(tls13.exit_code, 0) << tls13.out;
  ASSERT_TRUE(sink.WaitFor(20, 20));
  const auto sessions = sink.tls_sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[0].version, "TLSv1.2");
  EXPECT_EQ(sessions[0].cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(sessions[1].version, "TLSv1.3");
  EXPECT_EQ(sessions[1].cipher, "TLS_AES_128_GCM_SHA256");
  const auto bad = RunLoadgen(Target(sink) + " --tls-ciphers NO-SUCH-CIPHER --count 1");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("--tls-ciphers"), std::string::npos) << bad.out;
}

TEST_F(LoadgenTls, ReconnectEveryMakesANewHandshakePerGroup) {
  const TlsSinkConfig tls = Mutual();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const auto run =
      RunLoadgen(Target(sink) + ClientCertificate() + " --count 100 --reconnect-every 10 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(100, 20)) << sink.frames();
  EXPECT_EQ(sink.frames(), 100u);
  EXPECT_EQ(sink.connections(), 10u);
  EXPECT_EQ(sink.tls_sessions().size(), 10u);  // full handshakes, each verified
  EXPECT_EQ(CsvField(run.out, "handshakes"), "9") << run.out;
  EXPECT_GT(std::stod(CsvField(run.out, "handshakes_per_s")), 0.0) << run.out;
  EXPECT_GT(std::stod(CsvField(run.out, "handshake_ms")), 0.0) << run.out;
}

TEST_F(LoadgenTls, HandshakesModeOnlyConnects) {
  const TlsSinkConfig tls = Mutual();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/false, &tls);
  const auto run = RunLoadgen(Target(sink) + ClientCertificate() +
                              " --handshakes --count 50 --connections 2 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(0, 20));
  EXPECT_EQ(sink.connections(), 52u);  // 2 to start with, then 50 counted
  EXPECT_EQ(sink.tls_sessions().size(), 52u);
  EXPECT_EQ(sink.tls_failures(), 0u);
  EXPECT_EQ(sink.frames(), 0u);
  EXPECT_EQ(CsvField(run.out, "messages"), "0") << run.out;
  EXPECT_EQ(CsvField(run.out, "handshakes"), "50") << run.out;
}

TEST_F(LoadgenTls, LibraryRunOverTls) {
  const TlsSinkConfig tls = Mutual();
  TcpSink sink(/*octet_framing=*/true, /*keep_frames=*/true, &tls);
  Options options;
  options.port = sink.port();
  options.hostname = "loadgen-test";
  options.transport = Transport::kTls;
  options.tls.ca = P("ca.crt");
  options.tls.certificate = P("client.crt");
  options.tls.private_key = P("client.key");
  options.tls.server_name = "127.0.0.1";
  options.count = 500;
  const std::atomic<bool> stop{false};
  const RunResult result = RunLoad(options, stop);
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0]);
  ASSERT_TRUE(sink.WaitFor(500, 20));
  sink.Stop();
  for (const std::string& frame : sink.kept_frames()) {
    ASSERT_EQ(frame.front(), '<') << frame;
    ASSERT_NE(frame.find(" loadgen-test "), std::string::npos) << frame;
  }
}

TEST(LoadgenReconnect, PlainTcpReconnectsToo) {
  TcpSink sink(/*octet_framing=*/true);
  const auto run = RunLoadgen("--port " + std::to_string(sink.port()) +
                              " --count 5000 --reconnect-every 1000 --csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(sink.WaitFor(5000, 20)) << sink.frames();
  EXPECT_EQ(sink.frames(), 5000u);
  EXPECT_EQ(sink.connections(), 5u);
  EXPECT_EQ(sink.framing_errors(), 0u);  // every connection ends on a frame boundary
  EXPECT_EQ(CsvField(run.out, "handshakes"), "4") << run.out;
}

TEST(LoadgenReconnect, ContradictoryOptionsAreUsageErrors) {
  EXPECT_EQ(RunLoadgen("--tls-insecure").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--transport tls --tls-cert /etc/hostname").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--transport tls --tls-version 1.1").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--transport udp --handshakes").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--handshakes --reconnect-every 5").exit_code, 2);
  EXPECT_EQ(RunLoadgen("--reconnect-every 0").exit_code, 2);
}

}  // namespace
}  // namespace gsoc::loadgen
