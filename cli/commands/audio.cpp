// The audio commands: `audio` (a session's playback and record streams: format,
// mode, packets, seconds, underruns, gaps, latency, drift, and the diagnostics)
// and `audio export` (each stream as a WAV file, silence where its timestamps
// say packets are missing). Both run the stored messages through
// audio::AudioState again (store/audio_replay.hpp).
#include <spice/enums.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filters.hpp"
#include "cli/output.hpp"
#include "store/audio_replay.hpp"
#include "util/wav.hpp"

namespace sc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using store::Cell;

std::optional<store::SessionChannels> find_session(store::Database& db, const SessionArgs& sel, int& code) {
  return chosen_session(store::find_audio_session(db, sel.get()), sel, "audio", sel.f.json, code);
}

// The diagnostics as they come, each at its message (messages.id).
class Collector : public audio::AudioListener {
 public:
  explicit Collector(uint64_t base) : base_(base) {}

  struct Problem {
    audio::Location at;
    decode::Diagnostic d;
  };
  std::vector<Problem> problems;
  std::map<std::string, uint64_t> codes;

  void on_problem(const audio::Location& at, const decode::Diagnostic& d) override {
    ++codes[d.code];
    problems.push_back({at, d});
  }

  store::Table table() const {
    store::Table t{{"message", "time", "channel", "severity", "code", "offset", "text"}, {}};
    for (const auto& p : problems) {
      t.rows.push_back({p.at.message_id ? Cell{static_cast<int64_t>(p.at.message_id)} : Cell{},
                        p.at.ts_ns ? Cell{seconds(p.at.ts_ns, base_)} : Cell{}, Cell{int64_t{p.at.connection}},
                        Cell{std::string(decode::severity_name(p.d.severity))}, Cell{p.d.code},
                        Cell{int64_t{p.d.offset}}, Cell{p.d.text}});
    }
    return t;
  }

 private:
  uint64_t base_;
};

std::string modes_of(const audio::Stream& s) {
  std::string out;
  for (auto m : s.modes) out += (out.empty() ? "" : ",") + std::string(audio::mode_name(m));
  return out.empty() ? "-" : out;
}

std::string format_name(uint16_t f) {
  if (f == SPICE_AUDIO_FMT_S16) return "s16";
  return f ? "format_" + std::to_string(f) : "-";
}

Cell optional_int(const std::optional<uint32_t>& v) { return v ? Cell{int64_t{*v}} : Cell{}; }
Cell optional_double(const std::optional<double>& v) { return v ? Cell{*v} : Cell{}; }

std::string volume_text(const audio::Stream& s) {
  std::string out;
  for (auto v : s.volume) out += (out.empty() ? "" : "/") + std::to_string(v);
  return out;
}

std::string wav_name(const audio::Stream& s) {
  return std::string(audio::kind_name(s.kind)) + "-" + std::to_string(s.connection) +
         (s.index ? "-" + std::to_string(s.index) : "") + ".wav";
}

store::Table streams_table(const std::vector<audio::Stream>& streams, uint64_t base) {
  store::Table t{{"channel", "kind", "direction", "stream", "format", "channels", "rate", "mode", "packets", "seconds",
                  "silence_s", "underruns", "underrun_ms", "gaps", "gap_ms", "overrun_ms", "skipped", "undecoded",
                  "latency_ms", "observed_latency_ms", "drift_ms", "volume", "mute", "first", "last"},
                 {}};
  for (const auto& s : streams) {
    const double rate = s.frequency ? s.frequency : 1;
    t.rows.push_back(
        {Cell{int64_t{s.connection}}, Cell{std::string(audio::kind_name(s.kind))},
         Cell{std::string(s.kind == audio::Kind::Playback ? "s2c" : "c2s")}, Cell{int64_t{s.index}},
         Cell{format_name(s.format)}, Cell{int64_t{s.channels}}, Cell{int64_t{s.frequency}}, Cell{modes_of(s)},
         Cell{static_cast<int64_t>(s.packets)}, Cell{s.seconds()},
         Cell{static_cast<double>(s.silence_frames) / rate}, Cell{static_cast<int64_t>(s.underruns)},
         Cell{static_cast<int64_t>(s.underrun_ms)}, Cell{static_cast<int64_t>(s.gaps)},
         Cell{static_cast<int64_t>(s.gap_ms)}, Cell{static_cast<int64_t>(s.overrun_ms)},
         Cell{static_cast<int64_t>(s.skipped_packets)}, Cell{static_cast<int64_t>(s.undecoded_packets)},
         optional_int(s.latency_reported_ms), optional_double(s.latency_observed_ms), optional_double(s.drift_ms),
         s.volume.empty() ? Cell{} : Cell{volume_text(s)}, s.mute ? Cell{int64_t{*s.mute}} : Cell{},
         s.first_ts_ns ? Cell{seconds(s.first_ts_ns, base)} : Cell{},
         s.last_ts_ns ? Cell{seconds(s.last_ts_ns, base)} : Cell{}});
  }
  return t;
}

// --- audio ------------------------------------------------------------------

struct ListArgs {
  SessionArgs sel;
  int64_t limit = 50;
};

int run_list(const ListArgs& a) {
  store::Database db = open_for_query(a.sel.f.db);
  int code = kExitOk;
  const auto session = find_session(db, a.sel, code);
  if (!session) return code;
  Collector c(session->capture_first_ts);
  audio::AudioState state({}, &c);
  auto replayed = store::replay_audio(db, *session, state);
  if (!replayed) {
    std::cerr << "spice-capture: " << replayed.error().message << '\n';
    return kExitDatabase;
  }
  const store::Table streams = streams_table(state.streams(), session->capture_first_ts);
  store::Table problems = c.table();
  const size_t all_problems = problems.rows.size();
  if (a.limit >= 0 && problems.rows.size() > static_cast<size_t>(a.limit)) problems.rows.resize(static_cast<size_t>(a.limit));
  if (a.sel.f.json) {
    ordered_json codes = ordered_json::object();
    for (const auto& [k, n] : c.codes) codes[k] = n;
    ordered_json j = {{"session", session->session_id}, {"streams", table_to_json(streams)},
                      {"diagnostics", table_to_json(problems)}, {"diagnostic_codes", codes},
                      {"diagnostics_not_listed", all_problems - problems.rows.size()}};
    std::cout << j.dump(2) << '\n';
    return kExitOk;
  }
  if (streams.rows.empty()) {
    std::cout << "no audio stream in session " << session->session_id << '\n';
  } else {
    print_table(std::cout, streams);
  }
  if (!problems.rows.empty()) {
    std::cout << "\ndiagnostics:\n";
    print_table(std::cout, problems, 100);
    if (all_problems > problems.rows.size()) {
      std::cout << "(" << all_problems - problems.rows.size() << " more; --limit)\n";
    }
  }
  return kExitOk;
}

// --- audio export -------------------------------------------------------------

struct ExportArgs {
  SessionArgs sel;
  std::string out;
};

// One WAV file per stream, opened when the stream's format is known.
class Exporter : public Collector {
 public:
  Exporter(uint64_t base, fs::path dir) : Collector(base), dir_(std::move(dir)) {}

  struct File {
    std::optional<util::WavWriter> wav;
    std::string name;
  };
  std::map<std::tuple<uint32_t, int, uint32_t>, File> files;  // (channel, kind, stream index)
  std::string error;

  void on_stream(const audio::Stream& s) override {
    File& f = files[key(s)];
    f.name = (dir_ / wav_name(s)).string();
    auto w = util::WavWriter::create(f.name, static_cast<uint16_t>(s.channels), s.frequency);
    if (!w) {
      fail(w.error().message);
      return;
    }
    f.wav = std::move(w).value();
  }
  void on_pcm(const audio::Stream& s, std::span<const int16_t> samples) override {
    if (auto* w = writer(s)) check(w->write(samples));
  }
  void on_silence(const audio::Stream& s, uint64_t frames) override {
    if (auto* w = writer(s)) check(w->silence(frames));
  }
  void close_all() {
    for (auto& [k, f] : files) {
      if (f.wav) check(f.wav->close());
    }
  }

 private:
  static std::tuple<uint32_t, int, uint32_t> key(const audio::Stream& s) {
    return {s.connection, static_cast<int>(s.kind), s.index};
  }
  util::WavWriter* writer(const audio::Stream& s) {
    if (!error.empty()) return nullptr;
    auto it = files.find(key(s));
    return it == files.end() || !it->second.wav ? nullptr : &*it->second.wav;
  }
  void check(const Result<void>& r) {
    if (!r) fail(r.error().message);
  }
  void fail(const std::string& e) {
    if (error.empty()) error = e;
  }
  fs::path dir_;
};

int run_export(const ExportArgs& a) {
  store::Database db = open_for_query(a.sel.f.db);
  int code = kExitOk;
  const auto session = find_session(db, a.sel, code);
  if (!session) return code;
  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) {
    std::cerr << "spice-capture: cannot create " << a.out << ": " << ec.message() << '\n';
    return kExitInputMissing;
  }
  Exporter x(session->capture_first_ts, a.out);
  audio::AudioState state({}, &x);
  auto replayed = store::replay_audio(db, *session, state, [&](const store::ReplayStep&) { return x.error.empty(); });
  x.close_all();
  if (!replayed) {
    std::cerr << "spice-capture: " << replayed.error().message << '\n';
    return kExitDatabase;
  }
  if (!x.error.empty()) {
    std::cerr << "spice-capture: " << x.error << '\n';
    return kExitInputMissing;
  }
  // Incomplete: a stream not exported at all, or packets in it that are not its sound.
  bool incomplete = false;
  ordered_json files = ordered_json::array();
  store::Table t{{"file", "channel", "kind", "stream", "channels", "rate", "mode", "seconds", "silence_s", "packets",
                  "undecoded", "skipped"},
                 {}};
  for (const auto& s : state.streams()) {
    const auto it = x.files.find({s.connection, static_cast<int>(s.kind), s.index});
    const bool written = it != x.files.end() && it->second.wav;
    incomplete |= !written || s.undecoded_packets || s.skipped_packets || s.truncated;
    const double rate = s.frequency ? s.frequency : 1;
    t.rows.push_back({written ? Cell{it->second.name} : Cell{}, Cell{int64_t{s.connection}},
                      Cell{std::string(audio::kind_name(s.kind))}, Cell{int64_t{s.index}}, Cell{int64_t{s.channels}},
                      Cell{int64_t{s.frequency}}, Cell{modes_of(s)}, Cell{s.seconds()},
                      Cell{static_cast<double>(s.silence_frames) / rate}, Cell{static_cast<int64_t>(s.packets)},
                      Cell{static_cast<int64_t>(s.undecoded_packets)}, Cell{static_cast<int64_t>(s.skipped_packets)}});
  }
  if (a.sel.f.json) {
    ordered_json codes = ordered_json::object();
    for (const auto& [k, n] : x.codes) codes[k] = n;
    std::cout << ordered_json{{"session", session->session_id}, {"files", table_to_json(t)},
                              {"diagnostic_codes", codes}}
                     .dump(2)
              << '\n';
  } else if (t.rows.empty()) {
    std::cout << "no audio stream in session " << session->session_id << '\n';
  } else {
    print_table(std::cout, t);
    for (const auto& [k, n] : x.codes) std::cout << "  " << k << ": " << n << '\n';
  }
  return incomplete || t.rows.empty() ? kExitIncomplete : kExitOk;
}

}  // namespace

void register_audio(CLI::App& app) {
  auto list = std::make_shared<ListArgs>();
  auto* cmd = app.add_subcommand("audio", "Playback and record streams: format, mode, underruns, gaps, latency");
  list->sel.add(cmd, "playback or record");
  cmd->add_option("-l,--limit", list->limit, "List at most this many diagnostics (default 50; -1: all)");
  cmd->footer(
      "Runs the session's playback, record and main messages again: each stream's\n"
      "format, data mode (raw, celt, opus), packets and seconds of audio; `underruns`\n"
      "and `gaps` are places where the packets' timestamps run ahead of the samples\n"
      "before them (gaps: the capture lost bytes there; underruns: it did not, the\n"
      "sender was late), filled with silence by `audio export`. `latency_ms` is what\n"
      "playback.latency said, `observed_latency_ms` how far data is stamped ahead of\n"
      "the multimedia clock (main.init / main.multi_media_time), `drift_ms` how much\n"
      "that moved from the stream's first second to its last. Definitions and\n"
      "tolerances: docs/audio.md.\n\n"
      "Examples:\n"
      "  spice-capture audio --db s.db\n"
      "  spice-capture audio --db s.db --session 1234 --json\n"
      "  spice-capture audio export --db s.db -o sound/");
  cmd->callback([list] { throw CLI::RuntimeError(run_list(*list)); });

  auto ex = std::make_shared<ExportArgs>();
  auto* exp = cmd->add_subcommand("export", "Each playback and record stream as a WAV file");
  ex->sel.add(exp, "playback or record");
  exp->add_option("-o,--out", ex->out, "Directory to write into (made if missing)")->required();
  exp->footer(
      "Writes playback-CHANNEL.wav and record-CHANNEL.wav (16-bit PCM at the stream's\n"
      "rate and channel count; -N added for a stream after a format change), Opus\n"
      "decoded with libopus. Where the timestamps say packets are missing, and for\n"
      "packets that cannot be decoded (CELT, bad Opus), the file has silence of\n"
      "their length, so time in the file is time in the stream. Exit 8 when some\n"
      "stream or packet could not be exported as sound (the files are still written).\n\n"
      "Examples:\n"
      "  spice-capture audio export --db s.db -o sound/\n"
      "  spice-capture audio export --db s.db --session 1234 --channel 7 -o sound/ --json");
  exp->callback([ex] { throw CLI::RuntimeError(run_export(*ex)); });
  // `audio export ...` runs only the export: the parent's callback would run after it.
  cmd->require_subcommand(0, 1);
}

}  // namespace sc::cli
