#pragma once
// The images of display channels as the plugin shows and exports them.
//
// A display channel's decoded messages go, in the first pass and in capture
// order, through sc::display::DisplayState (the consumer the CLI and the store
// use). The display channels of one SPICE session share one DisplayState, as
// they share the client's pixmap cache and GLZ dictionary: the plugin knows the
// session from the connection_id a display channel names in its link message
// (the session_id of main.init, the session tracker's rule). A channel whose link
// stage is not in the capture names no session and gets a DisplayState of its own
// (its cache hits on images sent on a sibling channel then show as misses).
//
// Every image the state reports becomes an ImageRecord of the connection that
// carried it; decoded ones are kept as PNG (util/png.hpp) for Export Objects,
// within one memory bound for the whole capture file.
//
// Nothing here includes Wireshark.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "dissect/decode/frame_decode.hpp"
#include "dissect/display/display_state.hpp"

namespace sc::wsplugin {

// One image a display message carried, and what became of it.
struct ImageRecord {
  uint32_t frame = 0;         // index of the frame (of its direction) that carried it
  display::ImageInfo info;    // info.offset: in that frame's body (sub-messages included)
  bool png_refused = false;   // the first decoded image the memory bound kept no PNG of
  int32_t png = -1;           // DisplaySessions::png(); -1: no PNG kept
};

// What a display channel's connection does with the images its messages carry.
class ImageSink {
 public:
  virtual ~ImageSink() = default;
  // `pixels` null when the image could not be had; valid during the call only.
  // info.offset is in the frame's body (sub-messages' included).
  virtual void on_image(const display::ImageInfo& info, const image::Pixels* pixels) = 0;
};

// One DisplayState and the connection whose message it is applying.
class DisplayFeed final : private display::DisplayListener {
 public:
  DisplayFeed();
  DisplayFeed(const DisplayFeed&) = delete;
  DisplayFeed& operator=(const DisplayFeed&) = delete;

  // A decoded frame of display channel `connection`: its own message, then its
  // sub-messages, as the store replays them.
  void apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame, ImageSink& sink);

 private:
  void on_image(uint32_t connection, uint64_t ts_ns, const display::ImageInfo& info,
                const image::Pixels* pixels) override;

  display::DisplayState state_;
  ImageSink* sink_ = nullptr;
};

// The display states and kept PNGs of one capture file.
class DisplaySessions {
 public:
  // `png_budget`: bytes of PNG kept at most (0: none).
  explicit DisplaySessions(uint64_t png_budget) : png_budget_(png_budget) {}
  DisplaySessions(const DisplaySessions&) = delete;
  DisplaySessions& operator=(const DisplaySessions&) = delete;

  // The state a display channel feeds: its session's for a non-zero link
  // connection_id, a fresh one of its own otherwise.
  DisplayFeed& feed_for(uint32_t connection_id);
  // A connection id for DisplayState, unique within the capture file.
  uint32_t new_connection() { return ++connections_; }

  // Encodes `pixels` and keeps the PNG: its index, or nullopt when there is no room
  // (`refused_first` is set on the first refusal of the file, for its one note).
  std::optional<uint32_t> keep_png(const image::Pixels& pixels, bool& refused_first);
  std::span<const uint8_t> png(uint32_t index) const { return pngs_[index]; }
  uint64_t png_bytes() const { return png_bytes_; }

 private:
  uint64_t png_budget_;
  uint64_t png_bytes_ = 0;
  bool refused_ = false;
  uint32_t connections_ = 0;
  std::map<uint32_t, std::unique_ptr<DisplayFeed>> sessions_;  // by session id
  std::vector<std::unique_ptr<DisplayFeed>> unlinked_;         // channels that named no session
  std::deque<std::vector<uint8_t>> pngs_;
};

}  // namespace sc::wsplugin
