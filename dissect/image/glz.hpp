#pragma once
// SPICE GLZ_RGB and ZLIB_GLZ_RGB images: LZ with a dictionary shared across images.
//
// A GLZ image may copy pixels from earlier images of the same client dictionary
// (by image id distance and pixel offset), so images must be decoded in the
// order the server encoded them, into the GlzDictionary of that dictionary. One
// GlzDictionary per client dictionary: a session's display channels that send
// the same display.init glz_dictionary_id share it.
//
// The dictionary keeps what the server may still reference:
//  - every GLZ header carries win_head_dist: the server's window then starts
//    win_head_dist images back, so older images are dropped (once the images
//    before that one have all arrived: display channels are separate sockets
//    and images of one dictionary can arrive out of id order);
//  - `window` is display.init's glz_dictionary_window_size, in PIXELS (the GLib
//    client sends its byte budget / 4; the server keeps at most that many pixels
//    of images, the new one included). 0 = unknown: the largest window a server
//    accepts (LZ_MAX_WINDOW_SIZE, 2^25 pixels). An image larger than the window
//    cannot have been GLZ-coded: Fault "too_large".
//  - a hard byte cap (`max_bytes`) whatever the headers say.
//
// decode_glz: `payload` is the lz_rgb.data field of a GLZ_RGB image: magic,
// version, a type byte (type | top_down << 4), width, height, stride, the image
// id (u64) and win_head_dist (u32), all big-endian, then the GLZ stream. Types
// RGB16, RGB24, RGB32 (A = 0xff) and RGBA (has_alpha).
// A reference to an image the dictionary does not have (the capture started
// mid-session, an image was lost or already dropped), or to one that was itself
// decoded with such holes, is Fault "missing_reference" naming that image id;
// the image is still added (holes zeroed, marked incomplete) so the images after
// it find it. Other faults: "truncated", "bad_magic", "bad_header", "unsupported",
// "too_large", "corrupt".
//
// decode_zlib_glz: ZLIB_GLZ_RGB: `data` is zlib_glz.data, a zlib stream inflating
// to glz_size (zlib_glz.glz_data_size) bytes of GLZ_RGB payload. Faults of the
// inflated GLZ stream carry offsets into the inflated bytes.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "dissect/image/pixels.hpp"

namespace sc::image {

class GlzDictionary {
 public:
  static constexpr uint64_t kMaxWindow = uint64_t{1} << 25;            // pixels
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{512} << 20;  // 512 MiB

  explicit GlzDictionary(uint64_t window = 0, uint64_t max_bytes = kDefaultMaxBytes);

  size_t images() const { return images_.size(); }
  uint64_t bytes() const { return bytes_; }
  uint64_t window() const { return window_; }  // pixels
  bool contains(uint64_t id) const { return images_.count(id) != 0; }
  void clear();

 private:
  friend struct GlzAccess;  // glz.cpp
  struct Image {
    std::vector<uint32_t> units;  // gross pixels in wire order, as references count them
    bool complete = true;
  };
  std::map<uint64_t, Image> images_;
  std::map<uint64_t, uint64_t> waiting_;  // id -> its window head, for images past a gap
  uint64_t window_, max_bytes_;
  uint64_t bytes_ = 0, pixels_ = 0;
  uint64_t next_in_order_ = 0, release_below_ = 0;
  bool started_ = false;
};

// `references`, when given, is set to the number of copies the image took from
// earlier images (what makes GLZ a dictionary coder; 0 for a self-contained image).
Decoded<Pixels> decode_glz(std::span<const uint8_t> payload, GlzDictionary& dictionary, const Limits& limits = {},
                           uint32_t* references = nullptr);

Decoded<Pixels> decode_zlib_glz(std::span<const uint8_t> data, uint32_t glz_size, GlzDictionary& dictionary,
                                const Limits& limits = {}, uint32_t* references = nullptr);

}  // namespace sc::image
