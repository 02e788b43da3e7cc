// TLS and ticketing: a private CA made by `serve --make-test-ca`, a TLS-only
// server that requires a ticket, a client that trusts the CA (spicy-screenshot
// with SSL_CERT_FILE, and SpiceClientGLib with ca-file), and a wrong ticket
// that must be refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "qxl-sim/framebuffer.hpp"
#include "tests/server/serve_process.hpp"

namespace sc::test {
namespace {

TEST(Tls, MakeTestCaWritesTheFilesServeNeeds) {
  const std::string dir = make_temp_dir("ca");
  const RunResult r = run({serve_binary(), "serve", "--make-test-ca", dir}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"ca-cert.pem", "ca-key.pem", "server-cert.pem", "server-key.pem"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  // OpenSSL itself accepts the chain and the name the clients connect to.
  const RunResult v = run({"openssl", "verify", "-CAfile", dir + "/ca-cert.pem", "-verify_ip", "127.0.0.1",
                           dir + "/server-cert.pem"},
                          20s);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  std::filesystem::remove_all(dir);
}

class TlsServer : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_dir_ = make_temp_dir("tls");
    ASSERT_EQ(run({serve_binary(), "serve", "--make-test-ca", ca_dir_}, 60s).exit_code, 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(ca_dir_); }
  static std::string ca_dir_;
};
std::string TlsServer::ca_dir_;

TEST_F(TlsServer, TicketedTlsOnlyServerShowsTheFrameAndRefusesWrongTicket) {
  const std::string expected = ca_dir_ + "/expected.ppm", shot = ca_dir_ + "/shot.ppm";
  ServeProcess serve({"--port", "-1", "--tls-port", "0", "--tls-dir", ca_dir_, "--secure-channels", "all", "--ticket",
                      "s3cret", "--frames", "30", "--fps", "60", "--expect-ppm", expected},
                     60s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  ASSERT_GT(serve.tls_port(), 0);
  ASSERT_TRUE(serve.wait_event("workload.expected_frame", 20s));
  const std::string env = "SSL_CERT_FILE=" + ca_dir_ + "/ca-cert.pem";
  const std::string tls_port = std::to_string(serve.tls_port());

  const RunResult ok = run({"spicy-screenshot", "-h", "127.0.0.1", "-s", tls_port, "-w", "s3cret", "-o", shot},
                           30s, {env});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  qxl::Size a, b;
  std::vector<uint32_t> pa, pb;
  ASSERT_TRUE(qxl::read_ppm(expected, a, pa));
  ASSERT_TRUE(qxl::read_ppm(shot, b, pb));
  EXPECT_EQ(a, b);
  EXPECT_TRUE(pa == pb) << "TLS screenshot differs from the expected frame";
  // Every channel of that session ran over TLS.
  auto inits = serve.events("channel.initialized");
  ASSERT_FALSE(inits.empty());
  for (const Json& e : inits) EXPECT_EQ(e["tls"], true) << e.dump();

  // A wrong ticket: spicy-screenshot fails and writes nothing.
  std::filesystem::remove(shot);
  const RunResult bad = run({"spicy-screenshot", "-h", "127.0.0.1", "-s", tls_port, "-w", "wrong", "-o", shot},
                            30s, {env});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(shot));

  // SpiceClientGLib with the CA file: right ticket connects, wrong one gets error-auth.
  const std::string uri = "spice://127.0.0.1?tls-port=" + tls_port;
  const std::string script = source_dir() + "/tests/server/spice_client.py";
  const RunResult good = run({"/usr/bin/python3", script, "--uri", uri, "--password", "s3cret", "--ca-file",
                              ca_dir_ + "/ca-cert.pem", "--steps", ""},
                             60s);
  EXPECT_NE(good.output.find("\"connected\": true"), std::string::npos) << good.output;
  const RunResult wrong = run({"/usr/bin/python3", script, "--uri", uri, "--password", "nope", "--ca-file",
                               ca_dir_ + "/ca-cert.pem", "--steps", ""},
                              60s);
  EXPECT_NE(wrong.output.find("\"main_error\": \"error-auth\""), std::string::npos) << wrong.output;
  EXPECT_EQ(serve.stop(), 0);
}

TEST_F(TlsServer, PlainPortIsRefusedForSecureChannels) {
  ServeProcess serve({"--port", "0", "--tls-port", "0", "--tls-dir", ca_dir_, "--secure-channels", "all",
                      "--fps", "5"},
                     30s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  ASSERT_GT(serve.port(), 0);
  // A client that only knows the plain port cannot open the main channel.
  const RunResult r = run({"spicy-screenshot", "-h", "127.0.0.1", "-p", std::to_string(serve.port()), "-o",
                           ca_dir_ + "/plain.ppm"},
                          20s);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(serve.events("channel.initialized").empty());
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace sc::test
