// The audio state on encoder-built playback, record and main messages: formats,
// modes (raw, CELT as silence, Opus through libopus, with packets this test
// encodes with libopus's encoder), the timeline (gaps, underruns, late bursts,
// overruns, jumps), latency and drift against the multimedia clock, and hostile
// input (data before start, huge packets, garbage Opus, bad formats, caps).
#include <gtest/gtest.h>
#include <opus.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>

#include "dissect/audio/audio_state.hpp"
#include "dissect/decode/decoder.hpp"
#include "tone_frequency.hpp"
#include "util/wav.hpp"
#include "wire_builder.hpp"

namespace {

using namespace sc::test;
using sc::audio::AudioState;
using sc::audio::Kind;
using sc::audio::Mode;
using sc::schema::Direction;

constexpr uint32_t kPlay = 3, kRec = 4, kMain = 1;  // connections
constexpr uint64_t kMs = 1'000'000;                  // ns

// Records everything the state hands on.
class Tape : public sc::audio::AudioListener {
 public:
  std::vector<int16_t> pcm;
  std::vector<std::pair<uint64_t, uint64_t>> silences;  // (at frame, frames)
  uint64_t frames = 0;
  std::vector<sc::decode::Diagnostic> problems;
  std::vector<sc::audio::Stream> begun;
  void on_stream(const sc::audio::Stream& s) override { begun.push_back(s); }
  void on_pcm(const sc::audio::Stream& s, std::span<const int16_t> samples) override {
    pcm.insert(pcm.end(), samples.begin(), samples.end());
    frames += samples.size() / s.channels;
  }
  void on_silence(const sc::audio::Stream&, uint64_t n) override {
    silences.emplace_back(frames, n);
    frames += n;
  }
  void on_problem(const sc::audio::Location& at, const sc::decode::Diagnostic& d) override {
    problems.push_back(d);
    where.push_back(at);
  }
  std::vector<sc::audio::Location> where;
  size_t count(std::string_view code) const {
    return static_cast<size_t>(std::count_if(problems.begin(), problems.end(), [&](auto& d) { return d.code == code; }));
  }
  uint64_t silence_frames() const {
    uint64_t n = 0;
    for (auto& [at, f] : silences) n += f;
    return n;
  }
};

struct Session {
  explicit Session(sc::audio::Limits limits = {}) : state(limits, &tape) {}
  Tape tape;
  AudioState state;
  sc::decode::DecodedMessage m;

  void send(uint32_t conn, uint8_t channel, Direction d, uint16_t type, const json& fields, uint64_t ts) {
    const Bytes body = encode(msg(channel, d, type), fields);
    send_body(conn, channel, d, type, body, ts);
  }
  void send_body(uint32_t conn, uint8_t channel, Direction d, uint16_t type, const Bytes& body, uint64_t ts) {
    m.clear();
    sc::decode::decode_message(*msg(channel, d, type), body, {}, m);
    state.apply(conn, ts, m, body, ++last_id);
  }
  uint64_t last_id = 0;  // the id of each message sent: 1, 2, ...
  void mode(uint16_t mode, uint64_t ts = 0) {
    send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_MODE,
         {{"time", 0}, {"mode", mode}, {"data", ""}}, ts);
  }
  void start(uint32_t channels, uint32_t rate, uint64_t ts = 0, uint16_t format = SPICE_AUDIO_FMT_S16) {
    send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_START,
         {{"channels", channels}, {"format", format}, {"frequency", rate}, {"time", 0}}, ts);
  }
  void stop(uint64_t ts = 0) { send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_STOP, json::object(), ts); }
  void data(uint32_t time, const Bytes& payload, uint64_t ts) {
    send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_DATA, {{"time", time}, {"data", hex(payload)}},
         ts);
  }
  const sc::audio::Stream& stream(size_t i = 0) const { return state.streams().at(i); }
};

// `frames` stereo frames of a sine, as raw S16LE bytes, continuing from `start`.
Bytes sine_s16(uint64_t start, uint32_t frames, double hz, double rate, uint32_t channels = 2) {
  Bytes b;
  for (uint64_t i = start; i < start + frames; ++i) {
    const auto v = static_cast<int16_t>(std::lround(8000 * std::sin(2 * std::numbers::pi * hz * double(i) / rate)));
    for (uint32_t c = 0; c < channels; ++c) put_le(b, static_cast<uint16_t>(v), 2);
  }
  return b;
}

// Raw packets of 480 frames (10 ms at 48 kHz) stamped at `times`, captured 1 ms after their stamp.
void raw_packets(Session& s, const std::vector<uint32_t>& times, uint64_t first_frame = 0) {
  uint64_t frame = first_frame;
  for (uint32_t t : times) {
    s.data(t, sine_s16(frame, 480, 1000, 48000), (uint64_t{t} + 1) * kMs);
    frame += 480;
  }
}

std::vector<uint32_t> every_10ms(uint32_t from, uint32_t count) {
  std::vector<uint32_t> v;
  for (uint32_t i = 0; i < count; ++i) v.push_back(from + 10 * i);
  return v;
}

TEST(Audio, RawPlaybackIsPassedOnSampleForSample) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  Bytes all;
  for (uint32_t i = 0; i < 10; ++i) {
    const Bytes p = sine_s16(480u * i, 480, 1000, 48000);
    append(all, p);
    s.data(1000 + 10 * i, p, (1001 + 10 * i) * kMs);
  }
  s.state.finish();
  ASSERT_EQ(s.state.streams().size(), 1u);
  const auto& st = s.stream();
  EXPECT_EQ(st.kind, Kind::Playback);
  EXPECT_EQ(st.channels, 2u);
  EXPECT_EQ(st.frequency, 48000u);
  EXPECT_EQ(st.mode, Mode::Raw);
  EXPECT_EQ(st.packets, 10u);
  EXPECT_EQ(st.decoded_frames, 4800u);
  EXPECT_EQ(st.silence_frames, 0u);
  EXPECT_EQ(st.underruns + st.gaps, 0u);
  EXPECT_DOUBLE_EQ(st.seconds(), 0.1);
  ASSERT_EQ(s.tape.begun.size(), 1u);
  ASSERT_EQ(s.tape.pcm.size(), all.size() / 2);
  for (size_t i = 0; i < s.tape.pcm.size(); ++i) {
    ASSERT_EQ(static_cast<uint16_t>(s.tape.pcm[i]), all[2 * i] | all[2 * i + 1] << 8) << i;
  }
  EXPECT_TRUE(s.tape.problems.empty()) << s.tape.problems.front().code;
}

TEST(Audio, MissingTimeIsSilenceAndAnUnderrunWhenNothingWasLost) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  raw_packets(s, every_10ms(0, 10));                 // 0..90 ms
  const uint64_t first_after = s.last_id + 1;
  raw_packets(s, every_10ms(400, 30), 4800);         // 300 ms missing, then 400..690
  s.state.finish();
  const auto& st = s.stream();
  EXPECT_EQ(st.underruns, 1u);
  EXPECT_EQ(st.underrun_ms, 300u);
  EXPECT_EQ(st.gaps, 0u);
  EXPECT_EQ(st.silence_frames, 300u * 48);
  ASSERT_EQ(s.tape.silences.size(), 1u);
  EXPECT_EQ(s.tape.silences[0].first, 4800u);  // right after the first ten packets
  EXPECT_EQ(st.frames(), 40u * 480 + 300u * 48);
  ASSERT_EQ(s.tape.count("underrun"), 1u);
  // Said at the first packet after the missing time, though it was confirmed later.
  const auto at = std::find_if(s.tape.problems.begin(), s.tape.problems.end(), [](auto& d) { return d.code == "underrun"; });
  const auto& where = s.tape.where[static_cast<size_t>(at - s.tape.problems.begin())];
  EXPECT_EQ(where.message_id, first_after);
  EXPECT_EQ(where.ts_ns, 401 * kMs);
  EXPECT_EQ(where.connection, kPlay);
}

TEST(Audio, MissingTimeAfterACaptureLossIsAGap) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  raw_packets(s, every_10ms(0, 10));
  s.state.capture_lost(kPlay, 95 * kMs);
  raw_packets(s, every_10ms(250, 30), 4800);  // 150 ms lost
  s.state.finish();
  EXPECT_EQ(s.stream().gaps, 1u);
  EXPECT_EQ(s.stream().gap_ms, 150u);
  EXPECT_EQ(s.stream().underruns, 0u);
  EXPECT_EQ(s.stream().silence_frames, 150u * 48);
  EXPECT_EQ(s.tape.count("gap"), 1u);
}

TEST(Audio, ALateBurstIsNotAGap) {
  // A server that stalls stamps its catch-up packets all at once: late, then on time.
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  std::vector<uint32_t> times = every_10ms(0, 5);         // 0..40
  for (int i = 0; i < 8; ++i) times.push_back(120);       // positions 50..120, stamped at 120
  for (uint32_t t : every_10ms(130, 20)) times.push_back(t);
  raw_packets(s, times);
  s.state.finish();
  EXPECT_EQ(s.stream().underruns + s.stream().gaps, 0u);
  EXPECT_EQ(s.stream().silence_frames, 0u);
  EXPECT_EQ(s.stream().decoded_frames, times.size() * 480);
  EXPECT_EQ(s.stream().overrun_ms, 0u);
}

TEST(Audio, AudioBeyondItsTimestampsIsKeptAndCountedAsOverrun) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  std::vector<uint32_t> times = every_10ms(0, 10);
  for (uint32_t t : every_10ms(50, 10)) times.push_back(t);  // stamps go back 50 ms
  raw_packets(s, times);
  s.state.finish();
  EXPECT_EQ(s.stream().decoded_frames, 20u * 480);
  EXPECT_EQ(s.stream().overrun_ms, 50u);
  EXPECT_EQ(s.stream().underruns, 0u);
  EXPECT_EQ(s.tape.count("overrun"), 1u);
}

TEST(Audio, AJumpBeyondTheFillLimitIsNotFilled) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  raw_packets(s, every_10ms(0, 5));
  raw_packets(s, every_10ms(3'000'000'000u, 5));  // 35 days later
  s.state.finish();
  EXPECT_EQ(s.stream().jumps, 1u);
  EXPECT_EQ(s.stream().silence_frames, 0u);
  EXPECT_EQ(s.stream().decoded_frames, 10u * 480);
  EXPECT_EQ(s.tape.count("timestamp_jump"), 1u);
}

TEST(Audio, StampsWrapAroundThe32BitClock) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  raw_packets(s, every_10ms(0xffffffffu - 45, 10));  // crosses 2^32 ms
  s.state.finish();
  EXPECT_EQ(s.stream().underruns + s.stream().jumps, 0u);
  EXPECT_EQ(s.stream().decoded_frames, 4800u);
}

TEST(Audio, RateChangeBeginsANewStreamAndModeChangeIsReported) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 44100);
  s.data(0, sine_s16(0, 441, 1000, 44100), kMs);
  s.stop(2 * kMs);
  s.start(1, 48000, 3 * kMs);
  s.data(10, sine_s16(0, 480, 1000, 48000, 1), 4 * kMs);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // CELT: deprecated, still on the wire of old servers
  s.mode(SPICE_AUDIO_DATA_MODE_CELT_0_5_1, 5 * kMs);
#pragma GCC diagnostic pop
  s.data(20, Bytes(47, 0x55), 6 * kMs);
  s.data(25, Bytes(47, 0x55), 7 * kMs);
  s.state.finish();
  ASSERT_EQ(s.state.streams().size(), 2u);
  EXPECT_EQ(s.stream(0).frequency, 44100u);
  EXPECT_EQ(s.stream(0).index, 0u);
  EXPECT_EQ(s.stream(1).frequency, 48000u);
  EXPECT_EQ(s.stream(1).channels, 1u);
  EXPECT_EQ(s.stream(1).index, 1u);
  EXPECT_EQ(s.stream(1).modes, (std::vector<Mode>{Mode::Raw, Mode::Celt}));
  EXPECT_EQ(s.tape.count("format_changed"), 1u);
  EXPECT_EQ(s.tape.count("mode_changed"), 1u);
  // CELT: not decodable here, said once, each packet 256 frames of silence.
  EXPECT_EQ(s.tape.count("celt_not_decoded"), 1u);
  EXPECT_EQ(s.stream(1).undecoded_packets, 2u);
  EXPECT_EQ(s.stream(1).decoded_frames, 480u);
  EXPECT_EQ(s.stream(1).silence_frames, 2u * sc::audio::kCeltFramesPerPacket);
  EXPECT_EQ(s.tape.begun.size(), 2u);
}

TEST(Audio, VolumeMuteAndLatencyAreKeptPerStream) {
  Session s;
  s.send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_VOLUME,
         {{"nchannels", 2}, {"volume", {1000, 2000}}}, 0);
  s.send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_MUTE, {{"mute", 1}}, 0);
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  s.send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_LATENCY, {{"latency_ms", 250}}, 0);
  s.state.finish();
  ASSERT_EQ(s.state.streams().size(), 1u);
  EXPECT_EQ(s.stream().volume, (std::vector<uint16_t>{1000, 2000}));
  EXPECT_EQ(s.stream().mute, true);
  EXPECT_EQ(s.stream().latency_reported_ms, 250u);
}

TEST(Audio, LatencyAndDriftAgainstTheMultimediaClock) {
  // main.init says the client's clock is at 1000 ms when the capture is at 1 s; data
  // is stamped 400 ms ahead of it at first, and 100 ms further ahead 10 s later.
  for (const uint32_t reported : {420u, 150u}) {
    Session s;
    s.send(kMain, SPICE_CHANNEL_MAIN, Direction::S2C, SPICE_MSG_MAIN_INIT,
           {{"session_id", 1}, {"display_channels_hint", 1}, {"supported_mouse_modes", 3}, {"current_mouse_mode", 2},
            {"agent_connected", 0}, {"agent_tokens", 0}, {"multi_media_time", 1000}, {"ram_hint", 0}},
           1000 * kMs);
    s.mode(SPICE_AUDIO_DATA_MODE_RAW);
    s.start(2, 48000, 1000 * kMs);
    s.send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_LATENCY, {{"latency_ms", reported}},
           1000 * kMs);
    // 1000 packets of 10 ms stamped every 10 ms, captured every 9.9 ms: the stamps
    // gain 0.1 ms a packet on the capture's clock, 100 ms over the stream.
    for (uint32_t i = 0; i < 1000; ++i) {
      const uint64_t ts = 1000 * kMs + static_cast<uint64_t>(i) * 9'900'000;
      s.data(1400 + 10 * i, sine_s16(480u * i, 480, 1000, 48000), ts);
    }
    s.state.finish();
    const auto& st = s.stream();
    ASSERT_TRUE(st.latency_observed_ms);
    EXPECT_NEAR(*st.latency_observed_ms, 450, 2);  // the median: halfway through the drift
    ASSERT_TRUE(st.drift_ms);
    EXPECT_NEAR(*st.drift_ms, 100 - 10, 3);  // first second to last second: 9 s of 10
    EXPECT_EQ(s.tape.count("playback_drift"), 1u);
    EXPECT_EQ(s.tape.count("latency_mismatch"), reported == 420 ? 0u : 1u) << reported;
    EXPECT_EQ(st.underruns, 0u);  // the stamps, on their own clock, are regular
  }
}

TEST(Audio, RecordModeMayFollowTheStart) {
  // spice-gtk answers record.start with record.mode and record.start_mark.
  Session s;
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::S2C, SPICE_MSG_RECORD_START,
         {{"channels", 2}, {"format", SPICE_AUDIO_FMT_S16}, {"frequency", 48000}}, 0);
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::C2S, SPICE_MSGC_RECORD_MODE,
         {{"time", 0}, {"mode", SPICE_AUDIO_DATA_MODE_RAW}, {"data", ""}}, kMs);
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::C2S, SPICE_MSGC_RECORD_START_MARK, {{"time", 0}}, kMs);
  for (uint32_t i = 0; i < 5; ++i) {
    s.send(kRec, SPICE_CHANNEL_RECORD, Direction::C2S, SPICE_MSGC_RECORD_DATA,
           {{"time", 10 * i}, {"data", hex(sine_s16(480u * i, 480, 440, 48000))}}, (2 + i) * kMs);
  }
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::S2C, SPICE_MSG_RECORD_STOP, json::object(), 10 * kMs);
  s.state.finish();
  ASSERT_EQ(s.state.streams().size(), 1u);
  const auto& st = s.stream();
  EXPECT_EQ(st.kind, Kind::Record);
  EXPECT_EQ(st.decoded_frames, 2400u);
  EXPECT_EQ(st.stops, 1u);
  EXPECT_EQ(s.tape.count("mode_not_seen"), 0u);
  EXPECT_FALSE(st.latency_observed_ms);  // record stamps are the client's: not measured
}

// --- Opus -----------------------------------------------------------------

struct OpusEncoderDeleter {
  void operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }
};

// Opus packets of 10 ms (480 frames at 48 kHz stereo) of a sine.
std::vector<Bytes> opus_packets(double hz, uint32_t count) {
  int err = 0;
  std::unique_ptr<OpusEncoder, OpusEncoderDeleter> enc(opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &err));
  EXPECT_EQ(err, OPUS_OK);
  std::vector<Bytes> out;
  for (uint32_t i = 0; i < count; ++i) {
    const Bytes raw = sine_s16(480u * i, 480, hz, 48000);
    std::vector<opus_int16> pcm(raw.size() / 2);
    for (size_t k = 0; k < pcm.size(); ++k) pcm[k] = static_cast<opus_int16>(raw[2 * k] | raw[2 * k + 1] << 8);
    std::array<uint8_t, 1500> packet{};
    const int n = opus_encode(enc.get(), pcm.data(), 480, packet.data(), static_cast<opus_int32>(packet.size()));
    if (n <= 0) {
      ADD_FAILURE() << "opus_encode: " << opus_strerror(n);
      break;
    }
    out.emplace_back(packet.begin(), packet.begin() + n);
  }
  return out;
}

TEST(Audio, OpusIsDecodedWithLibopusToTheSameTone) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_OPUS);
  s.start(2, 48000);
  const auto packets = opus_packets(1000, 100);  // 1 s
  for (uint32_t i = 0; i < packets.size(); ++i) s.data(10 * i, packets[i], (10 * i + 1) * kMs);
  s.state.finish();
  const auto& st = s.stream();
  EXPECT_EQ(st.mode, Mode::Opus);
  EXPECT_EQ(st.decoded_frames, 100u * 480);
  EXPECT_EQ(st.undecoded_packets, 0u);
  EXPECT_TRUE(s.tape.problems.empty()) << s.tape.problems.front().code;
  // Past the codec's start-up, the decoded sound is the 1 kHz tone.
  const std::span<const int16_t> settled = std::span<const int16_t>(s.tape.pcm).subspan(2 * 4800);
  const auto spec = scan(settled, 2, 0, 48000, 200, 4000, 5, 10);
  EXPECT_NEAR(spec.peak_hz, 1000, 5);
  EXPECT_GT(spec.band_share, 0.9);
}

TEST(Audio, GarbageOpusIsSilenceOfItsClaimedLengthAndReported) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_OPUS);
  s.start(2, 48000);
  const auto good = opus_packets(440, 3);
  s.data(0, good[0], kMs);
  // A TOC byte for a 20 ms packet (config 1: SILK NB 20 ms, code 0) with nonsense after it,
  // then one with code 3 claiming more frames than bytes.
  s.data(10, Bytes{0x08, 0xff, 0xff, 0xff}, 11 * kMs);
  s.data(30, Bytes{0x0b, 0xff}, 31 * kMs);
  s.data(40, Bytes{}, 41 * kMs);
  s.state.finish();
  const auto& st = s.stream();
  EXPECT_EQ(st.packets, 4u);
  EXPECT_GE(st.undecoded_packets, 2u);
  EXPECT_GE(s.tape.count("opus_decode_failed"), 2u);
  EXPECT_EQ(st.decoded_frames + st.silence_frames, st.frames());
  EXPECT_GT(st.silence_frames, 0u);
}

TEST(Audio, OpusWithAFormatItCannotCarryIsNotDecoded) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_OPUS);
  s.start(6, 44100);
  s.data(0, Bytes{0xfc, 0xff, 0xfe}, kMs);
  s.state.finish();
  EXPECT_EQ(s.stream().skipped_packets, 1u);
  EXPECT_EQ(s.tape.count("bad_format"), 1u);
  EXPECT_TRUE(s.tape.begun.empty());
}

// --- hostile input ----------------------------------------------------------

TEST(Audio, DataBeforeStartIsCountedNotGuessed) {
  Session s;
  s.data(0, Bytes(1920, 1), kMs);
  s.data(10, Bytes(1920, 1), 2 * kMs);
  s.state.finish();
  ASSERT_EQ(s.state.streams().size(), 1u);
  EXPECT_EQ(s.stream().packets, 2u);
  EXPECT_EQ(s.stream().skipped_packets, 2u);
  EXPECT_EQ(s.stream().frequency, 0u);
  EXPECT_EQ(s.tape.count("data_before_start"), 2u);
  EXPECT_TRUE(s.tape.begun.empty());
  EXPECT_TRUE(s.tape.pcm.empty());
}

TEST(Audio, HugeAndOddPacketsAreCut) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  s.data(0, Bytes(4 * 100000 + 3, 0), kMs);  // 100000 frames and 3 bytes
  s.state.finish();
  EXPECT_EQ(s.stream().decoded_frames, 48000u);  // Limits::max_packet_frames
  EXPECT_EQ(s.tape.count("packet_too_large"), 1u);
}

TEST(Audio, AStreamStopsGrowingAtItsCap) {
  sc::audio::Limits small;
  small.max_stream_frames = 2000;
  Session s(small);
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  raw_packets(s, every_10ms(0, 3));
  raw_packets(s, every_10ms(1000, 30), 1440);  // a second of silence would be owed
  s.state.finish();
  EXPECT_EQ(s.stream().frames(), 2000u);
  EXPECT_TRUE(s.stream().truncated);
  EXPECT_EQ(s.tape.frames, 2000u);
  EXPECT_EQ(s.tape.count("stream_too_long"), 1u);
}

TEST(Audio, BadFormatsAndModesNeverDecode) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(0, 48000);
  s.data(0, Bytes(64, 0), kMs);
  s.stop(2 * kMs);
  s.start(2, 48000, 3 * kMs, 7);  // not S16
  s.data(10, Bytes(64, 0), 4 * kMs);
  s.mode(99, 5 * kMs);
  s.start(2, 48000, 6 * kMs);
  s.data(20, Bytes(64, 0), 7 * kMs);
  s.state.finish();
  EXPECT_EQ(s.tape.count("bad_format"), 1u);
  EXPECT_EQ(s.tape.count("unsupported_format"), 1u);
  EXPECT_GE(s.tape.count("bad_mode"), 1u);
  EXPECT_TRUE(s.tape.pcm.empty());
}

TEST(Audio, TruncatedMessagesAndRepeatedProblemsAreBounded) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  s.start(2, 48000);
  for (int i = 0; i < 100; ++i) {
    s.send_body(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_DATA, Bytes{1, 2}, kMs);
    s.send_body(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_START, Bytes{1}, kMs);
  }
  s.data(0, Bytes(7, 0), kMs);
  for (int i = 0; i < 50; ++i) s.send(kPlay, SPICE_CHANNEL_PLAYBACK, Direction::S2C, SPICE_MSG_PLAYBACK_DATA,
                                      {{"time", 0}, {"data", "01"}}, kMs);
  s.state.finish();
  EXPECT_LE(s.tape.count("incomplete_message"), 8u);
  EXPECT_LE(s.tape.count("partial_frame"), 8u);
  EXPECT_GE(s.tape.count("more_partial_frame"), 1u);
}

TEST(Audio, FormatChangesAndEmptyPacketsAreBounded) {
  Session s;
  s.mode(SPICE_AUDIO_DATA_MODE_RAW);
  for (uint32_t i = 0; i < 500; ++i) s.start(2, i % 2 ? 44100 : 48000, i * kMs);
  EXPECT_EQ(s.state.streams().size(), sc::audio::Limits{}.max_streams_per_channel);
  EXPECT_EQ(s.tape.count("too_many_streams"), 1u);
  s.data(0, Bytes(1920, 0), 600 * kMs);
  EXPECT_EQ(s.state.streams().back().skipped_packets, 1u);

  // Packets with no whole frame say nothing about missing time and are never held.
  Session e;
  e.mode(SPICE_AUDIO_DATA_MODE_RAW);
  e.start(2, 48000);
  raw_packets(e, every_10ms(0, 2));
  for (uint32_t i = 0; i < 5000; ++i) e.data(1000 + i, Bytes(3, 0), (1000 + i) * kMs);
  raw_packets(e, every_10ms(20, 2), 960);
  e.state.finish();
  EXPECT_EQ(e.stream().packets, 5004u);
  EXPECT_EQ(e.stream().underruns, 0u);
  EXPECT_EQ(e.stream().decoded_frames, 4u * 480);
}

TEST(Audio, RedactedDataIsCountedNotDecoded) {
  Session s;
  s.state.redacted(kRec);
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::S2C, SPICE_MSG_RECORD_START,
         {{"channels", 2}, {"format", SPICE_AUDIO_FMT_S16}, {"frequency", 48000}}, 0);
  s.send(kRec, SPICE_CHANNEL_RECORD, Direction::C2S, SPICE_MSGC_RECORD_DATA,
         {{"time", 0}, {"data", hex(Bytes(1920, 0))}}, kMs);
  s.state.finish();
  EXPECT_EQ(s.stream().skipped_packets, 1u);
  EXPECT_EQ(s.tape.count("redacted"), 1u);
  EXPECT_TRUE(s.tape.pcm.empty());
}

// --- WAV --------------------------------------------------------------------

TEST(Wav, WrittenSamplesAndSilenceReadBack) {
  const auto path = (std::filesystem::temp_directory_path() / "sc-audio-test.wav").string();
  {
    auto w = sc::util::WavWriter::create(path, 2, 44100);
    ASSERT_TRUE(w.ok()) << w.error().message;
    const std::vector<int16_t> a = {1, -1, 32767, -32768};
    ASSERT_TRUE(w->write(a).ok());
    ASSERT_TRUE(w->silence(3).ok());
    EXPECT_FALSE(w->write(std::vector<int16_t>{5}).ok());  // half a frame
    ASSERT_TRUE(w->close().ok());
  }
  auto r = sc::util::read_wav(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->channels, 2u);
  EXPECT_EQ(r->rate, 44100u);
  EXPECT_EQ(r->samples, (std::vector<int16_t>{1, -1, 32767, -32768, 0, 0, 0, 0, 0, 0}));
  std::filesystem::remove(path);
}

}  // namespace
