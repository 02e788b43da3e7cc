// The recording proxy's relay on loopback sockets: bytes pass unchanged and in
// order both ways, a reader that stops holds the sender back (nothing piles up
// in the relay), half-closes pass through, an unreachable server is reported
// with both ends named, and the observer sees exactly what was relayed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <thread>

#include "capture/relay.hpp"

namespace sc::capture {
namespace {

using schema::Direction;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

Fd listen_any(uint16_t& port) {
  Fd s(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(s.fd, 8), 0);
  socklen_t len = sizeof a;
  getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return s;
}

Fd connect_to(uint16_t port) {
  Fd s(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return s;
}

void write_all(int fd, const std::vector<uint8_t>& b) {
  size_t at = 0;
  while (at < b.size()) {
    const ssize_t n = write(fd, b.data() + at, b.size() - at);
    ASSERT_GT(n, 0);
    at += static_cast<size_t>(n);
  }
}

std::vector<uint8_t> read_to_end(int fd) {
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Records what the relay reports.
struct Seen : RelayObserver {
  void on_open(const RelayedConnection& c, uint64_t) override {
    std::lock_guard l(m);
    opened.push_back(c);
  }
  void on_bytes(uint32_t, Direction d, std::span<const uint8_t> b, uint64_t ts) override {
    std::lock_guard l(m);
    auto& v = bytes[d == Direction::C2S ? 0 : 1];
    v.insert(v.end(), b.begin(), b.end());
    EXPECT_GE(ts, last_ts);
    last_ts = ts;
  }
  void on_close(uint32_t, uint64_t, const std::string& h, std::optional<Direction> abrupt) override {
    std::lock_guard l(m);
    how.push_back(h);
    abrupt_ends += abrupt.has_value();
    closed = true;
  }
  void on_refused(const Endpoint&, uint64_t, const std::string& why) override {
    std::lock_guard l(m);
    refused.push_back(why);
  }
  std::mutex m;
  std::vector<RelayedConnection> opened;
  std::vector<uint8_t> bytes[2];
  std::vector<std::string> how, refused;
  uint64_t last_ts = 0;
  int abrupt_ends = 0;
  std::atomic<bool> closed{false};
};

// A relay on a free port in front of `upstream`, run on a thread of its own.
struct Running {
  explicit Running(uint16_t upstream) {
    RelayOptions o;
    o.plain_port = 0;
    o.plain_upstream = HostPort{"127.0.0.1", upstream};
    o.connect_timeout = std::chrono::milliseconds(2000);
    auto r = Relay::create(o);
    EXPECT_TRUE(r) << r.error().message;
    relay = std::move(*r);
    thread = std::thread([this] { relay->run(seen); });
  }
  ~Running() {
    relay->stop();
    thread.join();
  }
  Seen seen;
  std::unique_ptr<Relay> relay;
  std::thread thread;
};

TEST(Relay, BytesPassUnchangedBothWaysAndTheObserverSeesThem) {
  uint16_t port = 0;
  Fd server = listen_any(port);
  Running r(port);
  const auto up = random_bytes(3'000'000, 1), down = random_bytes(5'000'000, 2);
  Fd client = connect_to(r.relay->plain_port());
  Fd accepted(accept(server.fd, nullptr, nullptr));
  std::vector<uint8_t> at_server, at_client;
  std::thread s([&] {
    std::thread w([&] { write_all(accepted.fd, down); });
    at_server = read_to_end(accepted.fd);  // ends with the client's half-close
    w.join();
    shutdown(accepted.fd, SHUT_WR);
  });
  std::thread reader([&] { at_client = read_to_end(client.fd); });
  write_all(client.fd, up);
  shutdown(client.fd, SHUT_WR);
  reader.join();
  s.join();
  EXPECT_TRUE(at_server == up);
  EXPECT_TRUE(at_client == down);
  for (int i = 0; i < 200 && !r.seen.closed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard l(r.seen.m);
  ASSERT_EQ(r.seen.opened.size(), 1u);
  EXPECT_EQ(r.seen.opened[0].server.port, port);
  EXPECT_TRUE(r.seen.bytes[0] == up);
  EXPECT_TRUE(r.seen.bytes[1] == down);
  ASSERT_EQ(r.seen.how.size(), 1u);
  EXPECT_EQ(r.seen.how[0], "client closed first");
  EXPECT_EQ(r.seen.abrupt_ends, 0);
}

TEST(Relay, AReaderThatStopsHoldsTheSenderBack) {
  uint16_t port = 0;
  Fd server = listen_any(port);
  Running r(port);
  Fd client = connect_to(r.relay->plain_port());
  Fd accepted(accept(server.fd, nullptr, nullptr));
  // The server writes as fast as the relay takes; the client reads nothing for a while.
  fcntl(accepted.fd, F_SETFL, O_NONBLOCK);
  const auto block = random_bytes(1 << 16, 3);
  uint64_t written = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  while (std::chrono::steady_clock::now() < until && written < (256u << 20)) {
    const ssize_t n = write(accepted.fd, block.data(), block.size());
    if (n > 0) written += static_cast<uint64_t>(n);
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Only socket buffers (both legs) and the relay's one buffer can hold it.
  EXPECT_LT(written, 32u << 20) << "the relay kept reading from the server while the client read nothing";
  EXPECT_GT(written, 64u << 10);
  shutdown(accepted.fd, SHUT_WR);
  const auto got = read_to_end(client.fd);
  EXPECT_EQ(got.size(), written);
}

TEST(Relay, AnUnreachableServerIsReportedAndTheClientClosed) {
  uint16_t port = 0;
  { Fd gone = listen_any(port); }  // a port nobody listens on now
  Running r(port);
  Fd client = connect_to(r.relay->plain_port());
  EXPECT_TRUE(read_to_end(client.fd).empty());
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard l(r.seen.m);
      if (!r.seen.refused.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard l(r.seen.m);
  ASSERT_EQ(r.seen.refused.size(), 1u);
  EXPECT_NE(r.seen.refused[0].find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.seen.refused[0];
  EXPECT_NE(r.seen.refused[0].find("client 127.0.0.1:"), std::string::npos) << r.seen.refused[0];
  EXPECT_TRUE(r.seen.opened.empty());
}

TEST(Relay, AResetIsPassedOnAndReportedAsAbrupt) {
  uint16_t port = 0;
  Fd server = listen_any(port);
  Running r(port);
  Fd client = connect_to(r.relay->plain_port());
  Fd accepted(accept(server.fd, nullptr, nullptr));
  write_all(client.fd, random_bytes(1000, 4));
  uint8_t buf[1000];
  size_t got = 0;
  while (got < sizeof buf) {
    const ssize_t n = read(accepted.fd, buf + got, sizeof buf - got);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  linger lg{1, 0};
  setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(std::exchange(client.fd, -1));  // RST
  errno = 0;
  const ssize_t n = read(accepted.fd, buf, sizeof buf);
  EXPECT_LE(n, 0);
  EXPECT_EQ(errno, ECONNRESET) << "the server should see a reset, not a close";
  for (int i = 0; i < 200 && !r.seen.closed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard l(r.seen.m);
  EXPECT_EQ(r.seen.abrupt_ends, 1);
}

TEST(Relay, HostPortParsing) {
  auto a = parse_host_port("example.org:5900");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->port, 5900);
  auto b = parse_host_port("[::1]:5901");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->to_string(), "[::1]:5901");
  auto c = parse_host_port("5902");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "");
  EXPECT_FALSE(parse_host_port("host:0"));
  EXPECT_FALSE(parse_host_port("host:70000"));
  EXPECT_FALSE(parse_host_port("::1:5900"));
  EXPECT_NE(parse_host_port("::1:5900").error().message.find("[ADDRESS]:PORT"), std::string::npos);
}

}  // namespace
}  // namespace sc::capture
