#include "dissect/audio/audio_state.hpp"

#include <spice/enums.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "dissect/decode/field_view.hpp"
#include "dissect/schema/registry.hpp"

namespace sc::audio {

std::string_view kind_name(Kind k) { return k == Kind::Playback ? "playback" : "record"; }

namespace {

using decode::FieldView;
using decode::Severity;

constexpr size_t kNoStream = SIZE_MAX;
// Observed-latency samples kept per stream; beyond, every other one is dropped
// and the stride doubles, so memory stays bounded over any session length.
constexpr size_t kMaxLeadSamples = size_t{1} << 18;
// The windows at a stream's start and end that drift compares (capture time).
constexpr double kDriftWindowS = 1.0;
// Packets held while a gap is confirmed; tiny packets could otherwise pile up
// for a long time before they add up to the confirmation window.
constexpr size_t kMaxHeld = 256;

// A data packet waiting for its place on the timeline.
struct Packet {
  uint64_t ts = 0;
  uint64_t message = 0;  // the caller's id
  uint32_t time = 0;
  std::vector<int16_t> pcm;  // decoded samples, or empty
  uint64_t frames = 0;       // per channel; PCM or (pcm empty) silence of this length
  bool lost_before = false;  // the capture lost bytes of the channel just before it
  double lead = 0;           // ms stamped after where the timeline expects it
};

struct LeadSample {
  uint64_t ts;
  double ms;
};

struct Channel {
  Kind kind = Kind::Playback;
  size_t stream = kNoStream;  // the current Stream
  std::optional<Mode> mode;   // from *.mode
  // Made at the first packet after a start or a mode change: spice-gtk sends
  // record.mode after record.start arrives, so the mode may follow the start.
  std::optional<PcmDecoder> decoder;
  bool decoder_failed = false;  // reported; not tried again until the next start or mode
  bool redacted = false;
  bool lost = false;  // capture_lost since the last packet
  uint32_t streams = 0;         // made for this channel
  bool too_many_streams = false;  // past Limits::max_streams_per_channel: its data is only counted
  std::vector<uint16_t> volume;
  std::optional<bool> mute;
  std::optional<uint32_t> latency;

  // Timeline: a packet is expected at anchor_time + (placed - anchor_frames) / rate.
  bool anchored = false;
  uint32_t anchor_time = 0;
  uint64_t anchor_frames = 0;
  std::vector<Packet> held;  // stamped late, waiting for confirmation
  uint64_t held_frames = 0;
  double overrun = 0;        // ms, fractional

  // Data stamp minus the multimedia clock, for latency and drift (playback only).
  std::vector<LeadSample> leads;
  uint64_t lead_generation = 0;  // of the multimedia clock the samples were taken against
  uint64_t lead_stride = 1, lead_count = 0;
};

// What the state keeps of a Stream beside its public fields.
struct StreamNotes {
  bool announced = false;  // on_stream given
  bool timed = false;      // first_ts_ns/first_time set
  std::optional<Mode> placed_mode;  // of the last packet placed
  bool celt_reported = false;       // said once per stream: every CELT packet is the same story
  Location last;                    // of the last packet, where stream-wide findings are said
};

struct Clock {
  uint32_t mm = 0;  // multimedia time (ms) ...
  uint64_t ts = 0;  // ... at this capture time
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

struct AudioState::Impl {
  Limits limits;
  AudioListener* listener = nullptr;
  std::vector<Stream> streams;
  std::vector<StreamNotes> notes;  // beside streams
  std::unordered_map<uint32_t, Channel> by_connection;
  std::optional<Clock> clock;
  uint64_t clock_generation = 0;
  std::map<std::tuple<uint32_t, size_t, std::string>, uint64_t> reports;  // (connection, stream, code) -> seen

  // The message being applied (or, for a held packet or a stream, the one a finding is about).
  uint32_t conn = 0;
  uint64_t ts = 0;
  uint64_t message = 0;

  using Handler = void (Impl::*)(Channel&, const FieldView&);
  static const std::unordered_map<std::string, Handler>& handlers();

  void report(Channel* ch, Severity sev, std::string code, uint32_t offset, std::string path, std::string text) {
    const size_t s = ch ? ch->stream : kNoStream;
    const uint64_t n = ++reports[{conn, s, code}];
    if (!listener || n > limits.reports_per_code) return;
    listener->on_problem({conn, ts, message}, {sev, std::move(code), offset, std::move(path), std::move(text)});
  }

  Stream* stream(Channel& ch) { return ch.stream == kNoStream ? nullptr : &streams[ch.stream]; }

  // A new Stream for the channel, carrying what the channel already knows.
  Stream& new_stream(Channel& ch, uint32_t index) {
    Stream s;
    s.connection = conn;
    s.kind = ch.kind;
    s.index = index;
    s.volume = ch.volume;
    s.mute = ch.mute;
    s.latency_reported_ms = ch.latency;
    streams.push_back(std::move(s));
    notes.emplace_back();
    ch.stream = streams.size() - 1;
    ++ch.streams;
    ch.leads.clear();
    ch.lead_stride = 1;
    ch.lead_count = 0;
    return streams.back();
  }

  // --- output ---------------------------------------------------------------
  // Frames the stream may still take before max_stream_frames.
  uint64_t room(Channel& ch, Stream& s, uint64_t want) {
    const uint64_t have = s.frames();
    const uint64_t left = have >= limits.max_stream_frames ? 0 : limits.max_stream_frames - have;
    if (want > left && !s.truncated) {
      s.truncated = true;
      report(&ch, Severity::Error, "stream_too_long", 0, "",
             "the stream reached " + std::to_string(limits.max_stream_frames) +
                 " frames; the rest is counted, not decoded or exported");
    }
    return std::min(want, left);
  }
  void emit_silence(Channel& ch, Stream& s, uint64_t frames) {
    frames = room(ch, s, frames);
    if (!frames) return;
    s.silence_frames += frames;
    if (listener) listener->on_silence(s, frames);
  }
  void emit(Channel& ch, Stream& s, Packet& p) {
    if (p.pcm.empty()) {
      emit_silence(ch, s, p.frames);
      return;
    }
    const uint64_t frames = room(ch, s, p.frames);
    if (!frames) return;
    s.decoded_frames += frames;
    if (listener) listener->on_pcm(s, std::span<const int16_t>(p.pcm).first(frames * s.channels));
  }

  // --- timeline -------------------------------------------------------------
  double lead_of(const Channel& ch, const Stream& s, uint32_t time, uint64_t frames_before) const {
    const double stamped = static_cast<double>(static_cast<int32_t>(time - ch.anchor_time));
    const double expected = static_cast<double>(frames_before - ch.anchor_frames) * 1000.0 / s.frequency;
    return stamped - expected;
  }
  void anchor(Channel& ch, uint32_t time, uint64_t frames) {
    ch.anchored = true;
    ch.anchor_time = time;
    ch.anchor_frames = frames;
  }
  double held_ms(const Channel& ch, const Stream& s) const {
    return static_cast<double>(ch.held_frames) * 1000.0 / s.frequency;
  }

  // The held packets are late for good: the smallest lead is missing audio.
  void confirm_gap(Channel& ch, Stream& s) {
    if (ch.held.empty()) return;
    double ms = ch.held.front().lead;
    for (const auto& p : ch.held) ms = std::min(ms, p.lead);
    const auto frames = static_cast<uint64_t>(std::llround(ms * s.frequency / 1000.0));
    const auto whole_ms = static_cast<uint64_t>(std::llround(ms));
    const bool lost = ch.held.front().lost_before;
    if (lost) {
      ++s.gaps;
      s.gap_ms += whole_ms;
    } else {
      ++s.underruns;
      s.underrun_ms += whole_ms;
    }
    const Location saved{conn, ts, message};
    ts = ch.held.front().ts;
    message = ch.held.front().message;
    report(&ch, lost ? Severity::Warning : Severity::Info, lost ? "gap" : "underrun", 0, "",
           std::to_string(whole_ms) + " ms missing before the packet stamped " +
               std::to_string(ch.held.front().time) + " (" +
               (lost ? "the capture lost bytes of this channel there" : "nothing was lost: the sender sent too little") +
               "); filled with silence");
    ts = saved.ts_ns;
    message = saved.message_id;
    emit_silence(ch, s, frames);
    flush_held(ch, s);
  }
  void flush_held(Channel& ch, Stream& s) {
    for (auto& p : ch.held) emit(ch, s, p);
    ch.held.clear();
    ch.held_frames = 0;
  }
  // Places what is held at a stop, a format change or the end: its stamps are all we know.
  void settle(Channel& ch) {
    if (Stream* s = stream(ch); s && !ch.held.empty()) confirm_gap(ch, *s);
  }

  void place(Channel& ch, Stream& s, Packet p) {
    if (p.frames == 0) return;  // nothing to place: its stamp says nothing about missing audio
    const uint64_t before = s.frames() + ch.held_frames;
    if (!ch.anchored) anchor(ch, p.time, before);
    p.lead = lead_of(ch, s, p.time, before);
    const double tol = limits.gap_tolerance_ms;
    if (p.lead > tol && p.lead <= limits.max_fill_ms) {
      ch.held_frames += p.frames;
      ch.held.push_back(std::move(p));
      if (held_ms(ch, s) >= limits.gap_confirm_ms || ch.held.size() >= kMaxHeld) confirm_gap(ch, s);
      return;
    }
    // On time again: what was held was a late burst, not a loss.
    flush_held(ch, s);
    const uint64_t at = s.frames();
    if (std::abs(p.lead) > limits.max_fill_ms) {
      ++s.jumps;
      report(&ch, Severity::Warning, "timestamp_jump", 0, "",
             "stamped " + std::to_string(std::llround(p.lead)) + " ms from where the audio before it ends; not filled");
      anchor(ch, p.time, at);
    } else if (p.lead < 0) {
      // The timeline follows the earliest stamps: jitter only ever shows as lateness.
      ch.overrun -= p.lead;
      s.overrun_ms = static_cast<uint64_t>(std::llround(ch.overrun));
      if (p.lead < -tol) {
        report(&ch, Severity::Info, "overrun", 0, "",
               "stamped " + std::to_string(std::llround(-p.lead)) + " ms before the audio before it ends " +
                   "(more audio than time)");
      }
      anchor(ch, p.time, at);
    }
    emit(ch, s, p);
  }

  // --- main: the multimedia clock -------------------------------------------
  void set_clock(uint32_t mm) {
    clock = Clock{mm, ts};
    ++clock_generation;
  }
  void mm_init(Channel&, const FieldView& r) { set_clock(static_cast<uint32_t>(r.number("multi_media_time"))); }
  void mm_time(Channel&, const FieldView& r) { set_clock(static_cast<uint32_t>(r.number("time"))); }

  void sample_lead(Channel& ch, uint32_t time) {
    if (ch.kind != Kind::Playback || !clock) return;
    if (ch.lead_generation != clock_generation) {
      // A new multimedia clock: earlier samples were taken against another one.
      ch.leads.clear();
      ch.lead_stride = 1;
      ch.lead_count = 0;
      ch.lead_generation = clock_generation;
    }
    if (ch.lead_count++ % ch.lead_stride) return;
    const double ms = static_cast<double>(static_cast<int32_t>(time - clock->mm)) -
                      static_cast<double>(static_cast<int64_t>(ts - clock->ts)) / 1e6;
    ch.leads.push_back({ts, ms});
    if (ch.leads.size() >= kMaxLeadSamples) {
      for (size_t i = 0; i < ch.leads.size() / 2; ++i) ch.leads[i] = ch.leads[2 * i];
      ch.leads.resize(ch.leads.size() / 2);
      ch.lead_stride *= 2;
    }
  }

  // --- playback and record --------------------------------------------------
  bool make_decoder(Channel& ch, Stream& s) {
    if (ch.decoder) return true;
    if (ch.decoder_failed || s.format != SPICE_AUDIO_FMT_S16) return false;  // reported already
    if (!ch.mode) {
      report(&ch, Severity::Info, "mode_not_seen", 0, "",
             "no " + std::string(kind_name(ch.kind)) + ".mode before the first data: raw assumed");
    }
    const Mode m = ch.mode.value_or(Mode::Raw);
    auto d = PcmDecoder::make(m, s.channels, s.frequency);
    if (!d) {
      ch.decoder_failed = true;
      report(&ch, Severity::Error, d.error().code, 0, "", d.error().text + "; its packets are not decoded");
      return false;
    }
    ch.decoder = std::move(d).value();
    s.mode = m;
    if (s.modes.empty() || s.modes.back() != m) s.modes.push_back(m);
    if (!notes[ch.stream].announced) {
      notes[ch.stream].announced = true;
      if (listener) listener->on_stream(s);
    }
    return true;
  }

  void mode(Channel& ch, const FieldView& r) {
    if (!has_fields(ch, r, {"mode"})) return;
    const uint64_t wire = r.number("mode");
    const auto m = mode_from_wire(wire);
    const auto at = r.get("mode").offset();
    const std::string path(r.get("mode").path());
    const Mode next = m.value_or(Mode::Invalid);
    if (next == Mode::Invalid) {
      report(&ch, Severity::Error, "bad_mode", at, path,
             "data mode " + std::to_string(wire) + " is not one the protocol defines for data");
    }
    if (ch.mode == next) return;
    ch.mode = next;
    ch.decoder.reset();
    ch.decoder_failed = false;
    Stream* s = stream(ch);
    if (!s) {
      // Listed from here on, with its mode, even if it never starts (QEMU without a guest).
      s = &new_stream(ch, 0);
      s->mode = next;
      s->modes = {next};
      return;
    }
    const auto used = notes[ch.stream].placed_mode;
    if (s->started && used && *used != next) {
      settle(ch);
      report(&ch, Severity::Info, "mode_changed", at, path,
             "data mode " + std::string(mode_name(*used)) + " -> " + std::string(mode_name(next)) + " mid-stream");
    }
  }

  // A message cut short before a field the state needs: said, and ignored.
  bool has_fields(Channel& ch, const FieldView& r, std::initializer_list<std::string_view> fields) {
    for (auto f : fields) {
      if (!r.has(f)) {
        report(&ch, Severity::Warning, "incomplete_message", 0, "",
               std::string(r.path()) + " without its " + std::string(f) + ": ignored");
        return false;
      }
    }
    return true;
  }

  void start(Channel& ch, const FieldView& r) {
    if (!has_fields(ch, r, {"channels", "format", "frequency"})) return;
    const auto channels = static_cast<uint32_t>(r.number("channels"));
    const auto frequency = static_cast<uint32_t>(r.number("frequency"));
    const auto format = static_cast<uint16_t>(r.number("format"));
    settle(ch);
    Stream* s = stream(ch);
    const bool has_format = s && s->frequency != 0;
    if (s && has_format && (s->channels != channels || s->frequency != frequency || s->format != format)) {
      if (ch.streams >= limits.max_streams_per_channel) {
        if (!std::exchange(ch.too_many_streams, true)) {
          report(&ch, Severity::Error, "too_many_streams", r.get("channels").offset(), "",
                 "another format change after " + std::to_string(ch.streams) +
                     " streams on this channel: its data from here on is counted, not decoded");
        }
        s->started = false;
        ch.decoder.reset();
        return;
      }
      measure(ch, *s);
      report(&ch, Severity::Info, "format_changed", r.get("channels").offset(), "",
             std::to_string(s->channels) + " channels at " + std::to_string(s->frequency) + " Hz -> " +
                 std::to_string(channels) + " at " + std::to_string(frequency) + " Hz: a new stream");
      s = &new_stream(ch, s->index + 1);
    } else if (!s) {
      s = &new_stream(ch, 0);
    }
    s->channels = channels;
    s->frequency = frequency;
    s->format = format;
    s->started = true;
    ++s->starts;
    ch.anchored = false;
    ch.decoder.reset();
    ch.decoder_failed = false;
    if (format != SPICE_AUDIO_FMT_S16) {
      report(&ch, Severity::Error, "unsupported_format", r.get("format").offset(), std::string(r.get("format").path()),
             "sample format " + std::to_string(format) + " (only S16 is defined); its packets are not decoded");
    }
  }

  void stop(Channel& ch, const FieldView&) {
    settle(ch);
    if (Stream* s = stream(ch); s && s->started) {
      s->started = false;
      ++s->stops;
    }
    ch.anchored = false;
  }

  void volume(Channel& ch, const FieldView& r) {
    ch.volume.clear();
    for (const auto& v : r.get("volume").elements()) ch.volume.push_back(static_cast<uint16_t>(v.number()));
    if (Stream* s = stream(ch)) s->volume = ch.volume;
  }
  void mute(Channel& ch, const FieldView& r) {
    if (!has_fields(ch, r, {"mute"})) return;
    ch.mute = r.number("mute") != 0;
    if (Stream* s = stream(ch)) s->mute = ch.mute;
  }
  void latency(Channel& ch, const FieldView& r) {
    if (!has_fields(ch, r, {"latency_ms"})) return;
    ch.latency = static_cast<uint32_t>(r.number("latency_ms"));
    if (Stream* s = stream(ch)) s->latency_reported_ms = ch.latency;
  }
  void start_mark(Channel&, const FieldView&) {}

  void data(Channel& ch, const FieldView& r) {
    const FieldView payload = r.get("data");
    const std::string path(payload ? payload.path() : std::string_view{});
    Stream* s = stream(ch);
    if (!s) s = &new_stream(ch, 0);  // counted even when never started (a capture begun mid-stream)
    ++s->packets;
    s->bytes += payload.bytes().size();
    const bool lost = ch.lost;
    ch.lost = false;
    if (!r.has("time") || !payload) {
      ++s->skipped_packets;
      report(&ch, Severity::Warning, "incomplete_message", 0, "",
             std::string(r.path()) + " without its time or data: skipped");
      return;
    }
    if (ch.redacted) {
      ++s->skipped_packets;
      report(&ch, Severity::Info, "redacted", payload.offset(), path,
             "audio data was redacted at import: counted, not decoded");
      return;
    }
    if (ch.too_many_streams) {
      ++s->skipped_packets;
      return;
    }
    if (!s->started) {
      ++s->skipped_packets;
      report(&ch, Severity::Warning, "data_before_start", payload.offset(), path,
             "data with no " + std::string(kind_name(ch.kind)) + ".start before it: its format is unknown; skipped");
      return;
    }
    const auto time = static_cast<uint32_t>(r.number("time"));
    if (!notes[ch.stream].timed) {
      notes[ch.stream].timed = true;
      s->first_ts_ns = ts;
      s->first_time = time;
    }
    s->last_ts_ns = ts;
    s->last_time = time;
    if (!make_decoder(ch, *s)) {
      ++s->skipped_packets;
      return;
    }
    notes[ch.stream].placed_mode = ch.decoder->mode();
    sample_lead(ch, time);
    notes[ch.stream].last = {conn, ts, message};
    Packet p{.ts = ts, .message = message, .time = time, .lost_before = lost};
    const auto bytes = payload.bytes();
    auto decoded = ch.decoder->decode(bytes, p.pcm, limits.max_packet_frames);
    if (!decoded) {
      const auto& e = decoded.error();
      p.pcm.clear();
      p.frames = std::min(ch.decoder->frames_hint(bytes), limits.max_packet_frames);
      ++s->undecoded_packets;
      report(&ch, Severity::Error, e.code, payload.offset() + e.offset, path,
             e.text + "; " + std::to_string(p.frames) + " frames of silence in its place");
    } else {
      p.frames = decoded->frames;
      if (decoded->warning) {
        const auto& w = *decoded->warning;
        report(&ch, Severity::Warning, w.code, payload.offset() + w.offset, path, w.text);
      }
      if (decoded->silence) {
        ++s->undecoded_packets;
        if (!std::exchange(notes[ch.stream].celt_reported, true)) {
          report(&ch, Severity::Warning, "celt_not_decoded", payload.offset(), path,
                 "CELT 0.5.1 has no decoder in Debian: " + std::to_string(p.frames) +
                     " frames of silence per packet");
        }
      }
    }
    place(ch, *s, std::move(p));
  }

  // --- end ------------------------------------------------------------------
  // Latency and drift of the stream from its lead samples; reported at the stream's last packet.
  void measure(Channel& ch, Stream& s) {
    if (ch.leads.empty()) return;
    const Location saved{conn, ts, message};
    std::vector<double> all;
    all.reserve(ch.leads.size());
    for (const auto& l : ch.leads) all.push_back(l.ms);
    s.latency_observed_ms = median(all);
    const uint64_t first = ch.leads.front().ts, last = ch.leads.back().ts;
    const double span = static_cast<double>(last - first) / 1e9;
    if (ch.leads.size() >= 2 && span > 0) {
      const auto window = static_cast<uint64_t>(std::min(kDriftWindowS, span / 4) * 1e9);
      std::vector<double> head, tail;
      for (const auto& l : ch.leads) {
        if (l.ts <= first + window) head.push_back(l.ms);
        if (l.ts + window >= last) tail.push_back(l.ms);
      }
      s.drift_ms = median(tail) - median(head);
      s.drift_span_s = span;
    }
    const Location& at = notes[ch.stream].last;
    conn = at.connection;
    ts = at.ts_ns;
    message = at.message_id;
    if (s.drift_ms && std::abs(*s.drift_ms) > limits.drift_tolerance_ms) {
      report(&ch, Severity::Warning, "playback_drift", 0, "",
             "data stamps moved " + std::to_string(std::llround(*s.drift_ms)) +
                 " ms against the multimedia clock over " + std::to_string(std::llround(span)) + " s");
    }
    if (s.latency_reported_ms &&
        std::abs(*s.latency_observed_ms - *s.latency_reported_ms) > limits.latency_tolerance_ms) {
      report(&ch, Severity::Warning, "latency_mismatch", 0, "",
             "playback.latency says " + std::to_string(*s.latency_reported_ms) + " ms; data is stamped " +
                 std::to_string(std::llround(*s.latency_observed_ms)) + " ms ahead of the multimedia clock");
    }
    conn = saved.connection;
    ts = saved.ts_ns;
    message = saved.message_id;
  }
};

const std::unordered_map<std::string, AudioState::Impl::Handler>& AudioState::Impl::handlers() {
  static const std::unordered_map<std::string, Handler> kHandlers = {
      {"main.init", &Impl::mm_init},
      {"main.multi_media_time", &Impl::mm_time},
      {"playback.mode", &Impl::mode},
      {"playback.start", &Impl::start},
      {"playback.data", &Impl::data},
      {"playback.stop", &Impl::stop},
      {"playback.volume", &Impl::volume},
      {"playback.mute", &Impl::mute},
      {"playback.latency", &Impl::latency},
      {"record.mode", &Impl::mode},
      {"record.start", &Impl::start},
      {"record.data", &Impl::data},
      {"record.stop", &Impl::stop},
      {"record.volume", &Impl::volume},
      {"record.mute", &Impl::mute},
      {"record.start_mark", &Impl::start_mark},
  };
  return kHandlers;
}

AudioState::AudioState(Limits limits, AudioListener* listener) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->listener = listener;
}
AudioState::~AudioState() = default;
AudioState::AudioState(AudioState&&) noexcept = default;
AudioState& AudioState::operator=(AudioState&&) noexcept = default;

void AudioState::apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedMessage& message,
                       std::span<const uint8_t> body, uint64_t message_id) {
  if (!message.def || message.values.empty()) return;
  const uint8_t type = message.def->channel_type;
  if (type != SPICE_CHANNEL_MAIN && type != SPICE_CHANNEL_PLAYBACK && type != SPICE_CHANNEL_RECORD) return;
  const auto& hs = Impl::handlers();
  const auto it = hs.find(message.def->full_name);
  if (it == hs.end()) return;
  Impl& s = *impl_;
  s.conn = connection;
  s.ts = ts_ns;
  s.message = message_id;
  if (type == SPICE_CHANNEL_MAIN) {
    Channel none;
    (s.*(it->second))(none, FieldView::root(message, body));
    return;
  }
  Channel& ch = s.by_connection[connection];
  ch.kind = type == SPICE_CHANNEL_PLAYBACK ? Kind::Playback : Kind::Record;
  (s.*(it->second))(ch, FieldView::root(message, body));
}

void AudioState::capture_lost(uint32_t connection, uint64_t) { impl_->by_connection[connection].lost = true; }

void AudioState::redacted(uint32_t connection) { impl_->by_connection[connection].redacted = true; }

void AudioState::finish() {
  Impl& s = *impl_;
  for (auto& [conn, ch] : s.by_connection) {
    s.conn = conn;
    s.settle(ch);
    if (Stream* st = s.stream(ch)) s.measure(ch, *st);
  }
  // What the per-code cap kept back, said once.
  for (const auto& [key, n] : s.reports) {
    if (n <= s.limits.reports_per_code || !s.listener) continue;
    const auto& [conn, stream, code] = key;
    s.listener->on_problem({conn, 0, 0}, {Severity::Info, "more_" + code, 0, "",
                                     std::to_string(n - s.limits.reports_per_code) + " more `" + code +
                                         "` not listed (" + std::to_string(n) + " in all)"});
  }
  s.reports.clear();
}

const std::vector<Stream>& AudioState::streams() const { return impl_->streams; }

}  // namespace sc::audio
