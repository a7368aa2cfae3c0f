// End to end: syslog over TLS (RFC 5425) with agency certificates. A test
// PKI made with the openssl command (a CA for the agencies, a server
// certificate, client certificates that are good, unmapped, expired,
// revoked and signed by a stranger CA); real senders: openssl s_client,
// rsyslog's gtls driver and syslog-ng's tls() transport, all in mutual TLS;
// 1,000 concurrent TLS clients; a handshake that never comes; and a SIGHUP
// that swaps the server certificate while a connection stays up.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <csignal>
#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {
namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";

void Openssl(const std::vector<std::string>& args, const std::filesystem::path& cwd) {
  std::vector<std::string> argv{"/bin/sh", "-c", "cd '" + cwd.string() + "' && " + kOpenssl};
  for (const auto& arg : args) argv[2] += " " + arg;
  const RunResult run = RunProgram(argv, 60s);
  ASSERT_EQ(run.exit_code, 0) << argv[2] << "\n" << run.output;
}

// A CA (with `openssl ca`'s database, so certificates can be dated in the
// past and revoked) that signs the server's and the agencies' certificates.
class TestPki {
 public:
  explicit TestPki(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_ / "newcerts");
    WriteFile(dir_ / "index.txt", "");
    WriteFile(dir_ / "serial", "1000\n");
    WriteFile(dir_ / "ca.cnf", R"([ca]
default_ca = test_ca
[test_ca]
dir = .
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
certificate = ./ca.crt
private_key = ./ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
)");
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj",
             "'/CN=gsoc test agencies CA'"},
            dir_);
  }

  // Issues name.crt/name.key; `extension` is a section of ca.cnf;
  // `dates` extra `openssl ca` options (e.g. -startdate/-enddate).
  void Issue(const std::string& name, const std::string& subject, const std::string& extension,
             const std::string& san = "", const std::string& dates = "") {
    std::string req = "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                      name + ".key -out " + name + ".csr -subj '" + subject + "'";
    if (!san.empty()) req += " -addext 'subjectAltName=" + san + "'";
    Openssl({req}, dir_);
    Openssl({"ca -batch -config ca.cnf -extensions " + extension + " -in " + name + ".csr -out " +
             name + ".crt " + dates + " -notext"},
            dir_);
  }
  void Revoke(const std::string& name) {
    Openssl({"ca -batch -config ca.cnf -revoke " + name + ".crt"}, dir_);
    Openssl({"ca -batch -config ca.cnf -gencrl -out crl.pem"}, dir_);
  }
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// The shared PKI and a gsocd with one syslog_tls listener requiring client
// certificates; agency `mof` is known by its certificate only.
class E2eTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir;
    pki_ = new TestPki(pki_dir_->path());
    pki_->Issue("server", "/CN=gsoc.test", "server");
    pki_->Issue("mof", "/CN=siem.mof.example", "client", "DNS:collector.mof.example");
    pki_->Issue("stranger", "/CN=unknown.example", "client");
    pki_->Issue("expired", "/CN=siem.mof.example", "client", "",
                "-startdate 20200101000000Z -enddate 20200201000000Z");
    pki_->Issue("revoked", "/CN=siem.mof.example", "client");
    pki_->Revoke("revoked");
    // A CA nobody configured, and a client certificate it signed.
    const auto rogue = pki_->dir() / "rogue";
    std::filesystem::create_directories(rogue);
    Openssl({"req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue-ca.key "
             "-out rogue-ca.crt -days 30 -subj '/CN=rogue CA'"},
            rogue);
    Openssl({"req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ../rogue.key "
             "-out rogue.csr -subj '/CN=siem.mof.example'"},
            rogue);
    Openssl({"x509 -req -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key -CAcreateserial "
             "-out ../rogue.crt -days 30"},
            rogue);
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete pki_dir_;
  }

  static std::string Config(const std::string& extra_listener = "") {
    const TestPki& p = *pki_;
    return "agencies:\n"
           "  - {name: local, cidrs: [127.0.0.0/8]}\n"
           "  - {name: mof, certificates: [collector.mof.example]}\n"
           "listeners:\n"
           "  - name: tls\n"
           "    type: syslog_tls\n"
           "    port: 0\n"
           "    max_connections: 3000\n"
           "    max_connections_per_peer: 3000\n"
           "    tls:\n"
           "      certificate: " +
           (p / "server.crt").string() +
           "\n"
           "      private_key: " +
           (p / "server.key").string() +
           "\n"
           "      client_ca: " +
           (p / "ca.crt").string() +
           "\n"
           "      crl: " +
           (p / "crl.pem").string() +
           "\n"
           "      handshake_timeout: 1s\n" +
           extra_listener;
  }

  // openssl s_client with a client certificate, sending `lines`.
  static RunResult SClient(uint16_t port, const std::string& cert, const std::string& lines,
                           const std::vector<std::string>& extra = {}) {
    TempDir dir;
    WriteFile(dir / "in.txt", lines);
    std::vector<std::string> argv{kOpenssl,
                                  "s_client",
                                  "-connect",
                                  "127.0.0.1:" + std::to_string(port),
                                  "-CAfile",
                                  (*pki_ / "ca.crt").string(),
                                  "-verify_return_error",
                                  "-quiet",
                                  "-no_ign_eof"};
    if (!cert.empty()) {
      argv.insert(argv.end(), {"-cert", (*pki_ / (cert + ".crt")).string(), "-key",
                               (*pki_ / (cert + ".key")).string()});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv, 30s, dir / "in.txt");
  }

  static inline TempDir* pki_dir_ = nullptr;
  static inline TestPki* pki_ = nullptr;
};

std::string OctetCounted(const std::string& message) {
  return std::to_string(message.size()) + " " + message;
}

TEST_F(E2eTls, AgencyComesFromTheClientCertificate) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  std::string lines;
  for (int i = 0; i < 10; ++i) {
    lines +=
        OctetCounted("<34>1 2026-12-03T10:00:00Z host app - - - tls message " + std::to_string(i));
  }
  lines += "<13>Dec  3 10:00:00 host app: an LF-framed line\n";
  const RunResult sent = SClient(gsocd.port("tls"), "mof", lines);
  EXPECT_EQ(sent.exit_code, 0) << sent.output;
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 11, Scaled(20s)))
      << gsocd.Scrape();
  // Certificate before CIDR: 127.0.0.1 is in `local`, the certificate in `mof`.
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total", {{"listener", "tls"}, {"agency", "mof"}}),
            11);
  EXPECT_EQ(gsocd.Metric("gsoc_tls_handshakes_total", {{"listener", "tls"}, {"result", "ok"}}), 1);
  for (const JsonEvent& event : gsocd.Events()) {
    EXPECT_EQ(event.Get("agency"), "mof");
    EXPECT_EQ(event.Get("fields.tls_client"), "collector.mof.example");
  }
  EXPECT_EQ(gsocd.Stop(), 0);
}

// auditd records over mutual TLS are joined into one event per serial; the
// joined event still carries the connection's certificate identity.
TEST_F(E2eTls, JoinedAuditdEventsKeepTheCertificateIdentity) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  const std::string serial = "msg=audit(1733220000.123:4242): ";
  std::string lines;
  for (const std::string& record :
       {"type=SYSCALL " + serial + "arch=c000003e syscall=59 success=yes exe=\"/usr/bin/id\"",
        "type=EXECVE " + serial + "argc=1 a0=\"id\"", "type=EOE " + serial}) {
    lines += OctetCounted("<14>Dec  3 10:00:00 host audispd: " + record);
  }
  lines += OctetCounted("<14>Dec  3 10:00:01 host app: after the serial");
  const RunResult sent = SClient(gsocd.port("tls"), "mof", lines);
  EXPECT_EQ(sent.exit_code, 0) << sent.output;
  ASSERT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, 2, Scaled(20s)))
      << gsocd.Scrape();
  const std::vector<JsonEvent> events = gsocd.Events();
  ASSERT_EQ(events.size(), 2u);
  size_t joined = 0;
  for (const JsonEvent& event : events) {
    EXPECT_EQ(event.Get("fields.tls_client"), "collector.mof.example");
    if (event.Get("fields.type") == "EXECVE") ++joined;
  }
  EXPECT_EQ(joined, 1u);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST_F(E2eTls, EveryRefusalIsCountedAndLogged) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  const uint16_t port = gsocd.port("tls");
  const std::string line = OctetCounted("<34>1 2026-12-03T10:00:00Z host app - - - refused");
  struct Case {
    const char* cert;
    const char* result;
  };
  for (const Case& c :
       {Case{"stranger", "unknown_identity"}, Case{"expired", "expired"},
        Case{"revoked", "revoked"}, Case{"rogue", "untrusted"}, Case{"", "no_certificate"}}) {
    SClient(port, c.cert, line);
    EXPECT_TRUE(gsocd.WaitMetric("gsoc_tls_handshakes_total",
                                 {{"listener", "tls"}, {"result", c.result}}, 1, Scaled(10s)))
        << c.cert << " -> " << c.result << "\n"
        << gsocd.Scrape();
  }
  // Old protocol versions are refused before any certificate is looked at.
  SClient(port, "mof", line, {"-tls1_1"});
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_tls_handshakes_total",
                               {{"listener", "tls"}, {"result", "protocol_error"}}, 1,
                               Scaled(10s)));
  // A handshake that never comes is cut by handshake_timeout (1 s).
  Fd silent(ConnectTcp(port));
  const auto start = Clock::now();
  EXPECT_TRUE(WaitPeerClosed(silent.get(), Scaled(5s)));
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[e2e] silent TLS connection closed after %.2f s (handshake_timeout 1s)\n", waited);
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_tls_handshakes_total",
                               {{"listener", "tls"}, {"result", "timeout"}}, 1, Scaled(5s)));
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total"), 0) << "a refused sender got through";
  EXPECT_EQ(gsocd.Stop(), 0);
  EXPECT_NE(gsocd.Stderr().find("TLS connection from 127.0.0.1 refused"), std::string::npos)
      << gsocd.Stderr();
}

// A minimal blocking TLS client with the agency certificate.
class TlsClient {
 public:
  TlsClient(SSL_CTX* ctx, uint16_t port) : fd_(ConnectTcp(port)) {
    if (fd_.get() < 0) return;
    const int one = 1;  // the handshake's flights must not wait for delayed ACKs
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_.get());
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  bool ok() const { return ok_; }
  bool Send(const std::string& data) {
    size_t written = 0;
    return SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1 && written == data.size();
  }

 private:
  Fd fd_;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
};

SSL_CTX* ClientContext(const std::filesystem::path& pki, const std::string& name) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_file(ctx, (pki / (name + ".crt")).c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_use_PrivateKey_file(ctx, (pki / (name + ".key")).c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, (pki / "ca.crt").c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

// Sends what the client's TLS wants sent.
bool Flush(int fd, BIO* out) {
  char* data = nullptr;
  const long pending = BIO_get_mem_data(out, &data);
  const bool ok = pending <= 0 || SendAll(fd, std::string_view(data, size_t(pending)));
  (void)BIO_reset(out);
  return ok;
}

// A sender that handshakes (TLS 1.3) and leaves at once, its Finished and
// close_notify in one write, so gsocd reads them together. True when the
// client side of the handshake completed.
bool HandshakeAndLeave(SSL_CTX* ctx, uint16_t port) {
  Fd fd(ConnectTcp(port));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  SSL* ssl = SSL_new(ctx);
  BIO* out = BIO_new(BIO_s_mem());
  BIO* in = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  bool done = false;
  char buffer[16384];
  for (;;) {
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      done = true;
      break;
    }
    if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ || !Flush(fd.get(), out)) break;
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    BIO_write(in, buffer, int(n));
  }
  if (done) {
    SSL_shutdown(ssl);  // close_notify after the Finished, still unsent
    done = Flush(fd.get(), out);
  }
  SSL_free(ssl);
  return done;
}

TEST_F(E2eTls, ASenderThatLeavesRightAfterItsHandshakeIsCountedAndChecked) {
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  SSL_CTX* mof = ClientContext(pki_->dir(), "mof");
  SSL_CTX* stranger = ClientContext(pki_->dir(), "stranger");
  EXPECT_TRUE(HandshakeAndLeave(mof, gsocd.port("tls")));
  EXPECT_TRUE(HandshakeAndLeave(stranger, gsocd.port("tls")));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_tls_handshakes_total", {{"listener", "tls"}, {"result", "ok"}},
                               1, Scaled(10s)))
      << gsocd.Scrape();
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_tls_handshakes_total",
                               {{"listener", "tls"}, {"result", "unknown_identity"}}, 1,
                               Scaled(10s)))
      << gsocd.Scrape();
  SSL_CTX_free(mof);
  SSL_CTX_free(stranger);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST_F(E2eTls, AThousandConcurrentSenders) {
  RaiseFileLimit(4096);
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  SSL_CTX* ctx = ClientContext(pki_->dir(), "mof");
  constexpr int kClients = 1000;
  std::vector<std::unique_ptr<TlsClient>> clients;
  const auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TlsClient>(ctx, gsocd.port("tls")));
    ASSERT_TRUE(clients.back()->ok()) << "client " << i;
  }
  const double handshake_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(gsocd.Metric("gsoc_connections", {{"listener", "tls"}}), kClients);
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(clients[i]->Send(
        OctetCounted("<34>1 2026-12-03T10:00:00Z host app - - - client " + std::to_string(i))));
  }
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_processed_total", {}, kClients, Scaled(30s)));
  std::printf("[e2e] %d TLS connections open at once; handshakes %.0f/s (one client thread)\n",
              kClients, kClients / handshake_seconds);
  clients.clear();
  SSL_CTX_free(ctx);
  EXPECT_EQ(gsocd.Metric("gsoc_tls_handshakes_total", {{"listener", "tls"}, {"result", "ok"}}),
            kClients);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST_F(E2eTls, SighupReloadsTheCertificateWithoutDroppingConnections) {
  // gsocd reads its certificate from copies the test can replace.
  TempDir dir;
  std::filesystem::copy_file(*pki_ / "server.crt", dir / "server.crt");
  std::filesystem::copy_file(*pki_ / "server.key", dir / "server.key");
  std::string config = Config();
  for (const char* name : {"server.crt", "server.key"}) {
    const std::string from = (*pki_ / name).string();
    config.replace(config.find(from), from.size(), (dir / name).string());
  }
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({config}));
  SSL_CTX* ctx = ClientContext(pki_->dir(), "mof");
  TlsClient before(ctx, gsocd.port("tls"));
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(before.Send(OctetCounted("<34>1 2026-12-03T10:00:00Z host app - - - before")));

  pki_->Issue("server2", "/CN=gsoc-renewed.test", "server");
  std::filesystem::copy_file(*pki_ / "server2.crt", dir / "server.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(*pki_ / "server2.key", dir / "server.key",
                             std::filesystem::copy_options::overwrite_existing);
  ::kill(gsocd.pid(), SIGHUP);
  // A new connection sees the renewed certificate.
  bool renewed = false;
  for (int attempt = 0; attempt < 50 && !renewed; ++attempt) {
    const RunResult probe = SClient(gsocd.port("tls"), "mof", "", {"-showcerts"});
    renewed = probe.output.find("gsoc-renewed.test") != std::string::npos;
    if (!renewed) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(renewed) << gsocd.Stderr();
  // The connection made before the reload still delivers.
  ASSERT_TRUE(before.Send(OctetCounted("<34>1 2026-12-03T10:00:01Z host app - - - after")));
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_received_total",
                               {{"listener", "tls"}, {"agency", "mof"}}, 2, Scaled(10s)));
  SSL_CTX_free(ctx);
  EXPECT_EQ(gsocd.Stop(), 0);
}

// rsyslog (imtcp in, omfwd with the gtls driver out, mutual TLS) and
// syslog-ng (network() in, syslog() with tls() out) each forward 1,000
// messages that the test sends them in plain TCP.
void ExpectForwarded(Gsocd& gsocd, uint16_t input_port, const std::string& tag, int messages,
                     const std::function<std::string()>& diagnostics) {
  std::string lines;
  for (int i = 0; i < messages; ++i) {
    lines += "<13>Dec  3 10:00:00 host " + tag + ": message " + std::to_string(i) + "\n";
  }
  Fd fd(ConnectTcp(input_port));
  ASSERT_TRUE(SendAll(fd.get(), lines));
  fd.Close();
  EXPECT_TRUE(gsocd.WaitMetric("gsoc_events_received_total",
                               {{"listener", "tls"}, {"agency", "mof"}}, messages, Scaled(60s)))
      << gsocd.Scrape() << diagnostics();
  EXPECT_EQ(gsocd.Metric("gsoc_events_received_total"), messages);
}

TEST_F(E2eTls, RsyslogGtlsDeliversEveryMessage) {
  const char* rsyslogd = "/usr/sbin/rsyslogd";
  if (!std::filesystem::exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")) {
    GTEST_FAIL() << "rsyslog-gnutls is not installed (deploy/packages.txt)";
  }
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  TempDir dir;
  std::filesystem::create_directories(dir / "work");
  const uint16_t input = FreePort();
  const TestPki& p = *pki_;
  const std::string conf =
      "global(workDirectory=\"" + (dir / "work").string() +
      "\"\n"
      "  DefaultNetstreamDriver=\"gtls\"\n"
      "  DefaultNetstreamDriverCAFile=\"" +
      (p / "ca.crt").string() +
      "\"\n"
      "  DefaultNetstreamDriverCertFile=\"" +
      (p / "mof.crt").string() +
      "\"\n"
      "  DefaultNetstreamDriverKeyFile=\"" +
      (p / "mof.key").string() +
      "\")\n"
      "module(load=\"imtcp\")\n"
      "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" +
      std::to_string(input) +
      "\" ruleset=\"forward\")\n"
      "ruleset(name=\"forward\") {\n"
      "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" +
      std::to_string(gsocd.port("tls")) +
      "\" protocol=\"tcp\" StreamDriver=\"gtls\" StreamDriverMode=\"1\"\n"
      "         StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\"\n"
      "         TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\"\n"
      "         queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\" "
      "action.resumeInterval=\"1\")\n"
      "}\n"
      "*.* action(type=\"omfile\" file=\"" +
      (dir / "internal.log").string() + "\")\n";
  WriteFile(dir / "rsyslog.conf", conf);
  const RunResult check = RunProgram({rsyslogd, "-N1", "-f", (dir / "rsyslog.conf").string()});
  ASSERT_EQ(check.exit_code, 0) << check.output << conf;
  Process process({rsyslogd, "-n", "-f", (dir / "rsyslog.conf").string(), "-i",
                   (dir / "rsyslogd.pid").string()},
                  SpawnOptions{{}, {}, dir / "rsyslogd.out", {}});
  ASSERT_TRUE(WaitTcpListening(input, Scaled(20s))) << ReadFile(dir / "rsyslogd.out");
  ExpectForwarded(gsocd, input, "rsyslog", 1000, [&] {
    return "\nrsyslogd:\n" + ReadFile(dir / "rsyslogd.out") + ReadFile(dir / "internal.log");
  });
  process.Stop(10s);
  EXPECT_EQ(gsocd.Stop(), 0);
}

TEST_F(E2eTls, SyslogNgTlsDeliversEveryMessage) {
  // syslog-ng conflicts with rsyslog as a package: deploy/setup.sh unpacks
  // Debian's syslog-ng-core here instead of installing it.
  const std::filesystem::path root = "/opt/gsoc-test-tools/syslog-ng-core";
  const std::string syslog_ng = (root / "usr/sbin/syslog-ng").string();
  ASSERT_TRUE(std::filesystem::exists(syslog_ng)) << "run deploy/setup.sh test (syslog-ng-core)";
  Gsocd gsocd;
  ASSERT_TRUE(gsocd.Start({Config()}));
  TempDir dir;
  const uint16_t input = FreePort();
  const TestPki& p = *pki_;
  const std::string conf =
      "@version: 3.38\n"
      "options { keep-hostname(yes); stats-freq(0); };\n"
      "source s_in { network(ip(\"127.0.0.1\") port(" +
      std::to_string(input) +
      ") transport(\"tcp\") flags(no-parse)); };\n"
      "destination d_gsoc { syslog(\"127.0.0.1\" port(" +
      std::to_string(gsocd.port("tls")) + ") transport(\"tls\") tls(ca-file(\"" +
      (p / "ca.crt").string() + "\") key-file(\"" + (p / "mof.key").string() + "\") cert-file(\"" +
      (p / "mof.crt").string() +
      "\") peer-verify(required-trusted))); };\n"
      "log { source(s_in); destination(d_gsoc); };\n";
  WriteFile(dir / "syslog-ng.conf", conf);
  Process process(
      {"/usr/bin/env", "LD_LIBRARY_PATH=" + (root / "usr/lib/syslog-ng").string(), syslog_ng, "-F",
       "--no-caps", "--module-path=" + (root / "usr/lib/syslog-ng/3.38").string(), "-f",
       (dir / "syslog-ng.conf").string(), "-R", (dir / "syslog-ng.persist").string(), "-p",
       (dir / "syslog-ng.pid").string(), "-c", (dir / "syslog-ng.ctl").string()},
      SpawnOptions{{}, {}, dir / "syslog-ng.out", {}});
  ASSERT_TRUE(WaitTcpListening(input, Scaled(20s))) << ReadFile(dir / "syslog-ng.out");
  ExpectForwarded(gsocd, input, "syslogng", 1000,
                  [&] { return "\nsyslog-ng:\n" + ReadFile(dir / "syslog-ng.out"); });
  process.Stop(10s);
  EXPECT_EQ(gsocd.Stop(), 0);
}

}  // namespace
}  // namespace gsoc::e2e
