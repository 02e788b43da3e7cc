#pragma once
// Uncompressed SPICE BITMAP images, every SPICE_BITMAP_FMT:
//   1BIT_LE/BE, 4BIT_LE/BE, 8BIT  palette indices (LE: the first pixel in the low
//                                 bits of a byte); entries are 0x00RRGGBB, an index
//                                 past the palette's end wraps around it
//   16BIT                         x1r5g5b5 little-endian, expanded to 8 bits a channel
//   24BIT                         B, G, R bytes
//   32BIT                         B, G, R, x (A = 0xff)
//   RGBA                          B, G, R, A (has_alpha)
//   8BIT_A                        alpha only: colour 0, A = the byte (has_alpha)
// Rows are top-down with SPICE_BITMAP_FLAGS_TOP_DOWN (flags bit 2), bottom-up
// without. `stride` is the wire's row pitch: at least a row's bytes, and `data`
// must hold (height - 1) strides plus one row.
// Faults: "unsupported" (format), "bad_header" (zero side, stride below a row),
// "too_large" (Limits), "truncated" (data too short), "missing_palette".
#include <array>
#include <cstdint>
#include <span>

#include "dissect/image/pixels.hpp"

namespace sc::image {

struct BitmapView {
  uint8_t format = 0;
  uint8_t flags = 0;
  uint32_t width = 0, height = 0, stride = 0;
  std::span<const uint8_t> data;
};

Decoded<Pixels> decode_bitmap(const BitmapView& bitmap, Palette palette, const Limits& limits = {});

// Internal, shared with the LZ palette types: indices of `bits` (1, 4, 8) to pixels.
namespace palette_detail {
using Table = std::array<uint32_t, 256>;
Table make_table(Palette palette);  // palette must not be empty; entries get A = 0xff
void expand_row(const uint8_t* src, uint32_t width, unsigned bits, bool lsb_first, const Table& table, uint32_t* dst);
}  // namespace palette_detail

}  // namespace sc::image
