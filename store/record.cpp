#include "store/record.hpp"

#include <nlohmann/json.hpp>
#include <thread>

#include "capture/recording_pipe.hpp"
#include "store/source_pipeline.hpp"

namespace sc::store {

namespace {

// Sessions ended, for the stop condition and status lines (read from the watcher thread).
struct SessionCount : capture::FrameConsumer {
  void on_session_end(session::Session&) override { ended.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<uint64_t> ended{0};
};

// The proxy does not follow a migration: the client would leave it for the
// address the server names. Said where it happens, in the store and to the user.
struct MigrationWatch : capture::FrameConsumer {
  explicit MigrationWatch(std::function<void(const std::string&)> n) : notice(std::move(n)) {}
  void on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s,
                const decode::DecodedFrame&) override {
    if (!f.def) return;
    const std::string& name = f.def->full_name;
    if (name != "main.migrate_begin" && name != "main.migrate_begin_seamless" && name != "main.migrate_switch_host")
      return;
    framing::Problem p;
    p.severity = decode::Severity::Warning;
    p.code = "migration_not_followed";
    p.dir = f.dir;
    p.stream_offset = f.stream_offset;
    p.ts_ns = f.ts_ns;
    p.text = "the server sent " + name +
             ": the client will connect to the address in it directly, so the recording of this session ends here "
             "(the recorder does not rewrite migration targets)";
    if (pipeline) pipeline->report(c, p, s);
    if (notice) notice("connection " + c.client.to_string() + ": " + p.text);
  }
  DecodePipeline* pipeline = nullptr;
  std::function<void(const std::string&)> notice;
};

std::string options_json(const RecordOptions& o, uint16_t plain_port, uint16_t tls_port) {
  const capture::RelayOptions& r = o.relay;
  nlohmann::json j;
  j["listen"] = r.listen_addr;
  if (plain_port) j["port"] = plain_port;
  if (tls_port) j["tls_port"] = tls_port;
  if (r.plain_upstream) j["server"] = r.plain_upstream->to_string();
  if (r.tls_upstream) {
    j["tls_server"] = r.tls_upstream->to_string();
    j["verify"] = r.upstream_tls.verify;
    if (!r.upstream_tls.server_name.empty()) j["server_name"] = r.upstream_tls.server_name;
  }
  j["redact"] = o.redact != schema::kSecretNone;
  j["redact_classes"] = o.redact;
  return j.dump();
}

// The captures row's path: where clients connect and where the bytes go.
std::string describe(const RecordOptions& o, uint16_t plain_port, uint16_t tls_port) {
  const capture::RelayOptions& r = o.relay;
  std::string s = "proxy " + capture::HostPort{r.listen_addr, plain_port ? plain_port : tls_port}.to_string();
  if (plain_port && tls_port) s += " (TLS " + std::to_string(tls_port) + ")";
  s += " -> ";
  if (r.plain_upstream) s += r.plain_upstream->to_string();
  if (r.plain_upstream && r.tls_upstream) s += " (TLS " + r.tls_upstream->to_string() + ")";
  else if (r.tls_upstream) s += r.tls_upstream->to_string() + " (TLS)";
  return s;
}

}  // namespace

Result<RecordSummary> record(Database& db, const RecordOptions& options, const RecordControl& control) {
  const auto located = [&](const Error& e) { return make_error(db.path() + ": " + e.message); };
  RecordSummary summary;

  // The ports are bound first: a port in use or an unreadable certificate leaves
  // no trace in the store.
  auto relay = capture::Relay::create(options.relay);
  if (!relay) return relay.error();
  const uint16_t plain_port = (*relay)->plain_port(), tls_port = (*relay)->tls_port();
  auto id = insert_capture(db, CaptureStart{.source = "proxy",
                                            .path = describe(options, plain_port, tls_port),
                                            .options = options_json(options, plain_port, tls_port),
                                            .first_ts_ns = capture::wall_clock_ns()});
  if (!id) return located(id.error());
  summary.capture_id = *id;

  SessionCount sessions;
  MigrationWatch migration(control.notice);
  DecodePipeline pipeline(db, summary.capture_id,
                          WriterOptions{.redact = options.redact, .commit_interval = options.commit_interval},
                          {&migration, &sessions});
  migration.pipeline = &pipeline;
  capture::RecordingPipe pipe(pipeline.sink(), capture::RecordingPipeOptions{}, [&] { pipeline.flush(); });
  if (control.listening) control.listening(plain_port, tls_port);

  // Watches the stop conditions and reports status while the relay runs here.
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> relay_done{false};
  auto status_now = [&] {
    RecordStatus s;
    const capture::RelayCounters c = (*relay)->counters();
    s.connections = c.accepted;
    s.open = c.open;
    s.refused = c.refused;
    s.bytes[0] = c.bytes[0];
    s.bytes[1] = c.bytes[1];
    s.messages = pipeline.frames();
    s.sessions_ended = sessions.ended.load(std::memory_order_relaxed);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
  };
  std::thread watcher([&] {
    size_t refusals_told = 0;
    auto next_status = start + std::chrono::seconds(1);
    while (!relay_done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const auto now = std::chrono::steady_clock::now();
      if (control.notice) {
        const auto refusals = pipe.refusals();
        for (; refusals_told < refusals.size(); ++refusals_told) control.notice(refusals[refusals_told].why);
      }
      if (control.status && now >= next_status) {
        control.status(status_now());
        next_status = now + std::chrono::seconds(1);
      }
      const bool stop = (control.cancel && control.cancel->load()) ||
                        (options.duration && now - start >= *options.duration) ||
                        (options.sessions && sessions.ended.load() >= options.sessions);
      if (stop) {
        (*relay)->stop();
        return;
      }
    }
  });
  (*relay)->run(pipe);
  relay_done = true;
  watcher.join();
  pipe.finish();
  if (auto r = pipeline.finish(); !r) return located(r.error());

  summary.totals = status_now();
  summary.problems = pipeline.problems();
  summary.abrupt_ends = pipe.abrupt_ends();
  summary.peak_queued_bytes = pipe.peak_queued_bytes();

  if (auto r = db.exec("BEGIN"); !r) return located(r.error());
  // Connections that never reached the server belong to no channel: the capture's problems.
  for (const capture::Refusal& f : pipe.refusals()) {
    Statement p(db.handle(),
                "INSERT INTO problems (capture_id, severity, code, text, ts_ns) VALUES (?1, 'error', 'relay_refused', ?2, ?3)");
    p.bind(1, summary.capture_id).bind(2, f.why).bind(3, static_cast<int64_t>(f.ts_ns));
    if (auto r = p.step(); !r) return located(r.error());
    ++summary.problems;
  }
  Statement upd(db.handle(),
                "UPDATE captures SET status='complete', last_ts_ns=?2, "
                "first_ts_ns=COALESCE((SELECT MIN(first_ts_ns) FROM channels WHERE capture_id=?1), first_ts_ns) "
                "WHERE id=?1");
  upd.bind(1, summary.capture_id).bind(2, static_cast<int64_t>(capture::wall_clock_ns()));
  if (auto r = upd.step(); !r) return located(r.error());
  if (auto r = db.exec("COMMIT"); !r) return located(r.error());
  return summary;
}

}  // namespace sc::store
