#pragma once
// The audio of a SPICE session rebuilt from its decoded playback and record
// messages: per channel a stream (format, channels, frequency, data mode, start
// and stop, volume, mute, latency), its packets decoded to PCM (pcm_decoder.hpp)
// and laid on a timeline by their timestamps, with diagnostics as values.
//
// One AudioState per session. Feed it every decoded message of the session's
// playback, record and main channels in capture order (main gives the
// multimedia clock: main.init and main.multi_media_time), tell it where the
// capture lost bytes (capture_lost), then call finish(). It knows nothing of
// files or databases: `audio`, `audio export` and any other consumer drive it.
//
// The timeline. A stream's `time` stamps are milliseconds of the server's
// multimedia clock (playback) or of the client's (record). Each packet is
// expected where the samples before it end: anchor + frames / rate. A packet
// stamped later than that by more than Limits::gap_tolerance_ms, and every
// packet after it for Limits::gap_confirm_ms of audio, means samples are
// missing: the smallest of those leads becomes silence (a `gap` when the
// capture lost bytes of that channel since the previous packet, an `underrun`
// when it did not). A lead that goes away within the confirmation window is a
// burst sent late (servers stamp a packet when they queue it, and catch up in
// bursts), not a loss. Packets stamped earlier than their place (more audio
// than time) are never dropped: the timeline is re-anchored and the excess is
// counted as overrun. Jumps beyond Limits::max_fill_ms are re-anchored, not
// filled. Stop/start pauses are not gaps and are not filled.
//
// A channel's Stream is listed from its first mode, start or data message (a
// channel that only ever says its mode, as QEMU's does without a guest, shows
// so); its format comes with a start. A new start with another rate or channel
// count begins a new Stream of the same channel (Stream::index). Diagnostics of one code are
// passed on at most Limits::reports_per_code times per stream; the counters in
// Stream count every one.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dissect/audio/pcm_decoder.hpp"
#include "dissect/decode/decoded.hpp"

namespace sc::audio {

enum class Kind : uint8_t { Playback, Record };  // playback: server to client; record: client to server
std::string_view kind_name(Kind k);

struct Limits {
  uint32_t max_packet_frames = 48000;               // decoded from one packet (1 s at 48 kHz)
  uint64_t max_stream_frames = 48000ull * 3 * 3600;  // per stream (3 h at 48 kHz: a stereo WAV under 4 GiB)
  uint32_t gap_tolerance_ms = 20;                    // stamp jitter below this is not a gap
  uint32_t gap_confirm_ms = 200;                     // of audio stamped late before it counts as a gap
  uint32_t max_fill_ms = 60000;                      // longer jumps are re-anchored, not filled
  uint32_t latency_tolerance_ms = 50;                // reported vs observed latency
  uint32_t drift_tolerance_ms = 50;                  // over a stream
  uint32_t reports_per_code = 8;                     // per stream and code
  uint32_t max_streams_per_channel = 64;             // format changes beyond are counted, not followed
};

struct Stream {
  uint32_t connection = 0;
  Kind kind = Kind::Playback;
  uint32_t index = 0;  // 0 for a channel's first format, +1 at each format change
  uint32_t channels = 0, frequency = 0;
  uint16_t format = 0;  // SPICE_AUDIO_FMT_*
  Mode mode = Mode::Raw;
  std::vector<Mode> modes;  // every mode it carried, in order
  bool started = false;     // between a start and a stop
  uint32_t starts = 0, stops = 0;

  uint64_t packets = 0, bytes = 0;   // data packets (decoded or not)
  uint64_t decoded_frames = 0;       // PCM produced
  uint64_t silence_frames = 0;       // gap fill and packets known only by their length (CELT, bad Opus)
  uint64_t skipped_packets = 0;      // not placed at all (data before start, redacted, bad format)
  uint64_t undecoded_packets = 0;    // placed as silence of their length
  uint64_t gaps = 0, gap_ms = 0;     // timestamp gaps where the capture lost bytes
  uint64_t underruns = 0, underrun_ms = 0;  // timestamp gaps with nothing lost: the sender was late
  uint64_t overrun_ms = 0;           // audio beyond its timestamps
  uint64_t jumps = 0;                // timestamp jumps not filled (beyond max_fill_ms, or backwards)
  bool truncated = false;            // max_stream_frames reached: the rest is counted, not decoded

  std::vector<uint16_t> volume;      // last *.volume, per channel
  std::optional<bool> mute;
  std::optional<uint32_t> latency_reported_ms;  // last playback.latency
  std::optional<double> latency_observed_ms;    // median of data time minus the multimedia clock (playback)
  std::optional<double> drift_ms;               // that difference at the end minus at the start
  double drift_span_s = 0;                      // capture seconds the drift is measured over

  uint64_t first_ts_ns = 0, last_ts_ns = 0;  // capture time of the first and last data packet
  uint32_t first_time = 0, last_time = 0;    // their stamps

  uint64_t frames() const { return decoded_frames + silence_frames; }
  double seconds() const { return frequency ? static_cast<double>(frames()) / frequency : 0.0; }
};

// Where a diagnostic points: the channel, the capture time and the caller's id
// of the message it is about (apply's `message_id`: a store row, a frame number).
// A gap is reported at the first packet after it, which may be some messages
// back; what concerns a stream as a whole (drift, latency) at its last packet.
struct Location {
  uint32_t connection = 0;
  uint64_t ts_ns = 0;
  uint64_t message_id = 0;  // 0: none (the summaries finish() adds)
};

// What the state hands on as it goes. Streams passed are valid during the call.
class AudioListener {
 public:
  virtual ~AudioListener() = default;
  // A stream begins (its format is set): before any of its samples.
  virtual void on_stream(const Stream&) {}
  // Interleaved S16 samples (Stream::channels per frame), in timeline order.
  virtual void on_pcm(const Stream&, std::span<const int16_t> /*samples*/) {}
  // `frames` frames of silence at this point of the timeline.
  virtual void on_silence(const Stream&, uint64_t /*frames*/) {}
  virtual void on_problem(const Location&, const decode::Diagnostic&) {}
};

class AudioState {
 public:
  explicit AudioState(Limits limits = {}, AudioListener* listener = nullptr);
  ~AudioState();
  AudioState(AudioState&&) noexcept;
  AudioState& operator=(AudioState&&) noexcept;

  // One decoded message of any channel (only playback, record and main ones
  // count). `message_id` is handed back in the Location of its diagnostics.
  void apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedMessage& message,
             std::span<const uint8_t> body, uint64_t message_id = 0);
  // The capture lost bytes of this channel at ts_ns (a framing gap): the next
  // timestamp gap of the channel's stream is a `gap`, not an `underrun`.
  void capture_lost(uint32_t connection, uint64_t ts_ns);
  // The channel's audio data was redacted at import: its packets are counted, not decoded.
  void redacted(uint32_t connection);
  // End of the session: places what is held, measures drift and latency.
  void finish();

  // Every stream, in the order they began.
  const std::vector<Stream>& streams() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc::audio
