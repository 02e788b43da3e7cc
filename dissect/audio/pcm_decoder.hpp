#pragma once
// One audio data packet (playback.data / record.data `data`) to PCM, for the
// stream's mode: raw S16LE as it is, Opus through libopus, CELT 0.5.1 (not in
// Debian) as silence of the length its fixed frame size gives.
//
// Pure apart from the Opus decoder's state, which belongs to one stream: make a
// PcmDecoder when a stream starts or changes mode and feed it that stream's
// packets in order. Never throws on bad input; a packet that cannot be decoded
// is an error value with a code and a byte offset in the packet.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace sc::audio {

enum class Mode : uint8_t { Raw, Celt, Opus, Invalid };

struct ModeInfo {
  uint16_t wire;          // SPICE_AUDIO_DATA_MODE_*
  Mode mode;
  std::string_view name;  // as the CLI and JSON say it
};
// Every mode the protocol names (spice/enums.h), INVALID included.
std::span<const ModeInfo> mode_table();
// The mode of a wire value; nullopt for a value the protocol does not define.
std::optional<Mode> mode_from_wire(uint64_t wire);
std::string_view mode_name(Mode m);

// CELT 0.5.1 as SPICE used it: 256 frames per packet whatever its size.
inline constexpr uint32_t kCeltFramesPerPacket = 256;
// The longest packet Opus allows: 120 ms.
inline constexpr uint32_t kOpusMaxFramesPer48k = 5760;

struct DecodeProblem {
  std::string code;     // "opus_decode_failed", "partial_frame", ...
  uint32_t offset = 0;  // in the packet
  std::string text;
};

struct DecodedPacket {
  uint32_t frames = 0;  // per channel
  bool silence = false;  // the frames are known but not their samples (CELT): nothing was appended
  std::optional<DecodeProblem> warning;  // decoded, but with something left over (a partial raw frame)
};

class PcmDecoder {
 public:
  // Fails for a format the mode cannot carry (Opus: 1 or 2 channels at 8, 12, 16,
  // 24 or 48 kHz; raw: 1..8 channels); the problem says why.
  static Result<PcmDecoder, DecodeProblem> make(Mode mode, uint32_t channels, uint32_t frequency);
  ~PcmDecoder();
  PcmDecoder(PcmDecoder&&) noexcept;
  PcmDecoder& operator=(PcmDecoder&&) noexcept;

  // Appends the packet's interleaved samples to `pcm`, at most `max_frames`
  // frames (a longer raw packet is cut, with a warning). An Opus packet that
  // does not decode is an error; `frames_hint` is then how long it claims to be
  // (0 when not even its header says), so the caller can keep the timeline.
  Result<DecodedPacket, DecodeProblem> decode(std::span<const uint8_t> packet, std::vector<int16_t>& pcm,
                                              uint32_t max_frames);
  // Frames an undecodable packet stood for, from its own header or, failing that,
  // the previous packet's length.
  uint32_t frames_hint(std::span<const uint8_t> packet) const;

  Mode mode() const { return mode_; }
  uint32_t channels() const { return channels_; }
  uint32_t frequency() const { return frequency_; }

 private:
  struct Opus;
  PcmDecoder(Mode mode, uint32_t channels, uint32_t frequency);
  Mode mode_;
  uint32_t channels_, frequency_;
  uint32_t last_frames_ = 0;
  std::unique_ptr<Opus> opus_;
};

}  // namespace sc::audio
