#pragma once
// SPICE LZ images (LZ_RGB, LZ_PLT) and the LZ alpha plane of JPEG_ALPHA.
//
// decode_lz: `payload` is the lz_rgb.data / lz_plt.data field: LZ's big-endian
// header (magic "LZ  ", version 1.1, type, width, height, stride, top_down; seven
// u32) and the compressed pixels. Types RGB16 (555), RGB24, RGB32 (A = 0xff), RGBA
// (has_alpha), A8 (colour 0, A = the byte) and the palette types PLT1_LE/BE,
// PLT4_LE/BE, PLT8 through `palette` (0x00RRGGBB entries; an index past its end
// wraps around it). An empty palette for a palette type is Fault "missing_palette".
// Faults: "truncated", "bad_magic", "bad_header", "unsupported", "too_large",
// "corrupt" (a match outside the image), each at the payload offset it stopped.
//
// decode_lz_alpha: decodes an LZ stream of type XXXA into the A byte of every
// pixel of `into` (whose width and height must equal the stream's; rows follow the
// stream's top_down flag) and sets into.has_alpha. Used by JPEG_ALPHA.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dissect/image/pixels.hpp"

namespace sc::image {

Decoded<Pixels> decode_lz(std::span<const uint8_t> payload, Palette palette, const Limits& limits = {});

Result<void, Fault> decode_lz_alpha(std::span<const uint8_t> payload, Pixels& into);

// ---------------------------------------------------------------------------
// Internal: the byte-code LZ and GLZ share (literal runs, back references with a
// length code), decoded by one core in lz.cpp. GLZ differs only in how a
// reference's distance is coded and in that it may point into an earlier image.
namespace lz_core {

enum class Dialect : uint8_t { lz, glz };

// What one unit of the stream is, and what a literal costs on the wire.
enum class Unit : uint8_t {
  rgb32,  // 3 literal bytes B, G, R into a uint32_t (A = the pass's alpha constant)
  rgb16,  // 2 literal bytes (555, high byte first) into a uint32_t
  alpha,  // 1 literal byte into the A byte of a uint32_t, the rest kept
  byte,   // 1 literal byte into a uint8_t (palette indices)
};

// A GLZ reference to another image: `dist` images back from the one being
// decoded, `len` units starting at unit `offset` of it; `at` is the payload
// offset of the reference. Returns nullptr when the dictionary cannot give them
// (the core then writes zeros and goes on, so the image is still complete enough
// to keep; the source remembers why).
class ImageSource {
 public:
  virtual const uint32_t* units(uint32_t dist, uint32_t offset, size_t len, size_t at) = 0;

 protected:
  ~ImageSource() = default;
};

struct Pass {
  Dialect dialect = Dialect::lz;
  Unit unit = Unit::rgb32;
  uint32_t literal_alpha = 0xff000000u;  // OR-ed into rgb32/rgb16 literals
  void* out = nullptr;                    // uint32_t[count] or uint8_t[count] (Unit::byte)
  size_t count = 0;
  ImageSource* source = nullptr;          // GLZ only
};

// Decodes one pass of exactly `count` units from in[pos...]; advances pos.
Result<void, Fault> decode(std::span<const uint8_t> in, size_t& pos, const Pass& pass);

// Upper bound of the units one input byte can produce (a run's length bytes):
// a size that needs more is a bomb or a lie, refused before allocating.
inline constexpr uint64_t kMaxUnitsPerByte = 256;

// 555 to 888 as SPICE clients expand it (top bits repeated into the low ones).
inline uint32_t rgb555_to_rgb32(uint32_t v) {
  const uint32_t r = (v >> 10) & 31, g = (v >> 5) & 31, b = v & 31;
  return ((r << 3 | r >> 2) << 16) | ((g << 3 | g >> 2) << 8) | (b << 3 | b >> 2);
}

}  // namespace lz_core
}  // namespace sc::image
