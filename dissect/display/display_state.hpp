#pragma once
// The screen of a SPICE session rebuilt from its decoded display messages, as the
// client would draw it: surfaces, every draw command with its clip, raster op,
// brush and mask, copy-bits, images through the codecs and caches
// (image_source.hpp), video streams composited with their clip (MJPEG decoded;
// other codecs' frames handed on as elementary-stream data).
//
// One DisplayState per session: the display channels of a session share their
// pixmap caches and GLZ dictionaries by the ids display.init names; surfaces,
// palettes and streams belong to one channel. Feed it every decoded frame of the
// session's display channels in capture order. It knows nothing of files or
// databases: `render`, `images`, `streams`, import and the plugin all drive it.
//
// A capture that starts mid-session draws onto surfaces it never saw created
// (made on first use, at the size the draw needs) and reports each such surface
// and each missing cache entry once, as a Notice.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dissect/decode/decoded.hpp"
#include "dissect/decode/frame_decode.hpp"
#include "dissect/display/canvas.hpp"
#include "dissect/display/image_source.hpp"

namespace sc::display {

struct StreamFrame {
  uint32_t connection = 0, stream_id = 0;
  uint8_t codec = 0;             // SPICE_VIDEO_CODEC_TYPE_*
  uint32_t width = 0, height = 0;  // the frame's coded size
  Rect dest;
  uint64_t ts_ns = 0;
  uint32_t mm_time = 0;
  std::span<const uint8_t> data;  // valid during the callback only
  bool decoded = false;           // drawn onto its surface (MJPEG)
};

// What the display state reports besides pixels.
class DisplayListener {
 public:
  virtual ~DisplayListener() = default;
  // `pixels`: the decoded image (null when it failed), valid during the call.
  virtual void on_image(uint32_t /*connection*/, uint64_t /*ts_ns*/, const ImageInfo&, const image::Pixels* /*pixels*/) {}
  virtual void on_stream_frame(const StreamFrame&) {}
  // problems: bad images, draws onto unknown surfaces, undecodable frames.
  virtual void on_problem(uint32_t /*connection*/, uint64_t /*ts_ns*/, const decode::Diagnostic&) {}
};

struct DisplayOptions {
  image::Limits limits;
  bool draw = true;  // false: images and caches only (the `images` table), no pixels drawn
};

class DisplayState {
 public:
  explicit DisplayState(DisplayOptions options = {}, DisplayListener* listener = nullptr);
  ~DisplayState();
  DisplayState(DisplayState&&) noexcept;
  DisplayState& operator=(DisplayState&&) noexcept;

  // One decoded display message (either direction; only s2c ones draw). Offsets
  // reported are in `body`.
  void apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedMessage& message,
             std::span<const uint8_t> body);
  // A decoded frame: its own message, then its sub-messages in order. Offsets
  // reported are in the frame's body, sub-messages' included.
  void apply_frame(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame);

  struct SurfaceRef {
    uint32_t connection = 0, surface_id = 0;
    bool primary = false;
    const Surface* surface = nullptr;
  };
  // Every live surface, primary ones first.
  std::vector<SurfaceRef> surfaces() const;
  // The primary surface of the session's first display channel (or of `connection`).
  std::optional<SurfaceRef> primary(std::optional<uint32_t> connection = std::nullopt) const;

  struct Counters {
    uint64_t messages = 0, draws = 0, images = 0, image_failures = 0, stream_frames = 0, unhandled = 0;
  };
  const Counters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc::display
