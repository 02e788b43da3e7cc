// record_bench: the recorder against a direct TCP connection, in the same run.
//
// The traffic is a real display channel recorded earlier (its link stage and its
// messages, read from a store with --from-db): a fake server replays the
// server's bytes as fast as the connection takes them, the display messages
// looped until --mb MiB have gone, and a fake client reads them. Three paths:
//   direct     client -> server on loopback
//   relay      through capture::Relay in this process, observer discarding (the
//              relay's own cost)
//   recorder   through `spice-capture record` (decode and store included),
//              started as a child: its peak RSS and CPU come from wait4()
// Then a round-trip test: the server sends display.ping, the client answers
// pong, --pings times; p50/p99 round trip direct and through the recorder.
//
//   record_bench --spice-capture build/bin/spice-capture --from-db rec.db --mb 1024
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "capture/relay.hpp"
#include "store/stream_reader.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Streams {
  std::vector<uint8_t> client_link, server_link;  // up to the first data message of each direction
  std::vector<uint8_t> server_messages;           // the server's data messages, whole
};

sc::Result<Streams> load(const std::string& path) {
  auto db = sc::store::Database::open(path, sc::store::Database::Mode::ReadOnly);
  if (!db) return db.error();
  auto pick = db->query(
      "SELECT c.id FROM channels c WHERE c.type_name = 'display' AND c.header = 'mini' ORDER BY c.s2c_bytes DESC "
      "LIMIT 1");
  if (!pick || pick->rows.empty()) return sc::make_error(path + ": no display channel with a mini header");
  const int64_t ch = std::get<int64_t>(pick->rows[0][0]);
  auto first_data = [&](int dir) -> int64_t {
    auto t = db->query("SELECT MIN(stream_offset) FROM messages WHERE channel = ?1 AND direction = ?2 AND name NOT "
                       "LIKE 'link.%'",
                       {ch, std::string(dir ? "s2c" : "c2s")});
    return t && !t->rows.empty() && std::holds_alternative<int64_t>(t->rows[0][0]) ? std::get<int64_t>(t->rows[0][0])
                                                                                   : -1;
  };
  auto bytes = [&](int dir) {
    std::vector<uint8_t> out;
    sc::store::StreamReader r(*db, ch, dir);
    sc::store::StreamPiece p;
    while (true) {
      auto more = r.next(p);
      if (!more || !*more) break;
      out.insert(out.end(), p.bytes.begin(), p.bytes.end());
    }
    return out;
  };
  const int64_t c0 = first_data(0), s0 = first_data(1);
  if (c0 < 0 || s0 < 0) return sc::make_error(path + ": the display channel has no data messages both ways");
  const auto c2s = bytes(0), s2c = bytes(1);
  Streams s;
  s.client_link.assign(c2s.begin(), c2s.begin() + c0);
  s.server_link.assign(s2c.begin(), s2c.begin() + s0);
  s.server_messages.assign(s2c.begin() + s0, s2c.end());
  return s;
}

int listen_any(uint16_t& port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(s, 8);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return s;
}

int connect_to(uint16_t port) {
  for (int i = 0; i < 100; ++i) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      int one = 1;
      setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return s;
    }
    close(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n) {
    const ssize_t w = write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_exact(int fd, uint8_t* p, size_t n) {
  while (n) {
    const ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// One bulk transfer through whatever listens on `port`, served by a fake server on
// `server_fd`. Returns MB/s (10^6 bytes) of server bytes delivered to the client.
double bulk(const Streams& s, int server_fd, uint16_t port, uint64_t total) {
  uint64_t delivered = 0;
  std::thread server([&] {
    const int c = accept(server_fd, nullptr, nullptr);
    std::vector<uint8_t> link(s.client_link.size());
    read_exact(c, link.data(), link.size());
    write_all(c, s.server_link.data(), s.server_link.size());
    uint64_t sent = 0;
    while (sent < total) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(s.server_messages.size(), total - sent));
      if (n < s.server_messages.size()) break;  // whole message runs only
      if (!write_all(c, s.server_messages.data(), n)) break;
      sent += n;
    }
    close(c);
  });
  const int c = connect_to(port);
  write_all(c, s.client_link.data(), s.client_link.size());
  std::vector<uint8_t> buf(1 << 20);
  const auto t0 = Clock::now();
  for (;;) {
    const ssize_t n = read(c, buf.data(), buf.size());
    if (n <= 0) break;
    delivered += static_cast<uint64_t>(n);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  close(c);
  server.join();
  return delivered / secs / 1e6;
}

// display.ping (server) / display.pong (client) with mini headers, `count` times;
// round trips in microseconds, measured at the server.
std::vector<double> pings(const Streams& s, int server_fd, uint16_t port, int count) {
  std::vector<double> rtt;
  std::thread client([&] {
    const int c = connect_to(port);
    write_all(c, s.client_link.data(), s.client_link.size());
    std::vector<uint8_t> link(s.server_link.size());
    read_exact(c, link.data(), link.size());
    uint8_t msg[6 + 12];
    for (int i = 0; i < count; ++i) {
      if (!read_exact(c, msg, sizeof msg)) break;
      msg[0] = 3;  // SPICE_MSGC_PONG, same body
      if (!write_all(c, msg, sizeof msg)) break;
    }
    close(c);
  });
  const int c = accept(server_fd, nullptr, nullptr);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<uint8_t> link(s.client_link.size());
  read_exact(c, link.data(), link.size());
  write_all(c, s.server_link.data(), s.server_link.size());
  for (int i = 0; i < count; ++i) {
    uint8_t msg[6 + 12] = {4, 0, 12, 0, 0, 0};  // SPICE_MSG_PING: id u32, timestamp u64
    std::memcpy(msg + 6, &i, 4);
    const auto t0 = Clock::now();
    write_all(c, msg, sizeof msg);
    if (!read_exact(c, msg, sizeof msg)) break;
    rtt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  close(c);
  client.join();
  std::sort(rtt.begin(), rtt.end());
  return rtt;
}

double pct(const std::vector<double>& v, double p) {
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct Child {
  pid_t pid = -1;
  uint16_t port = 0;
};

// `spice-capture record` in front of `upstream`; its listening port from its first line.
Child start_recorder(const std::string& sc, const std::string& db, uint16_t upstream) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  Child ch;
  ch.pid = fork();
  if (ch.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    const std::string server = "127.0.0.1:" + std::to_string(upstream);
    execl(sc.c_str(), sc.c_str(), "record", "--server", server.c_str(), "--port", "0", "--db", db.c_str(), "-q",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  const size_t at = line.find("spice://127.0.0.1:");
  if (at != std::string::npos) ch.port = static_cast<uint16_t>(std::stoi(line.substr(at + 18)));
  return ch;
}

struct Usage {
  double cpu_s = 0;
  long max_rss_kb = 0;
};

Usage stop_recorder(const Child& ch) {
  kill(ch.pid, SIGINT);
  int status = 0;
  rusage ru{};
  wait4(ch.pid, &status, 0, &ru);
  return {ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
          ru.ru_maxrss};
}

struct Discard : sc::capture::RelayObserver {
  void on_open(const sc::capture::RelayedConnection&, uint64_t) override {}
  void on_bytes(uint32_t, sc::schema::Direction, std::span<const uint8_t>, uint64_t) override {}
  void on_close(uint32_t, uint64_t, const std::string&, std::optional<sc::schema::Direction>) override {}
  void on_refused(const sc::capture::Endpoint&, uint64_t, const std::string&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"record_bench: the recorder against direct TCP on loopback, same run"};
  std::string sc, from_db, work = "/tmp";
  uint64_t mb = 1024;
  int count = 10000;
  app.add_option("--spice-capture", sc, "the spice-capture binary")->required();
  app.add_option("--from-db", from_db, "a store holding a display channel to replay")->required();
  app.add_option("--mb", mb, "MiB of server bytes per bulk run")->capture_default_str();
  app.add_option("--pings", count, "round trips per latency run")->capture_default_str();
  app.add_option("--work-dir", work, "where the recorder's database goes")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);

  auto streams = load(from_db);
  if (!streams) {
    std::fprintf(stderr, "record_bench: %s\n", streams.error().message.c_str());
    return 1;
  }
  const uint64_t total = mb << 20;
  std::printf("display stream: %zu bytes of link, %zu bytes of messages looped to %llu MiB\n",
              streams->server_link.size(), streams->server_messages.size(), static_cast<unsigned long long>(mb));

  uint16_t port = 0;
  const int server_fd = listen_any(port);

  const double direct = bulk(*streams, server_fd, port, total);

  auto relay = sc::capture::Relay::create({.plain_port = 0, .plain_upstream = sc::capture::HostPort{"127.0.0.1", port}});
  if (!relay) return std::fprintf(stderr, "record_bench: %s\n", relay.error().message.c_str()), 1;
  Discard discard;
  std::thread relay_thread([&] { (*relay)->run(discard); });
  const double relayed = bulk(*streams, server_fd, (*relay)->plain_port(), total);
  (*relay)->stop();
  relay_thread.join();

  const std::string db = work + "/record_bench.db";
  std::filesystem::remove(db);
  Child rec = start_recorder(sc, db, port);
  if (rec.port == 0) return std::fprintf(stderr, "record_bench: the recorder did not start\n"), 1;
  const double recorded = bulk(*streams, server_fd, rec.port, total);
  const Usage use = stop_recorder(rec);

  const auto rtt_direct = pings(*streams, server_fd, port, count);
  Child rec2 = start_recorder(sc, db + ".ping", port);
  const auto rtt_rec = pings(*streams, server_fd, rec2.port, count);
  stop_recorder(rec2);
  close(server_fd);

  const double gb = total / 1e9;
  std::printf("\nbulk, %llu MiB server to client (MB/s = 10^6 bytes/s):\n", static_cast<unsigned long long>(mb));
  std::printf("  direct TCP              %8.1f MB/s\n", direct);
  std::printf("  relay only (in process) %8.1f MB/s  %5.1f%% of direct\n", relayed, 100 * relayed / direct);
  std::printf("  spice-capture record    %8.1f MB/s  %5.1f%% of direct\n", recorded, 100 * recorded / direct);
  std::printf("  recorder CPU            %8.2f s per GB relayed and stored\n", use.cpu_s / gb);
  std::printf("  recorder peak RSS       %8.1f MB\n", use.max_rss_kb / 1024.0);
  std::printf("  database                %8.1f MB\n", std::filesystem::file_size(db) / 1e6);
  std::printf("\nround trip, display ping -> pong, %d times (microseconds):\n", count);
  std::printf("  direct TCP              p50 %7.1f  p99 %7.1f\n", pct(rtt_direct, 0.5), pct(rtt_direct, 0.99));
  std::printf("  spice-capture record    p50 %7.1f  p99 %7.1f\n", pct(rtt_rec, 0.5), pct(rtt_rec, 0.99));
  std::printf("  added by the recorder   p50 %7.1f  p99 %7.1f\n", pct(rtt_rec, 0.5) - pct(rtt_direct, 0.5),
              pct(rtt_rec, 0.99) - pct(rtt_direct, 0.99));
  std::filesystem::remove(db);
  std::filesystem::remove(db + ".ping");
  return 0;
}
