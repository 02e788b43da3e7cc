// spice-capture record: the recording proxy (store/record.hpp) on the command line,
// optionally with our own server started behind it (--serve).
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/stop_signal.hpp"
#include "dissect/schema/secrets.hpp"
#include "server/test_ca.hpp"
#include "store/record.hpp"

namespace sc::cli {

namespace {

struct RecordArgs {
  std::string db = "spice-capture.db";
  std::string server, tls_server;
  std::string listen = "127.0.0.1";
  std::optional<uint16_t> port, tls_port;
  std::string cert, key, make_cert;
  std::string ca, server_name;
  bool no_verify = false;
  std::string serve;
  std::vector<std::string> serve_args;
  double duration = 0;
  uint64_t sessions = 0;
  std::optional<std::string> redact;
  bool json = false, quiet = false;
};

void say(const std::string& text) { std::cerr << "spice-capture record: " << text << '\n'; }

// `spice-capture serve` as a child process on ports it picks itself, stopped
// (SIGTERM, then SIGKILL) when the recording ends.
class ChildServer {
 public:
  static Result<ChildServer> start(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return make_error(std::string("cannot start the server: ") + std::strerror(errno));
    if (pid == 0) {
      // The server must not outlive a recorder that is killed.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    close(fds[1]);
    ChildServer c;
    c.pid_ = pid;
    c.out_ = fds[0];
    return c;
  }
  ChildServer() = default;
  ChildServer(ChildServer&& o) noexcept : pid_(std::exchange(o.pid_, 0)), out_(std::exchange(o.out_, -1)) {}
  ChildServer& operator=(ChildServer&&) = delete;
  ~ChildServer() { stop(); }

  // The first line it prints: "listening on spice://HOST:PORT[?tls-port=N]".
  Result<std::pair<uint16_t, uint16_t>> wait_listening(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return make_error("the server did not start listening within " + std::to_string(timeout.count()) + " ms");
      char buf[256];
      const ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) return make_error("the server exited before listening (see its messages above)");
      line.append(buf, static_cast<size_t>(n));
    }
    const size_t uri = line.find("spice://");
    const size_t colon = uri == std::string::npos ? uri : line.find(':', uri + 8);
    if (colon == std::string::npos) return make_error("unexpected first line from the server: " + line);
    const uint16_t port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    uint16_t tls = 0;
    if (const size_t t = line.find("tls-port="); t != std::string::npos)
      tls = static_cast<uint16_t>(std::stoi(line.substr(t + 9)));
    // Its later output is not ours to read; keep the pipe drained so it never blocks.
    drain_ = std::thread([fd = out_] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
    return std::make_pair(port, tls);
  }

  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      for (int i = 0; i < 50; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = 0;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = 0;
      }
    }
    if (drain_.joinable()) drain_.join();
    if (out_ >= 0) close(out_);
    out_ = -1;
  }

 private:
  pid_t pid_ = 0;
  int out_ = -1;
  std::thread drain_;
};

Result<capture::HostPort> host_port(const std::string& what, const std::string& text) {
  auto hp = capture::parse_host_port(text);
  if (!hp) return make_error(what + ": " + hp.error().message);
  if (hp->host.empty()) hp->host = "127.0.0.1";
  return hp;
}

std::string uri(const std::string& host, uint16_t port, uint16_t tls_port) {
  std::string u = "spice://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
  if (port) u += ":" + std::to_string(port);
  if (tls_port) u += "?tls-port=" + std::to_string(tls_port);
  return u;
}

int run_record(RecordArgs a) {
  store::RecordOptions options;
  if (a.redact) {
    std::string error;
    const auto mask = schema::parse_secret_classes(a.redact->empty() ? "all" : *a.redact, error);
    if (!mask) {
      say("--redact: " + error);
      return kExitUsage;
    }
    options.redact = *mask;
  }
  capture::RelayOptions& r = options.relay;
  r.listen_addr = a.listen;
  if (!a.server.empty()) {
    auto hp = host_port("--server", a.server);
    if (!hp) return say(hp.error().message), kExitUsage;
    r.plain_upstream = *hp;
  }
  if (!a.tls_server.empty()) {
    auto hp = host_port("--tls-server", a.tls_server);
    if (!hp) return say(hp.error().message), kExitUsage;
    r.tls_upstream = *hp;
  }
  if (a.serve.empty() && !r.plain_upstream && !r.tls_upstream) {
    say("say where the real server is: --server HOST:PORT and/or --tls-server HOST:PORT (or --serve SCENARIO)");
    return kExitUsage;
  }
  r.upstream_tls = {a.ca, a.server_name, !a.no_verify};
  if (a.no_verify && !a.quiet) say("warning: --no-verify: the server's certificate is not checked");

  // TLS towards clients: the user's certificate, or one made by the test CA.
  if (!a.make_cert.empty()) {
    const std::filesystem::path dir(a.make_cert);
    if (!std::filesystem::exists(dir / "server-cert.pem")) {
      if (auto st = server::make_test_ca(a.make_cert); !st) return say(st.error().message), kExitFailure;
      if (!a.quiet) say("made a test CA in " + a.make_cert + " (clients trust " + (dir / "ca-cert.pem").string() + ")");
    }
    a.cert = (dir / "server-cert.pem").string();
    a.key = (dir / "server-key.pem").string();
  }
  if (a.tls_port && (a.cert.empty() || a.key.empty())) {
    say("--tls-port needs the proxy's certificate: --cert FILE --key FILE, or --make-cert DIR");
    return kExitUsage;
  }
  if (!a.tls_port && !a.port) a.port = 5930;
  r.plain_port = a.port;
  r.tls_port = a.tls_port;
  r.cert_file = a.cert;
  r.key_file = a.key;

  // --serve: our server behind the recorder, on ports of its own; with a TLS port
  // when the proxy has one, using the same test CA.
  std::optional<ChildServer> child;
  if (!a.serve.empty()) {
    std::vector<std::string> args = {"spice-capture", "serve", "--scenario", a.serve, "--addr", "127.0.0.1",
                                     "--port", "0"};
    if (a.tls_port) {
      if (a.make_cert.empty()) {
        say("--serve with --tls-port needs --make-cert DIR (the server gets a certificate from the same test CA)");
        return kExitUsage;
      }
      args.insert(args.end(), {"--tls-port", "0", "--tls-dir", a.make_cert});
    }
    args.insert(args.end(), a.serve_args.begin(), a.serve_args.end());
    auto started = ChildServer::start(args);
    if (!started) return say(started.error().message), kExitNetwork;
    child.emplace(std::move(*started));
    auto ports = child->wait_listening(std::chrono::seconds(20));
    if (!ports) return say(ports.error().message), kExitNetwork;
    r.plain_upstream = capture::HostPort{"127.0.0.1", ports->first};
    if (ports->second) {
      r.tls_upstream = capture::HostPort{"127.0.0.1", ports->second};
      r.upstream_tls = {(std::filesystem::path(a.make_cert) / "ca-cert.pem").string(), "localhost", true};
    }
  }

  auto db = store::Database::open(a.db, store::Database::Mode::ReadWrite);
  if (!db) return say(db.error().message), kExitDatabase;
  if (a.duration > 0) options.duration = std::chrono::milliseconds(static_cast<int64_t>(a.duration * 1000));
  options.sessions = a.sessions;

  std::signal(SIGPIPE, SIG_IGN);
  StatusLine line(!a.quiet && !a.json && isatty(STDERR_FILENO));
  store::RecordControl control;
  control.cancel = &stop_on_signals();
  control.listening = [&](uint16_t port, uint16_t tls_port) {
    const std::string to = (r.plain_upstream ? r.plain_upstream->to_string() : std::string()) +
                           (r.tls_upstream ? std::string(r.plain_upstream ? ", TLS " : "TLS ") +
                                                 r.tls_upstream->to_string()
                                           : std::string());
    if (a.json) {
      nlohmann::json j = {{"event", "listening"}, {"uri", uri(a.listen, port, tls_port)}, {"port", port},
                          {"tls_port", tls_port}, {"server", to}, {"db", a.db}};
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "recording on " << uri(a.listen, port, tls_port) << " -> " << to << " into " << a.db
                << std::endl;
    }
  };
  control.notice = [&](const std::string& text) {
    if (a.json) {
      std::cout << nlohmann::json{{"event", "notice"}, {"text", text}}.dump() << std::endl;
    } else if (!a.quiet) {
      line.clear();
      say(text);
    }
  };
  control.status = [&](const store::RecordStatus& s) {
    line.show(std::to_string(s.open) + " open / " + std::to_string(s.connections) + " connections, " +
              std::to_string(s.messages) + " messages, client " + human_bytes(s.bytes[0]) + ", server " +
              human_bytes(s.bytes[1]) + (s.refused ? ", " + std::to_string(s.refused) + " refused" : ""));
  };

  auto result = store::record(*db, options, control);
  line.clear();
  if (child) child->stop();
  if (!result) {
    const bool db_error = result.error().message.rfind(a.db + ":", 0) == 0;
    say(result.error().message);
    return db_error ? kExitDatabase : kExitNetwork;
  }
  const store::RecordSummary& s = *result;
  if (a.json) {
    std::cout << nlohmann::json{{"event", "summary"},
                                {"capture_id", s.capture_id},
                                {"connections", s.totals.connections},
                                {"refused", s.totals.refused},
                                {"sessions_ended", s.totals.sessions_ended},
                                {"messages", s.totals.messages},
                                {"client_bytes", s.totals.bytes[0]},
                                {"server_bytes", s.totals.bytes[1]},
                                {"problems", s.problems},
                                {"abrupt_ends", s.abrupt_ends},
                                {"seconds", s.totals.seconds}}
                     .dump()
              << std::endl;
  } else if (!a.quiet) {
    std::cout << "recorded " << s.totals.connections - s.totals.refused << " channel connections ("
              << s.totals.sessions_ended << " sessions ended), " << s.totals.messages << " messages, client "
              << human_bytes(s.totals.bytes[0]) << ", server " << human_bytes(s.totals.bytes[1]) << ", "
              << s.problems << " problems -> " << a.db << " (capture " << s.capture_id << ")\n";
  }
  return kExitOk;
}

}  // namespace

void register_record(CLI::App& app) {
  auto a = std::make_shared<RecordArgs>();
  auto* cmd = app.add_subcommand("record", "Record sessions through a proxy in front of a real SPICE server (TLS too)");
  cmd->footer(
      "Point the client at the recorder instead of the server. Every channel of every\n"
      "session goes through it: the bytes are relayed unchanged and stored, decoded,\n"
      "in the same database as `import` (source 'proxy'). TLS is ended at the recorder\n"
      "on each leg, so TLS sessions are stored decrypted. The database can be queried\n"
      "while recording (it commits every second); Ctrl-C or SIGTERM stops the recorder\n"
      "and it exits 0. Migration is not followed: the client leaves the recorder for\n"
      "the address the server names (a `migration_not_followed` problem says when).\n\n"
      "Examples:\n"
      "  spice-capture record --server 127.0.0.1:5900 --port 5930 --db s.db\n"
      "      then: remote-viewer spice://127.0.0.1:5930\n"
      "  spice-capture record --tls-server vmhost:5901 --ca /etc/pki/ca-cert.pem \\\n"
      "      --tls-port 5931 --make-cert proxy-ca --db s.db\n"
      "      then: remote-viewer --spice-ca-file=proxy-ca/ca-cert.pem spice://localhost?tls-port=5931\n"
      "  spice-capture record --serve desktop --sessions 1 --db demo.db\n"
      "      our own server behind the recorder; stops when the first session ends\n"
      "  spice-capture sessions --db s.db     (in another terminal, while recording)\n\n"
      "A plain client connection goes to --server (else to --tls-server); a TLS one to\n"
      "--tls-server (else to --server: TLS is then ended at the recorder).\n\n"
      "Exit codes: 0 ok (also when stopped by Ctrl-C), 2 usage, 7 database error,\n"
      "9 cannot listen or start the server.");
  cmd->add_option("--db", a->db, "Database file (created if missing)")->envname("SPICE_CAPTURE_DB");
  cmd->add_option("--server", a->server, "The real server's plain port, HOST:PORT");
  cmd->add_option("--tls-server", a->tls_server, "The real server's TLS port, HOST:PORT");
  cmd->add_option("--listen", a->listen, "Address the recorder listens on")->capture_default_str();
  cmd->add_option("--port", a->port, "Plain port clients connect to (0 = any free port; default 5930)");
  cmd->add_option("--tls-port", a->tls_port, "TLS port clients connect to (0 = any free port)");
  cmd->add_option("--cert", a->cert, "The recorder's certificate (PEM, chain) for --tls-port");
  cmd->add_option("--key", a->key, "The recorder's private key (PEM) for --tls-port");
  cmd->add_option("--make-cert", a->make_cert,
                  "Use (or make, if missing) a test CA and certificate for localhost/127.0.0.1 in DIR; clients "
                  "trust DIR/ca-cert.pem");
  cmd->add_option("--ca", a->ca, "CA certificates the server's certificate must chain to (default: the system's)");
  cmd->add_option("--server-name", a->server_name, "Name the server's certificate must carry (default: its host)");
  cmd->add_flag("--no-verify", a->no_verify, "Accept any server certificate (testing only)");
  cmd->add_option("--serve", a->serve, "Start `spice-capture serve --scenario SCENARIO` behind the recorder");
  cmd->add_option("--serve-arg", a->serve_args, "An extra argument for the --serve server (repeat: --serve-arg=--agent)")
      ->allow_extra_args(false);
  cmd->add_option("--duration", a->duration, "Stop after this many seconds (default: until Ctrl-C)");
  cmd->add_option("--sessions", a->sessions, "Stop once this many sessions have ended (all their channels closed)");
  cmd->add_option("--redact", a->redact,
                  "Store secrets blanked. Alone: all of them. With =CLASSES: only those of " +
                      schema::secret_class_list() + ". What is relayed is never changed")
      ->expected(0, 1);
  cmd->add_flag("--json", a->json, "Events (listening, notices, summary) as JSON lines on stdout");
  cmd->add_flag("-q,--quiet", a->quiet, "Print only the listening line and errors");
  cmd->callback([a] { throw CLI::RuntimeError(run_record(*a)); });
}

}  // namespace sc::cli
