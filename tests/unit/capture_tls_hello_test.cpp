// TLS hellos from the first bytes of a stream: what a passive capture can say
// about a SPICE TLS channel (version, server name), and nothing at all from bytes
// that are cut short, malformed or not TLS.
#include <gtest/gtest.h>

#include <random>

#include "capture/tls_hello.hpp"
#include "capture_test_packets.hpp"

namespace {

using namespace sc::test;
namespace tls = sc::capture::tls;

TEST(CaptureTlsHello, Tls12ClientHelloGivesLegacyVersionAndSni) {
  const auto bytes = client_hello({.legacy_version = 0x0303, .sni = "spice.example.org"});
  const auto r = tls::parse_hello(bytes);
  ASSERT_EQ(r.status, tls::HelloStatus::Done);
  EXPECT_EQ(r.hello.kind, tls::HelloKind::Client);
  EXPECT_EQ(r.hello.version, 0x0303);
  EXPECT_FALSE(r.hello.has_supported_versions);
  EXPECT_EQ(r.hello.sni, "spice.example.org");
  EXPECT_EQ(tls::version_name(r.hello.version), "TLS 1.2");
}

TEST(CaptureTlsHello, Tls13ClientHelloTakesTheHighestSupportedVersionIgnoringGrease) {
  const auto bytes = client_hello({.legacy_version = 0x0303, .sni = "localhost",
                                   .versions = {0x3a3a, 0x0302, 0x0304, 0x7f1c, 0x0303}});
  const auto r = tls::parse_hello(bytes);
  ASSERT_EQ(r.status, tls::HelloStatus::Done);
  EXPECT_TRUE(r.hello.has_supported_versions);
  EXPECT_EQ(r.hello.version, 0x0304);
  EXPECT_EQ(r.hello.legacy_version, 0x0303);
  EXPECT_EQ(r.hello.sni, "localhost");
}

TEST(CaptureTlsHello, ClientHelloWithoutSniOrExtensions) {
  auto body = client_hello_body({});
  // Drop the extensions block entirely: a TLS 1.0-era hello ends after compression.
  body.resize(2 + 32 + 1 + 32 + 2 + 6 + 2);
  const auto bytes = handshake_records(handshake_message(1, body));
  const auto r = tls::parse_hello(bytes);
  ASSERT_EQ(r.status, tls::HelloStatus::Done);
  EXPECT_EQ(r.hello.sni, "");
  EXPECT_EQ(r.hello.version, 0x0303);
}

TEST(CaptureTlsHello, ServerHelloVersions) {
  {
    const auto r = tls::parse_hello(server_hello(0x0303, 0));
    ASSERT_EQ(r.status, tls::HelloStatus::Done);
    EXPECT_EQ(r.hello.kind, tls::HelloKind::Server);
    EXPECT_EQ(r.hello.version, 0x0303);
  }
  {
    const auto r = tls::parse_hello(server_hello(0x0303, 0x0304));
    ASSERT_EQ(r.status, tls::HelloStatus::Done);
    EXPECT_EQ(r.hello.version, 0x0304);
    EXPECT_TRUE(r.hello.has_supported_versions);
    EXPECT_EQ(tls::version_name(r.hello.version), "TLS 1.3");
  }
}

TEST(CaptureTlsHello, HelloSplitOverRecordsAndFollowedByMore) {
  const ClientHelloSpec spec{.sni = "split.example", .versions = {0x0304, 0x0303}};
  const size_t msg = handshake_message(1, client_hello_body(spec)).size();
  auto bytes = client_hello(spec, 30);
  ASSERT_GE((msg + 29) / 30, 4u);  // really in several records
  // What follows the hello in the stream (here: a change_cipher_spec record) does not matter.
  const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
  bytes.insert(bytes.end(), std::begin(ccs), std::end(ccs));
  const auto r = tls::parse_hello(bytes);
  ASSERT_EQ(r.status, tls::HelloStatus::Done);
  EXPECT_EQ(r.hello.sni, "split.example");
  EXPECT_EQ(r.hello.version, 0x0304);
}

TEST(CaptureTlsHello, EveryTruncationNeedsMoreAndNeverReadsPastTheEnd) {
  for (const auto& full : {client_hello({.sni = "a.example", .versions = {0x0304}}, 40), server_hello(0x0303, 0x0304)}) {
    for (size_t n = 0; n < full.size(); ++n) {
      // A copy of exactly n bytes, so ASan sees any read beyond it.
      const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
      EXPECT_EQ(tls::parse_hello(cut).status, tls::HelloStatus::NeedMore) << "at " << n;
    }
    EXPECT_EQ(tls::parse_hello(full).status, tls::HelloStatus::Done);
  }
}

TEST(CaptureTlsHello, MalformedHellosAreInvalid) {
  // An extension whose length runs past the extensions block.
  auto body = client_hello_body({.sni = "x.example"});
  body[body.size() - 8] = 0xff;  // the length of the last extension (supported_groups)
  EXPECT_EQ(tls::parse_hello(handshake_records(handshake_message(1, body))).status, tls::HelloStatus::Invalid);
  // Session id longer than 32 bytes.
  body = client_hello_body({});
  body[34] = 33;
  EXPECT_EQ(tls::parse_hello(handshake_records(handshake_message(1, body))).status, tls::HelloStatus::Invalid);
  // A handshake message that is not a hello (certificate, type 11).
  EXPECT_EQ(tls::parse_hello(handshake_records(handshake_message(11, {1, 2, 3}))).status, tls::HelloStatus::Invalid);
  // A hello announcing 16 MiB.
  std::vector<uint8_t> huge = {22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff};
  EXPECT_EQ(tls::parse_hello(huge).status, tls::HelloStatus::Invalid);
  // A record longer than TLS allows.
  std::vector<uint8_t> long_record = {22, 3, 1, 0x50, 0x00, 1};
  EXPECT_EQ(tls::parse_hello(long_record).status, tls::HelloStatus::Invalid);
  // SPICE, HTTP.
  EXPECT_EQ(tls::parse_hello(redq_link()).status, tls::HelloStatus::Invalid);
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(tls::parse_hello(bytes_of(http)).status, tls::HelloStatus::Invalid);
  EXPECT_FALSE(tls::looks_like_tls_record(redq_link()));
}

TEST(CaptureTlsHello, OddSniBytesAreEscapedAndTheNameBounded) {
  const auto r = tls::parse_hello(client_hello({.sni = std::string("a\x01 b\\", 5)}));
  ASSERT_EQ(r.status, tls::HelloStatus::Done);
  EXPECT_EQ(r.hello.sni, "a\\x01\\x20b\\x5c");
  const auto odd = tls::parse_hello(client_hello({.sni = std::string(1000, '\x7f')}));
  ASSERT_EQ(odd.status, tls::HelloStatus::Done);
  EXPECT_EQ(odd.hello.sni.size(), 252u);  // 63 escapes of 4 characters
}

TEST(CaptureTlsHello, RandomBytesNeverCrashAndRarelyPass) {
  std::mt19937 rng(1234);
  int done = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b(rng() % 300);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    // Half of them start like a handshake record, to get past the first checks.
    if (i % 2 && b.size() >= 6) {
      b[0] = 22;
      b[1] = 3;
      b[2] = 1;
      b[3] = 0;
      b[5] = static_cast<uint8_t>(1 + (i & 2) / 2);
    }
    done += tls::parse_hello(b).status == tls::HelloStatus::Done;
  }
  EXPECT_EQ(done, 0);
  // Mutations of a real layout: each single-byte change parses or is refused, safely.
  const auto good = client_hello({.sni = "m.example", .versions = {0x0304, 0x0303}});
  for (size_t at = 0; at < good.size(); ++at) {
    auto m = good;
    m[at] ^= 0xff;
    const auto r = tls::parse_hello(m);
    if (r.status == tls::HelloStatus::Done) {
      EXPECT_LE(r.hello.sni.size(), 255u);
    }
  }
}

TEST(CaptureTlsHello, VersionNames) {
  EXPECT_EQ(tls::version_name(0x0300), "SSL 3.0");
  EXPECT_EQ(tls::version_name(0x0301), "TLS 1.0");
  EXPECT_EQ(tls::version_name(0x0302), "TLS 1.1");
  EXPECT_EQ(tls::version_name(0x7f1c), "TLS 1.3 (draft 28)");
  EXPECT_EQ(tls::version_name(0xfefd), "0xfefd");
  EXPECT_EQ(tls::version_name(0), "");
}

}  // namespace
