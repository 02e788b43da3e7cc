#pragma once
// What every image decoder produces, the limits it works under and how it fails.
//
// Decoders (dissect/image/*.hpp) are pure functions of their payload bytes (plus
// the state SPICE makes them share: a palette, the GLZ dictionary). They never
// trust a size they read: output is capped by Limits before anything is
// allocated, every read is bounds-checked, and a bad payload is a Fault that says
// where decoding stopped, never a crash or a guess.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace sc::image {

// 32 bits a pixel, 0xAARRGGBB as a native uint32_t (B, G, R, A in memory on the
// little-endian hosts we run on: pixman's a8r8g8b8, what SPICE clients draw in).
// Rows are top-down and exactly `width` pixels long, whatever the wire's stride
// and row order were. Images without alpha have A = 0xff in every pixel, so two
// decodings of the same picture compare equal as plain vectors.
struct Pixels {
  uint32_t width = 0, height = 0;
  bool has_alpha = false;  // A carries information (RGBA, alpha JPEG, A8 images)
  std::vector<uint32_t> data;

  Pixels() = default;
  Pixels(uint32_t w, uint32_t h, bool alpha = false, uint32_t fill = 0xff000000u)
      : width(w), height(h), has_alpha(alpha), data(size_t{w} * h, fill) {}
  uint32_t* row(uint32_t y) { return data.data() + size_t{y} * width; }
  const uint32_t* row(uint32_t y) const { return data.data() + size_t{y} * width; }
  uint32_t at(uint32_t x, uint32_t y) const { return data[size_t{y} * width + x]; }
  uint64_t bytes() const { return uint64_t{width} * height * 4; }
};

// Caps on what a payload may ask for. A SPICE surface is at most a few thousand
// pixels a side; anything beyond these is hostile or corrupt.
struct Limits {
  uint32_t max_side = 16384;               // width or height
  uint64_t max_pixels = uint64_t{1} << 26;  // 64 Mpx = 256 MiB decoded
  // Checks a header's size against the caps; a zero side is an error too.
  bool allows(uint64_t width, uint64_t height) const {
    return width > 0 && height > 0 && width <= max_side && height <= max_side && width * height <= max_pixels;
  }
};

// Why an image could not be decoded. Codes are stable identifiers (they become
// `problems.code` rows): "truncated", "bad_magic", "bad_header", "too_large",
// "corrupt", "unsupported", "missing_reference", "missing_palette", ...
struct Fault {
  std::string code;
  uint64_t offset = 0;  // byte offset in the payload handed to the decoder
  std::string text;     // one line for people: what was wrong, with the numbers
};

template <typename T>
using Decoded = Result<T, Fault>;

inline Fault fault(std::string code, uint64_t offset, std::string text) {
  return Fault{std::move(code), offset, std::move(text)};
}

// SPICE palettes: entries are 0x00RRGGBB colours (the top byte is ignored).
using Palette = std::span<const uint32_t>;

}  // namespace sc::image
