// Audio end to end on real traffic: spice-gtk (python3-gi SpiceClientGLib, which
// announces Opus both ways) against `spice-capture serve --audio`, whose
// simulated sound card plays a 440 Hz tone (qxl-sim/tone.hpp: volume 0.2, a
// +-2% warble at 0.5 Hz) and whose record device takes the client's microphone
// (tests/peers/spice_client.py: half a second of a 440 Hz tone, 10 ms frames
// stamped 0, 10, 20... ms), captured with tcpdump once per CTest run and
// imported by the real binary. `audio --json` and `audio export` are checked
// against the stored messages (by the description, not by AudioState) and the
// exported WAV files are measured (Goertzel, tests/unit/tone_frequency.hpp).
// QEMU without a guest is the other peer: its audio channels open, say their
// mode and never start.
#include <gtest/gtest.h>
#include <spice/enums.h>

#include <cmath>
#include <fstream>
#include <map>

#include "peer_session.hpp"
#include "tests/unit/tone_frequency.hpp"
#include "util/wav.hpp"

namespace {

using namespace sc::test;
using nlohmann::json;

// The session CTest's fixture recorded (tests/integration/CMakeLists.txt).
std::filesystem::path session_dir() {
  return std::filesystem::path(bin_dir()).parent_path() / "test-sessions" / "audio";
}

// spice-server's playback packets and spice-gtk's record frames: 10 ms each.
constexpr uint32_t kFramesPerPacket = 480;
// The simulator's tone (qxl-sim/tone.hpp) and its warble's reach.
constexpr double kToneHz = 440, kWarbleHz = 440 * 0.02;
// spice-server stamps main.init's multimedia time this far behind its own clock
// (MM_TIME_DELTA), so playback data is stamped that far ahead of the client's.
constexpr double kServerLatencyMs = 400;

// A stored *.mode message's mode (a number in `messages --json`) as `audio` names it.
std::string mode_name(const json& mode) {
  static const std::map<int, std::string> kNames = {{SPICE_AUDIO_DATA_MODE_RAW, "raw"},
                                                    {SPICE_AUDIO_DATA_MODE_OPUS, "opus"}};
  const auto it = kNames.find(mode.get<int>());
  return it == kNames.end() ? "mode " + mode.dump() : it->second;
}

class AudioSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = temp_dir("audio");
    db_ = (work_ / "audio.db").string();
    std::ifstream in(session_dir() / "session.json");
    meta_ = json::parse(in, nullptr, false);
    auto r = run(spice_capture() + " import " + (session_dir() / "session.pcap").string() + " -q --db " + db_);
    import_ok_ = r.exit_code == 0;
    import_output_ = r.output;
    auto listed = run(spice_capture() + " audio --db " + db_ + " --json -l -1", 120, true);
    list_exit_ = listed.exit_code;
    list_ = json::parse(listed.output, nullptr, false);
    auto exported =
        run(spice_capture() + " audio export --db " + db_ + " -o " + (work_ / "wav").string() + " --json", 120, true);
    export_exit_ = exported.exit_code;
    export_ = json::parse(exported.output, nullptr, false);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }

  void SetUp() override {
    ASSERT_FALSE(meta_.is_discarded()) << "no recorded audio session in " << session_dir();
    ASSERT_TRUE(import_ok_) << import_output_;
    ASSERT_EQ(list_exit_, 0);
    ASSERT_FALSE(list_.is_discarded());
  }

  // The stream of this kind (exactly one expected).
  static json stream(const std::string& kind) {
    json found;
    int n = 0;
    for (const auto& s : list_["streams"]) {
      if (s["kind"] == kind) {
        found = s;
        ++n;
      }
    }
    EXPECT_EQ(n, 1) << kind << " streams in " << list_["streams"].dump();
    return found;
  }
  // Stored messages of this name, decoded by the description (`messages --json`).
  static json messages(const std::string& name) {
    auto r = run(spice_capture() + " messages --db " + db_ + " -n " + name + " --json -l 1000000", 120, true);
    EXPECT_EQ(r.exit_code, 0);
    return json::parse(r.output, nullptr, false);
  }
  static json client() { return meta_["clients"][0]["summary"]; }
  static sc::util::Wav wav(const std::string& kind, int64_t channel) {
    const auto path = work_ / "wav" / (kind + "-" + std::to_string(channel) + ".wav");
    auto w = sc::util::read_wav(path.string());
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    return w.ok() ? std::move(w).value() : sc::util::Wav{};
  }

  static std::filesystem::path work_;
  static std::string db_, import_output_;
  static json meta_, list_, export_;
  static bool import_ok_;
  static int list_exit_, export_exit_;
};
std::filesystem::path AudioSession::work_;
std::string AudioSession::db_, AudioSession::import_output_;
json AudioSession::meta_, AudioSession::list_, AudioSession::export_;
bool AudioSession::import_ok_ = false;
int AudioSession::list_exit_ = -1, AudioSession::export_exit_ = -1;

TEST_F(AudioSession, PlaybackStreamIsWhatTheServerSent) {
  const json s = stream("playback");
  const json starts = messages("playback.start"), modes = messages("playback.mode"), data = messages("playback.data");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_GE(modes.size(), 1u);
  EXPECT_EQ(s["direction"], "s2c");
  EXPECT_EQ(s["format"], "s16");
  EXPECT_EQ(s["channels"], starts[0]["fields"]["channels"]);
  EXPECT_EQ(s["rate"], starts[0]["fields"]["frequency"]);
  EXPECT_EQ(s["rate"], 48000);  // spice-server's rate for an Opus-capable client
  // The mode the server announced; spice-gtk built with Opus asks for it.
  EXPECT_EQ(s["mode"], mode_name(modes.back()["fields"]["mode"]));
  EXPECT_EQ(s["mode"], "opus");
  EXPECT_EQ(s["packets"], data.size());
  EXPECT_EQ(s["undecoded"], 0);
  EXPECT_EQ(s["skipped"], 0);
  // tcpdump dropped nothing (the harness checks), so no time is missing for want of bytes.
  EXPECT_EQ(s["gaps"], 0);
  // Every packet is 10 ms of sound; the rest is silence where stamps ran ahead.
  EXPECT_NEAR(s["seconds"].get<double>(), data.size() * 0.010 + s["silence_s"].get<double>(), 1e-6);
  EXPECT_GT(s["seconds"].get<double>(), 2.5);  // the client stayed 4 s
  // Latency against the multimedia clock main.init set; no video, so no playback.latency.
  EXPECT_TRUE(messages("playback.latency").empty());
  EXPECT_TRUE(s["latency_ms"].is_null());
  ASSERT_TRUE(s["observed_latency_ms"].is_number());
  EXPECT_NEAR(s["observed_latency_ms"].get<double>(), kServerLatencyMs, 50);
  ASSERT_TRUE(s["drift_ms"].is_number());
  EXPECT_LT(std::abs(s["drift_ms"].get<double>()), 50);
  for (const auto& d : list_["diagnostics"]) EXPECT_NE(d["severity"], "error") << d.dump();
}

TEST_F(AudioSession, RecordStreamIsWhatTheClientSent) {
  const json s = stream("record");
  const json c = client()["record"];
  ASSERT_TRUE(c["started"].get<bool>());
  EXPECT_EQ(s["direction"], "c2s");
  EXPECT_EQ(s["rate"], c["rate"]);
  EXPECT_EQ(s["channels"], c["channels"]);
  EXPECT_EQ(s["mode"], mode_name(messages("record.mode").back()["fields"]["mode"]));
  EXPECT_EQ(s["packets"], c["messages_sent"]);
  EXPECT_EQ(s["packets"], messages("record.data").size());
  EXPECT_NEAR(s["seconds"].get<double>(), c["messages_sent"].get<int>() * 0.010, 1e-6);
  EXPECT_EQ(s["underruns"], 0);  // stamped 0, 10, 20... ms
  EXPECT_EQ(s["silence_s"], 0.0);
}

TEST_F(AudioSession, ExportedPlaybackIsTheSimulatorsToneForTheStreamsLength) {
  ASSERT_EQ(export_exit_, 0) << export_.dump();
  const json s = stream("playback");
  const auto w = wav("playback", s["channel"].get<int64_t>());
  EXPECT_EQ(w.rate, 48000u);
  EXPECT_EQ(w.channels, 2u);
  EXPECT_EQ(w.bits, 16u);
  // The file is the stream: every frame of it, sound and silence.
  EXPECT_EQ(w.frames(), static_cast<uint64_t>(std::llround(s["seconds"].get<double>() * 48000)));
  // And as long as its packets' stamps say: from the first to the last plus one
  // packet, less up to the 20 ms the timeline tolerates, plus what it counted as
  // overrun (audio sent faster than its stamps: the server's catch-up bursts).
  const json data = messages("playback.data");
  const double span = (data.back()["fields"]["time"].get<double>() - data.front()["fields"]["time"].get<double>()) /
                      1000 + 0.010;
  const double seconds = static_cast<double>(w.frames()) / w.rate;
  const double overrun = s["overrun_ms"].get<double>() / 1000;
  EXPECT_GE(seconds, span + overrun - 0.020 - 0.001) << "span " << span << " overrun " << overrun;
  EXPECT_LE(seconds, span + overrun + 0.001) << "span " << span << " overrun " << overrun;

  // The tone: past the codec's first packets, two seconds (one warble period).
  ASSERT_GT(w.frames(), 48000u * 5 / 2);
  const std::span<const int16_t> two_s = std::span<const int16_t>(w.samples).subspan(2 * 4800, 2 * 96000);
  for (unsigned channel : {0u, 1u}) {
    const auto wide = scan(two_s, 2, channel, 48000, 100, 2000, 2, 20);
    EXPECT_NEAR(wide.peak_hz, kToneHz, kWarbleHz + 2) << "channel " << channel;
    EXPECT_GT(wide.band_share, 0.9) << "channel " << channel;
    // Over a whole warble period the power's centre is the tone itself.
    const auto centre = scan(two_s, 2, channel, 48000, 400, 480, 0.5, 40);
    EXPECT_NEAR(centre.centroid_hz, kToneHz, 2) << "channel " << channel;
    std::printf("playback channel %u: peak %.1f Hz, centre %.2f Hz, %.3f of the power near the peak\n", channel,
                wide.peak_hz, centre.centroid_hz, wide.band_share);
  }
  std::printf("playback: %.3f s in the WAV, stamps span %.3f s, overrun %.3f s\n", seconds, span, overrun);
}

TEST_F(AudioSession, ExportedRecordIsTheClientsTone) {
  ASSERT_EQ(export_exit_, 0) << export_.dump();
  const json s = stream("record");
  const json c = client()["record"];
  const auto w = wav("record", s["channel"].get<int64_t>());
  EXPECT_EQ(w.rate, c["rate"].get<uint32_t>());
  EXPECT_EQ(w.channels, c["channels"].get<uint32_t>());
  EXPECT_EQ(w.frames(), c["messages_sent"].get<uint64_t>() * kFramesPerPacket);
  const auto spec = scan(w.samples, w.channels, 0, w.rate, 100, 2000, 1, 10);
  EXPECT_NEAR(spec.peak_hz, c["tone_hz"].get<double>(), 3);  // 0.5 s: 2 Hz resolution
  EXPECT_GT(spec.band_share, 0.9);
  std::printf("record: %.3f s, peak %.1f Hz (sent %g Hz), %.3f of the power near it\n",
              static_cast<double>(w.frames()) / w.rate, spec.peak_hz, c["tone_hz"].get<double>(), spec.band_share);
}

TEST_F(AudioSession, ExportListsEachFileWritten) {
  ASSERT_EQ(export_exit_, 0) << export_.dump();
  ASSERT_EQ(export_["files"].size(), 2u);
  for (const auto& f : export_["files"]) {
    ASSERT_TRUE(f["file"].is_string()) << f.dump();
    EXPECT_TRUE(std::filesystem::exists(f["file"].get<std::string>()));
    EXPECT_EQ(std::filesystem::path(f["file"].get<std::string>()).filename().string(),
              f["kind"].get<std::string>() + "-" + std::to_string(f["channel"].get<int64_t>()) + ".wav");
  }
}

TEST_F(AudioSession, PlaybackLostFromTheCaptureIsAGapOfSilenceOfItsLength) {
  // The same capture without 30 of the playback channel's server segments from its
  // middle: the framing reports the loss, the stamps after it jump, and the stream
  // gets a gap as long as the packets that went missing.
  const json s = stream("playback");
  auto ch = run(spice_capture() + " channels --db " + db_ + " -t playback --json", 120, true);
  const json channels = json::parse(ch.output, nullptr, false);
  ASSERT_EQ(channels.size(), 1u) << ch.output;
  const std::string client = channels[0]["client"], server = channels[0]["server"];
  const int client_port = std::stoi(client.substr(client.rfind(':') + 1));
  const int server_port = std::stoi(server.substr(server.rfind(':') + 1));
  size_t seen = 0, dropped = 0;
  const std::string lossy = (work_ / "lossy.pcap").string();
  ASSERT_TRUE(rewrite_pcap((session_dir() / "session.pcap").string(), lossy,
                           [&](size_t, const pcap_pkthdr& h, const u_char* d) {
                             if (h.caplen < 14 + 20 + 20 || d[12] != 0x08 || d[13] != 0x00) return true;
                             const size_t ihl = (d[14] & 15) * 4u, tcp = 14 + ihl;
                             const size_t total = static_cast<size_t>(d[16] << 8 | d[17]);
                             const size_t payload = total - ihl - (d[tcp + 12] >> 4) * 4u;
                             const int sport = d[tcp] << 8 | d[tcp + 1], dport = d[tcp + 2] << 8 | d[tcp + 3];
                             if (sport != server_port || dport != client_port || payload == 0) return true;
                             const bool drop = ++seen > 150 && seen <= 180;
                             dropped += drop;
                             return !drop;
                           }));
  ASSERT_EQ(dropped, 30u) << "playback segments in the capture: " << seen;
  const std::string db = (work_ / "lossy.db").string();
  ASSERT_EQ(run(spice_capture() + " import " + lossy + " -q --db " + db).exit_code, 0);
  auto listed = run(spice_capture() + " audio --db " + db + " --json -l -1", 120, true);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const json j = json::parse(listed.output, nullptr, false);
  json p;
  for (const auto& x : j["streams"]) {
    if (x["kind"] == "playback") p = x;
  }
  ASSERT_TRUE(p.is_object()) << listed.output;
  const int64_t lost = s["packets"].get<int64_t>() - p["packets"].get<int64_t>();
  EXPECT_GE(lost, 25) << "packets that did not survive the cut";
  EXPECT_EQ(p["gaps"], 1) << p.dump();
  EXPECT_EQ(p["underruns"], s["underruns"]);
  // As long as the lost packets (10 ms each), within the timeline's 20 ms tolerance
  // and what the original counted as overrun (the stamps' own looseness).
  EXPECT_NEAR(p["gap_ms"].get<double>(), lost * 10.0, 20 + s["overrun_ms"].get<double>()) << p.dump();
  // Reported at the first packet after the loss.
  int64_t after = 0;
  for (const auto& d : j["diagnostics"]) {
    if (d["code"] == "gap" && d["channel"] == p["channel"] && d["message"].is_number()) after = d["message"];
  }
  ASSERT_GT(after, 0) << j["diagnostics"].dump();
  auto before = run(spice_capture() + " messages --db " + db + " -n playback.data --json -l 1000000", 120, true);
  size_t packets_before = 0;
  for (const auto& m : json::parse(before.output, nullptr, false)) packets_before += m["id"].get<int64_t>() < after;

  // In the WAV, that silence is where the lost packets were.
  const auto out = work_ / "lossy-wav";
  ASSERT_EQ(run(spice_capture() + " audio export --db " + db + " -o " + out.string()).exit_code, 0);
  auto w = sc::util::read_wav((out / ("playback-" + std::to_string(p["channel"].get<int64_t>()) + ".wav")).string());
  ASSERT_TRUE(w.ok());
  size_t run_frames = 0, longest = 0, longest_end = 0;
  for (size_t f = 0; f < w->frames(); ++f) {
    run_frames = (w->samples[2 * f] == 0 && w->samples[2 * f + 1] == 0) ? run_frames + 1 : 0;
    if (run_frames > longest) {
      longest = run_frames;
      longest_end = f + 1;
    }
  }
  EXPECT_GE(longest, static_cast<size_t>(p["gap_ms"].get<double>() * 48) - 1);
  // Right after the packets before the loss, 10 ms each.
  const double at_s = static_cast<double>(longest_end - longest) / 48000;
  EXPECT_EQ(longest_end - longest, packets_before * kFramesPerPacket) << "silence starts at " << at_s << " s";
  std::printf("lossy: %lld packets lost, gap of %lld ms, silence of %.3f s at %.3f s\n",
              static_cast<long long>(lost), static_cast<long long>(p["gap_ms"].get<int64_t>()),
              static_cast<double>(longest) / 48000, at_s);
}

TEST_F(AudioSession, HelpTeachesAndErrorsSayWhatIsWrong) {
  auto help = run(spice_capture() + " audio --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Examples:"), std::string::npos);
  EXPECT_NE(help.output.find("spice-capture audio export --db s.db -o sound/"), std::string::npos);
  auto ehelp = run(spice_capture() + " audio export --help");
  EXPECT_EQ(ehelp.exit_code, 0);
  EXPECT_NE(ehelp.output.find("playback-CHANNEL.wav"), std::string::npos);

  auto no_session = run(spice_capture() + " audio --db " + db_ + " --session 1");
  EXPECT_EQ(no_session.exit_code, 2) << no_session.output;
  EXPECT_NE(no_session.output.find("no playback or record channel matches that session"), std::string::npos)
      << no_session.output;
  auto no_out = run(spice_capture() + " audio export --db " + db_);
  EXPECT_EQ(no_out.exit_code, 2) << no_out.output;
  auto no_db = run(spice_capture() + " audio --db " + (work_ / "missing.db").string());
  EXPECT_EQ(no_db.exit_code, 7) << no_db.output;
}

TEST(AudioQemu, WithoutAGuestTheChannelsSayTheirModeAndNeverStart) {
  const auto& s = shared_qemu_session();
  ASSERT_TRUE(s.error.empty()) << s.error;
  const auto dir = temp_dir("audio-qemu");
  const std::string db = (dir / "q.db").string();
  ASSERT_EQ(run(spice_capture() + " import " + s.pcap.string() + " -q --db " + db).exit_code, 0);
  auto r = run(spice_capture() + " audio --db " + db + " --json", 120, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  // QEMU sends playback.mode on connect; the record channel says nothing before a start.
  ASSERT_EQ(j["streams"].size(), 1u) << j.dump();
  const json p = j["streams"][0];
  EXPECT_EQ(p["kind"], "playback");
  EXPECT_EQ(p["mode"], "opus");
  EXPECT_EQ(p["packets"], 0);
  EXPECT_EQ(p["rate"], 0);
  auto e = run(spice_capture() + " audio export --db " + db + " -o " + (dir / "wav").string());
  EXPECT_EQ(e.exit_code, 8) << e.output;  // nothing could be exported as sound
  EXPECT_TRUE(std::filesystem::is_empty(dir / "wav"));
  std::filesystem::remove_all(dir);
}

}  // namespace
