#include "dissect/audio/pcm_decoder.hpp"

#include <opus.h>
#include <spice/enums.h>

#include <algorithm>
#include <array>

namespace sc::audio {

namespace {

// CELT is deprecated in spice/enums.h, but old servers and captures still carry it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
constexpr std::array<ModeInfo, 4> kModes = {{
    {SPICE_AUDIO_DATA_MODE_RAW, Mode::Raw, "raw"},
    {SPICE_AUDIO_DATA_MODE_CELT_0_5_1, Mode::Celt, "celt"},
    {SPICE_AUDIO_DATA_MODE_OPUS, Mode::Opus, "opus"},
    {SPICE_AUDIO_DATA_MODE_INVALID, Mode::Invalid, "invalid"},
}};
#pragma GCC diagnostic pop

// Output rates libopus decodes to.
constexpr std::array<uint32_t, 5> kOpusRates = {8000, 12000, 16000, 24000, 48000};
constexpr uint32_t kMaxRawChannels = 8;

DecodeProblem problem(std::string code, uint32_t offset, std::string text) {
  return DecodeProblem{std::move(code), offset, std::move(text)};
}

}  // namespace

std::span<const ModeInfo> mode_table() { return kModes; }

std::optional<Mode> mode_from_wire(uint64_t wire) {
  for (const auto& m : kModes) {
    if (m.wire == wire) return m.mode;
  }
  return std::nullopt;
}

std::string_view mode_name(Mode m) {
  for (const auto& i : kModes) {
    if (i.mode == m) return i.name;
  }
  return "invalid";
}

struct PcmDecoder::Opus {
  struct Destroy {
    void operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }
  };
  std::unique_ptr<OpusDecoder, Destroy> decoder;
  std::vector<opus_int16> buffer;  // one packet's worth, the largest Opus allows
};

PcmDecoder::PcmDecoder(Mode mode, uint32_t channels, uint32_t frequency)
    : mode_(mode), channels_(channels), frequency_(frequency) {}
PcmDecoder::~PcmDecoder() = default;
PcmDecoder::PcmDecoder(PcmDecoder&&) noexcept = default;
PcmDecoder& PcmDecoder::operator=(PcmDecoder&&) noexcept = default;

Result<PcmDecoder, DecodeProblem> PcmDecoder::make(Mode mode, uint32_t channels, uint32_t frequency) {
  const std::string format = std::to_string(channels) + " channels at " + std::to_string(frequency) + " Hz";
  switch (mode) {
    case Mode::Raw:
    case Mode::Celt:
      if (channels == 0 || channels > kMaxRawChannels || frequency == 0) {
        return problem("bad_format", 0, std::string(mode_name(mode)) + " audio of " + format + " cannot be decoded");
      }
      return PcmDecoder(mode, channels, frequency);
    case Mode::Opus: {
      if (channels < 1 || channels > 2 ||
          std::find(kOpusRates.begin(), kOpusRates.end(), frequency) == kOpusRates.end()) {
        return problem("bad_format", 0, "Opus carries 1 or 2 channels at 8, 12, 16, 24 or 48 kHz, not " + format);
      }
      PcmDecoder d(mode, channels, frequency);
      d.opus_ = std::make_unique<Opus>();
      int err = OPUS_OK;
      d.opus_->decoder.reset(
          opus_decoder_create(static_cast<opus_int32>(frequency), static_cast<int>(channels), &err));
      if (err != OPUS_OK || !d.opus_->decoder) {
        return problem("opus_init_failed", 0, std::string("libopus: ") + opus_strerror(err));
      }
      d.opus_->buffer.resize(size_t{kOpusMaxFramesPer48k} * frequency / 48000 * channels);
      return d;
    }
    case Mode::Invalid: break;
  }
  return problem("bad_mode", 0, "no data mode was set (SPICE_AUDIO_DATA_MODE_INVALID)");
}

uint32_t PcmDecoder::frames_hint(std::span<const uint8_t> packet) const {
  switch (mode_) {
    case Mode::Celt: return kCeltFramesPerPacket;
    case Mode::Raw: return static_cast<uint32_t>(packet.size() / (2 * channels_));
    case Mode::Opus: {
      if (!packet.empty()) {
        const int n = opus_packet_get_nb_samples(packet.data(), static_cast<opus_int32>(packet.size()),
                                                 static_cast<opus_int32>(frequency_));
        if (n > 0) return static_cast<uint32_t>(n);
      }
      return last_frames_;
    }
    case Mode::Invalid: break;
  }
  return 0;
}

Result<DecodedPacket, DecodeProblem> PcmDecoder::decode(std::span<const uint8_t> packet, std::vector<int16_t>& pcm,
                                                        uint32_t max_frames) {
  DecodedPacket out;
  switch (mode_) {
    case Mode::Raw: {
      const size_t frame_bytes = size_t{2} * channels_;
      size_t frames = packet.size() / frame_bytes;
      if (packet.size() % frame_bytes) {
        out.warning = problem("partial_frame", static_cast<uint32_t>(frames * frame_bytes),
                              std::to_string(packet.size() % frame_bytes) + " bytes after the last whole " +
                                  std::to_string(channels_) + "-channel S16 frame are dropped");
      }
      if (frames > max_frames) {
        out.warning = problem("packet_too_large", static_cast<uint32_t>(size_t{max_frames} * frame_bytes),
                              std::to_string(frames) + " frames in one packet; only the first " +
                                  std::to_string(max_frames) + " are kept");
        frames = max_frames;
      }
      const size_t samples = frames * channels_;
      const size_t at = pcm.size();
      pcm.resize(at + samples);
      for (size_t i = 0; i < samples; ++i) {
        pcm[at + i] = static_cast<int16_t>(static_cast<uint16_t>(packet[2 * i] | packet[2 * i + 1] << 8));
      }
      out.frames = static_cast<uint32_t>(frames);
      break;
    }
    case Mode::Celt:
      out.frames = std::min(kCeltFramesPerPacket, max_frames);
      out.silence = true;
      break;
    case Mode::Opus: {
      if (packet.empty()) return problem("opus_decode_failed", 0, "empty Opus packet");
      auto& o = *opus_;
      const int capacity = static_cast<int>(o.buffer.size() / channels_);
      const int n = opus_decode(o.decoder.get(), packet.data(), static_cast<opus_int32>(packet.size()),
                                o.buffer.data(), capacity, 0);
      if (n < 0) {
        return problem("opus_decode_failed", 0,
                       std::string("libopus: ") + opus_strerror(n) + " (" + std::to_string(packet.size()) +
                           "-byte packet)");
      }
      uint32_t frames = static_cast<uint32_t>(n);
      if (frames > max_frames) {
        out.warning = problem("packet_too_large", 0,
                              std::to_string(frames) + " frames in one packet; only the first " +
                                  std::to_string(max_frames) + " are kept");
        frames = max_frames;
      }
      pcm.insert(pcm.end(), o.buffer.begin(), o.buffer.begin() + static_cast<std::ptrdiff_t>(size_t{frames} * channels_));
      out.frames = frames;
      break;
    }
    case Mode::Invalid: return problem("bad_mode", 0, "no data mode was set");
  }
  last_frames_ = out.frames;
  return out;
}

}  // namespace sc::audio
